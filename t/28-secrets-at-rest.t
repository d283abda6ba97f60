# No live token readable at rest: what waits in the outbox is sealed under
# the data key (AUTH_DATA_KEY_FILE), bodies are wiped once sent, the
# refresh-successor key is not in the database, captcha codes are keyed
# hashes. A dump of the database after a reset mail has been delivered
# holds the token nowhere.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Digest::SHA qw(sha256_hex);

my $dir = stack_dir();
my $root = root_dir();

sub dump_db {
	my $bin = (sort glob '/usr/lib/postgresql/*/bin')[-1];
	my $out = `runuser -u postgres -- $bin/pg_dump -h $dir/run -U postgres -d fcgi_auth 2>&1`;
	return $out;
}

# --- a reset mail, delivered: its token is nowhere in the database -------
sub mail_with {
	my ($to, $re) = @_;
	my $m;
	wait_until(10, sub { ($m) = grep { /$re/ } mails_to($to); $m });
	return $m;
}
my $u = new_user();
is(api(POST => '/auth/password-reset', json => { email => $u->{email} })->{status}, 200, 'reset requested');
my $mail = mail_with($u->{email}, qr/^Subject: Reset your password/m);
my $token = mail_token($mail);
ok($token, 'the reset mail arrived with its link');
ok(wait_until(5, sub { psql("SELECT count(*) FROM email_outbox WHERE to_addr = '$u->{email}' "
    . "AND kind = 'password_reset' AND sent_at IS NOT NULL AND body = ''") == 1 }),
    'the sent message\'s body is wiped');
my $dump = dump_db();
like($dump, qr/CREATE TABLE public\.email_outbox/, 'the dump is a real dump');
unlike($dump, qr/\Q$token\E/, 'the reset token is nowhere in a dump of the database');
# The verification link of the registration, too.
my $vmail = mail_with($u->{email}, qr/^Subject: Confirm your email/m);
my $vtoken = mail_token($vmail);
ok($vtoken, 'the verification mail arrived');
unlike($dump, qr/\Q$vtoken\E/, 'nor the verification token');
unlike($dump, qr/refresh_successor/, 'the refresh-successor secret is not in the database');
# An email change's link, waiting (not yet confirmed).
{
	my $c = new_user();
	my $cj = api(POST => '/auth/login', json => { username => $c->{username}, password => $c->{password} })->{json};
	my $to = "moved-$c->{username}\@example.org";
	is(api(POST => '/auth/email', headers => { Authorization => "Bearer $cj->{access_token}" },
	    json => { new_email => $to, password => $c->{password} })->{status}, 200, 'an email change asked for');
	my $ctoken = mail_token(mail_with($to, qr/^Subject: Confirm your new email address/m));
	ok($ctoken, '... its link arrived');
	unlike(dump_db(), qr/\Q$ctoken\E/, '... and its token is nowhere in a dump of the database');
}
# The link still works: the token was only ever hashed.
like(api(POST => '/auth/password-reset-confirm', json => { token => $token,
    new_password => 'a brand new secret', new_password_confirm => 'a brand new secret' })->{body},
    qr/password has been reset/, 'the mailed link resets the password');

# --- while waiting, the body is ciphertext bound to its recipient --------
my $mpid = do { open my $f, '<', "$dir/run/mailer.pid" or die; local $/; <$f> };
kill 'TERM', $mpid;
ok(wait_until(10, sub { gone($mpid) }), 'mailer stopped');
my $w = new_user();
is(api(POST => '/auth/password-reset', json => { email => $w->{email} })->{status}, 200,
    'reset requested while the mailer is down');
my $body = psql("SELECT body FROM email_outbox WHERE to_addr = '$w->{email}' AND kind = 'password_reset'");
like($body, qr/^fa1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$/, 'the waiting body is sealed (fa1.KID.ciphertext)');
unlike($body, qr/token=|reset/i, 'no link in it');
# Moved to another recipient, the ciphertext does not open (GCM with the
# recipient as associated data): the mailer gives it up, sends nothing.
my $x = new_user();
psql("INSERT INTO email_outbox (kind, to_addr, subject, body) VALUES ('password_reset', "
    . "'$x->{email}', 'Reset your password', '$body')");
system("$root/script/stack", 'mailer', $dir);
my $m = mail_with($w->{email}, qr/^Subject: Reset your password/m);
ok($m && mail_token($m), 'restarted, the mailer opens and delivers the sealed message');
ok(wait_until(10, sub { psql("SELECT count(*) FROM email_outbox WHERE to_addr = '$x->{email}' "
    . "AND kind = 'password_reset' AND failed_at IS NOT NULL AND body = ''") == 1 }),
    'a ciphertext moved to another recipient is refused and wiped');
ok(!grep({ /Reset your password/ } mails_to($x->{email})), 'and nothing was sent to that recipient');
# Sealed under another key (a mailer given the wrong AUTH_DATA_KEY_FILE,
# or a key changed with mail waiting): kept and retried, not discarded.
my $y = new_user();
(my $foreign = $body) =~ s/^fa1\.[0-9a-f]{8}\./fa1.00000000./;
psql("INSERT INTO email_outbox (kind, to_addr, subject, body) VALUES ('password_reset', "
    . "'$y->{email}', 'Reset your password', '$foreign')");
ok(wait_until(10, sub { psql("SELECT count(*) FROM email_outbox WHERE to_addr = '$y->{email}' "
    . "AND kind = 'password_reset' AND attempts > 0") == 1 }), 'a message under another key is tried');
is(psql("SELECT (failed_at IS NULL)::text || ' ' || (body = '$foreign')::text || ' ' || last_error "
    . "FROM email_outbox WHERE to_addr = '$y->{email}' AND kind = 'password_reset'"),
    'true true sealed under another data key (is AUTH_DATA_KEY_FILE the server\'s?)',
    '... kept for a retry, body intact, and the error says why');

# --- captcha codes: a keyed hash, not SHA-256 of the code -----------------
my $ce = "cap$$\@example.com";
is(api(POST => '/auth/captcha', json => { email => $ce })->{status}, 200, 'captcha sent');
my $cm = wait_mail($ce);
my ($code) = ($cm // '') =~ /code is (\d{6})/;
ok($code, 'the code arrived');
my @keys = grep { length } split /\n/, redis('--scan --pattern', "'fa:cc:*'");
ok(!grep({ $_ eq 'fa:cc:' . sha256_hex(lc $ce) } @keys), 'the Redis key is not SHA-256 of the address');
my $bare = 0;
for my $k (@keys) {
	my ($kh) = $k =~ /^fa:cc:(.*)$/;
	$bare++ if redis('HGET', $k, 'h') eq sha256_hex("$kh:$code");
}
is($bare, 0, 'no stored code is a bare SHA-256 of its key and code');
unlike(dump_db(), qr/code is \Q$code\E/, 'the code is not readable in the outbox');

# --- production refuses to start without a data key ------------------------
my $conf = "$dir/conf/fcgi-auth.conf";
my $out = `AUTH_DEV=0 AUTH_DATA_KEY_FILE= $root/fcgi-auth -c $conf --check-config 2>&1`;
isnt($?, 0, 'production without AUTH_DATA_KEY_FILE: --check-config fails');
like($out, qr/AUTH_DATA_KEY_FILE/, '... naming the key');
open my $kf, '>', "$dir/tmp/short-key" or die;
print $kf "too short\n";
close $kf;
$out = `AUTH_DEV=0 AUTH_DATA_KEY_FILE=$dir/tmp/short-key $root/fcgi-auth -c $conf --check-config 2>&1`;
isnt($?, 0, 'a short data key is refused');

logs_clean();
done_testing;
