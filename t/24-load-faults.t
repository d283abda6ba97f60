# Faults under load (private stack): two load loops run ping, me, verify
# and logins for ~30 s while a worker is SIGKILLed, Postgres and then
# Redis are stopped and restarted, and the master reloads on SIGHUP.
# Then a 1,000-connection storm, and AUTH_MAX_REQUESTS recycling.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $st = private_stack();
my ($base, $dir) = ($st->base, $st->dir);
my $pgbin = `pg_config --bindir`;
chomp $pgbin;
$pgbin = (sort glob '/usr/lib/postgresql/*/bin')[-1] unless -x "$pgbin/pg_ctl";
# Logins under load use their own user: its sessions pass the per-user
# limit of 100 and the oldest are revoked, which must not hit the
# session whose token the me/verify loop uses.
my $u = new_user(base => $base);
my $v = new_user(base => $base);
my $j = login_user($v, base => $base);

my @loaders;
for my $i (1, 2) {
	my $pid = fork // die;
	if (!$pid) {
		exec $^X, root_dir() . '/bench/load.pl', $base, 30, "$dir/load$i.log",
		    $u->{username}, $u->{password}, $j->{access_token};
		exit 1;
	}
	push @loaders, $pid;
}
my $t0 = time;
sub at { my $t = shift; sleep($t0 + $t - time) if $t0 + $t > time }
my %ev;

at(2);
my @w = worker_pids($dir);
$ev{kill} = time;
kill 'KILL', $w[0];
at(4);
my @before = sort(worker_pids($dir));
system("runuser -u postgres -- $pgbin/pg_ctl -D $dir/pg -m fast -w stop >/dev/null 2>&1");
$ev{pg_stop} = time;		# stopped (pg_ctl -w returned)
at(8);
$ev{pg_start} = time;		# it may answer before pg_ctl -w returns
system("runuser -u postgres -- $pgbin/pg_ctl -D $dir/pg -l $dir/log/postgres.log -w start >/dev/null 2>&1");
at(12);
my $rpid = do { open my $f, '<', "$dir/run/redis.pid" or die; local $/; <$f> };
chomp $rpid;
kill 'TERM', $rpid;
wait_until(5, sub { gone($rpid) });
$ev{redis_stop} = time;
at(16);
$ev{redis_start} = time;
system("runuser -u redis -- redis-server $dir/conf/redis.conf");
my @after = sort(worker_pids($dir));
at(20);
$ev{hup} = time;
kill 'HUP', master_pid($dir);
waitpid $_, 0 for @loaders;

my @req;
for my $i (1, 2) {
	open my $fh, '<', "$dir/load$i.log" or die;
	while (<$fh>) {
		my ($t, $route, $status, $dur, $sid) = split ' ';
		push @req, { t => $t, start => $t - $dur, route => $route, status => $status,
		    dur => $dur, sid => $sid };
	}
}
cmp_ok(scalar @req, '>', 1000, scalar(@req) . ' requests under load');
is(scalar(grep { $_->{status} == 500 || $_->{status} == 599 } @req), 0, 'never a 500 (nor a dropped request)');
is_deeply(\@after, \@before, 'the Postgres and Redis outages restarted no worker');

my @killwin = grep { $_->{start} <= $ev{kill} + 0.5 && $_->{t} >= $ev{kill} } @req;
my @killfail = grep { $_->{status} != 200 } grep { $_->{t} >= $ev{kill} - 0.1 && $_->{t} <= $ev{kill} + 1 } @req;
cmp_ok(scalar @killfail, '<=', 2, 'worker SIGKILL: at most the in-flight requests failed (' . scalar(@killfail) . ')');

my @pgwin = grep { $_->{start} >= $ev{pg_stop} + 1 && $_->{t} <= $ev{pg_start} } @req;
my @pglogin = grep { $_->{route} eq 'login' } @pgwin;
ok(@pglogin, scalar(@pglogin) . ' logins during the Postgres outage');
is(scalar(grep { $_->{status} != 503 } @pglogin), 0, 'Postgres down: every login answered 503')
    or diag join ' ', map { "$_->{status}" } grep { $_->{status} != 503 } @pglogin;
cmp_ok((sort { $b <=> $a } map { $_->{dur} } @pglogin)[0] // 0, '<', 1.0, 'promptly (none took 1 s)');
is(scalar(grep { $_->{route} ne 'login' && $_->{status} != 200 } @pgwin), 0,
    'Postgres down: ping, me and verify kept answering 200');
my @pgback = grep { $_->{route} eq 'login' && $_->{start} >= $ev{pg_start} + 2 && $_->{t} < $ev{redis_stop} } @req;
ok(@pgback && !grep({ $_->{status} != 200 } @pgback), 'full service within 2 s of Postgres returning');
my ($first) = sort { $a <=> $b } map { $_->{t} } grep { $_->{route} eq 'login' && $_->{status} == 200
    && $_->{start} >= $ev{pg_start} } @req;
diag sprintf 'Postgres back: first login 200 %.2f s after pg_ctl start began', ($first // 0) - $ev{pg_start};
diag sprintf 'worker SIGKILL: %d failed request(s); Postgres outage: %d logins answered 503, '
    . 'slowest %.3f s', scalar(@killfail), scalar(@pglogin), (sort { $b <=> $a } map { $_->{dur} } @pglogin)[0] // 0;

my @rwin = grep { $_->{start} >= $ev{redis_stop} + 0.5 && $_->{t} <= $ev{redis_start} } @req;
ok(@rwin, scalar(@rwin) . ' requests during the Redis outage');
is(scalar(grep { $_->{status} != 200 } @rwin), 0, 'Redis down: me and verify fall back to Postgres, logins work');
my @hup = grep { $_->{t} >= $ev{hup} && $_->{t} <= $ev{hup} + 5 } @req;
is(scalar(grep { $_->{status} != 200 } @hup), 0, 'SIGHUP under load: ' . scalar(@hup) . ' requests, none failed');

my @sids = map { $_->{sid} } grep { $_->{route} eq 'login' && $_->{status} == 200 && $_->{sid} } @req;
my $list = join ',', map { "'$_'" } @sids;
is(psql("SELECT count(*) FROM sessions WHERE id IN ($list)", $dir), scalar @sids,
    'every login that answered 200 has its session row (' . scalar(@sids) . ')');

# --- 1,000 concurrent keep-alive connections --------------------------------
my $out = `ulimit -n 8192; wrk -t2 -c1000 -d5s --latency -H 'Authorization: Bearer $j->{access_token}' $base/api/v1/auth/me 2>&1`;
my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
my ($p99) = $out =~ /^\s+99%\s+(\S+)/m;
unlike($out, qr/Non-2xx/, '1,000 connections: no error answer');
unlike($out, qr/Socket errors:.*(?:read|write|timeout) [1-9]/, 'no socket read/write errors or timeouts');
diag "1,000 connections: $rps req/s, p99 $p99";
ok(defined $p99 && ($p99 =~ /us$/ || ($p99 =~ /^([\d.]+)ms$/ && $1 < 1000)), "p99 under 1 s ($p99)");
is(api(GET => '/ping', base => $base)->{status}, 200, 'and the service is fine afterwards');

# --- AUTH_MAX_REQUESTS: workers recycle without failures or back-off --------
open my $cf, '>>', "$dir/conf/fcgi-auth.conf" or die;
print $cf "AUTH_MAX_REQUESTS = 25\n";
close $cf;
kill 'HUP', master_pid($dir);
sleep 2;
my @w1 = worker_pids($dir, 'fast');
my $ok = grep { api(GET => '/ping', base => $base)->{status} == 200 } 1 .. 300;
is($ok, 300, '300 requests through workers recycling every 25: all 200');
my %now = map { $_ => 1 } worker_pids($dir, 'fast');
ok(!grep({ $now{$_} } @w1), 'the workers were recycled');

$st->down;
logs_clean($dir);
done_testing;
