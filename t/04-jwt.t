# Access-token verification over HTTP: every forged, stale or revoked
# token is refused by /auth/me and /auth/verify.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Crypt::JWT qw(encode_jwt);
use Digest::SHA qw(hmac_sha256);

my $u = new_user();
my $j = login_user($u);
my $at = $j->{access_token};
my ($hdr, $cl, $sig) = jwt_parts($at);

is(api(GET => '/auth/me', headers => bearer($at))->{status}, 200, 'genuine token');
is(api(GET => '/auth/me', headers => { Authorization => "bearer $at" })->{status},
    200, 'scheme is case-insensitive');

sub signed {	# a token signed with the real secret (or KEY) from header+claims
	my ($h, $c, $key) = @_;
	my $in = b64url(json_encode($h)) . '.' . b64url(json_encode($c));
	return "$in." . b64url(hmac_sha256($in, $key // secret()));
}

is(api(GET => '/auth/me', headers => bearer(signed($hdr, $cl)))->{status}, 200,
    'harness re-signs a valid token (sanity)');

# A correctly signed token whose header uses the standard base64
# alphabet ('+', '/'): only the canonical-encoding rule can refuse it.
sub std_b64_token {
	my ($h, $c) = @_;
	require MIME::Base64;
	my $hs = MIME::Base64::encode_base64(json_encode({ %$h, z => '>>>???' }), '');
	$hs =~ s/=+$//;
	die "no + or / in $hs" unless $hs =~ m{[+/]};
	my $in = $hs . '.' . b64url(json_encode($c));
	return "$in." . b64url(hmac_sha256($in, secret()));
}

my $now = time;
my %attacks = (
	'alg none' => join('.', b64url(json_encode({ %$hdr, alg => 'none' })),
	    b64url(json_encode($cl)), ''),
	'alg None' => join('.', b64url(json_encode({ %$hdr, alg => 'None' })),
	    b64url(json_encode($cl)), ''),
	'alg none with signature' => join('.', b64url(json_encode({ %$hdr, alg => 'none' })),
	    b64url(json_encode($cl)), $sig),
	'signature stripped' => join('.', (split /\./, $at)[0, 1]) . '.',
	'two segments' => join('.', (split /\./, $at)[0, 1]),
	'four segments' => "$at.$sig",
	'padding' => "$at=",
	'plus/slash' => std_b64_token($hdr, $cl),
	'whitespace' => substr($at, 0, 20) . ' ' . substr($at, 20),
	'tampered payload' => join('.', (split /\./, $at)[0],
	    b64url(json_encode({ %$cl, sub => '00000000-0000-4000-8000-000000000000' })), $sig),
	'wrong key' => signed($hdr, $cl, 'x' x 32),
	'expired' => signed($hdr, { %$cl, iat => $now - 2000, nbf => $now - 2000,
	    exp => $now - 100 }),
	'no exp' => signed($hdr, { map { $_ => $cl->{$_} } grep { $_ ne 'exp' } keys %$cl }),
	'not yet valid' => signed($hdr, { %$cl, nbf => $now + 600 }),
	'wrong iss' => signed($hdr, { %$cl, iss => 'evil' }),
	'refresh token_type' => signed($hdr, { %$cl, token_type => 'refresh' }),
	'unknown kid' => signed({ %$hdr, kid => 'other' }, $cl),
	'kid path traversal' => signed({ %$hdr, kid => '../../../../etc/passwd' }, $cl),
	'crit' => signed({ %$hdr, crit => ['exp'] }, $cl),
	'typ JWT' => signed({ %$hdr, typ => 'JWT' }, $cl),
	'alg EdDSA' => signed({ %$hdr, alg => 'EdDSA' }, $cl),
	'alg HS512' => signed({ %$hdr, alg => 'HS512' }, $cl),
	'string exp' => signed($hdr, { %$cl, exp => "$cl->{exp}" }),
	'unknown session' => signed($hdr, { %$cl, sid => '00000000-0000-4000-8000-000000000000' }),
	'other user' => signed($hdr, { %$cl, sub => '00000000-0000-4000-8000-000000000000',
	    uid => '00000000-0000-4000-8000-000000000000' }),
	'overlong' => $at . ('A' x 5000),
	'empty' => '',
	'garbage' => 'not a jwt at all',
);
for my $name (sort keys %attacks) {
	my $t = $attacks{$name};
	my $r = api(GET => '/auth/me', headers => bearer($t));
	is($r->{status}, 401, "me: $name refused");
	is($r->{json}{error}, 'invalid_token', "me: $name invalid_token");
	$r = api(POST => '/auth/verify', json => { token => $t });
	is($r->{status}, 401, "verify: $name refused");
	is($r->{json}{active}, JSON::PP::false, "verify: $name active false");
}
# jku/jwk headers are ignored (never fetched), not trusted.
is(api(GET => '/auth/me', headers => bearer(signed({ %$hdr,
    jku => 'http://127.0.0.1:1/keys', jwk => { kty => 'oct', k => b64url('x' x 32) } },
    $cl)))->{status}, 200, 'jku/jwk headers ignored on a genuinely signed token');
is(api(GET => '/auth/me', headers => bearer(signed({ %$hdr,
    jwk => { kty => 'oct', k => b64url('y' x 32) } }, $cl, 'y' x 32)))->{status},
    401, 'a token signed with its own embedded jwk is refused');

# verify happy path (seed 001 shape).
my $r = api(POST => '/auth/verify', json => { token => $at });
is($r->{status}, 200, 'verify 200');
is($r->{json}{active}, JSON::PP::true, 'active true');
is($r->{json}{token}{$_}, $cl->{$_}, "verify token.$_") for qw(token_type uid sid email exp iat);
is(api(POST => '/auth/verify', json => {})->{status}, 400, 'verify without token 400');
is(api(POST => '/verify', json => { token => $at })->{status}, 200, '/verify alias');

# Revoked session: the same token stops working immediately.
is(api(POST => '/auth/logout', headers => bearer($at))->{status}, 200, 'logout');
$r = api(GET => '/auth/me', headers => bearer($at));
is($r->{status}, 401, 'revoked session: me 401');
$r = api(POST => '/auth/verify', json => { token => $at });
is($r->{status}, 401, 'revoked session: verify 401');
is($r->{json}{active}, JSON::PP::false, 'revoked session: active false');

# With the Redis mirror flushed, Postgres still says revoked.
my $j2 = login_user($u);
is(api(POST => '/auth/logout', headers => bearer($j2->{access_token}))->{status}, 200, 'logout 2');
system("redis-cli -s " . stack_dir() . "/run/redis.sock FLUSHALL >/dev/null");
is(api(GET => '/auth/me', headers => bearer($j2->{access_token}))->{status}, 401,
    'revoked session refused after the mirror is lost');
my $j3 = login_user($u);
system("redis-cli -s " . stack_dir() . "/run/redis.sock FLUSHALL >/dev/null");
is(api(GET => '/auth/me', headers => bearer($j3->{access_token}))->{status}, 200,
    'active session accepted after the mirror is lost (Postgres fallback)');
my @m = split /\t/, redis('GET', mirror_key($j3->{session_id}));
is($m[4], $u->{user_id}, 'and the mirror is re-filled (its user)');
is($m[6], $u->{username}, '... with what a check needs (username)');
is($m[5], 'user', '... (role)');

logs_clean();
done_testing;
