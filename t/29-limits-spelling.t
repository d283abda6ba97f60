# Limits belong to what they protect: the per-account login limit counts
# failures against the account whichever identifier (username, email, any
# letter case, full-width forms) named it; per-email limits count the
# canonical address; password change is limited per user; a limited
# request costs no hash; the Redis-down fallback is one table for the
# whole host that colliding keys cannot empty.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use POSIX ();

my $st = private_stack(AUTH_WORKERS => 4, AUTH_HASH_WORKERS => 2);
my ($base, $dir) = ($st->base, $st->dir);
sub A { my ($m, $p, %o) = @_; api($m, $p, %o, base => $base) }
sub login { A(POST => '/auth/login', json => { $_[2] // 'username' => $_[0], password => $_[1] }) }

# --- per email: the canonical address -------------------------------------
my $p = new_user(base => $base, email => "Reset.Me$$\@Example.com");
my @spellings = map { my $e = $p->{email}; $e = $_->($e); $e }
    (sub { $_[0] }, sub { lc $_[0] }, sub { uc $_[0] }, sub { ucfirst lc $_[0] },
     sub { $_[0] =~ s/example/EXAMPLE/r }, sub { $_[0] =~ s/reset/RESET/ir },
     sub { lc($_[0]) =~ s/\.com/.COM/r }, sub { uc($_[0]) =~ s/ME/me/r });
my @st = map { A(POST => '/auth/password-reset', json => { email => $_ })->{status} } @spellings;
is(scalar(grep { $_ == 200 } @st), 5, 'eight spellings of one address: five resets (the limit)');
is(scalar(grep { $_ == 429 } @st), 3, '... and three 429');
sleep 1;
wait_until(10, sub { psql("SELECT count(*) FROM email_outbox WHERE kind = 'password_reset' "
    . "AND sent_at IS NULL", $dir) == 0 });
is(scalar(grep { /Reset your password/ } mails_to($p->{email}, $dir)), 5, 'five reset mails, not eight');

# --- per account, whichever identifier names it ------------------------------
my $u = new_user(base => $base);
is(login($u->{username}, 'wrong password!')->{status}, 401, 'failure by username');
is(login(uc $u->{username}, 'wrong password!')->{status}, 401, 'failure by USERNAME');
is(login($u->{email}, 'wrong password!', 'email')->{status}, 401, 'failure by email');
is(login(uc $u->{email}, 'wrong password!', 'email')->{status}, 401, 'failure by EMAIL');
is(login($u->{email}, 'wrong password!', 'account')->{status}, 401, 'failure by account (seed 004)');
my $r = login(ucfirst $u->{email}, $u->{password}, 'email');
is($r->{status}, 429, 'five failures under five spellings: the account is limited, by email too');
ok($r->{headers}{'retry-after'}, 'Retry-After');
# Unknown accounts: the canonical identifier (NFKC, case folded).
my $ghost = "ghost$$";
(my $wide = $ghost) =~ s/([a-z0-9])/chr(ord($1) + 0xfee0)/ge;	# full-width forms
login($ghost, 'wrong password!') for 1 .. 2;
login(uc $ghost, 'wrong password!') for 1 .. 2;
is(login($wide, 'wrong password!')->{status}, 401, 'a full-width spelling is one more failure');
is(login(ucfirst $ghost, 'anything at all')->{status}, 429, 'the unknown identifier is limited too');

# --- a limited request costs no hash ----------------------------------------
my $h0 = metrics(base => $base)->{fcgi_auth_password_hashes_total};
ok(defined $h0, 'the hash counter is exported');
is(login($u->{username}, $u->{password})->{status}, 429, "limited login $_") for 1 .. 10;
is(login(uc $ghost, 'whatever')->{status}, 429, "limited unknown login $_") for 1 .. 5;
is(metrics(base => $base)->{fcgi_auth_password_hashes_total}, $h0, '15 refused logins: no hash computed');
is(login("fresh-$$", 'wrong password!')->{status}, 401, 'a login that is not limited');
is(metrics(base => $base)->{fcgi_auth_password_hashes_total}, $h0 + 1, '... costs exactly one hash');

# --- password change: limited per user ---------------------------------------
my $c = new_user(base => $base);
my $tok = login_user($c, base => $base)->{access_token};
sub change { A(POST => '/auth/password', headers => bearer($tok),
    json => { current_password => $_[0], new_password => 'a different secret' }) }
is(change('not my password')->{status}, 401, "wrong current_password $_: 401") for 1 .. 5;
$r = change('not my password');
is($r->{status}, 429, 'the sixth wrong current_password: 429');
is($r->{json}{error}, 'rate_limited', 'rate_limited');
ok($r->{headers}{'retry-after'}, 'Retry-After');
is(change($c->{password})->{status}, 429, 'while limited, even the right one');
is(login($c->{username}, $c->{password})->{status}, 429, 'and it counts like failed logins');
is(psql("SELECT count(*) FROM audit_log WHERE user_id = '$c->{user_id}' AND event = 'password_change' "
    . "AND outcome = 'wrong_password'", $dir), 5, 'the wrong attempts are audited');

# --- Redis down: one table for every worker of the host ----------------------
my $v = new_user(base => $base);
my $rpid = do { open my $f, '<', "$dir/run/redis.pid" or die; local $/; <$f> };
kill 'TERM', $rpid;
ok(wait_until(5, sub { gone($rpid) }), 'Redis stopped');
is(login($v->{username}, 'wrong password!')->{status}, 401, "Redis down: failure $_") for 1 .. 5;
my @after = map { login($v->{username}, $v->{password})->{status} } 1 .. 8;
is_deeply(\@after, [(429) x 8], 'Redis down: every worker refuses the account (a shared table)');
system("runuser -u redis -- redis-server $dir/conf/redis.conf");
ok(wait_until(5, sub { A(GET => '/health')->{status} == 200 }), 'Redis back');
$st->down;
logs_clean($dir);

# --- the fallback table cannot be emptied by colliding keys ------------------
# Registration with a required captcha counts per address and per email,
# then refuses without hashing: a cheap way to fill the table.
my $s2 = private_stack(AUTH_WORKERS => 1, AUTH_HASH_WORKERS => 1, AUTH_REQUIRE_CAPTCHA => 1);
my ($b2, $d2) = ($s2->base, $s2->dir);
$rpid = do { open my $f, '<', "$d2/run/redis.pid" or die; local $/; <$f> };
kill 'TERM', $rpid;
ok(wait_until(5, sub { gone($rpid) }), 'Redis stopped');
sub reg { api(POST => '/auth/register', base => $b2, json => { email => $_[0], username => "reg$_[1]",
    password => 'a fine long password' }) }
my $victim = "victim$$\@example.com";
is(reg($victim, 1)->{status}, 400, "register without a captcha $_: 400") for 1 .. 5;
is(reg($victim, 1)->{status}, 429, 'the sixth for one email: 429');
my $N = 12000;
my @kids;
for my $k (0 .. 3) {
	my $pid = fork // die;
	if (!$pid) {
		for (my $i = $k; $i < $N; $i += 4) { reg("flood$i-$$\@example.com", $i) }
		POSIX::_exit(0);
	}
	push @kids, $pid;
}
waitpid $_, 0 for @kids;
is(reg($victim, 1)->{status}, 429, "after $N other emails the victim's bucket still holds: 429");
$s2->down;
logs_clean($d2);
done_testing;
