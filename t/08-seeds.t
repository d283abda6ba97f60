# Each seed document's own flow, end to end, as its client would run it.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $tag = sprintf '%x%d', time, $$;

subtest 'seed 000: ping, login, me, user info, refresh by cookie, logout-all' => sub {
	is(api(GET => '/ping')->{body}, '{}', 'EmptyResp');
	my $u = new_user();
	my ($j, $r) = login_user($u);
	my $me = api(GET => '/me', headers => bearer($j->{access_token}))->{json};
	is($me->{uid}, $u->{user_id}, 'MeResp.uid');
	ok($me->{jti} && $me->{iat}, 'MeResp.jti, iat');
	my $info = api(GET => '/user/info', headers => bearer($j->{access_token}))->{json};
	is($info->{$_}, $u->{$_}, "UserInfoResp.$_") for qw(username email);
	ok(exists $info->{$_}, "UserInfoResp.$_") for qw(user_id display_name avatar_url);
	my $ref = api(POST => '/refresh', headers => { Cookie =>
	    "sid=$j->{session_id}; refresh=$j->{refresh_token}" })->{json};
	ok($ref->{$_}, "LoginResp.$_") for qw(access_token session_id expires_in token_type);
	my $lo = api(POST => '/logout-all', headers => bearer($ref->{access_token}));
	is($lo->{json}{ok}, JSON::PP::true, 'logout-all ok');
	is(api(GET => '/me', headers => bearer($ref->{access_token}))->{status}, 401, 'gone');
};

subtest 'seed 001: register, login, refresh, verify, authorized/me, logout' => sub {
	my $r = api(POST => '/register?sendEmail=false', json => {
	    email => "s1$tag\@example.com", username => "s1$tag", password => 'seed one passphrase' });
	is($r->{status}, 201, 'register 201');
	is($r->{json}{message}, 'registered', 'message registered');
	$r = api(POST => '/login', json => { email => "s1$tag\@example.com",
	    password => 'seed one passphrase' });
	is($r->{status}, 200, 'login by email');
	ok($r->{json}{$_}, $_) for qw(access_token expires_in refresh_expires_in refresh_token);
	my $ref = api(POST => '/refresh', json => { refresh_token => $r->{json}{refresh_token} });
	ok($ref->{json}{access_token} && $ref->{json}{expires_in}, 'refresh');
	my $v = api(POST => '/verify', json => { token => $ref->{json}{access_token} });
	is($v->{json}{token}{token_type}, 'access', 'verify token_type');
	ok($v->{json}{token}{$_}, "verify $_") for qw(uid email exp iat);
	my $me = api(GET => '/authorized/me', headers => bearer($ref->{json}{access_token}));
	is($me->{json}{claims}{email}, "s1$tag\@example.com", 'claims.email');
	ok($me->{json}{claims}{$_}, "claims.$_") for qw(uid exp iat);
	my $lo = api(POST => '/logout', headers => bearer($ref->{json}{access_token}));
	is($lo->{json}{message}, 'logout successful', 'logout message');
};

subtest 'seed 002: auth/login, refresh by Bearer, sessions, revoke-all' => sub {
	my $u = new_user();
	my $j = login_user($u);
	my $r = api(POST => '/auth/refresh', headers => bearer($j->{access_token}));
	is($r->{status}, 200, 'session refreshed by Bearer');
	my $s = api(GET => '/auth/sessions', headers => bearer($r->{json}{access_token}));
	is(scalar @{ $s->{json}{sessions} }, 1, 'active sessions');
	is(api(POST => '/auth/revoke-all', headers => bearer($r->{json}{access_token}))->{status},
	    200, 'all sessions revoked');
	is(api(GET => '/auth/me', headers => bearer($r->{json}{access_token}))->{status}, 401,
	    'unauthorized after revoke-all');
};

subtest 'seed 003: login with "user"' => sub {
	my $u = new_user();
	my $r = api(POST => '/auth/login', json => { user => $u->{username},
	    password => $u->{password} });
	is($r->{status}, 200, 'login 200');
	is($r->{json}{token_type}, 'Bearer', 'token_type');
	ok($r->{json}{$_}, $_) for qw(access_token access_token_expires_in refresh_token
	    refresh_token_expires_in);
	is(api(POST => '/auth/refresh', json => { refresh_token => $r->{json}{refresh_token} },
	    headers => bearer($r->{json}{access_token}))->{status}, 200,
	    'refresh with body and Authorization');
};

subtest 'seed 004: account/psw register and login, refresh-token, GET logout 405' => sub {
	my $r = api(POST => '/auth/register', json => { type => 'email',
	    account => "s4$tag\@example.com", psw => 'seed four passphrase', captcha => '123456' });
	is($r->{status}, 201, 'register with account/psw');
	ok($r->{json}{user_id}, 'user id');
	$r = api(POST => '/auth/login', json => { type => 'email',
	    account => "s4$tag\@example.com", psw => 'seed four passphrase' });
	is($r->{status}, 200, 'login with account/psw');
	my $t = api(POST => '/auth/refresh-token', json => { refresh_token => $r->{json}{refresh_token} });
	is($t->{status}, 200, 'refresh-token');
	my $g = api(GET => '/auth/logout', headers => bearer($t->{json}{access_token}));
	is($g->{status}, 405, 'GET logout is 405 (CSRF)');
	is($g->{headers}{allow}, 'POST', 'Allow: POST');
	is(api(POST => '/auth/logout', headers => bearer($t->{json}{access_token}))->{status},
	    200, 'POST logout');
};

logs_clean();
done_testing;
