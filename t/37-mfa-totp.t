# Second factors, TOTP (API.md "Second factors and passkeys"): setup with
# the password, confirm, the login step (mfa_required, mfa_token,
# POST /auth/mfa/verify), each code once, recovery codes, removal, amr
# and auth_time in the tokens, AUTH_REQUIRE_MFA at nginx, secrets at
# rest. Codes come from an independent implementation: Debian's oathtool.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(time);
use JSON::PP ();

-x '/usr/bin/oathtool' or BAIL_OUT('oathtool is missing: script/bootstrap installs it');
my $base = $ENV{FCGI_AUTH_URL};
my $JSON = { Accept => 'application/json' };

# The code of `secret` at Unix time t (oathtool, RFC 6238), and at now +
# offset seconds.
sub totp_at {
	my ($secret, $t) = @_;
	my $c = `oathtool --totp -b --now=\@$t $secret`;
	chomp $c;
	return $c;
}
sub totp { totp_at($_[0], int(time) + ($_[1] // 0)) }
sub claims { json_decode(b64url_decode((split /\./, $_[0])[1])) }
sub login { api(POST => '/auth/login', json => { username => $_[0]{username}, password => $_[0]{password} }) }

# A user with TOTP confirmed: (user, secret, recovery codes, its session).
sub enrolled {
	my $u = new_user();
	my $j = login_user($u);
	my $s = api(POST => '/auth/mfa/totp', headers => bearer($j->{access_token}),
	    json => { password => $u->{password} })->{json};
	my $c = api(POST => '/auth/mfa/totp/confirm', headers => bearer($j->{access_token}),
	    json => { code => totp($s->{secret}) })->{json};
	return ($u, $s->{secret}, $c->{recovery_codes}, $j);
}

# --- setup and confirm -------------------------------------------------
my $u = new_user();
my $j = login_user($u);
my $other = login_user($u);
my $r = api(POST => '/auth/mfa/totp', headers => bearer($j->{access_token}), json => { password => 'wrong password!' });
is($r->{status}, 401, 'setup with a wrong password: 401');
is($r->{json}{error}, 'invalid_credentials', '... invalid_credentials');
is(psql("SELECT count(*) FROM mfa_totp WHERE user_id = '$u->{user_id}'"), 0, '... and nothing stored');
is(api(POST => '/auth/mfa/totp', json => { password => $u->{password} })->{status}, 401, 'setup without a token: 401');

$r = api(POST => '/auth/mfa/totp', headers => bearer($j->{access_token}), json => { password => $u->{password} });
is($r->{status}, 200, 'setup with the password: 200');
my $secret = $r->{json}{secret};
like($secret, qr/^[A-Z2-7]{32}$/, '... a 160-bit base32 secret');
is_deeply([@{ $r->{json} }{qw(digits period algorithm)}], [6, 30, 'SHA1'], '... 6 digits, 30 s, SHA1');
like($r->{json}{otpauth_uri}, qr{^otpauth://totp/fcgi-auth:\Q$u->{username}\E\?secret=\Q$secret\E&issuer=fcgi-auth&algorithm=SHA1&digits=6&period=30$},
    '... and the otpauth URI');
is($r->{headers}{'cache-control'}, 'no-store', '... not cached');
like($r->{json}{qr_svg} // '', qr{^<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 (\d+) \1".*<path fill="#000" d="(M\d+ \d+h1v1h-1z)+"/></svg>$},
    '... and the URI as a QR code (SVG) for the account page');
my $st = api(GET => '/auth/mfa', headers => bearer($j->{access_token}))->{json};
is_deeply([$st->{totp}, $st->{totp_pending}, $st->{methods}], [JSON::PP::false, JSON::PP::true, []],
    'GET /auth/mfa: off, waiting for confirmation');
is(login($u)->{status}, 200, 'not active until confirmed: login still answers with tokens');

my $sealed = psql("SELECT secret_sealed FROM mfa_totp WHERE user_id = '$u->{user_id}'");
like($sealed, qr/^fa1\./, 'the secret is stored sealed under the data key');
my $hex = unpack 'H*', do { my %a; @a{ 'A' .. 'Z', '2' .. '7' } = 0 .. 31;
	my $bits = join '', map { sprintf '%05b', $a{$_} } split //, $secret; pack 'B*', $bits };
unlike($sealed, qr/\Q$secret\E|\Q$hex\E/i, '... never as itself');

$r = api(POST => '/auth/mfa/totp/confirm', headers => bearer($j->{access_token}), json => { code => '000000' eq totp($secret) ? '111111' : '000000' });
is($r->{status}, 401, 'confirm with a wrong code: 401');
$r = api(POST => '/auth/mfa/totp/confirm', headers => bearer($j->{access_token}), json => { code => 'abcdef' });
is($r->{status}, 401, 'confirm with a code that is not digits: 401');
# The step of the confirming code is fixed here: the test may cross a 30 s
# boundary before it uses that code again, or the one after it.
my $t0 = int(time);
my $c0 = totp_at($secret, $t0);
$r = api(POST => '/auth/mfa/totp/confirm', headers => bearer($j->{access_token}), json => { code => $c0 });
is($r->{status}, 200, 'confirm with the current code (oathtool): 200');
my @codes = @{ $r->{json}{recovery_codes} // [] };
is(scalar @codes, 10, '... ten recovery codes');
is(scalar(grep { /^[a-z2-7]{5}-[a-z2-7]{5}$/ } @codes), 10, '... of the form xxxxx-xxxxx');
is(api(GET => '/auth/me', headers => bearer($other->{access_token}))->{status}, 401, 'enabling it ended the other sessions');
$st = api(GET => '/auth/mfa', headers => bearer($j->{access_token}))->{json};
is_deeply([$st->{totp}, $st->{recovery_codes_remaining}, $st->{methods}], [JSON::PP::true, 10, ['totp', 'recovery_code']],
    'GET /auth/mfa: on, ten recovery codes');
is(api(GET => '/auth/me', headers => bearer($j->{access_token}))->{status}, 200, '... but not this one');
my @hashes = split /\n/, psql("SELECT code_hash FROM mfa_recovery_codes WHERE user_id = '$u->{user_id}'");
is(scalar @hashes, 10, 'ten recovery code rows');
ok(!grep({ my $h = $_; grep { $h =~ /\Q$_\E/ || index($_, $h) >= 0 } @codes } @hashes), '... none holds a code');
is(api(POST => '/auth/mfa/totp', headers => bearer($j->{access_token}), json => { password => $u->{password} })->{status},
    400, 'a second setup while one is active: 400');

# --- the login step ----------------------------------------------------
$r = login($u);
is($r->{status}, 403, 'login of an account with a second factor: 403');
is($r->{json}{error}, 'mfa_required', '... mfa_required');
like($r->{json}{mfa_token} // '', qr/^[A-Za-z0-9_-]{43}$/, '... an opaque mfa_token');
is_deeply($r->{json}{methods}, ['totp', 'recovery_code'], '... and the methods it has');
ok(!$r->{json}{access_token} && !$r->{headers}{'set-cookie'}, '... but no token and no cookie');
my $mt = $r->{json}{mfa_token};
unlike(psql("SELECT string_agg(token_hash, ',') FROM mfa_tickets WHERE user_id = '$u->{user_id}'"), qr/\Q$mt\E/,
    'the ticket is stored hashed');
is(login({ %$u, password => 'wrong password!' })->{json}{error}, 'invalid_credentials', 'a wrong password says nothing of the second factor');

$r = api(POST => '/auth/mfa/verify', json => { mfa_token => $mt, code => $c0 });
is($r->{status}, 401, 'the code that confirmed the setup, again: 401 (each code once)');
is($r->{json}{error}, 'invalid_credentials', '... invalid_credentials');
is(psql("SELECT failures FROM mfa_tickets WHERE user_id = '$u->{user_id}' AND used_at IS NULL"), 1, '... and the ticket counts it');
$r = api(POST => '/auth/mfa/verify', json => { mfa_token => $mt, code => totp_at($secret, $t0 + 30) });
is($r->{status}, 200, 'the next code: 200');
ok($r->{json}{access_token} && $r->{json}{refresh_token}, '... answers like login');
my %ck = %{ set_cookies($r) };
ok($ck{fa_session} && $ck{refresh} && $ck{sid}, '... with the cookies');
my $c = claims($r->{json}{access_token});
is_deeply($c->{amr}, ['pwd', 'otp', 'mfa'], 'its access token says amr pwd, otp, mfa');
cmp_ok(abs($c->{auth_time} - time), '<', 10, '... and auth_time is now');
my $mj = $r->{json};
is(api(POST => '/auth/mfa/verify', json => { mfa_token => $mt, code => totp($secret, 30) })->{json}{error},
    'invalid_token', 'the same mfa_token again: 401 invalid_token (single use)');
my $r2 = api(POST => '/auth/refresh', json => { refresh_token => $mj->{refresh_token} });
is($r2->{status}, 200, 'refresh');
my $c2 = claims($r2->{json}{access_token});
is_deeply([$c2->{amr}, $c2->{auth_time}], [$c->{amr}, $c->{auth_time}], '... keeps amr and auth_time');
is(api(POST => '/auth/refresh', headers => bearer($r2->{json}{access_token}))->{status}, 200, 'refresh by Bearer');

# AUTH_REQUIRE_MFA at nginx: the password alone is not enough.
my (undef, $pwcookie) = web_login(new_user());
is(api(GET => "$base/demo/mfa/whoami", headers => { Cookie => $pwcookie, %$JSON })->{status}, 403,
    'AUTH_REQUIRE_MFA: a password-only session 403');
$r = api(GET => "$base/demo/mfa/whoami", headers => { Cookie => "fa_session=$ck{fa_session}{value}" });
is($r->{status}, 200, '... a session signed in with the second factor 200');
is($r->{json}{user}, $u->{username}, '... as its user');
is(api(GET => "$base/demo/mfa/whoami", headers => bearer($r2->{json}{access_token}))->{status}, 200,
    '... and so is its refreshed access token');

for my $bad (['an unknown mfa_token', { mfa_token => 'A' x 43, code => '123456' }],
    ['an mfa_token of the wrong shape', { mfa_token => 'short', code => '123456' }],
    ['an mfa_token that is not a string', { mfa_token => 42, code => '123456' }],
    ['no mfa_token', { code => '123456' }]) {
	$r = api(POST => '/auth/mfa/verify', json => $bad->[1]);
	is($r->{status}, 401, "verify with $bad->[0]: 401");
	is($r->{json}{error}, 'invalid_token', '... invalid_token');
}

# Expired and exhausted tickets.
my ($v, $vsec) = enrolled();
my $t1 = login($v)->{json}{mfa_token};
psql("UPDATE mfa_tickets SET expires_at = now() - interval '1 second' WHERE user_id = '$v->{user_id}'");
is(api(POST => '/auth/mfa/verify', json => { mfa_token => $t1, code => totp($vsec, 30) })->{json}{error},
    'invalid_token', 'an expired mfa_token: invalid_token');
my $t2 = login($v)->{json}{mfa_token};
psql("UPDATE mfa_tickets SET failures = 5 WHERE user_id = '$v->{user_id}' AND expires_at > now()");
is(api(POST => '/auth/mfa/verify', json => { mfa_token => $t2, code => totp($vsec, 30) })->{json}{error},
    'invalid_token', 'a ticket after five wrong codes: invalid_token, even with the right code');

# Wrong codes are rate limited like logins (per account: 5 per window).
my ($w, $wsec) = enrolled();
my $wt = login($w)->{json}{mfa_token};
my @st = map { api(POST => '/auth/mfa/verify', json => { mfa_token => $wt, code => '000000' eq totp($wsec) ? '111111' : '000000' })->{status} } 1 .. 4;
is_deeply(\@st, [401, 401, 401, 401], 'four wrong codes: 401 each');
$wt = login($w)->{json}{mfa_token};
is(api(POST => '/auth/mfa/verify', json => { mfa_token => $wt, code => '999999' eq totp($wsec) ? '888888' : '999999' })->{status},
    401, 'a fifth, on a new ticket (the right password does not forgive them): 401');
$r = api(POST => '/auth/mfa/verify', json => { mfa_token => $wt, code => totp($wsec, 30) });
is($r->{status}, 429, 'then even the right code is limited: 429');
ok($r->{headers}{'retry-after'}, '... with Retry-After');

# --- recovery codes ------------------------------------------------------
my ($x, $xsec, $xcodes) = enrolled();
my $xt = login($x)->{json}{mfa_token};
$r = api(POST => '/auth/mfa/verify', json => { mfa_token => $xt, recovery_code => uc($xcodes->[0]) =~ s/-//r });
is($r->{status}, 200, 'a recovery code (any case, without its dash): 200');
is_deeply(claims($r->{json}{access_token})->{amr}, ['pwd', 'otp', 'mfa'], '... a second factor too');
$xt = login($x)->{json}{mfa_token};
is(api(POST => '/auth/mfa/verify', json => { mfa_token => $xt, recovery_code => $xcodes->[0] })->{status}, 401,
    'the same recovery code again: 401');
is(api(POST => '/auth/mfa/verify', json => { mfa_token => $xt, recovery_code => 'not-a-code' })->{status}, 401,
    'a malformed one: 401');
my $xj = login_user_mfa($x, $xcodes->[1]);
$r = api(POST => '/auth/mfa/recovery-codes', headers => bearer($xj->{access_token}), json => { code => totp($xsec, 30) });
is($r->{status}, 200, 'new recovery codes for a current code: 200');
my @new = @{ $r->{json}{recovery_codes} // [] };
is(scalar @new, 10, '... ten of them');
$xt = login($x)->{json}{mfa_token};
is(api(POST => '/auth/mfa/verify', json => { mfa_token => $xt, recovery_code => $xcodes->[2] })->{status}, 401,
    'an old recovery code no longer works');
is(api(POST => '/auth/mfa/verify', json => { mfa_token => $xt, recovery_code => $new[0] })->{status}, 200,
    'a new one does');

sub login_user_mfa {
	my ($uu, $rc) = @_;
	my $t = login($uu)->{json}{mfa_token};
	return api(POST => '/auth/mfa/verify', json => { mfa_token => $t, recovery_code => $rc })->{json};
}

# --- removal -------------------------------------------------------------
my $xj2 = login_user_mfa($x, $new[1]);
my $xother = login_user_mfa($x, $new[2]);
is(api(DELETE => '/auth/mfa/totp', headers => bearer($xj2->{access_token}), json => { password => 'wrong password!' })->{status},
    401, 'removal with a wrong password: 401');
$r = api(DELETE => '/auth/mfa/totp', headers => bearer($xj2->{access_token}), json => { password => $x->{password} });
is($r->{status}, 200, 'removal with the password: 200');
is(psql("SELECT count(*) FROM mfa_recovery_codes WHERE user_id = '$x->{user_id}'"), 0, '... the recovery codes go too');
is(api(GET => '/auth/me', headers => bearer($xother->{access_token}))->{status}, 401, '... the other sessions end');
is(login($x)->{status}, 200, '... and login answers with tokens again');
is(api(DELETE => '/auth/mfa/totp', headers => bearer($xj2->{access_token}), json => { password => $x->{password} })->{status},
    400, 'removing it twice: 400');

# --- the operator resets a lost second factor ---------------------------
{
	my ($y, $ysec) = enrolled();
	my $yt = login($y)->{json}{mfa_token};
	my $yj = api(POST => '/auth/mfa/verify', json => { mfa_token => $yt, code => totp($ysec, 30) })->{json};
	my ($out, $rc) = cli(stack_dir(), 'user', 'reset-mfa', uc $y->{username});
	is($rc, 0, 'fcgi-auth user reset-mfa NAME: exit 0') or diag $out;
	is(api(GET => '/auth/me', headers => bearer($yj->{access_token}))->{status}, 401, '... every session ended at once');
	is(login($y)->{status}, 200, '... and the password signs in alone');
	is(psql("SELECT count(*) FROM mfa_totp WHERE user_id = '$y->{user_id}'"), 0, '... the secret is gone');
	is(psql("SELECT outcome FROM audit_log WHERE user_id = '$y->{user_id}' AND event = 'mfa_reset'"), 'cli',
	    '... audited as the command line\'s');
	($out, $rc) = cli(stack_dir(), 'user', 'reset-mfa', 'nobody-like-this');
	is($rc, 1, 'an unknown user: exit 1');
	like($out, qr/no such user/, '... saying so');
}

# --- audit ---------------------------------------------------------------
my $ev = psql("SELECT string_agg(event || ':' || outcome, ' ' ORDER BY id) FROM audit_log WHERE user_id = '$u->{user_id}'");
like($ev, qr/mfa_totp_setup:success.*mfa_totp_enabled:success/, 'setup and enabling are audited');
like($ev, qr/login:mfa_required.*mfa_verify:wrong_code.*login:success/, '... and the login step');

done_testing;
