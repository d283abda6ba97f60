# GET /metrics: Prometheus text for the whole worker pool.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

sub scrape {
	my $r = api(GET => '/metrics');
	is($r->{status}, 200, 'metrics 200 from loopback');
	my %m;
	for (split /\n/, $r->{body} // '') {
		next if /^#/;
		$m{$1} = $2 if /^(\S+) (\S+)$/;
	}
	return ($r, \%m);
}
my $ping = 'fcgi_auth_requests_total{method="GET",route="/ping",status="200"}';

my ($r, $m0) = scrape();
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'Prometheus content type');
like($r->{body}, qr/^# TYPE fcgi_auth_requests_total counter$/m, 'TYPE lines');
api(GET => '/ping') for 1 .. 40;
my (undef, $m1) = scrape();
is(($m1->{$ping} // 0) - ($m0->{$ping} // 0), 40,
    '40 pings counted exactly once, whichever worker served them');
ok(defined $m1->{'fcgi_auth_request_duration_seconds_count{method="GET",route="/ping"}'},
    'latency histogram by route');
ok($m1->{'fcgi_auth_request_duration_seconds_bucket{method="GET",route="/ping",le="+Inf"}'}
    >= $m1->{'fcgi_auth_request_duration_seconds_bucket{method="GET",route="/ping",le="0.001"}'},
    'buckets are cumulative');

my $u = new_user();
login_user($u);
api(POST => '/auth/login', json => { username => $u->{username}, password => 'wrong wrong' });
api(GET => '/nope');
my $j = login_user($u);
my $k = api(POST => '/auth/refresh', json => { refresh_token => $j->{refresh_token} })->{json};
api(POST => '/auth/refresh', json => { refresh_token => $k->{refresh_token} });
api(POST => '/auth/refresh', json => { refresh_token => $j->{refresh_token} });
my (undef, $m2) = scrape();
is($m2->{fcgi_auth_login_success_total} - $m1->{fcgi_auth_login_success_total}, 2, 'login successes');
is($m2->{fcgi_auth_login_failure_total} - $m1->{fcgi_auth_login_failure_total}, 1, 'login failures');
is($m2->{fcgi_auth_refresh_reuse_total} - $m1->{fcgi_auth_refresh_reuse_total}, 1, 'refresh reuse detections');
ok($m2->{'fcgi_auth_requests_total{method="",route="unmatched",status="404"}'}, 'unmatched paths counted');
ok($m2->{fcgi_auth_pg_connect_total} >= 1 && $m2->{fcgi_auth_redis_connect_total} >= 1,
    'backend connections counted');

# A worker that dies is counted when the master replaces it.
my @w = worker_pids();
kill 'KILL', $w[0];
wait_until(5, sub { my @n = worker_pids(); @n == @w && !grep { $_ == $w[0] } @n });
my (undef, $m3) = scrape();
is($m3->{fcgi_auth_worker_restart_total} - $m2->{fcgi_auth_worker_restart_total}, 1, 'worker restarts');
done_testing;
