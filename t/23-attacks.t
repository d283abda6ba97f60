# Hostile input: strict JSON, NUL and invalid UTF-8, duplicate keys,
# oversized headers, alg none in every spelling, SQL-looking input,
# a burst of garbage followed by a normal login, NFKC passwords, and
# enumeration by body and by time.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(time);

my $u = new_user();
sub login_raw { api(POST => '/auth/login', json => $_[0]) }

my $r = login_raw(qq({"username":"$u->{username}","password":"x","password":"$u->{password}"}));
is($r->{status}, 400, 'duplicate key: 400');
is($r->{json}{error}, 'invalid_request', 'invalid_request');
is($r->{json}{field}, 'password', 'names the duplicated key');
$r = login_raw(qq({"username":"$u->{username}","\\u0070assword":"$u->{password}","password":"x"}));
is($r->{status}, 400, 'duplicate key spelled with an escape: 400');
$r = login_raw(qq({"username":"$u->{username}\\u0000","password":"$u->{password}"}));
is($r->{status}, 400, '\u0000 in a string: 400');
$r = login_raw(qq({"username":"a\xff\xfe","password":"b"}));
is($r->{status}, 400, 'invalid UTF-8: 400');
$r = login_raw(qq({"username":"\\ud800","password":"b"}));
is($r->{status}, 400, 'lone surrogate: 400');
$r = login_raw('{"a":' . ('[' x 40) . (']' x 40) . ',"username":"x","password":"y"}');
is($r->{status}, 400, 'nesting deeper than 32: 400');
is($r->{json}{error}, 'invalid_json', 'invalid_json');
$r = login_raw('{"a":' . ('[' x 20) . (']' x 20) . qq(,"username":"$u->{username}","password":"$u->{password}"}));
is($r->{status}, 200, 'nesting of 21 is fine');
$r = login_raw(qq({"username":"$u->{username}","password":"$u->{password}"} ));
is($r->{status}, 200, 'trailing whitespace is fine');
$r = api(POST => '/auth/register', json => { username => 'x' x 100, email => 'a@b.co', password => 'q' x 20 });
is($r->{status}, 400, 'over-long field: 400');
$r = api(POST => '/auth/login', json => { username => $u->{username}, password => 'x' x 2000 });
is($r->{status}, 400, 'over-long password field: 400');

# Authorization: over 8 KiB is refused unparsed; only Bearer.
my $j = login_user($u);
$r = api(GET => '/auth/me', headers => { Authorization => 'Bearer ' . ('a' x 9000) });
is($r->{status}, 401, 'Authorization over 8 KiB: 401');
for my $scheme ('Basic', 'Token', 'Customize', 'Bearer:') {
	is(api(GET => '/auth/me', headers => { Authorization => "$scheme $j->{access_token}" })->{status},
	    401, "scheme '$scheme' refused");
}
is(api(GET => '/auth/me', headers => { Authorization => "BEARER $j->{access_token}" })->{status},
    200, 'BEARER (any case) accepted');
is(api(GET => '/auth/me', headers => { Authorization => "Bearer  $j->{access_token}" })->{status},
    200, 'extra spaces after the scheme tolerated');
$r = api(POST => '/auth/logout', headers => { Cookie => 'sid=' . ('a' x 9000) . '; refresh=x' });
is($r->{status}, 401, 'over-long cookie: 401');

# alg none, every spelling.
my ($h, $c) = jwt_parts($j->{access_token});
for my $alg (qw(none None NONE nOnE)) {
	my $t = b64url(json_encode({ %$h, alg => $alg })) . '.' . b64url(json_encode($c)) . '.';
	is(api(GET => '/auth/me', headers => bearer($t))->{status}, 401, "alg $alg refused");
}

# SQL-looking identifiers are just wrong credentials.
for my $id ("' OR '1'='1", "admin'--", "x\"; DROP TABLE users; --", "\\\\' UNION SELECT 1--") {
	is(login_raw({ username => $id, password => "' OR '1'='1" })->{status}, 401, "SQL-looking '$id': 401");
}
ok(psql("SELECT count(*) FROM users") > 0, 'users table intact');

# 200 malformed requests in a row, then a normal login works.
my @junk = ('{', '[]', '"x"', '{"username":1}', "{\"a\":\"\xff\"}", '{"a":1,"a":2}', 'null', '{}{}',
    ('{"x":' . ('[' x 50) . (']' x 50) . '}'), '{"username":"a","password":{"$gt":""}}');
my %st;
for my $i (0 .. 199) {
	my $r = api(POST => ($i % 2 ? '/auth/login' : '/auth/register'), json => $junk[$i % @junk]);
	$st{$r->{status}}++;
}
ok(!grep({ $_ >= 500 } keys %st), 'no 5xx among 200 malformed requests: '
    . join(', ', map { "$_ x$st{$_}" } sort keys %st));
is(login_raw({ username => $u->{username}, password => $u->{password} })->{status}, 200,
    'a normal login works afterwards');

# NFKC: composed and decomposed forms are the same password.
my $nf = new_user(password => "caf\x{e9} cr\x{e8}me br\x{fb}l\x{e9}e");
is(login_raw({ username => $nf->{username}, password => "cafe\x{301} cre\x{300}me bru\x{302}le\x{301}e" })->{status},
    200, 'decomposed form of the password logs in');
is(login_raw({ username => $nf->{username}, password => "caf\x{e9} cr\x{e8}me br\x{fb}l\x{e9}e" })->{status},
    200, 'composed form too');
is(login_raw({ username => $nf->{username}, password => "cafe cre\x{300}me bru\x{302}le\x{301}e" })->{status},
    401, 'a different password does not');
is(api(POST => '/auth/register', json => { username => "fw$$", email => "fw$$\@example.com",
    password => "\x{ff50}\x{ff41}\x{ff53}\x{ff53}\x{ff57}\x{ff4f}\x{ff52}\x{ff44}" })->{json}{error},
    'weak_password', 'fullwidth "password" normalises to a common password');

# Enumeration: identical bodies, and the same time (medians within 20%).
# A login refused by a limit costs no hash, known account or not: the two
# take the same time, far less than one hash.
sub median { my @s = sort { $a <=> $b } @_; $s[@s / 2] }
sub timed { my $t0 = time; my $r = login_raw($_[0]); (time - $t0, $r) }
my (@unknown, @wrong, @locked, @ulocked, %bodies, %lbodies);
my @accts = map { new_user() } 1 .. 21;
my $lock = new_user();
my $ulock = "nobody-locked-$$";
login_raw({ username => $lock->{username}, password => 'wrong password!' }) for 1 .. 5;
login_raw({ username => $ulock, password => 'wrong password!' }) for 1 .. 5;
for my $i (0 .. 20) {
	my ($t1, $r1) = timed({ username => "nobody-$i-$$", password => 'wrong password!' });
	my ($t2, $r2) = timed({ username => $accts[$i]{username}, password => 'wrong password!' });
	# Alternate which goes first: the request after a hash finds cold caches.
	my ($t3, $r3, $t4, $r4);
	if ($i % 2) {
		($t3, $r3) = timed({ username => $lock->{username}, password => 'wrong password!' });
		($t4, $r4) = timed({ username => $ulock, password => 'wrong password!' });
	} else {
		($t4, $r4) = timed({ username => $ulock, password => 'wrong password!' });
		($t3, $r3) = timed({ username => $lock->{username}, password => 'wrong password!' });
	}
	push @unknown, $t1;
	push @wrong, $t2;
	push @locked, $t3;
	push @ulocked, $t4;
	$lbodies{"$r3->{status} $r3->{body}"}++;
	$lbodies{"$r4->{status} $r4->{body}"}++;
	$bodies{"$r1->{status} $r1->{body}"}++;
	$bodies{"$r2->{status} $r2->{body}"}++;
}
is(scalar keys %bodies, 1, 'unknown user and wrong password: one byte-identical answer');
is(scalar keys %lbodies, 1, 'locked known and unknown accounts: one byte-identical 429');
like((keys %lbodies)[0], qr/^429 /, 'and it is a 429');
my ($mu, $mw, $ml, $mlu) = (median(@unknown), median(@wrong), median(@locked), median(@ulocked));
diag sprintf 'login medians: unknown %.1f ms, wrong %.1f ms, locked %.1f ms, locked unknown %.1f ms',
    $mu * 1e3, $mw * 1e3, $ml * 1e3, $mlu * 1e3;
cmp_ok(abs($mu - $mw) / $mw, '<', 0.2, 'unknown vs wrong password: medians within 20%');
cmp_ok(abs($ml - $mlu), '<', 0.2 * $mw, 'locked known vs locked unknown: within 20% of one hash');

# Password reset: known and unknown emails, same body, same time.
my (@k, @n, %rb);
for my $i (0 .. 20) {
	my $t0 = time;
	my $a = api(POST => '/auth/password-reset', json => { email => $accts[$i]{email} });
	push @k, time - $t0;
	$t0 = time;
	my $b = api(POST => '/auth/password-reset', json => { email => "nobody-$i-$$\@example.com" });
	push @n, time - $t0;
	$rb{"$a->{status} $a->{body}"}++;
	$rb{"$b->{status} $b->{body}"}++;
}
is(scalar keys %rb, 1, 'password reset: one byte-identical answer');
my ($rk, $rn) = (median(@k), median(@n));
diag sprintf 'reset medians: known %.2f ms, unknown %.2f ms', $rk * 1e3, $rn * 1e3;
cmp_ok(abs($rk - $rn) / $rk, '<', 0.2, 'reset known vs unknown: medians within 20%');

logs_clean();
done_testing;
