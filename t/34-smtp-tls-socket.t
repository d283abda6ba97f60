# SMTP uses TLS unless the configuration says otherwise explicitly
# (AUTH_SMTP_TLS, default required except towards a loopback host), and
# fcgi-auth -s PATH creates its sockets 0660, not 0777.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Time::HiRes qw(sleep);

my $dir = stack_dir();
my $root = root_dir();
my $conf = "$dir/conf/fcgi-auth.conf";
sub check_config { my $env = shift; scalar `env $env $root/fcgi-auth -c $conf --check-config 2>&1` }

like(check_config('AUTH_SMTP_URL=smtp://127.0.0.1:2525'), qr/^AUTH_SMTP_TLS = opportunistic$/m,
    'towards a loopback host: opportunistic by default');
like(check_config('AUTH_SMTP_URL=smtp://localhost:2525'), qr/^AUTH_SMTP_TLS = opportunistic$/m,
    '... localhost too');
like(check_config('AUTH_SMTP_URL=smtp://mail.example.com:587'), qr/^AUTH_SMTP_TLS = required$/m,
    'towards any other host: required by default');
like(check_config('AUTH_SMTP_URL=smtp://user@127.0.0.1.example.com'), qr/^AUTH_SMTP_TLS = required$/m,
    '... a name that merely starts with 127. is another host');
like(check_config('AUTH_SMTP_URL=smtp://mail.example.com AUTH_SMTP_TLS=none'), qr/^AUTH_SMTP_TLS = none$/m,
    'none only when said explicitly');
my $out = check_config('AUTH_SMTP_TLS=sometimes');
isnt($?, 0, 'an unknown AUTH_SMTP_TLS is refused');
like($out, qr/AUTH_SMTP_TLS/, '... naming the key');

# A mailer that requires TLS sends nothing to a server without STARTTLS
# (the test sink offers none), and says why.
my $st = private_stack(AUTH_SMTP_TLS => 'required');
my $u = new_user(base => $st->base);
ok(wait_until(15, sub { psql("SELECT count(*) FROM email_outbox WHERE to_addr = '$u->{email}' "
    . "AND attempts > 0 AND last_error IS NOT NULL", $st->dir) == 1 }),
    'AUTH_SMTP_TLS=required against a server without STARTTLS: the attempt fails');
is(psql("SELECT count(*) FROM email_outbox WHERE to_addr = '$u->{email}' AND sent_at IS NOT NULL",
    $st->dir), 0, '... nothing is marked sent');
is(scalar(mails_to($u->{email}, $st->dir)), 0, '... and nothing reached the server in clear');
like(psql("SELECT last_error FROM email_outbox WHERE to_addr = '$u->{email}'", $st->dir),
    qr/SSL|TLS|STARTTLS/i, '... the recorded error names TLS');
$st->down;

# --- fcgi-auth -s PATH: 0660 sockets -----------------------------------------
my $sock = "$dir/tmp/own-$$.sock";
my $pid = fork // die;
if (!$pid) {
	open STDERR, '>', "$dir/tmp/own-$$.log";
	exec('setpriv', '--reuid=nobody', '--regid=www-data', '--clear-groups', "$root/fcgi-auth",
	    '-c', $conf, '-s', $sock) or die;
}
ok(wait_until(10, sub { -S $sock && -S "$dir/tmp/own-$$-hash.sock" }), 'fcgi-auth -s made both sockets');
is(sprintf('%04o', (stat $sock)[2] & 07777), '0660', 'the -s socket is 0660');
is(sprintf('%04o', (stat "$dir/tmp/own-$$-hash.sock")[2] & 07777), '0660', 'its hash socket is 0660');
kill 'TERM', $pid;
waitpid $pid, 0;
ok(!-e "$dir/tmp/own-$$-hash.sock", 'the master removes its hash socket when it exits');
# A master that exits after a newer one replaced its hash socket leaves
# the newer one's alone.
my @m;
for my $k (1, 2) {
	my $p = fork // die;
	if (!$p) {
		open STDERR, '>>', "$dir/tmp/own-$$.log";
		exec('setpriv', '--reuid=nobody', '--regid=www-data', '--clear-groups', 'env',
		    "AUTH_HASH_SOCKET=$dir/tmp/shared-$$-hash.sock", "$root/fcgi-auth", '-c', $conf,
		    '-s', "$sock$k") or die;
	}
	push @m, $p;
	ok(wait_until(10, sub { -S "$sock$k" }), "master $k up");
}
my $ino = (stat "$dir/tmp/shared-$$-hash.sock")[1];
kill 'TERM', $m[0];
waitpid $m[0], 0;
is((stat "$dir/tmp/shared-$$-hash.sock")[1], $ino,
    'the older master, exiting, left the newer master\'s hash socket in place');
kill 'TERM', $m[1];
waitpid $m[1], 0;
ok(!-e "$dir/tmp/shared-$$-hash.sock", '... which removes it itself');
unlink $sock, "${sock}1", "${sock}2";
logs_clean();
done_testing;
