# Ping, health, the shared checks in dispatch (404, 405, 413, 415, 401,
# 400), the uniform error body and the headers every response carries.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $r = api(GET => '/ping');
is($r->{status}, 200, 'ping 200');
is($r->{body}, '{}', 'ping body is {}');
like($r->{headers}{'content-type'}, qr{^application/json; charset=utf-8$},
    'JSON content type');
is($r->{headers}{'x-content-type-options'}, 'nosniff', 'nosniff');
like($r->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/, 'request id generated');

$r = api(GET => '/ping', headers => { 'X-Request-Id' => 'abc-123.XYZ_9' });
is($r->{headers}{'x-request-id'}, 'abc-123.XYZ_9', 'sane request id echoed');
$r = api(GET => '/ping', headers => { 'X-Request-Id' => 'bad id<script>' });
like($r->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/,
    'insane request id replaced');
$r = api(GET => '/ping', headers => { 'X-Request-Id' => 'x' x 65 });
like($r->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/,
    'over-long request id replaced');

# Generated ids come from a per-worker pool (fcgi/request.c): none may
# repeat, within a worker or across workers (a child forgets the pool
# it inherited at fork); each access line names the worker that wrote it.
{
	my (%seen, $dups);
	for (1 .. 300) {
		my $id = api(GET => '/ping')->{headers}{'x-request-id'} // '';
		$dups++ if $seen{$id}++;
	}
	ok(!$dups && keys %seen == 300, '300 generated request ids, all distinct');
	my %workers = map { $_ => 1 } worker_pids(stack_dir());
	open my $lf, '<', stack_dir() . '/log/fcgi-auth.log' or die;
	my (%pids, $foreign);
	while (<$lf>) {
		my ($pid, $id) = /\[access\] (\d+) ([0-9a-f]{32}) GET \/ping / or next;
		next unless $seen{$id};
		$pids{$pid}++;
		$foreign++ unless $workers{$pid};
	}
	ok(keys %pids >= 2 && !$foreign,
	    'access lines carry the pid of the worker that wrote them (' .
	    join(', ', map { "$_ x$pids{$_}" } sort keys %pids) . ')');
}

$r = api(GET => '/health');
is($r->{status}, 200, 'health 200');
is_deeply($r->{json}, { status => 'ok', postgres => 'ok', redis => 'ok' },
    'health body');

sub is_error {
	my ($r, $status, $code, $name) = @_;
	is($r->{status}, $status, "$name: status $status");
	is($r->{json}{error}, $code, "$name: error $code");
	ok(defined $r->{json}{message} && length $r->{json}{message},
	    "$name: has a message");
	is($r->{headers}{'x-content-type-options'}, 'nosniff', "$name: nosniff");
	ok($r->{headers}{'x-request-id'}, "$name: request id");
}

is_error(api(GET => '/nope'), 404, 'not_found', 'unknown path');
is_error(api(GET => '/auth/login/x'), 404, 'not_found', 'unknown subpath');

$r = api(GET => '/logout');
is_error($r, 405, 'method_not_allowed', 'GET /logout');
is($r->{headers}{allow}, 'POST', 'Allow: POST');
$r = api(DELETE => '/user/info');
is_error($r, 405, 'method_not_allowed', 'DELETE /user/info');
is($r->{headers}{allow}, 'GET, PATCH', 'Allow lists every method');
$r = api(POST => '/ping');
is_error($r, 405, 'method_not_allowed', 'POST /ping');

# 413: nginx's cap (16 KiB) answers in the same shape.
$r = api(POST => '/auth/login', json => '{"username":"' . ('a' x 20000) . '"}');
is_error($r, 413, 'payload_too_large', 'body over 16 KiB');

$r = api(POST => '/auth/login', body => 'username=a&password=b',
    headers => { 'Content-Type' => 'application/x-www-form-urlencoded' });
is_error($r, 415, 'unsupported_media_type', 'form body');
$r = api(POST => '/auth/login', body => '{"username":"a","password":"b"}');
is_error($r, 415, 'unsupported_media_type', 'body without content type');
$r = api(POST => '/auth/login', json => '{"username":"a","password":"b"}',
    headers => { 'Content-Type' => 'application/json; charset=utf-8' });
is_error($r, 401, 'invalid_credentials', 'JSON with charset accepted');

$r = api(GET => '/auth/me');
is_error($r, 401, 'invalid_token', 'me without a token');
like($r->{headers}{'www-authenticate'}, qr/^Bearer/, 'WWW-Authenticate');
$r = api(GET => '/auth/me', headers => bearer('abc.def.ghi'));
is_error($r, 401, 'invalid_token', 'me with a junk token');
like($r->{headers}{'www-authenticate'}, qr/error="invalid_token"/,
    'WWW-Authenticate names invalid_token when a token was sent');
$r = api(GET => '/auth/me', headers => { Authorization => 'Basic YTpi' });
is_error($r, 401, 'invalid_token', 'Basic auth refused');
# Dispatch order: 405 before 401, 415 before 401.
is(api(PUT => '/auth/me')->{status}, 405, '405 before 401');
is(api(POST => '/auth/logout', body => 'x',
    headers => { 'Content-Type' => 'text/plain' })->{status}, 415,
    '415 before 401');

is_error(api(POST => '/auth/login', json => '{"username":'), 400,
    'invalid_json', 'malformed JSON');
is_error(api(POST => '/auth/login', json => '[1,2]'), 400, 'invalid_json',
    'non-object top level');
is_error(api(POST => '/auth/login', json => '"x"'), 400, 'invalid_json',
    'string top level');
is_error(api(POST => '/auth/login', json => '{} {}'), 400, 'invalid_json',
    'trailing garbage');
$r = api(POST => '/auth/login', json => { username => 5, password => 'x' });
is_error($r, 400, 'invalid_request', 'number where a string is expected');
like($r->{json}{message}, qr/username/, 'the message names the field');
is($r->{json}{field}, 'username', 'and so does "field"');
is_error(api(POST => '/auth/login'), 400, 'invalid_json', 'login without body');

# Routes not built yet answer 501 in the error shape.

# Every alias of API.md is routed (none is 404 or 405).
for my $p (['POST', '/register'], ['POST', '/login'], ['POST', '/refresh'],
    ['POST', '/auth/refresh-token'], ['POST', '/verify'], ['GET', '/me'],
    ['GET', '/authorized/me'], ['POST', '/logout'], ['POST', '/logout-all'],
    ['POST', '/auth/revoke-all'], ['POST', '/password-reset'],
    ['POST', '/password-reset-confirm'], ['GET', '/verify'],
    ['POST', '/auth/verify-email'], ['GET', '/.well-known/jwks.json'],
    ['DELETE', '/auth/sessions/00000000-0000-4000-8000-000000000000']) {
	my $s = api($p->[0] => $p->[1], json => {})->{status};
	ok($s != 404 && $s != 405, "$p->[0] $p->[1] is routed ($s)");
}

logs_clean();
done_testing;
