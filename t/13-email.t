# Email flows through the real outbox, mailer and SMTP sink: the
# verification link, password reset, captcha codes, sendEmail=false.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $tag = sprintf '%x%d', time, $$;

# --- registration sends a verification link (seed 001) -------------------
my $u = new_user(email => "ev$tag\@example.com");
my $m = wait_mail($u->{email});
ok($m, 'verification mail arrived');
like($m, qr/^Subject: Confirm your email address\r?$/m, 'subject');
like($m, qr/^From: fcgi-auth <no-reply\@fcgi-auth\.test>\r?$/m, 'From is AUTH_MAIL_FROM');
like($m, qr/^To: <\Q$u->{email}\E>\r?$/m, 'To');
like($m, qr/^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r?$/m, 'RFC 5322 Date');
like($m, qr/^Message-ID: <[^>]+\@fcgi-auth\.test>\r?$/m, 'Message-ID');
like($m, qr{^Content-Type: text/plain; charset=utf-8\r?$}m, 'MIME text/plain UTF-8');
like($m, qr{http://localhost:\d+/auth/verify-email\?token=[A-Za-z0-9_-]{43}\b}, 'link from EMAIL_VERIFY_URL (the hosted page)');
my $vt = mail_token($m);
is(api(GET => '/user/info', headers => bearer(login_user($u)->{access_token}))->{json}{email_verified},
    JSON::PP::false, 'not verified yet');
is(psql("SELECT count(*) FROM email_verifications WHERE token_hash = '$vt'"), 0,
    'the token itself is not stored');
my $r = api(GET => "/verify?token=$vt");
is($r->{status}, 200, 'GET /verify?token= 200');
is($r->{json}{message}, 'email verified', 'email verified');
is(api(GET => '/user/info', headers => bearer(login_user($u)->{access_token}))->{json}{email_verified},
    JSON::PP::true, 'now verified');
$r = api(GET => "/verify?token=$vt");
is($r->{status}, 400, 'the link works once');
is($r->{json}{error}, 'invalid_token', 'invalid_token');
is(api(POST => '/auth/verify-email', json => { token => 'x' x 43 })->{status}, 400, 'unknown token 400');
is(api(POST => '/auth/verify-email', json => {})->{status}, 400, 'missing token 400');

# The POST form, and expiry.
my $u2 = new_user(email => "ev2$tag\@example.com");
my $t2 = mail_token(wait_mail($u2->{email}));
psql("UPDATE email_verifications SET expires_at = now() - interval '1 second' WHERE user_id = '$u2->{user_id}'");
is(api(POST => '/auth/verify-email', json => { token => $t2 })->{status}, 400, 'expired link 400');
psql("UPDATE email_verifications SET expires_at = now() + interval '1 hour' WHERE user_id = '$u2->{user_id}'");
is(api(POST => '/auth/verify-email', json => { token => $t2 })->{status}, 200, 'POST /auth/verify-email 200');

# sendEmail=false sends nothing.
my $r3 = api(POST => '/auth/register?sendEmail=false', json => { username => "nomail$tag",
    email => "nomail$tag\@example.com", password => 'no mail passphrase' });
is($r3->{status}, 201, 'register with sendEmail=false');
sleep 1.5;
is(scalar(mails_to("nomail$tag\@example.com")), 0, 'sendEmail=false: no mail');
is(psql("SELECT count(*) FROM email_outbox WHERE to_addr = 'nomail$tag\@example.com'"), 0,
    'and nothing queued');
is(api(POST => '/register?sendEmail=maybe', json => { username => "nm2$tag",
    email => "nm2$tag\@example.com", password => 'no mail passphrase' })->{status}, 400,
    'sendEmail must be true or false');

# --- password reset -------------------------------------------------------
my $p = new_user(email => "pr$tag\@example.com");
my $s1 = login_user($p);
my $s2 = login_user($p);
my $known = api(POST => '/auth/password-reset', json => { email => $p->{email} });
my $unknown = api(POST => '/auth/password-reset', json => { email => "ghost$tag\@example.com" });
is($known->{status}, 200, 'reset request 200');
is($known->{json}{message}, 'if the account exists, a reset link has been sent', 'message');
is($unknown->{status}, 200, 'unknown account 200');
is($unknown->{body}, $known->{body}, 'byte-identical answers');
my $rm = wait_mail($p->{email}, count => 2);
like($rm, qr/^Subject: Reset your password\r?$/m, 'reset mail arrived');
like($rm, qr{http://localhost:\d+/auth/reset-password\?token=[A-Za-z0-9_-]{43}}, 'link from RESET_PASSWORD_URL (the hosted page)');
my $rt = mail_token($rm);
like(psql("SELECT reset_token FROM users WHERE id = '$p->{user_id}'"), qr/^[0-9a-f]{64}$/,
    'users.reset_token holds a SHA-256');
isnt(psql("SELECT reset_token FROM users WHERE id = '$p->{user_id}'"), $rt, 'not the token');
is(psql("SELECT reset_token_expire > now() + interval '29 minutes' AND reset_token_expire <= now() + interval '30 minutes' FROM users WHERE id = '$p->{user_id}'"),
    't', 'expires in 30 minutes');

$r = api(POST => "/auth/password-reset-confirm?token=$rt",
    json => { new_password => 'brand new secret one', new_password_confirm => 'brand new secret two' });
is($r->{status}, 400, 'mismatched confirmation 400');
is($r->{json}{error}, 'invalid_request', 'invalid_request');
$r = api(POST => "/auth/password-reset-confirm?token=$rt",
    json => { new_password => 'password1', new_password_confirm => 'password1' });
is($r->{json}{error}, 'weak_password', 'register rules apply');
$r = api(POST => '/password-reset-confirm', json => { token => 'A' x 43,
    new_password => 'brand new secret one', new_password_confirm => 'brand new secret one' });
is($r->{status}, 400, 'unknown token 400');
is($r->{json}{error}, 'invalid_token', 'invalid_token');

# 20 parallel confirms: exactly one 200.
my @kids;
my $start = time + 0.3;
for (1 .. 20) {
	pipe(my $rd, my $wr) or die;
	my $pid = fork // die;
	if (!$pid) {
		close $rd;
		sleep($start - time) if $start > time;
		my $x = api(POST => "/auth/password-reset-confirm?token=$rt",
		    json => { new_password => 'brand new secret one',
		    new_password_confirm => 'brand new secret one' });
		print $wr "$x->{status}\n";
		exit 0;
	}
	close $wr;
	push @kids, [$pid, $rd];
}
my %st;
for (@kids) { my $l = readline($_->[1]) // 'none'; chomp $l; $st{$l}++; waitpid $_->[0], 0 }
is($st{200}, 1, 'exactly one of 20 parallel confirms succeeded');
is($st{400}, 19, 'the others: 400');
is(psql("SELECT coalesce(reset_token, 'NULL') || coalesce(reset_token_expire::text, 'NULL') FROM users WHERE id = '$p->{user_id}'"),
    'NULLNULL', 'reset fields back to NULL');
is(api(GET => '/auth/me', headers => bearer($_->{access_token}))->{status}, 401,
    'every session revoked (access tokens at once)') for $s1, $s2;
is(api(POST => '/auth/refresh', json => { refresh_token => $s1->{refresh_token} })->{status}, 401,
    'refresh tokens dead too');
$p->{password} = 'brand new secret one';
ok(login_user($p), 'the new password logs in');
is(api(POST => '/auth/login', json => { username => $p->{username},
    password => 'pw-old' })->{status}, 401, 'the old one does not');

like(wait_mail($p->{email}, count => 3), qr/Subject: Your password was reset.*Address: /s,
    'the reset mails a notice (time, device, address)');

# Expired reset token; a new request replaces the previous token.
api(POST => '/password-reset', json => { email => $p->{email}, username => $p->{username} });
my $old = mail_token(wait_mail($p->{email}, count => 4));
ok($old, 'a reset link');
api(POST => '/password-reset', json => { email => $p->{email} });
my $new = mail_token(wait_mail($p->{email}, count => 5));
isnt($new, $old, 'a second request sends a new token');
is(api(POST => "/password-reset-confirm?token=$old", json => { new_password => 'third secret here',
    new_password_confirm => 'third secret here' })->{status}, 400, 'the replaced token is dead');
psql("UPDATE users SET reset_token_expire = now() - interval '1 second' WHERE id = '$p->{user_id}'");
is(api(POST => "/password-reset-confirm?token=$new", json => { new_password => 'third secret here',
    new_password_confirm => 'third secret here' })->{status}, 400, 'an expired token is refused');
api(POST => '/password-reset', json => { email => $p->{email}, username => 'someone-else' });
sleep 1;
is(scalar(mails_to($p->{email})), 5, 'a username that does not match sends nothing');

# Links never come from the request's Host header.
my $h = new_user(email => "host$tag\@example.com");
my $hm = wait_mail($h->{email});
# (HTTP::Tiny will not send a forged Host: curl will.)
system('curl', '-s', '-o', '/dev/null', '-X', 'POST', '-H', 'Host: evil.example',
    '-H', 'X-Forwarded-Host: evil.example', '-H', 'Content-Type: application/json',
    '--data', json_encode({ email => $h->{email} }), "$ENV{FCGI_AUTH_URL}/api/v1/auth/password-reset");
my $hr = wait_mail($h->{email}, count => 2);
unlike($hm . ($hr // ''), qr/evil\.example/, 'links ignore Host and X-Forwarded-Host');
like($hr // '', qr{http://localhost:\d+/auth/reset-password\?token=}, 'they use RESET_PASSWORD_URL');

# --- captcha ----------------------------------------------------------------
my $ce = "cap$tag\@example.com";
$r = api(POST => '/auth/captcha', json => { email => $ce });
is($r->{status}, 200, 'captcha 200');
is($r->{json}{message}, 'sent', 'sent');
my $cm = wait_mail($ce);
my ($code) = $cm =~ /\b(\d{6})\b/;
like($code, qr/^\d{6}$/, 'a 6-digit code arrived');
$r = api(POST => '/auth/captcha', json => { type => 'email', account => $ce });
is($r->{status}, 429, 'a second request within 60 s: 429');
ok($r->{headers}{'retry-after'} > 0 && $r->{headers}{'retry-after'} <= 60, 'Retry-After');
is(api(POST => '/auth/captcha', json => { email => 'nope' })->{status}, 400, 'bad email 400');

# Link tokens travel in query strings; no log may hold one.
for my $f ('nginx-access.log', 'fcgi-auth.log', 'mailer.log') {
	open my $fh, '<', stack_dir() . "/log/$f" or next;
	my $log = do { local $/; <$fh> };
	unlike($log, qr/\Q$vt\E|\Q$rt\E/, "no link token in $f");
}

logs_clean();
done_testing;
