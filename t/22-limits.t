# Rate limits in a private stack with one worker (so the in-memory
# fallback is deterministic): per account, per address, while Redis is
# down, and X-Forwarded-For changes nothing.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $st = private_stack(AUTH_WORKERS => 1, AUTH_RL_LOGIN_IP => 30);
my ($base, $dir) = ($st->base, $st->dir);
sub A { my ($m, $p, %o) = @_; api($m, $p, %o, base => $base) }
sub login { A(POST => '/auth/login', json => { username => $_[0], password => $_[1] },
    headers => $_[2] // {}) }

# --- per account ------------------------------------------------------------
my $u = new_user(base => $base);
is(login($u->{username}, 'wrong password!')->{status}, 401, "failure $_") for 1 .. 5;
my $r = login($u->{username}, $u->{password});
is($r->{status}, 429, 'after 5 failures even the right password: 429');
is($r->{json}{error}, 'rate_limited', 'rate_limited');
cmp_ok($r->{headers}{'retry-after'}, '>', 0, 'Retry-After');
ok(!$r->{headers}{'set-cookie'}, 'no session');
my $ghost = "ghost$$";
login($ghost, 'wrong password!') for 1 .. 5;
my $g = login($ghost, 'anything at all');
is($g->{status}, 429, 'an unknown account is limited the same way');
is($g->{body}, $r->{body}, 'byte-identical 429 bodies');
is(login(uc $u->{username}, $u->{password})->{status}, 429, 'the identifier is case-folded');
ok(login_user(new_user(base => $base), base => $base), 'other accounts are unaffected');

# --- per client address; X-Forwarded-For / X-Real-IP are ignored ------------
for my $i (1 .. 30) {
	login("spray$i-$$", 'wrong password!', { 'X-Forwarded-For' => "10.0.0.$i" });
}
my $w = new_user(base => $base);
$r = login($w->{username}, $w->{password}, { 'X-Forwarded-For' => '203.0.113.9',
    'X-Real-IP' => '203.0.113.9' });
is($r->{status}, 429, 'after 30 failures from one address a fresh account is refused too');
is(psql("SELECT count(*) FROM sessions WHERE user_id = '$w->{user_id}'", $dir), 0, 'no session created');

# --- password reset per email -------------------------------------------------
my $p = new_user(base => $base);
is(A(POST => '/auth/password-reset', json => { email => $p->{email} })->{status}, 200, "reset $_")
    for 1 .. 5;
$r = A(POST => '/auth/password-reset', json => { email => $p->{email} });
is($r->{status}, 429, 'the 6th reset request for one email: 429');
ok($r->{headers}{'retry-after'}, 'Retry-After');

# --- register per email -------------------------------------------------------
my $em = "regl$$\@example.com";
my @codes = map { A(POST => '/auth/register', json => { username => "regl$$-$_", email => $em,
    password => 'register limit phrase' })->{status} } 1 .. 6;
is_deeply(\@codes, [201, 409, 409, 409, 409, 429],
    'register: the 6th attempt for one email within the window is 429');

# --- Redis down: the host's workers share one table ------------------------
# Last: while workers reconnect after Redis returns, a count may land in
# either place, which would blur the sections above.
my $v = new_user(base => $base);
my $rpid = do { open my $f, '<', "$dir/run/redis.pid" or die; local $/; <$f> };
kill 'TERM', $rpid;
wait_until(5, sub { gone($rpid) });
is(login($v->{username}, 'wrong password!')->{status}, 401, "Redis down: failure $_") for 1 .. 5;
is(login($v->{username}, $v->{password})->{status}, 429, 'Redis down: still limited (in memory)');
system("runuser -u redis -- redis-server $dir/conf/redis.conf");
ok(wait_until(5, sub { A(GET => '/health')->{status} == 200 }), 'Redis back');

$st->down;
logs_clean($dir);
done_testing;
