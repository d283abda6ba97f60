# A short run of every kind of request against fcgi-auth under valgrind
# (master and workers): no invalid read or write, no definite leak.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

plan skip_all => 'valgrind not installed' unless -x '/usr/bin/valgrind';
plan skip_all => 'an ASan build does not run under valgrind' if $ENV{FCGI_AUTH_SANITIZED};
my $st = private_stack(STACK_VALGRIND => 1, AUTH_WORKERS => 2, AUTH_PASSWORD_COST => 1);
my ($base, $dir) = ($st->base, $st->dir);
sub A { my ($m, $p, %o) = @_; api($m, $p, %o, base => $base) }

is(A(GET => '/ping')->{status}, 200, 'ping');
is(A(GET => '/health')->{status}, 200, 'health');
my $u = new_user(base => $base);
my $j = login_user($u, base => $base);
is(A(GET => '/auth/me', headers => bearer($j->{access_token}))->{status}, 200, 'me');
is(A(POST => '/auth/verify', json => { token => $j->{access_token} })->{status}, 200, 'verify');
my $r = A(POST => '/auth/refresh', json => { refresh_token => $j->{refresh_token} });
is($r->{status}, 200, 'refresh');
is(A(POST => '/auth/refresh', json => { refresh_token => $j->{refresh_token} })->{status}, 200, 'grace replay');
is(A(GET => '/user/info', headers => bearer($r->{json}{access_token}))->{status}, 200, 'user info');
is(A(PATCH => '/user/info', headers => bearer($r->{json}{access_token}),
    json => { display_name => 'V' })->{status}, 200, 'patch');
is(A(GET => '/auth/sessions', headers => bearer($r->{json}{access_token}))->{status}, 200, 'sessions');
is(A(POST => '/auth/password-reset', json => { email => $u->{email} })->{status}, 200, 'reset');
is(A(POST => '/auth/captcha', json => { email => "vg$$\@example.com" })->{status}, 200, 'captcha');
is(A(POST => '/auth/login', json => { username => $u->{username}, password => 'nope nope' })->{status}, 401, 'wrong password');
is(A(POST => '/auth/login', json => '{"a":1,"a":2}')->{status}, 400, 'duplicate key');
is(A(POST => '/auth/login', json => '{')->{status}, 400, 'malformed');
is(A(GET => '/auth/me', headers => bearer('a.b.c'))->{status}, 401, 'junk token');
is(A(GET => '/nope')->{status}, 404, 'unknown path');
is(A(GET => '/logout')->{status}, 405, 'wrong method');
# the account's lifecycle: an email change, its link, a new device, a deletion
my $to = "vgnew$$\@example.org";
is(A(POST => '/auth/email', headers => bearer($r->{json}{access_token}),
    json => { new_email => $to, password => $u->{password} })->{status}, 200, 'email change');
my $link;
wait_until(20, sub { ($link) = map { mail_token($_) } grep { /Confirm your new email/ } mails_to($to, $dir); $link });
is(A(POST => '/auth/verify-email', json => { token => $link // '' })->{status}, 200, 'email change confirmed');
is(A(POST => '/auth/login', headers => { 'User-Agent' => 'another device' },
    json => { username => $u->{username}, password => $u->{password} })->{status}, 200, 'a new device');
# a personal access token; an admin's search, change and logout-all
my $pt = A(POST => '/auth/tokens', headers => bearer($r->{json}{access_token}), json => { name => 'vg', scopes => ['a', 'b:c'] });
is($pt->{status}, 201, 'token created');
is(A(GET => '/auth/me', headers => bearer($pt->{json}{token}))->{status}, 200, 'token used');
is(A(GET => '/auth/tokens', headers => bearer($r->{json}{access_token}))->{status}, 200, 'tokens listed');
is(A(DELETE => "/auth/tokens/$pt->{json}{token_id}", headers => bearer($r->{json}{access_token}))->{status}, 200, 'token revoked');
my $ad = new_user(base => $base);
cli($dir, 'user', 'set-role', $ad->{username}, 'admin');
my $at = login_user($ad, base => $base)->{access_token};
is(A(GET => '/admin/users?q=u&limit=2', headers => bearer($at))->{status}, 200, 'admin search');
my $x = new_user(base => $base);
is(A(POST => "/admin/users/$x->{user_id}/logout-all", headers => bearer($at))->{status}, 200, 'admin logout-all');
is(A(PATCH => "/admin/users/$x->{user_id}", headers => bearer($at), json => { disabled => JSON::PP::true })->{status}, 200, 'admin disable');
is(A(POST => '/auth/logout-all', headers => bearer($r->{json}{access_token}))->{status}, 200, 'logout-all');
my $d = new_user(base => $base);
my $dj = login_user($d, base => $base);
is(A(POST => '/user/delete', headers => bearer($dj->{access_token}), json => { password => $d->{password} })->{status},
    200, 'account deletion');

$st->down;
my @logs = glob("$dir/log/valgrind/vg.*.log");
cmp_ok(scalar @logs, '>=', 3, 'valgrind logs for the master and its workers');
my @bad;
for my $f (@logs) {
	open my $fh, '<', $f or next;
	my $t = do { local $/; <$fh> };
	push @bad, "$f:\n$t" unless $t =~ /ERROR SUMMARY: 0 errors/;
}
ok(!@bad, 'valgrind: 0 errors (invalid accesses, definite or indirect leaks) in every process')
    or diag substr(join("\n", @bad), 0, 6000);
done_testing;
