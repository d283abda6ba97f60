# Cookie requests from another site are refused: a request authenticated
# by the session cookies that changes state (logout, logout-all, refresh)
# answers 403 forbidden unless its Origin (or, without one,
# Sec-Fetch-Site) is the service's own or listed in AUTH_ALLOWED_ORIGINS.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $st = private_stack(AUTH_ALLOWED_ORIGINS => 'https://app.fcgi-auth.test  https://admin.fcgi-auth.test');
my ($base, $dir) = ($st->base, $st->dir);
my ($own) = $base =~ m{^(http://[^/]+)};
sub A { my ($m, $p, %o) = @_; api($m, $p, %o, base => $base) }

sub cookie_session {
	my $u = new_user(base => $base);
	my ($j, $r) = login_user($u, base => $base);
	my @c = ref $r->{headers}{'set-cookie'} ? @{ $r->{headers}{'set-cookie'} } : ($r->{headers}{'set-cookie'});
	my %c = map { /^(\w+)=([^;]*)/ ? ($1 => $2) : () } @c;
	return ($j, "sid=$c{sid}; refresh=$c{refresh}");
}
sub active { psql("SELECT revoked_at IS NULL FROM sessions WHERE id = '$_[0]'", $dir) }

for my $route ('/auth/logout', '/logout', '/auth/logout-all', '/logout-all', '/auth/revoke-all',
    '/auth/refresh', '/refresh', '/auth/refresh-token') {
	for my $bad (['Origin', 'https://evil.example'], ['Origin', 'null'],
	    ['Origin', "$own.evil.example"], ['Origin', 'https://app.fcgi-auth.test.evil.example'],
	    ['Sec-Fetch-Site', 'cross-site'], ['Sec-Fetch-Site', 'same-site']) {
		my ($j, $cookie) = cookie_session();
		my $r = A(POST => $route, headers => { Cookie => $cookie, $bad->[0] => $bad->[1] });
		is($r->{status}, 403, "$route with cookies and $bad->[0]: $bad->[1]: 403");
		is($r->{json}{error}, 'forbidden', '... forbidden');
		is(active($j->{session_id}), 't', '... and the session is untouched');
		ok(!$r->{json}{access_token}, '... no token issued');
	}
	for my $good (['Origin', $own], ['Origin', 'https://app.fcgi-auth.test'],
	    ['Origin', 'https://admin.fcgi-auth.test'], ['Sec-Fetch-Site', 'same-origin']) {
		my ($j, $cookie) = cookie_session();
		my $r = A(POST => $route, headers => { Cookie => $cookie, $good->[0] => $good->[1] });
		is($r->{status}, 200, "$route with cookies and $good->[0]: $good->[1]: 200");
	}
	my ($j, $cookie) = cookie_session();
	is(A(POST => $route, headers => { Cookie => $cookie })->{status}, 200,
	    "$route with cookies and neither header (not a browser): 200");
}
# A Bearer token is not sent by a browser on its own: no Origin check.
my ($j) = cookie_session();
is(A(POST => '/auth/logout', headers => { %{ bearer($j->{access_token}) }, Origin => 'https://evil.example' })
    ->{status}, 200, 'Bearer logout from another origin: 200 (no ambient credential)');

# rd after sign-in (GET /auth/redirect): an origin of AUTH_ALLOWED_ORIGINS
# is followed, a look-alike is not.
for my $case (['https://app.fcgi-auth.test/x?y=1', 'https://app.fcgi-auth.test/x?y=1'],
    ['https://ADMIN.fcgi-auth.test', 'https://ADMIN.fcgi-auth.test'],
    ['https://app.fcgi-auth.test.evil.example/', '/auth/account'],
    ['https://app.fcgi-auth.test@evil.example/', '/auth/account'],
    ['http://app.fcgi-auth.test/', '/auth/account'],
    ['https://app.fcgi-auth.test:444/', '/auth/account']) {
	my $q = join '', map { sprintf '%%%02X', ord } split //, $case->[0];
	my $r = A(GET => "/auth/redirect?rd=$q");
	is($r->{json}{redirect_to}, $case->[1], "rd=$case->[0] leads to $case->[1]") or diag "$r->{status} $r->{body}";
}

$st->down;
logs_clean($dir);
done_testing;
