# POST /auth/email (API.md "Account lifecycle"): the password again (and
# a code when TOTP is on); a link to the new address, a notice to the
# old; the change only at confirmation (POST /auth/verify-email or GET
# /verify), atomically, 409 email_taken when the address was taken
# meanwhile; the new address verified, the user's other sessions ended.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Digest::SHA qw(sha256_hex);
use Test::More;

my $base = $ENV{FCGI_AUTH_URL};
sub change { my ($tok, $body) = @_; api(POST => '/auth/email', headers => bearer($tok), json => $body) }
sub fresh { my $u = new_user(); ($u, login_user($u)) }
sub addr { my ($tag) = @_; sprintf 'n%s%x%d@example.org', $tag, int(time * 1000) % 0xffffff, $$ }

my ($u, $j) = fresh();
my $k = login_user($u);

is(api(POST => '/auth/email', json => { new_email => addr('x'), password => $u->{password} })->{status}, 401,
    'no Bearer token: 401');
my $r = change($j->{access_token}, { new_email => addr('w'), password => 'not the password' });
is($r->{status}, 401, 'a wrong password: 401');
is($r->{json}{error}, 'invalid_credentials', '... invalid_credentials');
is(psql("SELECT count(*) FROM email_changes WHERE user_id = '$u->{user_id}'"), 0, '... and nothing waits');
$r = change($j->{access_token}, { new_email => 'not an address', password => $u->{password} });
is($r->{status}, 400, 'a malformed address: 400');
is(change($j->{access_token}, { password => $u->{password} })->{status}, 400, 'no new_email: 400');
is(change($j->{access_token}, { new_email => addr('p') })->{status}, 400, 'no password: 400');
$r = change($j->{access_token}, { new_email => uc $u->{email}, password => $u->{password} });
is($r->{status}, 400, 'the address it has already (any case): 400');
my $other = new_user();
$r = change($j->{access_token}, { new_email => uc $other->{email}, password => $u->{password} });
is($r->{status}, 409, "another account's address (any case): 409");
is($r->{json}{error}, 'email_taken', '... email_taken');

# The request: a link to the new address, a notice to the old one.
my $new = addr('a');
$r = change($j->{access_token}, { new_email => $new, password => $u->{password} });
is($r->{status}, 200, 'a change: 200');
is_deeply($r->{json}, { message => 'verification sent' }, '... {"message":"verification sent"}');
my $link = mail_like($new, qr/Confirm your new email address/);
ok($link, 'a link went to the new address');
my $token = mail_token($link);
like($link, qr{http://localhost:\d+/auth/verify-email\?token=}, '... to the hosted verify page');
my $notice = mail_like($u->{email}, qr/Subject: Your email address is about to change/);
ok($notice, 'a notice went to the old address');
like($notice, qr/\Q$new\E/, '... naming the new address');
like($notice, qr/When: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, '... the time');
like($notice, qr/Address: +127\.0\.0\.1/, '... the address');
like($notice, qr{/auth/account}, '... and linking to the account page');
unlike($notice, qr/\Q$token\E/, '... without the link token');
is(psql("SELECT email FROM users WHERE id = '$u->{user_id}'"), $u->{email}, 'nothing changed yet');
is(psql("SELECT count(*) FROM email_changes WHERE token_hash = '$token'"), 0, 'the token is not stored');
is(psql("SELECT count(*) FROM email_changes WHERE token_hash = '" . sha256_hex($token) . "'"), 1, '... its hash is');
is(api(POST => '/auth/login', json => { username => $u->{email}, password => $u->{password} })->{status}, 200,
    'the old address still signs in');

# Confirmation.
$r = api(POST => '/auth/verify-email', json => { token => $token });
is($r->{status}, 200, 'the link confirms: 200');
is($r->{json}{message}, 'email verified', '... "email verified"');
is($r->{json}{email}, $new, '... naming the new address');
is(psql("SELECT email || ' ' || email_verified FROM users WHERE id = '$u->{user_id}'"), "$new true",
    'the address is the new one, verified');
ok(mail_like($u->{email}, qr/Subject: Your email address was changed/), 'the old address is told');
is(api(GET => '/auth/me', headers => bearer($k->{access_token}))->{status}, 401, 'another session: ended at once');
is(api(POST => '/auth/refresh', json => { refresh_token => $k->{refresh_token} })->{status}, 401, '... its refresh token too');
is(api(GET => '/auth/me', headers => bearer($j->{access_token}))->{status}, 200, 'the session that asked lives on');
is(api(GET => '/user/info', headers => bearer($j->{access_token}))->{json}{email}, $new, '... and sees the new address');
$r = api(GET => '/auth/check', headers => bearer($j->{access_token}));
is($r->{headers}{'x-auth-request-email'}, $new, '/auth/check names the new address at once');
my $rf = api(POST => '/auth/refresh', json => { refresh_token => $j->{refresh_token} });
is($rf->{status}, 200, 'a refresh of that session');
is(json_decode(b64url_decode((split /\./, $rf->{json}{access_token})[1]))->{email}, $new, '... carries the new address');
is(api(POST => '/auth/login', json => { username => $new, password => $u->{password} })->{status}, 200,
    'the new address signs in');
is(api(POST => '/auth/login', json => { username => $u->{email}, password => $u->{password} })->{status}, 401,
    'the old one does not');
$r = api(POST => '/auth/verify-email', json => { token => $token });
is($r->{status}, 400, 'the link works once');
is($r->{json}{error}, 'invalid_token', '... invalid_token');
is(api(POST => '/auth/register', json => { username => "r$u->{username}", email => $u->{email},
    password => 'a very fine passphrase' })->{status}, 201, 'the old address is free');

# Taken meanwhile: 409, nothing changes, the link is still unused.
{
	my ($v, $vj) = fresh();
	my $x = addr('t');
	is(change($vj->{access_token}, { new_email => $x, password => $v->{password} })->{status}, 200, 'a change to X');
	my $t = mail_token(mail_like($x, qr/Confirm your new email address/));
	is(api(POST => '/auth/register', json => { username => "t$v->{username}", email => uc $x,
	    password => 'a very fine passphrase' })->{status}, 201, 'someone registers X meanwhile');
	$r = api(GET => "/verify?token=$t");
	is($r->{status}, 409, 'the link: 409');
	is($r->{json}{error}, 'email_taken', '... email_taken');
	is(psql("SELECT email FROM users WHERE id = '$v->{user_id}'"), $v->{email}, '... the address unchanged');
	is(api(GET => '/auth/me', headers => bearer($vj->{access_token}))->{status}, 200, '... the session alive');
	is(psql("SELECT count(*) FROM email_changes WHERE user_id = '$v->{user_id}' AND used_at IS NULL"), 1,
	    '... the link unused');
}

# A new request replaces the waiting one; an expired link is refused.
{
	my ($v, $vj) = fresh();
	my ($a1, $a2) = (addr('r1'), addr('r2'));
	change($vj->{access_token}, { new_email => $a1, password => $v->{password} });
	my $t1 = mail_token(mail_like($a1, qr/Confirm your new email address/));
	change($vj->{access_token}, { new_email => $a2, password => $v->{password} });
	my $t2 = mail_token(mail_like($a2, qr/Confirm your new email address/));
	is(api(POST => '/auth/verify-email', json => { token => $t1 })->{status}, 400, 'a replaced link: 400');
	psql("UPDATE email_changes SET expires_at = now() - interval '1 second' WHERE user_id = '$v->{user_id}'");
	is(api(POST => '/auth/verify-email', json => { token => $t2 })->{status}, 400, 'an expired link: 400');
	is(psql("SELECT email FROM users WHERE id = '$v->{user_id}'"), $v->{email}, '... nothing changed');
	is(scalar(grep { /Subject: Your email address is about to change/ } mails_to($v->{email})), 1,
	    'two requests in a few minutes: one notice to the old address');
}

# With TOTP on, a code too.
{
	my ($v, $vj) = fresh();
	my $s = api(POST => '/auth/mfa/totp', headers => bearer($vj->{access_token}), json => { password => $v->{password} })->{json};
	my $c = api(POST => '/auth/mfa/totp/confirm', headers => bearer($vj->{access_token}),
	    json => { code => totp_code($s->{secret}) })->{json}{recovery_codes};
	my $x = addr('m');
	$r = change($vj->{access_token}, { new_email => $x, password => $v->{password} });
	is($r->{status}, 401, 'TOTP on, no code: 401');
	$r = change($vj->{access_token}, { new_email => $x, password => $v->{password}, code => '000000' });
	is($r->{status}, 401, '... a wrong code: 401');
	is(psql("SELECT count(*) FROM email_changes WHERE user_id = '$v->{user_id}'"), 0, '... nothing waits');
	$r = change($vj->{access_token}, { new_email => $x, password => $v->{password}, code => $c->[0] });
	is($r->{status}, 200, '... a recovery code: 200');
}

# Limits: per account.
{
	my ($v, $vj) = fresh();
	my @st = map { change($vj->{access_token}, { new_email => addr("l$_"), password => $v->{password} })->{status} } 1 .. 6;
	is_deeply(\@st, [ (200) x 5, 429 ], 'five requests a window, then 429');
}

# Bytes that are not UTF-8, a huge address: 400, never a 5xx.
$r = api(POST => '/auth/email', headers => { %{ bearer($j->{access_token}) }, 'Content-Type' => 'application/json' },
    json => qq({"new_email":"a\xff\@example.org","password":"x"}));
is($r->{status}, 400, 'an address that is not UTF-8: 400');
$r = change($j->{access_token}, { new_email => ('a' x 400) . '@example.org', password => $u->{password} });
is($r->{status}, 400, 'a 400-byte address: 400');

# A notice grants nothing: an operator's template that names {{link}} in
# the notice to the old address renders it empty, never the change link.
{
	use File::Temp qw(tempdir);
	my $t = tempdir(CLEANUP => 1);
	chmod 0755, $t;
	system('cp', glob(root_dir() . '/templates/*.txt'), $t) == 0 or die 'cp';
	open my $fh, '>>', "$t/email_change_requested.txt" or die;
	print $fh "\nConfirm: [{{link}}]\n";
	close $fh;
	my $st = private_stack(AUTH_MAIL_TEMPLATES => $t);
	my $v = new_user(base => $st->base);
	my $vj = login_user($v, base => $st->base);
	my $x = addr('k');
	is(api(POST => '/auth/email', base => $st->base, headers => bearer($vj->{access_token}),
	    json => { new_email => $x, password => $v->{password} })->{status}, 200, 'an email change, with a template that names {{link}} in the notice');
	my $link = mail_token(wait_mail($x, dir => $st->dir));
	my $old = mail_like($v->{email}, qr/about to change/, dir => $st->dir) // '';
	ok($link && $old =~ /Confirm: \[\]/, '... the notice to the old address renders it empty') or diag $old;
	unlike($old, qr/\Q$link\E/, '... and never holds the change link') if $link;
	$st->down;
	logs_clean($st->dir);
}

ok(logs_clean(), 'clean logs');
done_testing;
