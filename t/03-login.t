# POST /auth/login: identifiers and aliases, uniform failures, cookies,
# token shape checked independently with Crypt::JWT.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Crypt::JWT qw(decode_jwt);

my $u = new_user();
my ($j, $r) = login_user($u);
is($r->{status}, 200, 'login 200');
for my $k (qw(access_token token_type expires_in refresh_token
    refresh_expires_in session_id user_id)) {
	ok(defined $j->{$k}, "login has $k");
}
is($j->{token_type}, 'Bearer', 'token_type Bearer');
is($j->{expires_in}, 900, 'expires_in 900');
is($j->{refresh_expires_in}, 1209600, 'refresh_expires_in 14 days');
is($j->{user_id}, $u->{user_id}, 'user_id');
like($j->{refresh_token}, qr/^[A-Za-z0-9_-]{43,}$/, 'opaque refresh token (>= 256 bits)');
is($r->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store');

my $h = $r->{headers}{'set-cookie'};
my @c = ref $h ? @$h : ($h);
my ($sidc) = grep { /^sid=/ } @c;
my ($rtc) = grep { /^refresh=/ } @c;
like($sidc, qr/^sid=\Q$j->{session_id}\E;/, 'sid cookie');
like($rtc, qr/^refresh=\Q$j->{refresh_token}\E;/, 'refresh cookie');
for my $c ($sidc, $rtc) {
	like($c, qr/; HttpOnly/, 'HttpOnly');
	like($c, qr/; SameSite=Strict/, 'SameSite=Strict');
	like($c, qr/; Path=\/api\/v1/, 'Path=/api/v1');
	like($c, qr/; Max-Age=1209600/, 'Max-Age = refresh lifetime');
	unlike($c, qr/Secure/, 'no Secure in dev mode');
}

# The access token, verified independently against the secret.
my ($hdr, $claims) = decode_jwt(token => $j->{access_token}, key => secret(),
    decode_header => 1, accepted_alg => 'HS256');
is($hdr->{alg}, 'HS256', 'alg HS256');
is($hdr->{typ}, 'at+jwt', 'typ at+jwt');
ok($hdr->{kid}, 'kid');
is($claims->{sub}, $u->{user_id}, 'sub');
is($claims->{uid}, $u->{user_id}, 'uid');
is($claims->{sid}, $j->{session_id}, 'sid');
is($claims->{token_type}, 'access', 'token_type');
is($claims->{email}, $u->{email}, 'email');
is($claims->{iss}, 'fcgi-auth', 'iss');
ok($claims->{jti}, 'jti');
ok(abs($claims->{iat} - time) < 60, 'iat now');
is($claims->{exp} - $claims->{iat}, 900, 'exp = iat + 900');
is($claims->{nbf}, $claims->{iat}, 'nbf');
my $j2 = login_user($u);
isnt((jwt_parts($j2->{access_token}))[1]{jti}, $claims->{jti}, 'jti unique per token');
isnt($j2->{session_id}, $j->{session_id}, 'a login is a new session');

# Identifier aliases.
for my $k (qw(username email user account)) {
	my $r = api(POST => '/auth/login', json => { $k => $k eq 'email' ?
	    uc $u->{email} : $u->{username}, password => $u->{password} });
	is($r->{status}, 200, "login by '$k'");
}
is(api(POST => '/login', json => { account => $u->{email},
    psw => $u->{password} })->{status}, 200, 'account + psw (seed 004)');

# Failures are identical for a wrong password and an unknown user.
my $wrong = api(POST => '/auth/login', json => { username => $u->{username},
    password => 'wrong password here' });
my $unknown = api(POST => '/auth/login', json => { username => "nobody$$" . time,
    password => 'wrong password here' });
is($wrong->{status}, 401, 'wrong password 401');
is($wrong->{json}{error}, 'invalid_credentials', 'invalid_credentials');
is($unknown->{status}, 401, 'unknown user 401');
is($wrong->{body}, $unknown->{body}, 'byte-identical bodies');
ok(!$wrong->{headers}{'set-cookie'}, 'no cookies on failure');

is(api(POST => '/auth/login', json => { password => 'x' x 10 })->{status}, 400,
    'missing identifier 400');
is(api(POST => '/auth/login', json => { username => $u->{username} })->{status},
    400, 'missing password 400');
$r = api(POST => '/auth/login', json => { username => $u->{username},
    password => [1] });
is($r->{status}, 400, 'array password 400');
like($r->{json}{message}, qr/password/, 'names the field');
is(api(POST => '/auth/login', json => { username => "' OR 1=1 --",
    password => "' OR 1=1 --" })->{status}, 401, 'SQL-looking input is just wrong');

# Unknown fields are ignored.
is(api(POST => '/auth/login', json => { username => $u->{username},
    password => $u->{password}, remember => \1, extra => { a => 1 } })->{status},
    200, 'unknown fields ignored');

# A hash made at another cost is re-hashed on the next login.
psql("UPDATE users SET password_hash = '"
    . `perl -e 'print crypt(q{$u->{password}}, q{\$y\$j75\$Cq.TsCFaqoszzm7szzG4g/})'`
    . "' WHERE id = '$u->{user_id}'");
like(psql("SELECT password_hash FROM users WHERE id = '$u->{user_id}'"),
    qr/^\$y\$j75\$/, 'old-cost hash planted');
is(api(POST => '/auth/login', json => { username => $u->{username},
    password => $u->{password} })->{status}, 200, 'login with the old-cost hash');
unlike(psql("SELECT password_hash FROM users WHERE id = '$u->{user_id}'"),
    qr/^\$y\$j75\$/, 're-hashed at the configured cost');
is(api(POST => '/auth/login', json => { username => $u->{username},
    password => $u->{password} })->{status}, 200, 'and still logs in');

logs_clean();
done_testing;
