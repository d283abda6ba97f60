# Revocation fails closed: when Redis is up but refuses writes (here
# min-replicas-to-write with no replica: every write answers NOREPLICAS,
# reads still work, so the mirror keeps saying "active"), a revoke that
# cannot write its tombstone is not reported as done. Each route answers
# 503 and changes nothing, or answers 200 and the token is dead; never 200
# with the token still working through the mirror.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $st = private_stack();
my ($base, $dir) = ($st->base, $st->dir);
sub A { my ($m, $p, %o) = @_; api($m, $p, %o, base => $base) }
sub R { my $o = `redis-cli -s $dir/run/redis.sock @_`; $o =~ s/\s+\z//r }
sub me { A(GET => '/auth/me', headers => bearer($_[0]))->{status} }
sub refuse_writes { is(R('CONFIG SET min-replicas-to-write', $_[0] ? 1 : 0), 'OK',
    $_[0] ? 'Redis now refuses writes' : 'Redis accepts writes again') }
sub revoked { psql("SELECT revoked_at IS NOT NULL FROM sessions WHERE id = '$_[0]'", $dir) }

# Checks one revoking request: while writes are refused it must not claim
# success with the token alive; once they are accepted it works.
sub check {
	my ($what, $do) = @_;
	my $u = new_user(base => $base);
	my $j = login_user($u, base => $base);
	my $other = login_user($u, base => $base);
	is(me($j->{access_token}), 200, "$what: the token works (the mirror holds the session)");
	is(me($other->{access_token}), 200, "$what: so does the user's other session");
	refuse_writes(1);
	my $r = $do->($u, $j, $other);
	my $alive = me($j->{access_token}) == 200 || me($other->{access_token}) == 200;
	ok($r->{status} == 503 || !$alive, "$what while writes are refused: $r->{status}, "
	    . ($alive ? 'a token still works' : 'tokens dead'));
	if ($r->{status} == 503) {
		is($r->{json}{error}, 'service_unavailable', "$what: 503 service_unavailable");
		is(revoked($j->{session_id}), 'f', "$what: nothing was half done (the session is not revoked)");
	}
	refuse_writes(0);
	$r = $do->($u, $j, $other);
	is($r->{status}, 200, "$what with writes accepted: 200");
	return ($u, $j, $other);
}

my ($u, $j, $o) = check('logout', sub { A(POST => '/auth/logout', headers => bearer($_[1]{access_token})) });
is(me($j->{access_token}), 401, 'logout: then the token is refused');
is(revoked($j->{session_id}), 't', 'logout: and revoked in Postgres');

($u, $j, $o) = check('logout-all', sub { A(POST => '/auth/logout-all', headers => bearer($_[1]{access_token})) });
is(me($o->{access_token}), 401, 'logout-all: the other session is refused');

($u, $j, $o) = check('DELETE /auth/sessions/{id}', sub {
	A(DELETE => "/auth/sessions/$_[1]{session_id}", headers => bearer($_[2]{access_token})) });
is(me($j->{access_token}), 401, 'session DELETE: the deleted session is refused');

my $n = 0;
($u, $j, $o) = check('password change', sub {
	my ($u, $j, $o) = @_;
	my $new = 'changed secret ' . ++$n;
	my $r = A(POST => '/auth/password', headers => bearer($o->{access_token}),
	    json => { current_password => $u->{password}, new_password => $new });
	$u->{password} = $new if $r->{status} == 200;
	return $r;
});
is(me($j->{access_token}), 401, 'password change: the other session is refused');
ok(login_user($u, base => $base), 'password change: the new password works');

# Password reset: the token must survive a 503, to be used again later.
{
	my $u = new_user(base => $base);
	my $j = login_user($u, base => $base);
	is(me($j->{access_token}), 200, 'reset: the token works');
	A(POST => '/auth/password-reset', json => { email => $u->{email} });
	my $m;
	wait_until(10, sub { ($m) = grep { /Reset your password/ } mails_to($u->{email}, $dir); $m });
	my $t = mail_token($m);
	ok($t, 'reset mail arrived');
	my $body = { token => $t, new_password => 'after the reset', new_password_confirm => 'after the reset' };
	refuse_writes(1);
	my $r = A(POST => '/auth/password-reset-confirm', json => $body);
	ok($r->{status} == 503 || me($j->{access_token}) == 401,
	    "reset while writes are refused: $r->{status}, no live token left behind a 200");
	refuse_writes(0);
	$r = A(POST => '/auth/password-reset-confirm', json => $body) if $r->{status} == 503;
	is($r->{status}, 200, 'reset with writes accepted: 200 (the token was not used up by the 503)');
	is(me($j->{access_token}), 401, 'reset: the old session is refused');
}

$st->down;
logs_clean($dir);
done_testing;
