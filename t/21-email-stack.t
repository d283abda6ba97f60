# A private stack that requires email codes and verified emails, with a
# fast mail retry: captcha rules, 403 email_not_verified, and the mailer
# surviving an SMTP outage and repeated SIGKILLs without losing mail.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $st = private_stack(AUTH_REQUIRE_CAPTCHA => 1, AUTH_REQUIRE_VERIFIED_EMAIL => 1,
    AUTH_MAIL_RETRY_BASE => 1, AUTH_RL_REGISTER_EMAIL => 100);
my ($base, $dir) = ($st->base, $st->dir);
sub A { my ($m, $p, %o) = @_; api($m, $p, %o, base => $base) }
my $tag = sprintf '%x%d', time, $$;

sub code_for {
	my ($email) = @_;
	is(A(POST => '/auth/captcha', json => { email => $email })->{status}, 200, "captcha for $email");
	my $m = wait_mail($email, dir => $dir);
	my ($c) = ($m // '') =~ /\b(\d{6})\b/;
	return $c;
}

# --- captcha required ---------------------------------------------------
my %u = (username => "cap$tag", email => "cap$tag\@example.com", password => 'captcha passphrase');
my $r = A(POST => '/auth/register', json => \%u);
is($r->{status}, 400, 'register without captcha: 400');
is($r->{json}{error}, 'invalid_request', 'invalid_request');
like($r->{json}{message}, qr/captcha/, 'names captcha');

my $code = code_for($u{email});
like($code, qr/^\d{6}$/, 'code received');
my $wrong = sprintf '%06d', ($code + 1) % 1000000;
$r = A(POST => '/auth/register', json => { %u, captcha => $wrong });
is($r->{status}, 400, 'wrong code: 400');
like($r->{json}{message}, qr/captcha/, 'names captcha');
$r = A(POST => '/auth/register', json => { %u, captcha => "$code" });
is($r->{status}, 201, 'right code: registered') or diag $r->{body};
is($r->{json}{email_verified}, JSON::PP::true, 'the code verified the email');
is(A(POST => '/auth/register', json => { %u, username => "cap2$tag", email => "cap2$tag\@example.com",
    captcha => "$code" })->{status}, 400, 'a code belongs to its email');
sleep 1;
is(scalar(mails_to($u{email}, $dir)), 1, 'no verification link once the code verified the email');

# Five wrong tries kill the code.
my $ke = "kill$tag\@example.com";
my $kc = code_for($ke);
my $kw = sprintf '%06d', ($kc + 7) % 1000000;
A(POST => '/auth/register', json => { username => "kill$tag", email => $ke,
    password => 'captcha passphrase', captcha => $kw }) for 1 .. 5;
is(A(POST => '/auth/register', json => { username => "kill$tag", email => $ke,
    password => 'captcha passphrase', captcha => "$kc" })->{status}, 400,
    'after 5 wrong tries the right code no longer works');

# --- verified email required at login ---------------------------------------
my $j = A(POST => '/auth/login', json => { username => $u{username}, password => $u{password} });
is($j->{status}, 200, 'verified user logs in');
my $uid = $j->{json}{user_id};
psql("UPDATE users SET email_verified = false WHERE id = '$uid'", $dir);
$r = A(POST => '/auth/login', json => { username => $u{username}, password => $u{password} });
is($r->{status}, 403, 'unverified: 403');
is($r->{json}{error}, 'email_not_verified', 'email_not_verified');
$r = A(POST => '/auth/login', json => { username => $u{username}, password => 'not the password' });
is($r->{status}, 401, 'the password is checked first (wrong one: 401)');
psql("UPDATE users SET email_verified = true WHERE id = '$uid'", $dir);

# --- SMTP sink down: the mailer retries and delivers once it is back -------
my ($port) = `grep '^AUTH_SMTP_URL' $dir/conf/fcgi-auth.conf` =~ /:(\d+)\s*$/;
my $spid = do { open my $f, '<', "$dir/run/smtp-sink.pid" or die; local $/; <$f> };
kill 'TERM', $spid;
ok(wait_until(5, sub { gone($spid) }), 'SMTP sink stopped');
is(A(POST => '/auth/password-reset', json => { email => $u{email} })->{status}, 200, 'reset requested');
ok(wait_until(10, sub { psql("SELECT attempts > 0 AND last_error IS NOT NULL AND sent_at IS NULL "
    . "FROM email_outbox WHERE kind = 'password_reset' ORDER BY id DESC LIMIT 1", $dir) eq 't' }),
    'the mailer tried, failed and recorded why');
# A message on its last allowed try while the sink is down is given up,
# with the reason recorded.
psql("INSERT INTO email_outbox (kind, to_addr, subject, body, attempts) VALUES "
    . "('test', 'giveup$tag\@example.com', 'x', 'y', 7)", $dir);
ok(wait_until(10, sub { psql("SELECT failed_at IS NOT NULL AND last_error <> '' FROM email_outbox "
    . "WHERE to_addr = 'giveup$tag\@example.com'", $dir) eq 't' }),
    'after AUTH_MAIL_MAX_ATTEMPTS tries a message is given up, recording why');
system("setsid " . root_dir() . "/script/smtp-sink 127.0.0.1 $port $dir/mail $dir/run/smtp-sink.pid "
    . ">>$dir/log/smtp-sink.log 2>&1 &");
my $m = wait_mail($u{email}, dir => $dir, count => 2, timeout => 20);
like($m // '', qr/Reset your password/, 'delivered after the sink came back');

# --- the mailer SIGKILLed again and again during 100 reset requests -------
# Every reset mail arrives, and exactly once as its receiver counts mail
# (by Message-ID). A kill that lands between the SMTP server's 250 and the
# mailer's COMMIT makes the next mailer send that one message again, with
# the same Message-ID (at-least-once; exactly-once over SMTP needs the
# receiver's help): that is at most one repeat per kill, and never a
# different message.
my @burst = map { "reset$_-$tag\@example.com" } 1 .. 100;
psql("INSERT INTO users (username, email, password_hash, email_verified) SELECT "
    . "'rs' || g || '$tag', 'reset' || g || '-$tag\@example.com', '*', true "
    . "FROM generate_series(1, 100) g", $dir);
my $mp = do { open my $f, '<', "$dir/run/mailer.pid" or die; local $/; <$f> };
my $kills = 0;
my $killer = fork // die;
if (!$killer) {		# SIGKILL the running mailer, restart it, again
	for (1 .. 12) {
		sleep 0.1 + rand(0.25);
		my $p = do { open my $f, '<', "$dir/run/mailer.pid" or die; local $/; <$f> };
		kill 'KILL', $p;
		system(root_dir() . "/script/stack", 'mailer', $dir);
	}
	exit 0;
}
my $ok = grep { A(POST => '/auth/password-reset', json => { email => $_ })->{status} == 200 } @burst;
is($ok, 100, '100 reset requests answered 200');
waitpid $killer, 0;
is($? >> 8, 0, 'the mailer was SIGKILLed and restarted 12 times during the burst');
sub burst_mail {	# address => [Message-ID of each copy received]
	my %got;
	for my $t (all_mails($dir)) {
		my ($to) = $t =~ /^X-Envelope-To: (reset\d+-\Q$tag\E\@example\.com)\r?$/mi or next;
		my ($id) = $t =~ /^Message-ID: (<[^>]+>)\r?$/mi;
		push @{ $got{$to} }, $id // '';
	}
	return \%got;
}
my $got;
ok(wait_until(60, sub { $got = burst_mail(); keys %$got == 100 }), 'every one of the 100 reset mails arrived')
    or diag scalar(keys %$got) . ' arrived';
my %ids;
my $copies = 0;
for my $to (@burst) {
	my @c = @{ $got->{$to} // [] };
	$copies += @c;
	$ids{$_}++ for keys %{ { map { $_ => 1 } @c } };
}
is(scalar(keys %ids), 100, 'exactly 100 distinct messages (by Message-ID)');
ok(!grep({ my %u = map { $_ => 1 } @{ $got->{$_} // [] }; keys %u != 1 } @burst),
    'every repeat is the same message (same Message-ID) as the first copy');
cmp_ok($copies - 100, '<=', 12, 'at most one repeat per kill');
diag sprintf '100 reset mails, 12 mailer SIGKILLs: %d copies delivered (%d repeats)', $copies, $copies - 100;
is(psql("SELECT count(*) FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL", $dir), 0,
    'outbox drained');
my %tok = map { (mail_token((mails_to($_, $dir))[0]) // '') => 1 } @burst[0 .. 9];
is(scalar(grep { length } keys %tok), 10, 'each reset mail carries its own link token');

sleep 2;
is(scalar(mails_to("giveup$tag\@example.com", $dir)), 0, 'a given-up message is not sent later');

$st->down;
logs_clean($dir);
done_testing;
