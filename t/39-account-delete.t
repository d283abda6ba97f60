# POST /user/delete (API.md "Account lifecycle"): the password again (and
# a code when TOTP is on); every session and token dies at once, the
# username and email are free again, the audit rows stay, a confirmation
# mail goes out.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $base = $ENV{FCGI_AUTH_URL};
my $u = new_user();
my ($j, $web) = web_login($u);
my $k = login_user($u);
my $r = api(POST => '/user/delete', headers => bearer($j->{access_token}), json => { password => 'wrong password!' });
is($r->{status}, 401, 'delete with a wrong password: 401');
is(api(GET => '/auth/me', headers => bearer($j->{access_token}))->{status}, 200, '... nothing happened');
$r = api(POST => '/user/delete', headers => bearer($j->{access_token}), json => { password => $u->{password} });
is($r->{status}, 200, 'delete with the password: 200');
is_deeply($r->{json}, { ok => JSON::PP::true }, '... {"ok":true}');
is(api(GET => '/auth/me', headers => bearer($k->{access_token}))->{status}, 401, 'another session\'s token: 401 at once');
is(api(GET => '/auth/check', headers => bearer($j->{access_token}))->{status}, 401, '... and /auth/check refuses it');
is(api(GET => "$base/demo/whoami", headers => { Cookie => $web, Accept => 'application/json' })->{status}, 401,
    '... and the browser cookie');
is(api(POST => '/auth/refresh', json => { refresh_token => $k->{refresh_token} })->{status}, 401, '... and its refresh token');
is(api(POST => '/auth/login', json => { username => $u->{username}, password => $u->{password} })->{status}, 401,
    'the password no longer signs in');
is(psql("SELECT count(*) FROM users WHERE id = '$u->{user_id}'"), 0, 'the profile is gone');
cmp_ok(psql("SELECT count(*) FROM audit_log WHERE user_id = '$u->{user_id}'"), '>', 2, 'the audit rows stay');
is(psql("SELECT count(*) FROM audit_log WHERE user_id = '$u->{user_id}' AND event = 'account_deleted' AND outcome = 'success'"),
    1, '... with one for the deletion');
like(mail_like($u->{email}, qr/Subject: Your account was deleted/) // '', qr/Address: +127\.0\.0\.1/,
    'a confirmation mail');
is(api(POST => '/auth/register', json => { username => $u->{username}, email => $u->{email}, password => 'another fine passphrase' })->{status},
    201, 'the username and email are free again');

# Deletion racing refreshes: whatever a refresh got, it dies with the account.
for my $round (1 .. 3) {
	my $v = new_user();
	my $vj = login_user($v);
	my ($del, $acc, $ref) = refresh_race($v, 4, sub {
		api(POST => '/user/delete', headers => bearer($vj->{access_token}), json => { password => $v->{password} }) });
	is($del->{status}, 200, "round $round: the deletion, among refreshes: 200");
	my @access = @$acc;
	my @refresh = @$ref;
	my @live = grep { api(GET => '/auth/me', headers => bearer($_))->{status} != 401 } @access;
	is(scalar @live, 0, '... not one of the ' . scalar(@access) . ' access tokens refreshes handed out works');
	@live = grep { api(GET => '/auth/check', headers => bearer($_))->{status} != 401 } @access;
	is(scalar @live, 0, '... at /auth/check either');
	@live = grep { api(POST => '/auth/refresh', json => { refresh_token => $_ })->{status} != 401 } @refresh;
	is(scalar @live, 0, '... and no refresh token refreshes');
	is(psql("SELECT count(*) FROM sessions WHERE user_id = '$v->{user_id}'"), 0, '... no session row is left');
}

# With TOTP on, a code too.
{
	my $v = new_user();
	my $vj = login_user($v);
	my $s = api(POST => '/auth/mfa/totp', headers => bearer($vj->{access_token}), json => { password => $v->{password} })->{json};
	my $code = totp_code($s->{secret});
	my $codes = api(POST => '/auth/mfa/totp/confirm', headers => bearer($vj->{access_token}), json => { code => $code })->{json}{recovery_codes};
	$r = api(POST => '/user/delete', headers => bearer($vj->{access_token}), json => { password => $v->{password} });
	is($r->{status}, 401, 'TOTP on, no code: 401');
	is(api(GET => '/auth/me', headers => bearer($vj->{access_token}))->{status}, 200, '... nothing happened');
	$r = api(POST => '/user/delete', headers => bearer($vj->{access_token}), json => { password => $v->{password}, code => $codes->[0] });
	is($r->{status}, 200, '... with a recovery code: 200');
	is(psql("SELECT count(*) FROM mfa_totp WHERE user_id = '$v->{user_id}'"), 0, '... and the secret went with the user');
}

is(api(POST => '/user/delete', json => { password => 'x' })->{status}, 401, 'no Bearer token: 401');
{
	my $v = new_user();
	my $vj = login_user($v);
	is(api(POST => '/user/delete', headers => bearer($vj->{access_token}), json => {})->{status}, 400, 'no password: 400');
	my $x = api(POST => '/user/delete', headers => bearer($vj->{access_token}), json => qq({"password":"a\xff"}));
	is($x->{status}, 400, 'a password that is not UTF-8: 400');
	is(psql("SELECT count(*) FROM users WHERE id = '$v->{user_id}'"), 1, '... the user is there');
}

ok(logs_clean(), 'clean logs');
done_testing;
