# POST /auth/refresh: rotation, reuse detection, the grace window,
# concurrency, cookies, Bearer-only extension (seed 002), aliases.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $u = new_user();
sub refresh { api(POST => '/auth/refresh', json => { refresh_token => $_[0] }) }

my $j0 = login_user($u);
my $r1 = refresh($j0->{refresh_token});
is($r1->{status}, 200, 'refresh 200');
my $j1 = $r1->{json};
isnt($j1->{refresh_token}, $j0->{refresh_token}, 'refresh token rotated');
isnt($j1->{access_token}, $j0->{access_token}, 'new access token');
is($j1->{session_id}, $j0->{session_id}, 'same session');
is($j1->{user_id}, $u->{user_id}, 'user_id');
ok($j1->{expires_in} && $j1->{refresh_expires_in}, 'lifetimes');
is($r1->{headers}{'cache-control'}, 'no-store', 'no-store');
is(api(GET => '/auth/me', headers => bearer($j1->{access_token}))->{status}, 200,
    'new access token works');
is(psql("SELECT count(*) FROM refresh_tokens WHERE token_hash = '$j1->{refresh_token}'"),
    0, 'the plaintext refresh token is not stored');

# Grace: the immediately previous token within 10 s gets the SAME successor.
my $again = refresh($j0->{refresh_token});
is($again->{status}, 200, 'replay within grace 200');
is($again->{json}{refresh_token}, $j1->{refresh_token}, 'same successor (no fork)');

# Rotate again; now the first token is two generations old: reuse.
my $j2 = refresh($j1->{refresh_token})->{json};
ok($j2->{refresh_token}, 'second rotation');
my $reuse = refresh($j0->{refresh_token});
is($reuse->{status}, 401, 'reuse of a stale token 401');
is($reuse->{json}{error}, 'invalid_grant', 'invalid_grant');
is(refresh($j2->{refresh_token})->{status}, 401, 'reuse revoked the session: current refresh token dead');
is(api(GET => '/auth/me', headers => bearer($j2->{access_token}))->{status}, 401,
    'reuse revoked the session: access token dead immediately');
like(psql("SELECT revoke_reason FROM sessions WHERE id = '$j0->{session_id}'"),
    qr/reuse/, 'session revoked for reuse');

# Past the grace window the previous token is reuse too.
my $k0 = login_user($u);
my $k1 = refresh($k0->{refresh_token})->{json};
psql("UPDATE refresh_tokens SET rotated_at = now() - interval '11 seconds' "
    . "WHERE session_id = '$k0->{session_id}' AND rotated_at IS NOT NULL");
is(refresh($k0->{refresh_token})->{status}, 401, 'previous token after 10 s: reuse');
is(refresh($k1->{refresh_token})->{status}, 401, 'and the session is gone');

# 20 concurrent refreshes of one token: at most one successor exists.
my $c0 = login_user($u);
my $start = time + 0.3;
my @kids;
for my $i (1 .. 20) {
	pipe(my $rd, my $wr) or die;
	my $pid = fork // die;
	if (!$pid) {
		close $rd;
		sleep($start - time) if $start > time;
		my $r = refresh($c0->{refresh_token});
		print $wr "$r->{status} " . ($r->{json}{refresh_token} // '-') . "\n";
		close $wr;
		exit 0;
	}
	close $wr;
	push @kids, [$pid, $rd];
}
my (%succ, %st);
for (@kids) {
	my ($pid, $rd) = @$_;
	my $line = <$rd> // '';
	waitpid $pid, 0;
	my ($s, $t) = split ' ', $line;
	$st{$s // 'none'}++;
	$succ{$t}++ if defined $s && $s == 200;
}
is_deeply(\%st, { 200 => 20 }, '20 concurrent refreshes all answered 200');
is(scalar keys %succ, 1, 'exactly one successor');
is(psql("SELECT count(*) FROM refresh_tokens WHERE session_id = '$c0->{session_id}'"),
    2, 'one rotation in the database');
my ($only) = keys %succ;
is(refresh($only)->{status}, 200, 'the successor works');

# Cookies (seed 000): no body, sid + refresh cookies.
my ($cj, $cr) = login_user($u);
my $cookie = "sid=$cj->{session_id}; refresh=$cj->{refresh_token}";
my $r = api(POST => '/auth/refresh', headers => { Cookie => $cookie });
is($r->{status}, 200, 'refresh by cookies');
my @sc = ref $r->{headers}{'set-cookie'} ? @{ $r->{headers}{'set-cookie'} } : ();
ok((grep { /^refresh=\Q$r->{json}{refresh_token}\E;/ } @sc), 'refresh cookie rewritten');
ok((grep { /^sid=\Q$cj->{session_id}\E;/ } @sc), 'sid cookie rewritten');
is(api(POST => '/auth/refresh', headers => { Cookie =>
    "sid=00000000-0000-4000-8000-000000000000; refresh=$r->{json}{refresh_token}" })->{status},
    401, 'cookies that do not match each other: 401');
is(api(POST => '/auth/refresh', headers => { Cookie =>
    "refresh=$r->{json}{refresh_token}" })->{status}, 401, 'refresh cookie without sid: 401');
is(api(POST => '/refresh', headers => { Cookie =>
    "sid=$cj->{session_id}; refresh=$r->{json}{refresh_token}" })->{status}, 200,
    '/refresh alias with cookies');

# Bearer only (seed 002): extends the session, no refresh token.
my $b = login_user($u);
my $before = psql("SELECT extract(epoch FROM idle_expires_at)::bigint FROM sessions WHERE id = '$b->{session_id}'");
psql("UPDATE sessions SET idle_expires_at = now() + interval '1 hour' WHERE id = '$b->{session_id}'");
$r = api(POST => '/auth/refresh', headers => bearer($b->{access_token}));
is($r->{status}, 200, 'refresh by Bearer');
ok($r->{json}{access_token} && $r->{json}{expires_in} && $r->{json}{session_id},
    'access_token, expires_in, session_id');
ok(!exists $r->{json}{refresh_token}, 'no refresh token');
cmp_ok(psql("SELECT extract(epoch FROM idle_expires_at - now())::bigint FROM sessions WHERE id = '$b->{session_id}'"),
    '>', 3600 * 24, 'idle expiry extended');
psql("UPDATE sessions SET absolute_expires_at = now() + interval '100 seconds' WHERE id = '$b->{session_id}'");
is(api(POST => '/auth/refresh-token', headers => bearer($b->{access_token}))->{status}, 200,
    '/auth/refresh-token alias');
is(psql("SELECT idle_expires_at <= absolute_expires_at FROM sessions WHERE id = '$b->{session_id}'"),
    't', 'never past the absolute expiry');
psql("UPDATE sessions SET absolute_expires_at = now() - interval '1 second' WHERE id = '$b->{session_id}'");
is(refresh($b->{refresh_token})->{status}, 401, 'absolutely expired session: refresh 401');
is(redis('DEL', mirror_key($b->{session_id})), 1, 'its mirror entry dropped (so Postgres is asked)');
is(api(GET => '/auth/me', headers => bearer($b->{access_token}))->{status}, 401,
    'absolutely expired session: access refused');

# Errors.
$r = refresh('A' x 43);
is($r->{status}, 401, 'unknown refresh token 401');
is($r->{json}{error}, 'invalid_grant', 'invalid_grant');
is(refresh('short')->{status}, 401, 'malformed refresh token 401');
# API.md, second round: a token of the wrong shape is an unknown token.
is(api(POST => '/auth/refresh', json => { refresh_token => 7 })->{json}{error}, 'invalid_grant',
    'numeric refresh token: 401 invalid_grant, not a field error');
is(api(POST => '/auth/refresh')->{status}, 401, 'nothing presented 401');
my $l = login_user($u);
api(POST => '/auth/logout', headers => bearer($l->{access_token}));
is(refresh($l->{refresh_token})->{status}, 401, 'after logout the refresh token is dead');

logs_clean();
done_testing;
