# Faults in a private stack: a worker killed, Postgres and Redis stopped
# and restarted, SIGHUP reload with a changed setting, SIGTERM drain.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $st = private_stack(AUTH_DB_TIMEOUT => 1);
my $base = $st->base;
my $dir = $st->dir;
my $pgbin = `pg_config --bindir`;
chomp $pgbin;
$pgbin = (sort glob '/usr/lib/postgresql/*/bin')[-1] unless -x "$pgbin/pg_ctl";
sub A { my ($m, $p, %o) = @_; api($m, $p, %o, base => $base) }

my $u = new_user(base => $base);
my $j = login_user($u, base => $base);
my (undef, $web) = web_login($u, base => $base);

# --- a worker SIGKILLed is replaced; service continues -------------------
my @w = worker_pids($dir, 'fast');
is(scalar @w, 4, 'four workers in the fast pool');
kill 'KILL', $w[0];
ok(wait_until(5, sub { my @n = worker_pids($dir, 'fast'); @n == 4 && !grep { $_ == $w[0] } @n }),
    'the master replaced the killed worker');
is(scalar(grep { A(GET => '/ping')->{status} == 200 } 1 .. 20), 20, 'service continues');

# --- Postgres stopped: 503 for what needs it, cached sessions still work --
@w = sort(worker_pids($dir));
system("runuser -u postgres -- $pgbin/pg_ctl -D $dir/pg -m fast -w stop >/dev/null 2>&1");
my $t0 = time;
my $r = A(POST => '/auth/login', json => { username => $u->{username}, password => $u->{password} });
is($r->{status}, 503, 'login with Postgres down: 503');
is($r->{json}{error}, 'service_unavailable', 'service_unavailable');
cmp_ok(time - $t0, '<', 1.5, 'answered promptly');
unlike($r->{body}, qr/postgres|connection|socket|SQL/i, 'no internals in the body');
$r = A(GET => '/health');
is($r->{status}, 503, 'health 503');
is($r->{json}{postgres}, 'down', 'postgres down');
is($r->{json}{redis}, 'ok', 'redis ok');
is(A(GET => '/ping')->{status}, 200, 'ping still 200');
is(A(GET => '/auth/me', headers => bearer($j->{access_token}))->{status}, 200,
    'me for a session cached in Redis: 200');
is(A(POST => '/auth/verify', json => { token => $j->{access_token} })->{status}, 200,
    'verify for a cached session: 200');
is(A(GET => '/auth/check', headers => bearer($j->{access_token}))->{status}, 200,
    'check (forward auth) with a token of a cached session: 200');
$r = api(GET => "$base/demo/whoami", headers => { Cookie => $web });
is($r->{status}, 200, 'a protected location with the browser cookie: 200');
is($r->{json}{user}, $u->{username}, '... the identity from the mirror alone');
system("runuser -u postgres -- $pgbin/pg_ctl -D $dir/pg -l $dir/log/postgres.log -w start >/dev/null 2>&1");
$t0 = time;
ok(wait_until(5, sub { A(GET => '/health')->{status} == 200 }), 'health back to 200');
ok(login_user($u, base => $base), 'login works again');
cmp_ok(time - $t0, '<', 2.5, 'full service within 2 s');
diag sprintf 'Postgres restarted: health and a login OK %.2f s after pg_ctl start returned', time - $t0;
is_deeply([sort(worker_pids($dir))], \@w, 'no worker was restarted');

# --- Redis stopped: fall back to Postgres, revocations still hold --------
my $k = login_user($u, base => $base);
my $k2 = login_user($u, base => $base);
my $rpid = do { open my $f, '<', "$dir/run/redis.pid" or die; local $/; <$f> };
chomp $rpid;
kill 'TERM', $rpid;
wait_until(5, sub { gone($rpid) });
$r = A(GET => '/health');
is($r->{status}, 503, 'health 503 with Redis down');
is($r->{json}{redis}, 'down', 'redis down');
is(A(GET => '/auth/me', headers => bearer($k->{access_token}))->{status}, 200,
    'me falls back to Postgres');
$r = api(GET => "$base/demo/whoami", headers => { Cookie => $web });
is($r->{status}, 200, 'a protected location falls back to Postgres too');
is($r->{json}{role}, 'user', '... with the identity from Postgres');
is(A(POST => '/auth/logout', headers => bearer($k2->{access_token}))->{status}, 200,
    'logout during the outage');
is(A(GET => '/auth/me', headers => bearer($k2->{access_token}))->{status}, 401,
    'a session revoked during the outage is refused');
ok(login_user($u, base => $base), 'login works without Redis');
system("runuser -u redis -- redis-server $dir/conf/redis.conf");
ok(wait_until(5, sub { A(GET => '/health')->{status} == 200 }), 'Redis back: health 200');
is(A(GET => '/auth/me', headers => bearer($k2->{access_token}))->{status}, 401,
    'no stale session accepted after Redis returns');
is(A(GET => '/auth/me', headers => bearer($k->{access_token}))->{status}, 200,
    'active session still accepted, mirror re-filled');

# --- SIGHUP: new configuration, no failed request ------------------------
open my $cf, '>>', "$dir/conf/fcgi-auth.conf" or die;
print $cf "AUTH_ACCESS_TTL = 600\n";
close $cf;
pipe(my $rd, my $wr);
my $pid = fork // die;
if (!$pid) {
	close $rd;
	my ($ok, $bad) = (0, 0);
	my $end = time + 2.5;
	while (time < $end) {
		api(GET => '/ping', base => $base)->{status} == 200 ? $ok++ : $bad++;
	}
	print $wr "$ok $bad\n";
	exit 0;
}
close $wr;
sleep 0.5;
my @before = worker_pids($dir);
kill 'HUP', master_pid($dir);
my ($ok, $bad) = split ' ', <$rd>;
waitpid $pid, 0;
cmp_ok($ok, '>', 50, "requests during the reload ($ok)");
is($bad, 0, 'no failed request during SIGHUP');
ok(wait_until(10, sub { my %n = map { $_ => 1 } worker_pids($dir); !grep { $n{$_} } @before }),
    'every worker replaced');
is(login_user($u, base => $base)->{expires_in}, 600, 'the new access TTL is in effect');

# --- SIGTERM drains: a slow in-flight login completes -----------------------
my $slow = crypt($u->{password}, '$y$jDT$r7cnX/DqL2.es0aAzFWWj/');
psql("UPDATE users SET password_hash = '$slow' WHERE id = '$u->{user_id}'", $dir);
pipe($rd, $wr);
$pid = fork // die;
if (!$pid) {
	close $rd;
	my $r = api(POST => '/auth/login', base => $base,
	    json => { username => $u->{username}, password => $u->{password} });
	print $wr "$r->{status}\n";
	exit 0;
}
close $wr;
sleep 0.25;
my $m = master_pid($dir);
$t0 = time;
kill 'TERM', $m;
my $status = <$rd>;
waitpid $pid, 0;
chomp $status;
is($status, 200, 'the in-flight slow login completed with 200 during SIGTERM');
ok(wait_until(12, sub { gone($m) }), 'the master exited');
cmp_ok(time - $t0, '<', 11, 'within the drain timeout');
diag sprintf 'SIGTERM with a slow login in flight: the master exited after %.2f s', time - $t0;
ok(!worker_pids($dir), 'no worker left');

$st->down;
logs_clean($dir);
done_testing;
