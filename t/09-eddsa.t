# EdDSA (Ed25519) signing in a private stack: JWKS, independent
# verification with Crypt::JWT against the JWKS, key confusion, and key
# rotation by SIGHUP (newest signs, all verify).
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use File::Temp qw(tempdir);
use Crypt::JWT qw(decode_jwt);
use Digest::SHA qw(hmac_sha256);

my $keys = tempdir('/tmp/fcgi-auth-keys.XXXXXX', CLEANUP => 1);
chmod 0755, $keys;
system("openssl genpkey -algorithm ed25519 -out $keys/2026-01.pem 2>/dev/null") == 0
    or BAIL_OUT('openssl genpkey failed');
chmod 0644, "$keys/2026-01.pem";

my $st = private_stack(AUTH_JWT_ALG => 'EdDSA', AUTH_JWT_KEYS_DIR => $keys);
my $base = $st->base;

my $jwks = api(GET => '/.well-known/jwks.json', base => $base);
is($jwks->{status}, 200, 'jwks 200');
is(scalar @{ $jwks->{json}{keys} }, 1, 'one key');
my $k = $jwks->{json}{keys}[0];
is($k->{$_->[0]}, $_->[1], "jwk $_->[0]") for [kty => 'OKP'], [crv => 'Ed25519'],
    [kid => '2026-01'], [use => 'sig'], [alg => 'EdDSA'];
like($k->{x}, qr/^[A-Za-z0-9_-]{43}$/, 'x is the base64url public key');
ok(!exists $k->{d}, 'no private part');

my $u = new_user(base => $base);
my $j = login_user($u, base => $base);
my ($hdr, $cl) = decode_jwt(token => $j->{access_token}, kid_keys => $jwks->{json},
    decode_header => 1, accepted_alg => 'EdDSA');
is($hdr->{alg}, 'EdDSA', 'alg EdDSA');
is($hdr->{kid}, '2026-01', 'kid');
is($cl->{sub}, $u->{user_id}, 'verified by Crypt::JWT against the JWKS');
is(api(GET => '/auth/me', base => $base, headers => bearer($j->{access_token}))->{status},
    200, 'me with an EdDSA token');

# Key confusion: HS256 "signed" with the public key.
my $pub = b64url_decode($k->{x});
for my $key ($pub, $k->{x}) {
	my $in = b64url(json_encode({ alg => 'HS256', typ => 'at+jwt', kid => '2026-01' }))
	    . '.' . b64url(json_encode($cl));
	my $forged = "$in." . b64url(hmac_sha256($in, $key));
	is(api(GET => '/auth/me', base => $base, headers => bearer($forged))->{status}, 401,
	    'HS256 signed with the EdDSA public key is refused');
}
my @p = split /\./, $j->{access_token};
my $sig = b64url_decode($p[2]);
substr($sig, 10, 1) = chr(ord(substr($sig, 10, 1)) ^ 1);
is(api(GET => '/auth/me', base => $base, headers => bearer("$p[0].$p[1]." . b64url($sig)))->{status},
    401, 'a flipped signature bit is refused');

# Rotation: add a newer key, SIGHUP; the new key signs, the old verifies.
system("openssl genpkey -algorithm ed25519 -out $keys/2026-02.pem 2>/dev/null");
chmod 0644, "$keys/2026-02.pem";
my @before = worker_pids($st->dir);
kill 'HUP', master_pid($st->dir);
ok(wait_until(15, sub {
	my $r = api(GET => '/.well-known/jwks.json', base => $base);
	my %now = map { $_ => 1 } worker_pids($st->dir);
	@{ $r->{json}{keys} // [] } == 2 && !grep { $now{$_} } @before;
}), 'after SIGHUP every worker serves both keys');
my $j2 = login_user($u, base => $base);
is((jwt_parts($j2->{access_token}))[0]{kid}, '2026-02', 'the newest key signs');
is(api(GET => '/auth/me', base => $base, headers => bearer($j->{access_token}))->{status},
    200, 'a token from the older key still verifies');
my $jwks2 = api(GET => '/.well-known/jwks.json', base => $base)->{json};
ok(decode_jwt(token => $j2->{access_token}, kid_keys => $jwks2, accepted_alg => 'EdDSA'),
    'new token verifies against the published JWKS');

$st->down;
logs_clean($st->dir);
done_testing;
