# fcgi-auth under supervisord, from the shipped conf/supervisord-fcgi-auth.conf
# (script/stack with STACK_SUPERVISORD=1): a load loop runs while
# supervisorctl restarts the service (SIGTERM, drain, start) and while the
# master is SIGKILLed (supervisord's autorestart). The outage clients see is
# measured and bounded; no request is dropped or answered 500; a killed
# master leaves no orphan worker behind.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $st = private_stack(STACK_SUPERVISORD => 1);
my ($base, $dir) = ($st->base, $st->dir);
my @ctl = ('supervisorctl', '-c', "$dir/conf/supervisord.conf");
sub sv_pid { my $p = `@ctl pid fcgi-auth 2>/dev/null`; chomp $p; $p =~ /^[1-9]\d*$/ ? $p : undef }

like(`@ctl status`, qr/^fcgi-auth\s+(?:STARTING|RUNNING)/m, 'supervisord runs fcgi-auth');
like(`@ctl status`, qr/^fcgi-auth-mailer\s+(?:STARTING|RUNNING)/m, 'and the mailer');
like(`@ctl status`, qr/^fcgi-auth-migrate\s+EXITED/m, 'and ran the migration once');
my $m0 = sv_pid();
ok($m0, "master pid $m0");

my $u = new_user(base => $base);
my $v = new_user(base => $base);
my $j = login_user($v, base => $base);
my $loader = fork // die;
if (!$loader) {
	exec $^X, root_dir() . '/bench/load.pl', $base, 12, "$dir/load.log",
	    $u->{username}, $u->{password}, $j->{access_token};
	exit 1;
}
my $t0 = time;
sub at { my $t = shift; sleep($t0 + $t - time) if $t0 + $t > time }
my %ev;

at(2);
$ev{restart} = time;
my $out = `@ctl restart fcgi-auth 2>&1`;
$ev{restarted} = time;
like($out, qr/fcgi-auth: started/, 'supervisorctl restart fcgi-auth');
my $m1 = sv_pid();
isnt($m1, $m0, "a new master ($m1)");

at(7);
my @w = grep { /\d/ } map { s/\s+//gr } `ps -o pid= --ppid $m1`;
$ev{kill} = time;
kill 'KILL', $m1;
# Alive: exists and is not a zombie waiting for init to reap it.
sub alive {
	open my $f, '<', "/proc/$_[0]/stat" or return 0;
	my $st = <$f> // '';
	return $st !~ /^\d+ \(.*\) Z /s;
}
ok(wait_until(5, sub { !grep { alive($_) } @w }), 'master SIGKILLed: its workers exit with it (no orphans)')
    or diag `ps -o pid,ppid,stat,etimes,args -p @{[join ',', @w]}`;
ok(wait_until(10, sub { my $p = sv_pid(); $p && $p != $m1 }), 'supervisord started a new master');
waitpid $loader, 0;

my @req;
open my $fh, '<', "$dir/load.log" or die;
while (<$fh>) {
	my ($t, $route, $status, $dur) = split ' ';
	push @req, { t => $t, start => $t - $dur, route => $route, status => $status };
}
cmp_ok(scalar @req, '>', 500, scalar(@req) . ' requests under load');
is(scalar(grep { $_->{status} == 500 || $_->{status} == 599 } @req), 0,
    'never a 500 nor a dropped connection');
my @odd = grep { $_->{status} != 200 && $_->{status} != 503 } @req;
is(scalar @odd, 0, 'every failure is a 503 service_unavailable') or diag join ' ', map { $_->{status} } @odd;

# The outage clients saw: from the last success before the first failure
# after the event to the first success after the last failure.
sub outage {
	my ($from, $to) = @_;
	my @f = sort { $a <=> $b } map { $_->{t} } grep { $_->{status} != 200 && $_->{t} >= $from && $_->{t} < $to } @req;
	return (0, 0) unless @f;
	my @ok = sort { $a <=> $b } map { $_->{t} } grep { $_->{status} == 200 } @req;
	my ($s0) = reverse grep { $_ < $f[0] } @ok;
	my ($s1) = grep { $_ > $f[-1] } @ok;
	return (scalar @f, ($s1 // $to) - ($s0 // $from));
}
my ($rn, $rs) = outage($ev{restart}, $t0 + 7);
my ($kn, $ks) = outage($ev{kill}, $t0 + 20);
cmp_ok($rs, '<', 2, sprintf 'restart: clients saw %.2f s of outage (%d failed requests)', $rs, $rn);
cmp_ok($ks, '<', 3, sprintf 'SIGKILL + autorestart: %.2f s of outage (%d failed requests)', $ks, $kn);
diag sprintf 'supervisorctl restart took %.2f s; outage %.2f s, %d failed; '
    . 'SIGKILL: outage %.2f s, %d failed', $ev{restarted} - $ev{restart}, $rs, $rn, $ks, $kn;
my @after = grep { $_->{start} > $ev{kill} + $ks + 0.5 } @req;
ok(@after && !grep({ $_->{status} != 200 } @after), 'full service after the restart (' . scalar(@after) . ' requests)');
is(api(GET => '/auth/me', base => $base, headers => bearer($j->{access_token}))->{status}, 200,
    'sessions survive restarts');

$st->down;
ok(!-e "$dir/run/supervisord.pid", 'supervisord stopped with the stack');
is(`ps -eo args | grep -c '[f]cgi-auth -c $dir/'` + 0, 0, 'nothing of the stack is left running');
# While the socket is being replaced nginx logs (and answers 503 for) the
# connect() that found no socket, no listener, or the new socket before
# spawn-fcgi gave it to nginx's group; nothing else may show.
logs_clean($dir, allow => qr/\[crit\].* connect\(\) to unix:\S+\/fcgi-auth(?:-hash)?\.sock failed \((?:2|13|111): /);
done_testing;
