# A 2xx is committed: bytes that are not UTF-8 and over-long values, in
# every header the service stores and in every field of every route,
# never turn a write into a silent no-op, a 5xx, or half a write. And the
# contract's token errors: an unusable token is an unknown token.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $BAD  = "bad \xff\xfe\xc3( \xed\xa0\x80 \xf4\x90\x80\x80 end";	# none of it UTF-8
my $LONG = 'L' x 9000;
my @HDR_VALUES = (['not UTF-8', $BAD], ['over-long', $LONG], ['both', $BAD x 400]);

sub user_rows { psql("SELECT count(*) FROM users WHERE id = '$_[0]'") }

# --- the headers the service stores: User-Agent (sessions, audit_log) ------
for my $hv (@HDR_VALUES) {
	my ($what, $v) = @$hv;
	my @h = ('User-Agent' => $v);
	my $u = { username => "ua" . int(rand 1e9), email => "ua" . int(rand 1e9) . "\@example.com",
	    password => 'utf8 is a promise' };
	my $r = api_raw(POST => '/auth/register', json => $u, headers => \@h);
	is($r->{status}, 201, "register, User-Agent $what: 201");
	is(user_rows($r->{json}{user_id}), 1, "... and the user exists");
	is(psql("SELECT count(*) FROM audit_log WHERE user_id = '$r->{json}{user_id}' AND event = 'register'"),
	    1, '... with its audit row');
	$r = api_raw(POST => '/auth/login', json => { username => $u->{username}, password => $u->{password} },
	    headers => \@h);
	is($r->{status}, 200, "login with the right password, User-Agent $what: 200");
	my $sid = $r->{json}{session_id};
	is(psql("SELECT count(*) FROM sessions WHERE id = '$sid'"), 1, '... and the session exists');
	cmp_ok(psql("SELECT octet_length(user_agent) FROM sessions WHERE id = '$sid'"), '<=', 512,
	    '... its stored User-Agent is bounded');
	my $at = $r->{json}{access_token};
	is(api_raw(GET => '/auth/me', headers => [Authorization => "Bearer $at", @h])->{status}, 200,
	    '... and the token works');
	$r = api_raw(POST => '/auth/login', json => { username => $u->{username}, password => 'not it at all' },
	    headers => \@h);
	is($r->{status}, 401, "wrong password, User-Agent $what: 401");
	is(psql("SELECT count(*) FROM audit_log a JOIN users u ON u.id = a.user_id WHERE "
	    . "u.username = '$u->{username}' AND a.outcome = 'wrong_password'"), 1,
	    '... and the failure is audited');
	$r = api_raw(POST => '/auth/logout', headers => [Authorization => "Bearer $at", @h]);
	is($r->{status}, 200, "logout, User-Agent $what: 200");
	is(psql("SELECT revoked_at IS NOT NULL FROM sessions WHERE id = '$sid'"), 't', '... really revoked');
}

# Every other header carrying junk, on a write: never a 5xx, a 2xx is true.
for my $name (qw(X-Request-Id Cookie Origin Sec-Fetch-Site Accept-Language Referer)) {
	for my $hv (@HDR_VALUES) {
		my ($what, $v) = @$hv;
		my $u = { username => "hd" . int(rand 1e9), email => "hd" . int(rand 1e9) . "\@example.com",
		    password => 'utf8 is a promise' };
		my $r = api_raw(POST => '/auth/register', json => $u, headers => [$name => $v]);
		ok($r->{status} < 500, "register, $name $what: no 5xx ($r->{status})");
		is(user_rows($r->{json}{user_id}), 1, '... 201 and the user exists') if $r->{status} == 201;
	}
}

# --- every field of every route: junk text and over-long values ------------
my $u = new_user();
my $tok = login_user($u);
my %routes = (
	'POST /auth/register'  => [qw(username email password display_name captcha account psw)],
	'POST /auth/login'     => [qw(username email user account password psw)],
	'POST /auth/refresh'   => [qw(refresh_token)],
	'POST /auth/verify'    => [qw(token)],
	'POST /auth/verify-email' => [qw(token)],
	'PATCH /user/info'     => [qw(display_name avatar_url)],
	'POST /auth/password'  => [qw(current_password new_password)],
	'POST /auth/password-reset' => [qw(email username)],
	'POST /auth/password-reset-confirm' => [qw(token new_password new_password_confirm)],
	'POST /auth/captcha'   => [qw(email type account)],
	'POST /auth/logout'    => [qw(anything)],
);
# Valid values around the junk: the real account for login, so a 2xx can
# happen (and then must be true); a wrong current_password, so the
# password stays; logout last, so the token lives through the loop.
my %valid = (username => $u->{username}, email => 'fieldtest@example.com', password => $u->{password},
    psw => $u->{password}, current_password => 'wrong wrong wrong', new_password => 'utf8 is a promise!',
    new_password_confirm => 'utf8 is a promise!', display_name => 'Field Test', avatar_url => 'https://x.test/a.png');
my %st;
for my $route ((grep { !/logout/ } sort keys %routes), 'POST /auth/logout') {
	my ($m, $p) = split / /, $route;
	for my $f (@{ $routes{$route} }) {
		for my $bad (['not UTF-8', "\xff\xfe"], ['lone surrogate escape', '\ud800'],
		    ['over-long', 'x' x 5000], ['over the body limit', 'x' x 20000], ['a number', 42], ['an object', {}]) {
			my ($what, $v) = @$bad;
			my %body = map { $_ => $valid{$_} } grep { $valid{$_} } @{ $routes{$route} };
			$body{$f} = $v;
			my $json = json_encode(\%body);
			$json =~ s/"\\\\ud800"/"\\ud800"/;		# a raw \ud800 escape
			$json =~ s/"\xc3\xbf\xc3\xbe"/"\xff\xfe"/;	# raw bytes, not UTF-8
			my $r = api($m => $p, body => $json,
			    headers => { 'Content-Type' => 'application/json', %{ bearer($tok->{access_token}) } });
			$st{$r->{status}}++;
			ok($r->{status} < 500, "$route, $f $what: no 5xx") or diag $r->{body};
			like($r->{json}{error} // '', qr/^[a-z_]+$/, '... and an error in the contract shape')
			    if $r->{status} >= 400;
			next unless $r->{status} >= 200 && $r->{status} < 300;
			# A 2xx is true: what it reports is in the database.
			my $j = $r->{json} // {};
			is(psql("SELECT count(*) FROM sessions WHERE id = '$j->{session_id}' AND revoked_at IS NULL"),
			    1, "... 2xx: its session exists") if $j->{session_id} && $m eq 'POST' && $p =~ /login/;
			is(user_rows($j->{user_id}), 1, '... 2xx: the user exists') if $p =~ /register/;
			is(psql("SELECT display_name || '|' || avatar_url FROM users WHERE id = '$u->{user_id}'"),
			    "$j->{display_name}|$j->{avatar_url}", '... 2xx: the profile is stored as answered')
			    if $m eq 'PATCH';
			ok($j->{message} || $j->{access_token} || $j->{ok} || $j->{active}, '... 2xx with a body');
		}
	}
}
diag 'statuses: ' . join(', ', map { "$_ x$st{$_}" } sort keys %st);
is(login_user($u)->{user_id}, $u->{user_id}, 'the account still works after all that');

# --- the contract's token errors ---------------------------------------------
my @bad_tokens = (['too short', 'abc'], ['too long', 'A' x 44], ['far too long', 'A' x 600],
    ['wrong alphabet', '!' x 43], ['a number', 12345], ['an object', { a => 1 }]);
for my $bt (@bad_tokens) {
	my ($what, $t) = @$bt;
	my $r = api(POST => '/auth/verify-email', json => { token => $t });
	is($r->{status}, 400, "verify-email, token $what: 400");
	is($r->{json}{error}, 'invalid_token', '... invalid_token');
	$r = api(POST => '/auth/password-reset-confirm', json => { token => $t,
	    new_password => 'utf8 is a promise!', new_password_confirm => 'utf8 is a promise!' });
	is($r->{status}, 400, "password-reset-confirm, token $what: 400");
	is($r->{json}{error}, 'invalid_token', '... invalid_token');
	$r = api(POST => '/auth/refresh', json => { refresh_token => $t });
	is($r->{status}, 401, "refresh, token $what: 401");
	is($r->{json}{error}, 'invalid_grant', '... invalid_grant');
}
for my $t ('abc', 'A' x 44, '%21' x 43) {
	my $r = api(GET => "/verify?token=$t");
	is($r->{json}{error}, 'invalid_token', "GET /verify?token= of the wrong shape: invalid_token");
}

# --- register applies PATCH's control-character rule to display_name -----
for my $dn ("tab\there", "bell\x07", "nl\nx", "del\x7f") {
	my $r = api(POST => '/auth/register', json => { username => "dn" . int(rand 1e9),
	    email => "dn" . int(rand 1e9) . '@example.com', password => 'utf8 is a promise',
	    display_name => $dn });
	is($r->{status}, 400, 'register refuses a control character in display_name');
	is($r->{json}{field}, 'display_name', '... naming the field');
}

logs_clean();
done_testing;
