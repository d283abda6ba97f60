# Sessions: listing, deleting, logout, logout-all (and aliases), password
# change, the per-user limit, admin listing, cookie-authenticated logout.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $u = new_user();
my $a = login_user($u, headers => { 'User-Agent' => 'agent-A' });
my $b = login_user($u, headers => { 'User-Agent' => 'agent-B' });

my $r = api(GET => '/auth/sessions', headers => bearer($b->{access_token}));
is($r->{status}, 200, 'sessions 200');
my @s = @{ $r->{json}{sessions} };
is(scalar @s, 2, 'two active sessions');
is($s[0]{session_id}, $b->{session_id}, 'newest first');
is($s[0]{current}, JSON::PP::true, 'current flag on the caller\'s session');
is($s[1]{current}, JSON::PP::false, 'others not current');
is($s[0]{user_agent}, 'agent-B', 'user agent recorded');
is($s[0]{ip}, '127.0.0.1', 'client address recorded');
ok($s[0]{$_}, "has $_") for qw(created_at last_used_at expires_at);

# Another user's session cannot be deleted nor seen.
my $v = new_user();
my $vj = login_user($v);
$r = api(DELETE => "/auth/sessions/$vj->{session_id}", headers => bearer($a->{access_token}));
is($r->{status}, 404, 'deleting another user\'s session: 404');
is(api(GET => '/auth/me', headers => bearer($vj->{access_token}))->{status}, 200,
    'and it is untouched');
is(api(DELETE => '/auth/sessions/00000000-0000-4000-8000-000000000000',
    headers => bearer($a->{access_token}))->{status}, 404, 'unknown session 404');
is(api(DELETE => '/auth/sessions/not-a-uuid', headers => bearer($a->{access_token}))->{status},
    404, 'malformed id 404');
$r = api(GET => "/auth/sessions?user_id=$v->{user_id}", headers => bearer($a->{access_token}));
is($r->{status}, 403, 'listing another user\'s sessions: 403');
is($r->{json}{error}, 'forbidden', 'forbidden');
is(api(GET => "/auth/sessions?user_id=$u->{user_id}", headers => bearer($a->{access_token}))->{status},
    200, 'own user_id is fine');
is(api(GET => '/auth/sessions?user_id=zzz', headers => bearer($a->{access_token}))->{status},
    400, 'malformed user_id 400');

# An admin (made by the operator command) may list anyone's sessions.
my $adm = new_user();
my $out = `$ENV{FCGI_AUTH_DIR}/bin/fcgi-auth -c $ENV{FCGI_AUTH_DIR}/conf/fcgi-auth.conf user set-role $adm->{username} admin 2>&1`;
is($?, 0, 'fcgi-auth user set-role') or diag $out;
my $aj = login_user($adm);
$r = api(GET => "/auth/sessions?user_id=$v->{user_id}", headers => bearer($aj->{access_token}));
is($r->{status}, 200, 'admin lists another user\'s sessions');
is($r->{json}{sessions}[0]{session_id}, $vj->{session_id}, 'and sees them');

# DELETE one of my own: that token dies immediately.
$r = api(DELETE => "/auth/sessions/$a->{session_id}", headers => bearer($b->{access_token}));
is($r->{status}, 200, 'delete own session');
is($r->{json}{ok}, JSON::PP::true, 'ok true');
is(api(GET => '/auth/me', headers => bearer($a->{access_token}))->{status}, 401,
    'deleted session\'s token refused at once');

# Logout via the alias; the refresh token dies too.
$r = api(POST => '/logout', headers => bearer($b->{access_token}));
is($r->{status}, 200, 'POST /logout');
is_deeply($r->{json}, { ok => JSON::PP::true, message => 'logout successful' }, 'logout body');
is(api(GET => '/user/info', headers => bearer($b->{access_token}))->{status}, 401,
    'logged-out token refused everywhere');
is(api(POST => '/auth/logout', headers => bearer($b->{access_token}))->{status}, 401,
    'logout twice: 401');

# Logout by session cookies clears them.
my $c = login_user($u);
$r = api(POST => '/auth/logout', headers => { Cookie => "sid=$c->{session_id}" });
is($r->{status}, 401, 'sid cookie alone proves nothing');
$r = api(POST => '/auth/logout', headers => { Cookie =>
    "sid=$c->{session_id}; refresh=$c->{refresh_token}" });
is($r->{status}, 200, 'logout by cookies');
my @sc = ref $r->{headers}{'set-cookie'} ? @{ $r->{headers}{'set-cookie'} } : ();
is(scalar(grep { /Max-Age=0/ } @sc), 2, 'both cookies cleared');
is(api(GET => '/auth/me', headers => bearer($c->{access_token}))->{status}, 401,
    'cookie logout revoked the session');

# logout-all and its aliases.
for my $path ('/auth/logout-all', '/logout-all', '/auth/revoke-all') {
	my @j = map { scalar login_user($u) } 1 .. 3;
	my $r = api(POST => $path, headers => bearer($j[0]{access_token}));
	is($r->{status}, 200, "$path 200");
	is($r->{json}{ok}, JSON::PP::true, "$path ok");
	is($r->{json}{message}, 'all sessions revoked', "$path message");
	is($r->{json}{revoked}, 3, "$path revoked count");
	is(api(GET => '/auth/me', headers => bearer($_->{access_token}))->{status}, 401,
	    "$path: every token refused") for @j;
}

# Password change: checks the current password, revokes the others.
my $p1 = login_user($u);
my $p2 = login_user($u);
$r = api(POST => '/auth/password', headers => bearer($p1->{access_token}),
    json => { current_password => 'not it at all', new_password => 'brand new passphrase' });
is($r->{status}, 401, 'wrong current password 401');
$r = api(POST => '/auth/password', headers => bearer($p1->{access_token}),
    json => { current_password => $u->{password}, new_password => 'password' });
is($r->{json}{error}, 'weak_password', 'register rules apply to the new password');
$r = api(POST => '/auth/password', headers => bearer($p1->{access_token}),
    json => { current_password => $u->{password}, new_password => 'brand new passphrase' });
is($r->{status}, 200, 'password changed');
is($r->{json}{message}, 'password changed', 'message');
is(api(GET => '/auth/me', headers => bearer($p2->{access_token}))->{status}, 401,
    'other sessions revoked');
is(api(GET => '/auth/me', headers => bearer($p1->{access_token}))->{status}, 200,
    'current session kept');
is(api(POST => '/auth/login', json => { username => $u->{username},
    password => $u->{password} })->{status}, 401, 'old password refused');
$u->{password} = 'brand new passphrase';
ok(login_user($u), 'new password works');

# At most 100 active sessions: the 101st login revokes the oldest.
my $m = new_user();
my $first = login_user($m);
login_user($m) for 2 .. 100;
is(psql("SELECT count(*) FROM sessions WHERE user_id = '$m->{user_id}' AND revoked_at IS NULL"),
    100, '100 active sessions');
login_user($m);
is(psql("SELECT count(*) FROM sessions WHERE user_id = '$m->{user_id}' AND revoked_at IS NULL"),
    100, 'still 100 after the 101st login');
is(api(GET => '/auth/me', headers => bearer($first->{access_token}))->{status}, 401,
    'the oldest session was revoked');

logs_clean();
done_testing;
