# Personal access tokens (API.md "Administration and personal access
# tokens"): made with an access token; shown once; fa_pat_ + 40 base62 +
# a 6-digit base62 CRC-32; stored hashed; accepted on GET /auth/me, GET
# /user/info, POST /auth/verify and GET /auth/check only; scopes for
# AUTH_REQUIRE_SCOPE; revoked at once; last_used_at at most once a minute.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Compress::Zlib qw(crc32);
use Digest::SHA qw(sha256_hex);
use Test::More;

my $base = $ENV{FCGI_AUTH_URL};
my @B62 = (0 .. 9, 'A' .. 'Z', 'a' .. 'z');
sub b62 { my ($n, $w) = @_; my $s = ''; for (1 .. $w) { $s = $B62[$n % 62] . $s; $n = int($n / 62) } $s }
sub mk { my ($tok, $body) = @_; api(POST => '/auth/tokens', headers => bearer($tok), json => $body) }

my $u = new_user();
my $j = login_user($u);
my $T = $j->{access_token};

# Create.
my $r = mk($T, { name => 'deploy bot', expires_in => 3600, scopes => ['deploy', 'read:logs'] });
is($r->{status}, 201, 'create: 201');
my $p = $r->{json};
is_deeply([sort keys %$p], [sort qw(token_id token name scopes created_at expires_at)], '... the contract\'s fields');
like($p->{token}, qr/^fa_pat_[0-9A-Za-z]{46}$/, '... fa_pat_ and 46 base62 characters');
my ($rand, $sum) = $p->{token} =~ /^fa_pat_(.{40})(.{6})$/;
is($sum, b62(crc32($rand), 6), '... the last 6 are the CRC-32 of the 40 random ones, in base62');
is_deeply($p->{scopes}, ['deploy', 'read:logs'], '... the scopes');
is($p->{expires_at} - $p->{created_at}, 3600, '... expires_in honoured');
like($r->{headers}{'cache-control'} // '', qr/no-store/, '... not to be cached');
is(psql("SELECT count(*) FROM personal_access_tokens WHERE token_hash = '" . sha256_hex($p->{token}) . "'"), 1,
    'stored as its SHA-256');
is(psql("SELECT count(*) FROM personal_access_tokens WHERE token_hash LIKE '%$rand%' OR name LIKE '%$rand%'"), 0,
    '... and nowhere as itself');
my $P = $p->{token};

# Where it works.
$r = api(GET => '/auth/me', headers => bearer($P));
is($r->{status}, 200, 'GET /auth/me with it: 200');
is($r->{json}{uid}, $u->{user_id}, '... the user');
is($r->{json}{sid}, undef, '... no session');
is($r->{json}{jti}, $p->{token_id}, '... jti is the token id');
is($r->{json}{claims}{token_type}, 'pat', '... token_type pat');
is_deeply($r->{json}{claims}{scopes}, ['deploy', 'read:logs'], '... and its scopes');
is(api(GET => '/user/info', headers => bearer($P))->{json}{username}, $u->{username}, 'GET /user/info: the profile');
$r = api(POST => '/auth/verify', json => { token => $P });
is($r->{status}, 200, 'POST /auth/verify {token}: 200');
is($r->{json}{active}, JSON::PP::true, '... active');
$r = api(GET => '/auth/check', headers => bearer($P));
is($r->{status}, 200, 'GET /auth/check: 200');
is($r->{headers}{'x-auth-request-user'}, $u->{username}, '... the identity headers');
is(api(GET => "$base/demo/whoami", headers => bearer($P))->{json}{user}, $u->{username}, 'a protected location lets it in');
is(api(GET => "$base/demo/scope/whoami", headers => bearer($P))->{status}, 200,
    'AUTH_REQUIRE_SCOPE deploy: a token with the scope passes');
is(api(GET => "$base/demo/mfa/whoami", headers => bearer($P))->{status}, 403, 'AUTH_REQUIRE_MFA: a token is no second factor');
is(api(GET => "$base/demo/scope/whoami", headers => bearer($T))->{status}, 200, '... a session carries every scope');

# And nowhere else.
for my $c (['GET', '/auth/sessions'], ['POST', '/auth/logout-all'], ['POST', '/auth/password', { current_password => 'x', new_password => 'y' }],
    ['GET', '/auth/tokens'], ['POST', '/auth/tokens', { name => 'x' }], ['DELETE', "/auth/tokens/$p->{token_id}"],
    ['GET', '/auth/mfa'], ['POST', '/user/delete', { password => 'x' }], ['PATCH', '/user/info', { display_name => 'x' }],
    ['POST', '/auth/email', { new_email => 'x@example.org', password => 'x' }], ['POST', '/auth/refresh'], ['GET', '/admin/users']) {
	my ($m, $path, $body) = @$c;
	is(api($m => $path, headers => bearer($P), defined $body ? (json => $body) : ())->{status}, 401, "$m $path with it: 401");
}
is(api(GET => '/auth/me', headers => bearer($P))->{status}, 200, 'still alive after all that');

# A scope the token lacks; one without scopes.
my $q = mk($T, { name => 'reader', scopes => ['read'] })->{json};
is(api(GET => "$base/demo/scope/whoami", headers => bearer($q->{token}))->{status}, 403, 'a token without the scope: 403');
cmp_ok($q->{expires_at} - $q->{created_at}, '==', 30 * 86400, 'the default lifetime: 30 days');

# Refusals.
for my $bad ([{}, 'no name'], [{ name => '' }, 'an empty name'], [{ name => 'x', expires_in => 59 }, 'expires_in 59'],
    [{ name => 'x', expires_in => 31536001 }, 'expires_in past AUTH_PAT_MAX_TTL'], [{ name => 'x', expires_in => '60' }, 'expires_in as a string'],
    [{ name => 'x', scopes => 'deploy' }, 'scopes not a list'], [{ name => 'x', scopes => ['Deploy Now'] }, 'a scope with a space'],
    [{ name => 'x', scopes => [1] }, 'a scope not a string'], [{ name => 'x', scopes => [map {"s$_"} 1 .. 11] }, 'eleven scopes'],
    [{ name => 'x' x 300 }, 'a long name']) {
	$r = mk($T, $bad->[0]);
	is($r->{status}, 400, "create with $bad->[1]: 400");
}
is(api(POST => '/auth/tokens', json => { name => 'x' })->{status}, 401, 'create without a token: 401');
for my $junk ('fa_pat_', 'fa_pat_' . ('A' x 46), substr($P, 0, -1) . ($P =~ /A$/ ? 'B' : 'A'), $P . 'x') {
	is(api(GET => '/auth/me', headers => { Authorization => "Bearer $junk" })->{status}, 401, 'a malformed or altered token: 401');
}

is(api_raw(GET => '/auth/me', headers => [Authorization => "Bearer fa_pat_\xff" . ('A' x 45)])->{status}, 401,
    'a token with a byte that is not ASCII: 401');

# List: never the secret; last_used_at, at most once a minute.
$r = api(GET => '/auth/tokens', headers => bearer($T));
is($r->{status}, 200, 'list: 200');
my ($l) = grep { $_->{token_id} eq $p->{token_id} } @{ $r->{json}{tokens} };
is_deeply([sort keys %$l], [sort qw(token_id name scopes created_at expires_at last_used_at)], '... the contract\'s fields');
unlike($r->{body}, qr/fa_pat_/, '... and no secret');
my $used;
wait_until(5, sub { ($l) = grep { $_->{token_id} eq $p->{token_id} } @{ api(GET => '/auth/tokens', headers => bearer($T))->{json}{tokens} };
	$used = $l->{last_used_at} });
ok($used && abs($used - time) < 30, 'last_used_at is recorded');
my $db1 = psql("SELECT last_used_at FROM personal_access_tokens WHERE id = '$p->{token_id}'");
sleep 1.1;
api(GET => '/auth/me', headers => bearer($P)) for 1 .. 5;
sleep 0.3;
is(psql("SELECT last_used_at FROM personal_access_tokens WHERE id = '$p->{token_id}'"), $db1,
    '... and not rewritten by every request (at most once a minute)');

# The mirror: without its entry, Postgres answers and refills it.
my $mk = mirror_key('x') =~ s/^fa:m:(\w+):x$/fa:t:$1:/r . sha256_hex($P);
like(redis("GET $mk"), qr/^\Q$p->{token_id}\E\t/, 'the token\'s mirror entry in Redis');
redis("DEL $mk");
is(api(GET => '/auth/me', headers => bearer($P))->{status}, 200, 'without it: Postgres answers');
like(redis("GET $mk"), qr/^\Q$p->{token_id}\E\t/, '... and the entry is back');

# Revoke: dead at once.
my $other = new_user();
my $oj = login_user($other);
is(api(DELETE => "/auth/tokens/$p->{token_id}", headers => bearer($oj->{access_token}))->{status}, 404,
    'another user revoking it: 404');
$r = api(DELETE => "/auth/tokens/$p->{token_id}", headers => bearer($T));
is($r->{status}, 200, 'revoke: 200');
is_deeply($r->{json}, { ok => JSON::PP::true }, '... {"ok":true}');
is(api(GET => '/auth/me', headers => bearer($P))->{status}, 401, '... dead at once');
is(api(GET => '/auth/check', headers => bearer($P))->{status}, 401, '... at /auth/check too');
is(redis("GET $mk"), '-', '... its mirror entry a tombstone');
is(api(DELETE => "/auth/tokens/$p->{token_id}", headers => bearer($T))->{status}, 404, 'twice: 404');
is(api(DELETE => '/auth/tokens/nope', headers => bearer($T))->{status}, 404, 'not an id: 404');
ok(!grep({ $_->{token_id} eq $p->{token_id} } @{ api(GET => '/auth/tokens', headers => bearer($T))->{json}{tokens} }),
    '... and it is gone from the list');

# At most 50 live tokens; the account's deletion takes them.
{
	my $v = new_user();
	my $vt = login_user($v)->{access_token};
	my @st = map { mk($vt, { name => "t$_", expires_in => 600 })->{status} } 1 .. 51;
	is_deeply([@st[0 .. 49]], [(201) x 50], 'fifty tokens');
	is($st[50], 400, '... the fifty-first: 400');
	my $w = new_user();
	my $wj = login_user($w);
	my $wt = mk($wj->{access_token}, { name => 'x' })->{json}{token};
	api(POST => '/user/delete', headers => bearer($wj->{access_token}), json => { password => $w->{password} });
	is(api(GET => '/auth/me', headers => bearer($wt))->{status}, 401, 'a deleted account\'s token: 401 at once');
}

ok(logs_clean(), 'clean logs');
done_testing;
