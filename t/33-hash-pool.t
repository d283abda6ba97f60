# Hashing never starves token checks: the master runs a second pool of
# workers, at a lower CPU priority, on its own socket; the shipped nginx
# snippet sends the routes that hash a password there, throttled per
# address; the fast pool refuses them. A wrong-password flood leaves
# /auth/me answering. (Throughput under flood is measured by script/bench
# --flood, never asserted here.)
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);

my $dir = stack_dir();

# --- two pools, two priorities --------------------------------------------
my @fast = worker_pids($dir, 'fast');
my @hash = worker_pids($dir, 'hash');
is(scalar @fast, 4, 'four fast workers (AUTH_WORKERS)');
cmp_ok(scalar @hash, '>=', 1, 'and a hash pool (' . scalar(@hash) . ' workers, one per core)');
my %nice = map { /^\s*(\d+)\s+(-?\d+)/ ? ($1 => $2) : () } `ps -o pid=,ni= -p @{[join ',', @fast, @hash]}`;
is_deeply([map { $nice{$_} } @fast], [(0) x @fast], 'fast workers at nice 0');
is_deeply([map { $nice{$_} } @hash], [(10) x @hash], 'hash workers at nice 10 (AUTH_HASH_NICE)');
my $mode = (stat "$dir/run/fcgi-auth-hash.sock")[2] & 07777;
is(sprintf('%04o', $mode), '0660', 'the hash socket is 0660');
is((stat "$dir/run/fcgi-auth-hash.sock")[5], (stat "$dir/run/fcgi-auth.sock")[5],
    '... with the main socket\'s group (nginx can connect)');

# --- the fast pool refuses hashing routes; the hash pool serves them ------
my $body = '{"username":"nobody-at-all","password":"wrong password!"}';
my %p = (REQUEST_METHOD => 'POST', DOCUMENT_URI => '/api/v1/auth/login', SCRIPT_NAME => '/api/v1/auth/login',
    CONTENT_TYPE => 'application/json', CONTENT_LENGTH => length $body, REMOTE_ADDR => '127.0.0.1',
    QUERY_STRING => '');
like(fcgi_request("$dir/run/fcgi-auth.sock", \%p, $body), qr/^Status: 503/,
    'a login sent straight to the fast pool: 503 (it never hashes)');
like(fcgi_request("$dir/run/fcgi-auth-hash.sock", \%p, $body), qr/^Status: 401/,
    'the same login to the hash pool: 401 invalid_credentials');
for my $route ('/api/v1/auth/register', '/api/v1/register', '/api/v1/login', '/api/v1/auth/password',
    '/api/v1/auth/password-reset-confirm', '/api/v1/password-reset-confirm') {
	like(fcgi_request("$dir/run/fcgi-auth.sock", { %p, DOCUMENT_URI => $route }, $body),
	    qr/^Status: 503/, "$route refused by the fast pool");
}
like(fcgi_request("$dir/run/fcgi-auth.sock", { %p, REQUEST_METHOD => 'GET', DOCUMENT_URI => '/api/v1/ping',
    CONTENT_LENGTH => '' }, ''), qr/^Status: 200/, 'the fast pool serves /ping');
# Through nginx every spelling of a hashing route reaches the hash pool.
for my $path ('/auth/login', '//auth//login', '/auth/%6cogin', '/auth/./login') {
	my $r = api(POST => $path, json => { username => "nobody-$$", password => 'wrong password!' });
	is($r->{status}, 401, "POST /api/v1$path through nginx: 401 (served by the hash pool)");
}

# --- a wrong-password flood leaves token checks answering ------------------
my $u = new_user();
my $tok = login_user($u)->{access_token};
my $stop = time + 4;
my @kids;
for my $k (1 .. 32) {
	my $pid = fork // die;
	if (!$pid) {
		my $i = 0;
		api(POST => '/auth/login', json => { username => "flood-$k-" . $i++, password => 'wrong password!' })
		    while time < $stop;
		POSIX::_exit(0);
	}
	push @kids, $pid;
}
sleep 0.5;
my ($n, $ok, $worst) = (0, 0, 0);
my $login_t;
while (time < $stop - 0.5) {
	my $t0 = time;
	$ok++ if api(GET => '/auth/me', headers => bearer($tok))->{status} == 200;
	$worst = time - $t0 if time - $t0 > $worst;
	$n++;
	if (!defined $login_t && $n == 50) {
		my $t1 = time;
		my $r = api(POST => '/auth/login', json => { username => $u->{username}, password => $u->{password} });
		$login_t = time - $t1;
		is($r->{status}, 200, 'a legitimate login during the flood succeeds');
	}
}
waitpid $_, 0 for @kids;
is($ok, $n, "every /auth/me during a 32-connection login flood answered 200 ($n requests)");
diag sprintf 'during the flood: %d /auth/me, slowest %.1f ms; a legitimate login took %.0f ms',
    $n, $worst * 1e3, ($login_t // 0) * 1e3;

# --- nginx throttles the hashing routes per address -----------------------
my $st = private_stack(STACK_LIMIT_REQ => 1);
my ($base, $pdir) = ($st->base, $st->dir);
my %seen;
my @r = map { api(POST => '/auth/login', base => $base, json => { username => "x$_", password => 'y' x 10 }) }
    1 .. 30;
$seen{$_->{status}}++ for @r;
ok($seen{429}, "30 logins at once from one address: nginx answers 429 ($seen{429} of 30)");
my ($lim) = grep { $_->{status} == 429 } @r;
is($lim->{json}{error}, 'rate_limited', '... in the API\'s error shape');
ok($lim->{headers}{'retry-after'}, '... with Retry-After');
my $served = () = do { open my $f, '<', "$pdir/log/fcgi-auth.log" or die; grep { m{POST /auth/login} } <$f> };
cmp_ok($served, '<', 30, "... before any worker sees them ($served reached fcgi-auth)");
is(api(GET => '/auth/me', base => $base)->{status}, 401, 'other routes are not throttled');
$st->down;
logs_clean($pdir);
logs_clean();
done_testing;
