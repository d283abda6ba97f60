# Every security event writes one audit row (no secrets), and the audit
# table is append-only.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $u = new_user();
my $uid = $u->{user_id};
sub rows { psql("SELECT event || ':' || outcome FROM audit_log WHERE user_id = '$uid' ORDER BY id") }

api(POST => '/auth/login', json => { username => $u->{username}, password => 'wrong wrong wrong' });
my $j = login_user($u, headers => { 'User-Agent' => 'audit-agent' });
my $r = api(POST => '/auth/refresh', json => { refresh_token => $j->{refresh_token} });
my $j2 = login_user($u);
api(DELETE => "/auth/sessions/$j2->{session_id}", headers => bearer($r->{json}{access_token}));
api(POST => '/auth/password', headers => bearer($r->{json}{access_token}),
    json => { current_password => $u->{password}, new_password => 'another fine passphrase' });
api(POST => '/auth/logout', headers => bearer($r->{json}{access_token}));
$u->{password} = 'another fine passphrase';
my $j3 = login_user($u);
api(POST => '/auth/logout-all', headers => bearer($j3->{access_token}));

is(rows(), join("\n", qw(register:success login:wrong_password login:success
    refresh:success login:success session_revoked:success password_change:success
    logout:success login:success logout_all:success)), 'one row per event, in order');
is(psql("SELECT user_agent FROM audit_log WHERE user_id = '$uid' AND event = 'login' "
    . "AND outcome = 'success' ORDER BY id LIMIT 1"), 'audit-agent', 'user agent recorded');
is(psql("SELECT ip FROM audit_log WHERE user_id = '$uid' LIMIT 1"), '127.0.0.1', 'client address');
is(psql("SELECT count(*) FROM audit_log WHERE user_agent LIKE '%$j->{refresh_token}%' "
    . "OR ip LIKE '%pass%' OR event LIKE '%$u->{password}%'"), 0, 'no secret in the audit log');

# Unknown-user failures are audited without a user id.
api(POST => '/auth/login', json => { username => "ghost$$", password => 'whatever it is' });
cmp_ok(psql("SELECT count(*) FROM audit_log WHERE user_id IS NULL AND outcome = 'unknown_user'"),
    '>=', 1, 'unknown user audited');

# Refresh reuse is audited.
my $k = login_user($u);
my $k1 = api(POST => '/auth/refresh', json => { refresh_token => $k->{refresh_token} })->{json};
api(POST => '/auth/refresh', json => { refresh_token => $k1->{refresh_token} });
api(POST => '/auth/refresh', json => { refresh_token => $k->{refresh_token} });
is(psql("SELECT count(*) FROM audit_log WHERE user_id = '$uid' AND outcome = 'reuse_detected'"),
    1, 'reuse detection audited once');

{
	# psql's error goes to a file, to be read rather than printed.
	open my $save, '>&', \*STDERR or die;
	open STDERR, '>', stack_dir() . '/audit-delete.err' or die;
	psql("DELETE FROM audit_log WHERE user_id = '$uid'");
	open STDERR, '>&', $save or die;
	open my $e, '<', stack_dir() . '/audit-delete.err' or die;
	like(do { local $/; <$e> }, qr/audit_log is append-only/, 'a DELETE on the audit log is refused by its trigger');
}
cmp_ok(psql("SELECT count(*) FROM audit_log WHERE user_id = '$uid'"), '>', 5,
    'the audit log is append-only (DELETE refused)');

# Nothing secret in the service log either.
open my $fh, '<', stack_dir() . '/log/fcgi-auth.log' or die;
my $log = do { local $/; <$fh> };
unlike($log, qr/\Q$j->{refresh_token}\E/, 'no refresh token in the log');
unlike($log, qr/\Q$j->{access_token}\E/, 'no access token in the log');
unlike($log, qr/\Q$u->{password}\E/, 'no password in the log');
like($log, qr/\[access\] \d+ \S+ POST \/auth\/login 200 [\d.]+ms uid=\Q$uid\E/,
    'access log line: method, path, status, duration, user id');

logs_clean();
done_testing;
