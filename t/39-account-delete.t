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
ok(wait_mail($u->{email}, count => 2) =~ /Your account was deleted/ || grep(/account was deleted/i, mails_to($u->{email})),
    'a confirmation mail');
is(api(POST => '/auth/register', json => { username => $u->{username}, email => $u->{email}, password => 'another fine passphrase' })->{status},
    201, 'the username and email are free again');

# With TOTP on, a code too.
{
	my $v = new_user();
	my $vj = login_user($v);
	my $s = api(POST => '/auth/mfa/totp', headers => bearer($vj->{access_token}), json => { password => $v->{password} })->{json};
	my $t = int(time);
	my $code = `oathtool --totp -b --now=\@$t $s->{secret}`;
	chomp $code;
	my $codes = api(POST => '/auth/mfa/totp/confirm', headers => bearer($vj->{access_token}), json => { code => $code })->{json}{recovery_codes};
	$r = api(POST => '/user/delete', headers => bearer($vj->{access_token}), json => { password => $v->{password} });
	is($r->{status}, 401, 'TOTP on, no code: 401');
	is(api(GET => '/auth/me', headers => bearer($vj->{access_token}))->{status}, 200, '... nothing happened');
	$r = api(POST => '/user/delete', headers => bearer($vj->{access_token}), json => { password => $v->{password}, code => $codes->[0] });
	is($r->{status}, 200, '... with a recovery code: 200');
	is(psql("SELECT count(*) FROM mfa_totp WHERE user_id = '$v->{user_id}'"), 0, '... and the secret went with the user');
}

done_testing;
