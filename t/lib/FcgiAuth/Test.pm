package FcgiAuth::Test;
# The test harness: HTTP helpers against the stack script/test started
# (FCGI_AUTH_URL, FCGI_AUTH_DIR), private stacks for fault tests, and a
# teardown check that the logs hold no sanitizer report or crash: every
# .t that ends with done_testing checks the lines the shared stack logged
# while it ran, unless it called logs_clean() on them itself (to allow
# lines it caused on purpose). A .t run alone (`prove -I t/lib t/03-login.t`,
# as root, after script/bootstrap) starts a throwaway stack of its own.
use strict;
use warnings;
use Exporter 'import';
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Test::More;
use Test2::API qw(test2_add_callback_testing_done);

our @EXPORT = qw(api new_user login_user bearer jwt_parts b64url b64url_decode
    stack_dir root_dir secret psql logs_clean wait_until private_stack
    json_encode json_decode master_pid worker_pids wait_mail mail_token
    mails_to all_mails mirror_key redis metrics fcgi_request api_raw
    set_cookies web_login cli mail_like totp_code refresh_race gone);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
sub json_encode { $JSON->encode($_[0]) }
sub json_decode { my $r = eval { $JSON->decode($_[0]) }; $r }

# Run alone: a throwaway stack for this one .t (stopped at END).
my $own_stack;
unless ($ENV{FCGI_AUTH_URL}) {
	my $root = abs_path(dirname(__FILE__) . '/../../..');
	if ($> == 0 && -x "$root/fcgi-auth" && -x "$root/script/stack") {
		$ENV{FCGI_AUTH_ROOT} = $root;
		$own_stack = private_stack();
		$ENV{FCGI_AUTH_URL} = $own_stack->base;
		$ENV{FCGI_AUTH_DIR} = $own_stack->dir;
	} else {
		plan skip_all => 'no stack: run script/test, or script/bootstrap '
		    . 'and then this .t as root (it starts its own)';
	}
}
END { $own_stack->down if $own_stack }

# Where the shared stack's logs stood when this .t began.
my (%log_start, $log_checked);
sub _log_files { ("$_[0]/log/fcgi-auth.log", "$_[0]/log/nginx-error.log") }
$log_start{$_} = -s $_ // 0 for _log_files($ENV{FCGI_AUTH_DIR});
test2_add_callback_testing_done(sub {
	my $plan = Test2::API::test2_stack()->top->plan // '';
	logs_clean() unless $log_checked || $plan eq 'SKIP';	# skip_all: no more tests
});

sub root_dir  { $ENV{FCGI_AUTH_ROOT} }
sub stack_dir { $ENV{FCGI_AUTH_DIR} }

# HTTP::Tiny writes headers and body separately; with Nagle on, every
# POST waits ~40 ms for a delayed ACK, which would swamp any timing.
use Socket qw(IPPROTO_TCP TCP_NODELAY);
{
	no warnings 'redefine';
	my $connect = \&HTTP::Tiny::Handle::connect;
	*HTTP::Tiny::Handle::connect = sub {
		my $self = $connect->(@_);
		setsockopt($self->{fh}, IPPROTO_TCP, TCP_NODELAY, 1);
		return $self;
	};
}

my $seq = 0;
my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 1, max_redirect => 0,
    agent => 'fcgi-auth-tests/1');

# api(METHOD, PATH, json => {...} | body => "raw", headers => {...},
#     base => URL) -> { status, headers, body, json }
sub api {
	my ($method, $path, %o) = @_;
	my $base = $o{base} // $ENV{FCGI_AUTH_URL};
	my %h = %{ $o{headers} // {} };
	my %req = (headers => \%h);
	if (exists $o{json}) {
		$req{content} = ref $o{json} ? $JSON->encode($o{json}) : $o{json};
		$h{'Content-Type'} //= 'application/json';
	} elsif (exists $o{body}) {
		$req{content} = $o{body};
	}
	my $url = $path =~ m{^https?://} ? $path : "$base/api/v1$path";
	my $res = $http->request($method, $url, \%req);
	my $json = defined $res->{content} && length $res->{content}
	    ? json_decode($res->{content}) : undef;
	return { status => $res->{status}, headers => $res->{headers},
	    body => $res->{content}, json => $json };
}

# api_raw(METHOD, PATH, headers => [NAME => VALUE, ...], json => ...):
# like api(), but header values go out byte for byte (HTTP::Tiny refuses
# anything but ASCII), one request per connection.
sub api_raw {
	my ($method, $path, %o) = @_;
	my $base = $o{base} // $ENV{FCGI_AUTH_URL};
	my ($host, $port) = $base =~ m{^https?://([^:/]+):(\d+)} or die "base $base";
	my $body = exists $o{json} ? (ref $o{json} ? $JSON->encode($o{json}) : $o{json}) : '';
	my @h = @{ $o{headers} // [] };
	my $req = "$method /api/v1$path HTTP/1.1\r\nHost: $host:$port\r\nConnection: close\r\n";
	while (my ($k, $v) = splice @h, 0, 2) { $req .= "$k: $v\r\n" }
	$req .= "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n"
	    if length $body;
	my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Timeout => 30)
	    or die "connect: $!";
	print $s "$req\r\n$body";
	local $/;
	my $resp = <$s> // '';
	my ($head, $content) = split /\r\n\r\n/, $resp, 2;
	my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d{3})};
	my %hd;
	for (split /\r\n/, $head // '') { $hd{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
	if (($hd{'transfer-encoding'} // '') eq 'chunked') {
		my $out = '';
		while ($content =~ s/^([0-9a-fA-F]+)\r\n//) {
			my $n = hex $1;
			last if $n == 0;
			$out .= substr($content, 0, $n, '');
			$content =~ s/^\r\n//;
		}
		$content = $out;
	}
	return { status => $status // 0, headers => \%hd, body => $content,
	    json => defined $content && length $content ? json_decode($content) : undef };
}

sub bearer { return { Authorization => "Bearer $_[0]" } }

# A fresh, unique user: { username, email, password, user_id }.
sub new_user {
	my (%o) = @_;
	$seq++;
	my $tag = sprintf '%x%04d', int(time * 1000) % 0xffffff, $seq + $$ % 1000;
	my $u = {
		username => $o{username} // "u$tag",
		email    => $o{email} // "u$tag\@example.com",
		password => $o{password} // "pw-$tag-Gr33nTea!",
	};
	my $r = api(POST => '/auth/register', json => $u, base => $o{base});
	die "register failed: $r->{status} $r->{body}" unless $r->{status} == 201;
	$u->{user_id} = $r->{json}{user_id};
	return $u;
}

# The Set-Cookie lines of a response: { name => { value, attrs => "..." } }.
sub set_cookies {
	my ($r) = @_;
	my $h = $r->{headers}{'set-cookie'} // [];
	my %c;
	for (ref $h ? @$h : ($h)) {
		my ($name, $value, $attrs) = /^([^=;\s]+)=([^;]*)(.*)$/ or next;
		$c{$name} = { value => $value, attrs => $attrs };
	}
	return \%c;
}

# Log in as a browser would through the hosted pages: (the login body,
# the Cookie header value of its browser session cookie).
sub web_login {
	my ($u, %o) = @_;
	my ($j, $r) = login_user($u, %o);
	my $c = set_cookies($r)->{fa_session} or die 'login set no fa_session cookie';
	return ($j, "fa_session=$c->{value}");
}

# Run the fcgi-auth CLI against a stack: (its output, its exit status).
sub cli {
	my ($dir, @args) = @_;
	my $out = `$dir/bin/fcgi-auth -c $dir/conf/fcgi-auth.conf @args 2>&1`;
	return ($out, $? >> 8);
}

# Log in; returns the decoded 200 body (dies otherwise).
sub login_user {
	my ($u, %o) = @_;
	my $r = api(POST => '/auth/login', json => { username => $u->{username},
	    password => $u->{password} }, base => $o{base},
	    headers => $o{headers});
	die "login failed: $r->{status} $r->{body}" unless $r->{status} == 200;
	return wantarray ? ($r->{json}, $r) : $r->{json};
}

sub b64url {
	require MIME::Base64;
	my $s = MIME::Base64::encode_base64($_[0], '');
	$s =~ tr{+/}{-_};
	$s =~ s/=+$//;
	return $s;
}

sub b64url_decode {
	require MIME::Base64;
	my $s = shift;
	$s =~ tr{-_}{+/};
	$s .= '=' x ((4 - length($s) % 4) % 4);
	return MIME::Base64::decode_base64($s);
}

sub jwt_parts {
	my ($t) = @_;
	my ($h, $p, $s) = split /\./, $t;
	return (json_decode(b64url_decode($h)), json_decode(b64url_decode($p)), $s);
}

sub secret {
	my $dir = shift // stack_dir();
	open my $fh, '<', "$dir/secrets/jwt-secret" or die "secret: $!";
	local $/;
	my $s = <$fh>;
	$s =~ s/[\r\n]+$//;
	return $s;
}

# Run SQL in the stack's database; returns the trimmed output.
sub psql {
	my ($sql, $dir) = @_;
	$dir //= stack_dir();
	my $bin = `pg_config --bindir 2>/dev/null`;
	chomp $bin;
	$bin = (sort glob '/usr/lib/postgresql/*/bin')[-1] unless -x "$bin/psql";
	open my $fh, '-|', 'runuser', '-u', 'postgres', '--', "$bin/psql",
	    '-h', "$dir/run", '-U', 'postgres', '-d', 'fcgi_auth', '-Atqc', $sql
	    or die "psql: $!";
	local $/;
	my $out = <$fh> // '';
	close $fh;
	$out =~ s/\s+$//;
	return $out;
}

# Whether a process has exited. A daemon's parent is PID 1, which may
# reap it seconds later: a zombie has exited too.
sub gone {
	my $pid = int $_[0];	# a pid file's text ends in a newline
	return 1 unless kill 0, $pid;
	open my $fh, '<', "/proc/$pid/stat" or return 1;
	my $st = <$fh> // '';
	return $st =~ /\) Z /;
}

sub wait_until {
	my ($secs, $cb) = @_;
	my $end = time + $secs;
	while (time < $end) {
		my $v = $cb->();
		return $v if $v;
		sleep 0.05;
	}
	return;
}

# Messages the SMTP sink stored for an address (oldest first).
# Every message the stack's SMTP sink stored, oldest first.
sub all_mails {
	my ($dir) = @_;
	$dir //= stack_dir();
	my @m;
	for my $f (sort glob("$dir/mail/*.eml")) {
		open my $fh, '<', $f or next;
		push @m, do { local $/; <$fh> };
	}
	return @m;
}

sub mails_to {
	my ($to, $dir) = @_;
	return grep { /^X-Envelope-To: \Q$to\E\r?$/mi } all_mails($dir);
}

# Wait for the Nth message to an address; returns its text.
sub wait_mail {
	my ($to, %o) = @_;
	my $n = $o{count} // 1;
	my @m;
	wait_until($o{timeout} // 10, sub { @m = mails_to($to, $o{dir}); @m >= $n });
	return $m[$n - 1];
}

# refresh_race($user, $n, $action): $n sessions of the user refreshing in
# a loop (15 rotations each, until one fails) while $action->() runs;
# returns ($action's result, [every access token handed out], [each
# client's last refresh token]) once all have finished.
sub refresh_race {
	my ($u, $n, $action) = @_;
	my @kids;
	for (1 .. $n) {
		my $l = login_user($u);
		pipe(my $rd, my $wr) or die;
		my $pid = fork // die;
		if (!$pid) {
			close $rd;
			my ($rt, @got) = ($l->{refresh_token});
			for (1 .. 15) {
				my $x = api(POST => '/auth/refresh', json => { refresh_token => $rt });
				last unless $x->{status} == 200;
				$rt = $x->{json}{refresh_token};
				push @got, $x->{json}{access_token};
			}
			print $wr join("\n", $rt, @got), "\n";
			exit 0;
		}
		close $wr;
		push @kids, [ $pid, $rd ];
	}
	my $res = $action->();
	my (@access, @refresh);
	for (@kids) {
		my @l = map { chomp; $_ } readline($_->[1]);
		waitpid $_->[0], 0;
		push @refresh, shift @l;
		push @access, @l;
	}
	return ($res, \@access, \@refresh);
}

# Wait for a message to an address whose text matches re; returns it
# (undef after the timeout).
sub mail_like {
	my ($to, $re, %o) = @_;
	my ($m) = ();
	wait_until($o{timeout} // 10, sub { ($m) = grep { $_ =~ $re } mails_to($to, $o{dir}); defined $m });
	return $m;
}

# The TOTP code of a base32 secret at now + offset seconds, from an
# independent implementation (Debian's oathtool, RFC 6238).
sub totp_code {
	my ($secret, $offset) = @_;
	my $t = int(time) + ($offset // 0);
	my $c = `oathtool --totp -b --now=\@$t $secret`;
	chomp $c;
	return $c;
}

sub mail_token {
	my ($text) = @_;
	return unless defined $text;
	return $text =~ /[?&]token=([A-Za-z0-9_-]+)/ ? $1 : undef;
}

# redis(ARGS...): redis-cli against a stack's Redis; its output, trimmed.
sub redis {
	my $dir = stack_dir();
	my $out = `redis-cli -s $dir/run/redis.sock @_`;
	return $out =~ s/\s+\z//r;
}

# The session mirror's key for a session id (handlers/session.c, fcgi/cache.c):
# fa:m:<first 12 digits of the master's replication id>:<sid>.
sub mirror_key {
	my ($sid) = @_;
	my ($id) = redis('INFO replication') =~ /^master_replid:([0-9a-f]{12})/m;
	return "fa:m:$id:$sid";
}

sub master_pid {
	my $dir = shift // stack_dir();
	open my $fh, '<', "$dir/run/fcgi-auth.pid" or return;
	my $p = <$fh>;
	chomp $p;
	return $p;
}

# worker_pids(DIR[, 'fast'|'hash']): the master's workers, all or one pool's.
sub worker_pids {
	my ($dir, $pool) = @_;
	my $m = master_pid($dir) or return ();
	my @p;
	for (`ps -o pid=,args= --ppid $m`) {
		my ($pid, $args) = /^\s*(\d+)\s+(.*)$/ or next;
		next if defined $pool && $pool eq 'hash' && $args !~ /hash worker/;
		next if defined $pool && $pool eq 'fast' && $args =~ /hash worker/;
		push @p, $pid;
	}
	return @p;
}

# The /metrics counters as { name => value } (loopback only).
sub metrics {
	my (%o) = @_;
	my $r = api(GET => '/metrics', base => $o{base});
	my %m;
	for (split /\n/, $r->{body} // '') {
		$m{$1} = $2 if /^(fcgi_auth_\w+) (\d+)$/;
	}
	return \%m;
}

# fcgi_request(SOCKET, { PARAM => value }, BODY): one FastCGI request
# straight to a worker's unix socket, as nginx would send it; returns
# the CGI response text (headers and body).
sub fcgi_request {
	my ($path, $params, $body) = @_;
	require IO::Socket::UNIX;
	my $s = IO::Socket::UNIX->new(Peer => $path) or die "connect $path: $!";
	my $rec = sub { pack('CCnnCx', 1, $_[0], 1, length $_[1], 0) . $_[1] };
	my $p = '';
	for my $k (sort keys %$params) {
		my ($n, $v) = ($k, $params->{$k});
		$p .= (length $n < 128 ? pack('C', length $n) : pack('N', length($n) | 0x80000000))
		    . (length $v < 128 ? pack('C', length $v) : pack('N', length($v) | 0x80000000))
		    . $n . $v;
	}
	$body //= '';
	print $s $rec->(1, pack('nCx5', 1, 0)) . $rec->(4, $p) . $rec->(4, '')
	    . (length $body ? $rec->(5, $body) : '') . $rec->(5, '');
	my ($out, $buf) = ('');
	while (1) {
		my $n = read($s, $buf, 8) or last;
		my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
		read($s, my $data, $len + $pad) if $len + $pad;
		$out .= substr($data // '', 0, $len) if $type == 6;
		last if $type == 3;
	}
	return $out;
}

# The fcgi-auth and nginx logs hold no sanitizer report, crash or alert.
# logs_clean(DIR, allow => qr/.../): lines a test caused on purpose.
# Without DIR: the shared stack's lines since this .t began.
sub logs_clean {
	my ($dir, %o) = @_;
	my $shared = !defined $dir || $dir eq stack_dir();
	$dir //= stack_dir();
	$log_checked = 1 if $shared;
	my @bad;
	for my $f (_log_files($dir)) {
		open my $fh, '<', $f or next;
		seek($fh, $log_start{$f} // 0, 0) if $shared;
		while (my $l = <$fh>) {
			push @bad, $l if $l =~ /AddressSanitizer|LeakSanitizer|runtime error:|
			    by\ signal\ (?:6|7|8|11)\b|\[alert\]|\[emerg\]|\[crit\]/x
			    && !($o{allow} && $l =~ $o{allow});
		}
	}
	ok(!@bad, 'logs hold no sanitizer report, crash or alert')
	    or diag(join '', @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
}

# A private stack for tests that break things: its own dir and port.
# Extra environment (AUTH_*) applies to fcgi-auth in that stack.
sub private_stack {
	my (%env) = @_;
	my $dir = tempdir('/tmp/fcgi-auth-priv.XXXXXX', CLEANUP => 0);
	chmod 0755, $dir;
	my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
	    LocalPort => 0, ReuseAddr => 1) or die "port: $!";
	my $port = $s->sockport;
	close $s;
	local %ENV = (%ENV, %env, PORT => $port, STACK_FSYNC => 'off');
	my $rc = system(root_dir() . '/script/stack', 'up', $dir);
	if ($rc != 0) {
		# Stop whatever part of it did start before giving up.
		system(root_dir() . '/script/stack', 'down', $dir);
		die "private stack failed to start (logs in $dir/log)";
	}
	return FcgiAuth::Test::Stack->new(dir => $dir, port => $port,
	    base => "http://127.0.0.1:$port");
}

package FcgiAuth::Test::Stack;
sub new { my ($c, %a) = @_; bless { %a, pid => $$ }, $c }
sub dir  { $_[0]{dir} }
sub base { $_[0]{base} }
# Stop the stack (its logs stay for logs_clean); the dir goes at DESTROY.
sub down {
	my $self = shift;
	return if $self->{pid} != $$;		# a forked child: not ours
	return if $self->{down}++;
	system(FcgiAuth::Test::root_dir() . '/script/stack', 'down', $self->{dir});
}
sub DESTROY {
	my $self = shift;
	return if $self->{pid} != $$;
	$self->down;
	system('rm', '-rf', $self->{dir}) unless $ENV{KEEP};
}

1;
