# Forward authentication (API.md, "Browsers and nginx"): GET /auth/check
# for nginx's auth_request, the browser session cookie, the shipped
# protect snippet in front of the demo locations, the policies, forged
# identity headers, revocation at once, and where `rd` may lead.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(sleep);

my $base = $ENV{FCGI_AUTH_URL};
my $dir = stack_dir();
my ($own) = $base =~ m{^(https?://[^/]+)};
my $JSON = { Accept => 'application/json' };

# A request to a demo location (outside /api/v1) of the site.
sub site {
	my ($path, %h) = @_;
	return api(GET => "$base$path", headers => \%h);
}

# --- the check endpoint ------------------------------------------------
my $u = new_user();
my ($j, $lr) = login_user($u);
my $c = set_cookies($lr);
my $web = $c->{fa_session};
ok($web, 'login sets the browser session cookie');
like($web->{attrs}, qr/;\s*Path=\/(;|$)/, '... Path=/ (the whole site)');
like($web->{attrs}, qr/;\s*HttpOnly\b/, '... HttpOnly');
like($web->{attrs}, qr/;\s*SameSite=Lax\b/, '... SameSite=Lax');
unlike($web->{attrs}, qr/Secure/, '... not Secure in dev mode');
like($web->{attrs}, qr/Max-Age=\d+/, '... with a Max-Age');
unlike($web->{value}, qr/\Q$j->{refresh_token}\E/, '... which is not the refresh token');
like($c->{sid}{attrs}, qr/Path=\/api\/v1;.*SameSite=Strict/, 'the API cookies are unchanged');
my $cookie = "fa_session=$web->{value}";

my $r = api(GET => '/auth/check', headers => bearer($j->{access_token}));
is($r->{status}, 200, 'check with a Bearer access token: 200');
is($r->{headers}{'x-auth-request-user'}, $u->{username}, 'X-Auth-Request-User is the username');
is($r->{headers}{'x-auth-request-email'}, $u->{email}, 'X-Auth-Request-Email');
is($r->{headers}{'x-auth-request-user-id'}, $u->{user_id}, 'X-Auth-Request-User-Id');
is($r->{headers}{'x-auth-request-session-id'}, $j->{session_id}, 'X-Auth-Request-Session-Id');
is($r->{headers}{'x-auth-request-role'}, 'user', 'X-Auth-Request-Role');
is($r->{headers}{'remote-user'}, $u->{username}, 'Remote-User');
is($r->{headers}{'remote-email'}, $u->{email}, 'Remote-Email');
is($r->{headers}{'remote-groups'}, 'user', 'Remote-Groups is the role');
is($r->{json}{user_id}, $u->{user_id}, 'the body names the user too');
ok($r->{headers}{'x-request-id'}, 'X-Request-Id as everywhere');

$r = api(GET => '/auth/check', headers => { Cookie => $cookie });
is($r->{status}, 200, 'check with the browser session cookie: 200');
is($r->{headers}{'x-auth-request-session-id'}, $j->{session_id}, '... for the same session as the tokens');
is($r->{headers}{'x-auth-request-user'}, $u->{username}, '... and the same user');

$r = api(GET => '/auth/check', headers => $JSON);
is($r->{status}, 401, 'check without a credential: 401');
is($r->{json}{error}, 'invalid_token', '... invalid_token');
is($r->{headers}{'www-authenticate'}, 'Bearer', '... WWW-Authenticate: Bearer');
ok(!$r->{headers}{'x-auth-request-user'}, '... and no identity');

for my $bad (
	['a bad Bearer token', { Authorization => 'Bearer not.a.token' }],
	['a truncated token', { Authorization => 'Bearer ' . substr($j->{access_token}, 0, -3) }],
	['Basic credentials', { Authorization => 'Basic dXNlcjpwYXNz' }],
	['a personal access token that does not exist',
	    { Authorization => 'Bearer fa_pat_' . ('A' x 40) }],
	['a refresh token as Bearer', { Authorization => "Bearer $j->{refresh_token}" }],
	) {
	$r = api(GET => '/auth/check', headers => $bad->[1]);
	is($r->{status}, 401, "check with $bad->[0]: 401");
	like($r->{headers}{'www-authenticate'} // '', qr/^Bearer error="invalid_token"/, '... naming invalid_token');
}
my ($sid, $mac) = $web->{value} =~ /^([0-9a-f-]{36})\.(.+)$/;
ok($sid && $mac, 'the cookie is <session id>.<MAC>');
my $other = new_user();
my ($oj) = login_user($other);
my $flip = substr($mac, 0, -1) . (substr($mac, -1) eq 'A' ? 'B' : 'A');
for my $bad (
	['a MAC with one character changed', "fa_session=$sid.$flip"],
	['another session id with this MAC', "fa_session=$oj->{session_id}.$mac"],
	['no MAC', "fa_session=$sid"],
	['junk', 'fa_session=%00%ff' . ('x' x 200)],
	['the API sid cookie alone', "sid=$j->{session_id}"],
	) {
	$r = api(GET => '/auth/check', headers => { Cookie => $bad->[1], %$JSON });
	is($r->{status}, 401, "check with $bad->[0]: 401");
}

# --- the protect snippet in front of /demo/whoami ----------------------
$r = site('/demo/whoami', Cookie => $cookie);
is($r->{status}, 200, 'the demo location with the cookie: 200');
is_deeply([@{ $r->{json} }{qw(user email user_id role session_id)}],
    [$u->{username}, $u->{email}, $u->{user_id}, 'user', $j->{session_id}],
    '... and its upstream received the identity headers');
is($r->{json}{remote_user}, $u->{username}, '... Remote-User too');
$r = site('/demo/whoami', %{ bearer($j->{access_token}) });
is($r->{status}, 200, 'with a Bearer token: 200');
is($r->{json}{user}, $u->{username}, '... the same identity');

$r = site('/demo/whoami?x=1&y=a%20b');
is($r->{status}, 302, 'a browser that is not signed in: 302');
is($r->{headers}{location}, "$own/auth/sign-in?rd=/demo/whoami%3Fx%3D1%26y%3Da%2520b",
    '... to the sign-in page, with rd = the URL it asked for');
$r = site('/demo/whoami', %$JSON);
is($r->{status}, 401, 'an API client (Accept: application/json): 401');
is($r->{json}{error}, 'invalid_token', '... in the API\'s error shape');
like($r->{headers}{'www-authenticate'}, qr/Bearer/, '... with WWW-Authenticate');
$r = site('/demo/whoami', Authorization => 'Bearer nope');
is($r->{status}, 401, 'an API client with a bad token: 401, not a redirect');

# Forged identity headers never reach the upstream.
my @forged = ('X-Auth-Request-User' => 'root', 'X-Auth-Request-Email' => 'root@evil.example',
    'X-Auth-Request-User-Id' => '00000000-0000-0000-0000-000000000000',
    'X-Auth-Request-Role' => 'admin', 'X-Auth-Request-Session-Id' => 'forged',
    'Remote-User' => 'root', 'Remote-Email' => 'root@evil.example', 'Remote-Groups' => 'admin');
$r = site('/demo/whoami', Cookie => $cookie, @forged);
is($r->{status}, 200, 'forged identity headers with a real cookie: 200');
is_deeply([@{ $r->{json} }{qw(user email user_id role session_id remote_user remote_email remote_groups)}],
    [$u->{username}, $u->{email}, $u->{user_id}, 'user', $j->{session_id}, $u->{username}, $u->{email}, 'user'],
    '... the upstream sees the real identity, never the forged one');
$r = site('/demo/fcgi/whoami', Cookie => $cookie, @forged);
is($r->{status}, 200, 'a fastcgi_pass location with the protect snippet: 200');
is_deeply([@{ $r->{json} }{qw(user email user_id role session_id remote_user remote_email remote_groups)}],
    [$u->{username}, $u->{email}, $u->{user_id}, 'user', $j->{session_id}, $u->{username}, $u->{email}, 'user'],
    '... its FastCGI upstream too sees the real identity, never the forged one');
is(site('/demo/fcgi/whoami', @forged, %$JSON)->{status}, 401, '... and refuses forged headers alone');
$r = site('/demo/whoami', @forged, %$JSON);
is($r->{status}, 401, 'forged identity headers alone: 401');
$r = site('/demo/admin/whoami', Cookie => $cookie, @forged, %$JSON);
is($r->{status}, 403, 'a forged role does not pass the admin policy');

# --- policies ------------------------------------------------------------
$r = site('/demo/admin/whoami', Cookie => $cookie, %$JSON);
is($r->{status}, 403, 'AUTH_REQUIRE_ROLE admin, as a user: 403');
is($r->{json}{error}, 'forbidden', '... forbidden');
$r = site('/demo/admin/whoami', Cookie => $cookie);
is($r->{status}, 403, 'a browser gets the 403 too');
like($r->{headers}{'content-type'}, qr{^text/html}, '... as a small page');
like($r->{body}, qr/\Q$u->{username}\E/, '... naming who is signed in');
like($r->{body}, qr{href="/auth/sign-in\?rd=/demo/admin/whoami&prompt=login"}, '... with a link to sign in again');
like($r->{headers}{'content-security-policy'}, qr/default-src 'none'/, '... under a strict CSP');

my ($out, $rc) = cli($dir, 'user', 'set-role', $u->{username}, 'admin');
is($rc, 0, 'made an admin with the CLI') or diag $out;
$r = site('/demo/admin/whoami', Cookie => $cookie);
is($r->{status}, 200, 'the same session passes the admin policy at once');
is($r->{json}{role}, 'admin', '... with role admin');
is(api(GET => '/auth/check', headers => bearer($j->{access_token}))->{headers}{'x-auth-request-role'},
    'admin', 'and its access token checks as admin');
($out, $rc) = cli($dir, 'user', 'set-role', $u->{username}, 'user');
is($rc, 0, 'and demoted again') or diag $out;
is(site('/demo/admin/whoami', Cookie => $cookie, %$JSON)->{status}, 403, 'refused at once');

$r = site('/demo/mfa/whoami', Cookie => $cookie, %$JSON);
is($r->{status}, 403, 'AUTH_REQUIRE_MFA 1 after a password alone: 403');
is(site('/demo/mfa/whoami', %$JSON)->{status}, 401, '... and 401 without a credential');

my $fresh = new_user();
my (undef, $fc) = web_login($fresh);
is(site('/demo/recent/whoami', Cookie => $fc, %$JSON)->{status}, 200, 'AUTH_MAX_AGE 2 just after sign-in: 200');
sleep 3.2;
is(site('/demo/recent/whoami', Cookie => $fc, %$JSON)->{status}, 403, '... 403 three seconds later');
is(site('/demo/whoami', Cookie => $fc, %$JSON)->{status}, 200, '... while a location without it still lets in');

# --- the browser session's idle expiry slides without a write per check --
{
	my $v = new_user();
	my ($vj, $vc) = web_login($v);
	my $idle = sub { psql("SELECT extract(epoch FROM idle_expires_at)::bigint - extract(epoch FROM now())::bigint FROM sessions WHERE id = '$vj->{session_id}'") };
	my $used = sub { psql("SELECT last_used_at FROM sessions WHERE id = '$vj->{session_id}'") };
	# As if the session had last been used 13 days ago: 1 day of idle left.
	psql("UPDATE sessions SET idle_expires_at = now() + interval '1 day', last_used_at = now() - interval '13 days' WHERE id = '$vj->{session_id}'");
	redis('DEL', mirror_key($vj->{session_id}));
	my $before = $used->();
	is(site('/demo/whoami', Cookie => $vc, %$JSON)->{status}, 200, 'a browser session with a day of idle time left: 200');
	ok(wait_until(5, sub { $idle->() > 13 * 86400 }), '... and its idle expiry slid back to the full 14 days');
	my $after = $used->();
	isnt($after, $before, '... (its last use recorded)');
	my @m = split /\t/, redis('GET', mirror_key($vj->{session_id}));
	cmp_ok($m[0] - time, '>', 13 * 86400, '... and the mirror knows the new expiry');
	is(site('/demo/whoami', Cookie => $vc, %$JSON)->{status}, 200, 'the next check: 200');
	sleep 0.3;
	is($used->(), $after, '... without another Postgres write');
	psql("UPDATE sessions SET idle_expires_at = now() + interval '1 day' WHERE id = '$vj->{session_id}'");
	redis('DEL', mirror_key($vj->{session_id}));
	is(api(GET => '/auth/check', headers => bearer($vj->{access_token}))->{status}, 200, 'a Bearer check: 200');
	sleep 0.3;
	cmp_ok($idle->(), '<', 86400 + 5, '... does not slide (API clients refresh)');
	psql("UPDATE sessions SET idle_expires_at = now() - interval '1 second' WHERE id = '$vj->{session_id}'");
	redis('DEL', mirror_key($vj->{session_id}));
	is(site('/demo/whoami', Cookie => $vc, %$JSON)->{status}, 401, 'an idle-expired browser session: 401');
	sleep 0.3;
	cmp_ok($idle->(), '<', 0, '... and it is not brought back');
}

# --- revocation ends the browser session at once -------------------------
for my $how (
	['logout with the Bearer token', sub { api(POST => '/auth/logout', headers => bearer($_[0]{access_token})) }],
	['logout-all', sub { api(POST => '/auth/logout-all', headers => bearer($_[0]{access_token})) }],
	['DELETE of the session from another one', sub {
		my ($jj, $uu) = @_;
		my $k = login_user($uu);
		api(DELETE => "/auth/sessions/$jj->{session_id}", headers => bearer($k->{access_token}));
	}],
	['a password change from another session', sub {
		my ($jj, $uu) = @_;
		my $k = login_user($uu);
		my $x = api(POST => '/auth/password', headers => bearer($k->{access_token}),
		    json => { current_password => $uu->{password}, new_password => "$uu->{password}-2" });
		$uu->{password} .= '-2';
		$x;
	}],
	) {
	my $v = new_user();
	my ($vj, $vc) = web_login($v);
	is(site('/demo/whoami', Cookie => $vc, %$JSON)->{status}, 200, "before $how->[0]: 200");
	is($how->[1]->($vj, $v)->{status}, 200, "$how->[0]: 200");
	is(site('/demo/whoami', Cookie => $vc, %$JSON)->{status}, 401, "after $how->[0]: the cookie gets 401 at once");
	is(api(GET => '/auth/check', headers => bearer($vj->{access_token}))->{status}, 401, '... as does the access token');
}

# Signing out with the cookies clears them, the browser session's too.
{
	my $v = new_user();
	my ($vj, $vr) = login_user($v);
	my $vc = set_cookies($vr);
	my $all = join '; ', map { "$_=$vc->{$_}{value}" } qw(sid refresh fa_session);
	$r = api(POST => '/auth/logout', headers => { Cookie => $all, Origin => $own });
	is($r->{status}, 200, 'logout with the cookies: 200');
	my $cl = set_cookies($r);
	is($cl->{fa_session}{value}, '', '... clears the browser session cookie');
	like($cl->{fa_session}{attrs}, qr/Max-Age=0.*Path=\//, '... (Max-Age=0, Path=/)');
	is($cl->{refresh}{value}, '', '... and the API cookies');
	is(site('/demo/whoami', Cookie => "fa_session=$vc->{fa_session}{value}", %$JSON)->{status}, 401,
	    '... and that cookie no longer lets in');
}
# The browser session cookie alone signs out too (it is a cookie
# credential: Origin-checked).
{
	my $v = new_user();
	my ($vj, $vc) = web_login($v);
	is(api(POST => '/auth/logout', headers => { Cookie => $vc, Origin => 'https://evil.example' })->{status},
	    403, 'logout with the browser cookie from another site: 403');
	is(site('/demo/whoami', Cookie => $vc, %$JSON)->{status}, 200, '... the session is untouched');
	$r = api(POST => '/auth/logout', headers => { Cookie => $vc, Origin => $own });
	is($r->{status}, 200, 'logout with the browser cookie alone: 200');
	is(set_cookies($r)->{fa_session}{value}, '', '... and it is cleared');
	is(site('/demo/whoami', Cookie => $vc, %$JSON)->{status}, 401, '... and refused');
}

# --- rd: the site itself, or an allowed origin; else the account page ---
for my $case (
	['/demo/whoami', '/demo/whoami'],
	['/demo/whoami?x=1#top', '/demo/whoami?x=1#top'],
	["$own/demo/whoami", "$own/demo/whoami"],
	['https://evil.example/', '/auth/account'],
	['//evil.example/', '/auth/account'],
	['/\\evil.example/', '/auth/account'],
	['\\\\evil.example', '/auth/account'],
	["$own.evil.example/", '/auth/account'],
	["$own\@evil.example/", '/auth/account'],
	['http://user@' . substr($own, 7) . '/', '/auth/account'],
	['javascript:alert(1)', '/auth/account'],
	['data:text/html,hi', '/auth/account'],
	["/demo/\r\nLocation: x", '/auth/account'],
	["/d\x{e9}mo", '/auth/account'],
	['', '/auth/account'],
	) {
	my ($rd, $want) = @$case;
	my $q = join '', map { sprintf '%%%02X', ord } split //, $rd;
	$r = api(GET => "/auth/redirect?rd=$q");
	is($r->{status}, 200, "redirect for rd=" . ($rd =~ s/[^ -~]/?/gr) . ": 200");
	is($r->{json}{redirect_to}, $want, "... leads to $want");
}
is(api(GET => '/auth/redirect')->{json}{redirect_to}, '/auth/account', 'no rd: the account page');

# The shipped server snippet alone (a site with no protected location
# yet) is a valid nginx configuration: every variable it reads exists.
{
	use File::Temp qw(tempdir);
	my $t = tempdir('/tmp/fcgi-auth-ngt.XXXXXX', CLEANUP => 1);
	my $root = root_dir();
	system('cp', '/etc/nginx/fastcgi_params', "$t/fastcgi_params");
	open my $fh, '>', "$t/nginx.conf" or die;
	print $fh "pid $t/nginx.pid; error_log $t/error.log;\nevents {}\nhttp {\n"
	    . "include $root/conf/nginx-fcgi-auth-http.conf;\n"
	    . "server { listen 127.0.0.1:1; include $root/conf/nginx-fcgi-auth.conf; }\n}\n";
	close $fh;
	my $out = `nginx -t -q -c $t/nginx.conf -p $t 2>&1`;
	is($?, 0, 'nginx-fcgi-auth.conf without the protect snippet passes nginx -t') or diag $out;
}

done_testing;
