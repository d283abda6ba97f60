# Administration (API.md "Administration and personal access tokens"):
# role admin only; search with keyset pages; one user; PATCH role,
# disabled, email_verified (disabling ends every session and token at
# once, login then answers 403 account_disabled after the password);
# logout-all; MFA reset; the last admin stays; every action audited with
# its actor; the command line does the same (actor cli).
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $dir = $ENV{FCGI_AUTH_DIR};
my $base = $ENV{FCGI_AUTH_URL};
sub as { my ($tok) = @_; bearer($tok) }
sub adm { my ($m, $p, $tok, %o) = @_; api($m, "/admin$p", headers => as($tok), %o) }
sub login { api(POST => '/auth/login', json => { username => $_[0]{username}, password => $_[1] // $_[0]{password} }) }
my $tag = sprintf 'q%x%d', int(time * 1000) % 0xffffff, $$;

# An admin, made by the operator.
my $boss = new_user(username => "${tag}boss");
my ($out, $rc) = cli($dir, 'user', 'set-role', $boss->{username}, 'admin');
is($rc, 0, 'the command line makes an admin') or diag $out;
my $bj = login_user($boss);
my $BT = $bj->{access_token};

my $u = new_user(username => "${tag}alice", email => "alice.$tag\@Example.org");
my $uj = login_user($u);
is(api(GET => '/admin/users')->{status}, 401, 'no token: 401');
my $r = adm(GET => '/users', $uj->{access_token});
is($r->{status}, 403, 'a user: 403');
is($r->{json}{error}, 'forbidden', '... forbidden');
is(adm(PATCH => "/users/$u->{user_id}", $uj->{access_token}, json => { role => 'admin' })->{status}, 403,
    '... and cannot make itself admin');

# Search, pages.
my @more = map { new_user(username => "${tag}u$_") } 1 .. 4;
$r = adm(GET => "/users?q=" . uc($tag), $BT);
is($r->{status}, 200, 'search: 200');
is(scalar @{ $r->{json}{users} }, 6, '... q matches usernames whatever the case');
is($r->{json}{next}, undef, '... one page: next is null');
my ($ua) = grep { $_->{username} eq $u->{username} } @{ $r->{json}{users} };
is_deeply([sort keys %$ua], [sort qw(user_id username email role email_verified disabled mfa created_at last_login_at)],
    '... each user has the contract\'s fields');
ok($ua->{last_login_at} && $ua->{last_login_at} <= time + 1, '... last_login_at is set by the sign-in');
is($ua->{disabled}, JSON::PP::false, '... not disabled');
$r = adm(GET => "/users?q=ALICE.$tag\@example", $BT);
is(scalar @{ $r->{json}{users} }, 1, 'q matches the email too, whatever the case');
is(scalar @{ adm(GET => '/users?q=%25', $BT)->{json}{users} }, 0, 'a % in q is a percent sign, not a wildcard');
my @seen;
my $page = adm(GET => "/users?q=$tag&limit=4", $BT)->{json};
push @seen, map { $_->{username} } @{ $page->{users} };
ok(defined $page->{next}, 'limit 4 of 6: a next cursor');
$page = adm(GET => "/users?q=$tag&limit=4&after=$page->{next}", $BT)->{json};
push @seen, map { $_->{username} } @{ $page->{users} };
is($page->{next}, undef, '... the second page is the last');
is_deeply(\@seen, [sort { lc $a cmp lc $b } map { $_->{username} } $boss, $u, @more], '... the pages: every user once, in order');
for my $bad ('limit=0', 'limit=101', 'limit=ten', 'limit=-1') {
	is(adm(GET => "/users?$bad", $BT)->{status}, 400, "$bad: 400");
}
is(adm(GET => '/users?q=%ff', $BT)->{status}, 400, 'q that is not UTF-8: 400');
cmp_ok(scalar @{ adm(GET => '/users', $BT)->{json}{users} }, '<=', 50, 'the default limit is 50');

# One user.
$r = adm(GET => "/users/$u->{user_id}", $BT);
is($r->{status}, 200, 'one user: 200');
is($r->{json}{sessions}, 1, '... with its active sessions\' count');
is(adm(GET => '/users/00000000-0000-4000-8000-000000000000', $BT)->{status}, 404, 'an unknown id: 404');
is(adm(GET => '/users/not-an-id', $BT)->{status}, 404, 'not an id: 404');

# PATCH: refusals.
for my $bad ([{}, 'nothing'], [{ role => 'root' }, 'an unknown role'], [{ disabled => 'yes' }, 'disabled as a string'],
    [{ email_verified => 1 }, 'email_verified as a number']) {
	is(adm(PATCH => "/users/$u->{user_id}", $BT, json => $bad->[0])->{status}, 400, "PATCH with $bad->[1]: 400");
}

# Role: at once at /auth/check.
$r = adm(PATCH => "/users/$u->{user_id}", $BT, json => { role => 'admin' });
is($r->{status}, 200, 'PATCH role admin: 200');
is($r->{json}{role}, 'admin', '... the updated object');
is(api(GET => '/auth/check', headers => as($uj->{access_token}))->{headers}{'x-auth-request-role'}, 'admin',
    '... /auth/check says admin at once');
is(adm(PATCH => "/users/$u->{user_id}", $BT, json => { role => 'user' })->{json}{role}, 'user', 'and back to user');
is($r = adm(PATCH => "/users/$u->{user_id}", $BT, json => { email_verified => JSON::PP::true })->{json}{email_verified},
    JSON::PP::true, 'email_verified true');

# Disable: everything ends at once.
my $k = login_user($u);
my $pat = api(POST => '/auth/tokens', headers => as($uj->{access_token}), json => { name => 'ci' })->{json}{token};
is(api(GET => '/auth/me', headers => as($pat))->{status}, 200, 'a personal access token works before');
$r = adm(PATCH => "/users/$u->{user_id}", $BT, json => { disabled => JSON::PP::true });
is($r->{status}, 200, 'disable: 200');
is($r->{json}{disabled}, JSON::PP::true, '... disabled');
is($r->{json}{sessions}, 0, '... no session left');
is(api(GET => '/auth/me', headers => as($uj->{access_token}))->{status}, 401, 'its access tokens: 401 at once');
is(api(GET => '/auth/check', headers => as($k->{access_token}))->{status}, 401, '... at /auth/check too');
is(api(POST => '/auth/refresh', json => { refresh_token => $k->{refresh_token} })->{status}, 401, '... its refresh tokens');
is(api(GET => '/auth/me', headers => as($pat))->{status}, 401, '... its personal access tokens');
is(login($u, 'wrong password, truly')->{status}, 401, 'login with a wrong password: 401');
$r = login($u);
is($r->{status}, 403, 'login with the right one: 403');
is($r->{json}{error}, 'account_disabled', '... account_disabled');
ok(mail_like($u->{email}, qr/Subject: Your account was disabled/), 'the user is told');
$r = adm(PATCH => "/users/$u->{user_id}", $BT, json => { disabled => JSON::PP::false });
is($r->{json}{disabled}, JSON::PP::false, 'enable');
is(login($u)->{status}, 200, '... the password signs in again');
is(api(GET => '/auth/me', headers => as($k->{access_token}))->{status}, 401, '... old sessions stay dead');
is(api(GET => '/auth/me', headers => as($pat))->{status}, 401, '... and old tokens');
my $aud = psql("SELECT string_agg(event || ':' || coalesce(actor, '-'), ' ' ORDER BY id) FROM audit_log WHERE user_id = '$u->{user_id}' AND event LIKE 'admin_%'");
like($aud, qr/admin_set_role:\Q$boss->{user_id}\E.*admin_email_verified:\Q$boss->{user_id}\E.*admin_disable:\Q$boss->{user_id}\E.*admin_enable:\Q$boss->{user_id}\E/,
    'every action is audited, naming the admin');

# Disable racing refreshes: the refreshes lose.
{
	my $v = new_user();
	my ($r, $acc, $ref) = refresh_race($v, 3, sub {
		adm(PATCH => "/users/$v->{user_id}", $BT, json => { disabled => JSON::PP::true }) });
	is($r->{status}, 200, 'a disable among refreshes');
	my @acc = @$acc;
	my @ref = @$ref;
	is(scalar(grep { api(GET => '/auth/me', headers => as($_))->{status} != 401 } @acc), 0,
	    '... none of the ' . scalar(@acc) . ' access tokens handed out works');
	is(scalar(grep { api(POST => '/auth/refresh', json => { refresh_token => $_ })->{status} != 401 } @ref), 0,
	    '... no refresh token refreshes');
}

# logout-all, MFA reset.
{
	my $v = new_user();
	my @s = map { scalar login_user($v) } 1 .. 3;
	$r = adm(POST => "/users/$v->{user_id}/logout-all", $BT);
	is($r->{status}, 200, 'logout-all: 200');
	is_deeply($r->{json}, { ok => JSON::PP::true, revoked => 3 }, '... {"ok":true,"revoked":3}');
	is(scalar(grep { api(GET => '/auth/me', headers => as($_->{access_token}))->{status} == 401 } @s), 3, '... all dead');
	is(adm(POST => '/users/00000000-0000-4000-8000-000000000000/logout-all', $BT)->{status}, 404, '... unknown: 404');
	my $j = login_user($v);
	my $s = api(POST => '/auth/mfa/totp', headers => as($j->{access_token}), json => { password => $v->{password} })->{json};
	api(POST => '/auth/mfa/totp/confirm', headers => as($j->{access_token}), json => { code => totp_code($s->{secret}) });
	is(login($v)->{status}, 403, 'with TOTP, login asks for it');
	is(adm(GET => "/users/$v->{user_id}", $BT)->{json}{mfa}, JSON::PP::true, '... and the admin sees mfa');
	$r = adm(DELETE => "/users/$v->{user_id}/mfa", $BT);
	is($r->{status}, 200, 'MFA reset: 200');
	is(adm(GET => "/users/$v->{user_id}", $BT)->{json}{mfa}, JSON::PP::false, '... mfa false');
	is(login($v)->{status}, 200, '... the password alone signs in');
	is(adm(DELETE => '/users/00000000-0000-4000-8000-000000000000/mfa', $BT)->{status}, 404, '... unknown: 404');
	is(psql("SELECT actor FROM audit_log WHERE user_id = '$v->{user_id}' AND event = 'mfa_reset'"), $boss->{user_id},
	    '... audited with the admin');
}

# The last admin stays (a stack of its own: it counts every admin).
{
	my $st = private_stack();
	my $b = $st->base;
	my $one = new_user(base => $b);
	cli($st->dir, 'user', 'set-role', $one->{username}, 'admin');
	my $t = login_user($one, base => $b)->{access_token};
	my $P = sub { api(PATCH => "/admin/users/$_[0]", headers => as($t), json => $_[1], base => $b) };
	$r = $P->($one->{user_id}, { role => 'user' });
	is($r->{status}, 403, 'the last admin cannot demote itself: 403');
	like($r->{json}{message}, qr/last admin/, '... saying why');
	is($P->($one->{user_id}, { disabled => JSON::PP::true })->{status}, 403, '... nor disable itself');
	my ($o, $c) = cli($st->dir, 'user', 'disable', $one->{username});
	isnt($c, 0, '... nor can the command line');
	like($o, qr/last admin/, '... which says why');
	($o, $c) = cli($st->dir, 'user', 'set-role', $one->{username}, 'user');
	isnt($c, 0, '... demote it');
	my $two = new_user(base => $b);
	is($P->($two->{user_id}, { role => 'admin' })->{status}, 200, 'with a second admin');
	is($P->($one->{user_id}, { role => 'user' })->{status}, 200, '... the first may step down');
	$st->down;
}

# The command line.
{
	my $v = new_user(username => "${tag}cli");
	my ($o, $c) = cli($dir, 'user', 'list', $tag);
	is($c, 0, 'user list Q');
	like($o, qr/^\Q$v->{user_id}\E\t\Q$v->{username}\E\t/m, '... lists the match');
	($o, $c) = cli($dir, 'user', 'show', $v->{email});
	is(json_decode($o)->{user_id}, $v->{user_id}, 'user show EMAIL: the admin API\'s object');
	($o, $c) = cli($dir, 'user', 'disable', $v->{username});
	is($c, 0, 'user disable') or diag $o;
	is(login($v)->{status}, 403, '... login 403');
	($o, $c) = cli($dir, 'user', 'enable', $v->{username});
	is(login($v)->{status}, 200, 'user enable: login 200');
	($o, $c) = cli($dir, 'user', 'logout-all', $v->{username});
	like($o, qr/1 sessions ended/, 'user logout-all');
	($o, $c) = cli($dir, 'user', 'show', 'nobody-like-this');
	isnt($c, 0, 'an unknown user: non-zero exit');
	is(psql("SELECT string_agg(DISTINCT actor, ',') FROM audit_log WHERE user_id = '$v->{user_id}' AND event LIKE 'admin_%'"),
	    'cli', 'the command line\'s actions are audited with actor cli');
}

ok(logs_clean(), 'clean logs');
done_testing;
