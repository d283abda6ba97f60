# Security mail (API.md "Account lifecycle and security mail"): a sign-in
# from a device the account has not used (not its first sign-in), a
# password changed or reset, a second factor added or removed; each
# names the time, device and address and links to the account page, and
# comes at most once per kind per AUTH_NOTICE_INTERVAL. A device is its
# fa_device cookie, or without one its user agent and address prefix.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $NEW = qr/Subject: A new sign-in to your account/;
sub login_as {
	my ($u, $ua, $cookie) = @_;
	my %h = ('User-Agent' => $ua);
	$h{Cookie} = "fa_device=$cookie" if defined $cookie;
	my $r = api(POST => '/auth/login', headers => \%h, json => { username => $u->{username}, password => $u->{password} });
	die "login: $r->{status}" unless $r->{status} == 200;
	return $r;
}
sub notices { my ($u, $re) = @_; scalar grep { $_ =~ $re } mails_to($u->{email}) }
# Let the mailer catch up with what was committed to the user (no notice
# may still be on its way). Other tests' mail (one sealed under a foreign
# key waits in backoff) is not the user's and is not waited for.
sub settled {
	my ($u) = @_;
	my $id = psql("SELECT max(id) FROM email_outbox");
	wait_until(10, sub { psql("SELECT count(*) FROM email_outbox WHERE id <= $id AND lower(to_addr) = lower('$u->{email}')
	    AND sent_at IS NULL AND failed_at IS NULL") == 0 }) or die "mail to $u->{email} still unsent after 10 s";
}

# The first sign-in, and the same device again: nothing.
my $u = new_user();
my $r = login_as($u, 'DeviceA/1.0');
login_as($u, 'DeviceA/1.0');
settled($u);
is(notices($u, $NEW), 0, "the account's first sign-in, and the same device again: no notice");
my $c = set_cookies($r)->{fa_device};
ok($c, 'a sign-in without a device cookie is handed one');
like($c->{value}, qr/^[A-Za-z0-9_-]{43}$/, '... 256 random bits');
like($c->{attrs}, qr/HttpOnly/i, '... HttpOnly');
like($c->{attrs}, qr/SameSite=Lax/i, '... SameSite=Lax');
like($c->{attrs}, qr{Path=/(;|$)}i, '... Path=/');
like($c->{attrs}, qr/Max-Age=34560000/, '... kept 400 days');
is(psql("SELECT count(*) FROM known_devices WHERE device_hash = '$c->{value}'"), 0, '... and stored only as a keyed hash');

# Another device: a notice naming it; a third one at once: no second.
my $m;
$r = api_raw(POST => '/auth/login', headers => ['User-Agent' => "DeviceB/2.0 (\x01evil\xff)"],
    json => { username => $u->{username}, password => $u->{password} });
is($r->{status}, 200, 'a sign-in whose user agent has a control byte and one that is not UTF-8');
ok($m = mail_like($u->{email}, $NEW), 'a sign-in from another user agent: a notice');
like($m, qr/Device: +DeviceB\/2\.0 \( evil\xef\xbf\xbd\)/, '... naming the device, control bytes blanked, others U+FFFD');
like($m, qr/Address: +127\.0\.0\.1/, '... the address');
like($m, qr/When: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, '... the time');
like($m, qr{http://localhost:\d+/auth/account}, '... a link to the account page');
login_as($u, 'DeviceC/3.0');
settled($u);
is(notices($u, $NEW), 1, 'a third device within AUTH_NOTICE_INTERVAL: no second notice');

# The device cookie: a browser is known by it, whatever its agent says.
{
	my $v = new_user();
	my $first = set_cookies(login_as($v, 'Browser/1'))->{fa_device}{value};
	$r = login_as($v, 'Browser/2 (updated)', $first);
	is(set_cookies($r)->{fa_device}, undef, 'a known device cookie is not replaced');
	settled($v);
	is(notices($v, $NEW), 0, 'the same cookie with another user agent: the same device');
	login_as($v, 'Browser/1', 'A' x 43);
	ok(mail_like($v->{email}, $NEW), 'an unknown cookie: a new device');
}
{
	my $v = new_user();
	login_as($v, 'Browser/1', 'not-a-device-cookie');
	$r = login_as($v, 'Browser/1', 'x' x 500);
	settled($v);
	is(notices($v, $NEW), 0, 'malformed device cookies: treated as none (agent and address)');
	ok(set_cookies($r)->{fa_device}, '... and replaced');
}

# Password changed; a second factor added and removed.
{
	my $v = new_user();
	my $j = login_user($v);
	$r = api(POST => '/auth/password', headers => bearer($j->{access_token}),
	    json => { current_password => $v->{password}, new_password => 'a brand new passphrase' });
	is($r->{status}, 200, 'a password change');
	ok(mail_like($v->{email}, qr/Subject: Your password was changed.*Device: /s), '... mails a notice');
	$v->{password} = 'a brand new passphrase';
	my $s = api(POST => '/auth/mfa/totp', headers => bearer($j->{access_token}), json => { password => $v->{password} })->{json};
	settled($v);
	is(notices($v, qr/second factor was added/), 0, 'a TOTP setup not yet confirmed: no notice');
	api(POST => '/auth/mfa/totp/confirm', headers => bearer($j->{access_token}), json => { code => totp_code($s->{secret}) });
	like(mail_like($v->{email}, qr/Subject: A second factor was added/) // '', qr/authenticator app/,
	    'TOTP confirmed: a notice');
	is(api(DELETE => '/auth/mfa/totp', headers => bearer($j->{access_token}), json => { password => $v->{password} })->{status},
	    200, 'TOTP removed');
	ok(mail_like($v->{email}, qr/Subject: A second factor was removed/), '... a notice');
	my ($out, $rc) = cli($ENV{FCGI_AUTH_DIR}, 'user', 'reset-mfa', $v->{username});
	is($rc, 0, "an operator's reset-mfa") or diag $out;
	settled($v);
	is(notices($v, qr/second factor was removed/), 1, '... within the interval: no second notice of the kind');
	psql("UPDATE email_outbox SET created_at = created_at - interval '1 hour' WHERE lower(to_addr) = lower('$v->{email}')");
	($out, $rc) = cli($ENV{FCGI_AUTH_DIR}, 'user', 'reset-mfa', $v->{username});
	like(mail_like($v->{email}, qr/reset by an administrator/) // '', qr/Device: +the fcgi-auth command line/,
	    '... after it: the reset is told, from the command line');
}

# Nothing of a notice is a secret, but it is sealed like every message.
is(psql("SELECT count(*) FROM email_outbox WHERE kind = 'new_device' AND body LIKE '%DeviceB%'"), 0,
    'notices are sealed in the outbox');

# Templates are checked when the service starts (and by --check-config).
{
	use File::Temp qw(tempdir);
	my $t = tempdir(CLEANUP => 1);
	chmod 0755, $t;
	system('cp', glob(root_dir() . '/templates/*.txt'), $t) == 0 or die 'cp';
	local $ENV{AUTH_MAIL_TEMPLATES} = $t;
	my ($out, $rc) = cli($ENV{FCGI_AUTH_DIR}, '--check-config');
	is($rc, 0, 'the shipped templates pass --check-config') or diag $out;
	for my $bad (['no subject line', "Hello {{username}}\n"], ['an unknown placeholder', "Subject: Hi\n\nHello {{usrname}}\n"],
	    ['a placeholder in the subject', "Subject: Hi {{username}}\n\nHello\n"], ['bytes that are not UTF-8', "Subject: Hi\n\nHello \xff\n"]) {
		open my $fh, '>', "$t/new_device.txt" or die;
		print $fh $bad->[1];
		close $fh;
		($out, $rc) = cli($ENV{FCGI_AUTH_DIR}, '--check-config');
		isnt($rc, 0, "a template with $bad->[0] is refused");
		like($out, qr{new_device\.txt}, '... naming the file');
	}
	unlink "$t/new_device.txt";
	($out, $rc) = cli($ENV{FCGI_AUTH_DIR}, '--check-config');
	like($out, qr{new_device\.txt: No such file}, 'a missing template is refused, named');
}

ok(logs_clean(), 'clean logs');
done_testing;
