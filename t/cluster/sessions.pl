#!/usr/bin/perl
# t/cluster/sessions.pl: session bookkeeping for script/cluster-test, over
# HTTP through the edge.
#   user BASE NAME            register NAME (password printed), log in,
#                             print "password access_token"
#   make BASE NAME PW N FILE  log in N times; FILE gets "live session_id
#                             access_token" per login answered 200
#   revoke BASE FILE          log every second session of FILE out; those
#                             whose logout answered 200 (acknowledged)
#                             become revoked
#   check BASE FILE           each live token must answer /auth/me 200,
#                             each revoked one 401; prints the counts and
#                             exits 1 on any mismatch
use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;

my ($cmd, $base, @a) = @ARGV;
my $h = HTTP::Tiny->new(timeout => 10);
my $J = { 'Content-Type' => 'application/json' };

sub call {
	my ($m, $path, $body, $tok) = @_;
	my %hd = %$J;
	$hd{Authorization} = "Bearer $tok" if $tok;
	my $r = $h->request($m, "$base/api/v1$path",
	    { headers => \%hd, defined $body ? (content => encode_json($body)) : () });
	my $j = eval { decode_json($r->{content}) } // {};
	return ($r->{status}, $j);
}

if ($cmd eq 'user') {
	my ($name) = @a;
	my $pw = "cluster-$name-" . int(rand(1e9)) . '-Passphrase';
	my ($st, $j) = call(POST => '/auth/register',
	    { username => $name, email => "$name\@cluster.test", password => $pw });
	die "register $name: $st\n" unless $st == 201;
	($st, $j) = call(POST => '/auth/login', { username => $name, password => $pw });
	die "login $name: $st\n" unless $st == 200;
	print "$pw $j->{access_token}\n";
} elsif ($cmd eq 'make') {
	my ($name, $pw, $n, $file) = @a;
	open my $fh, '>', $file or die "$file: $!";
	for (1 .. $n) {
		my ($st, $j) = call(POST => '/auth/login', { username => $name, password => $pw });
		print $fh "live $j->{session_id} $j->{access_token}\n" if $st == 200;
	}
	close $fh;
} elsif ($cmd eq 'revoke') {
	my ($file) = @a;
	open my $fh, '<', $file or die "$file: $!";
	my @s = map { [split] } <$fh>;
	close $fh;
	for my $i (grep { $_ % 2 } 0 .. $#s) {
		my ($st) = call(POST => '/auth/logout', {}, $s[$i][2]);
		$s[$i][0] = 'revoked' if $st == 200;	# not acknowledged: no claim
	}
	open $fh, '>', $file or die "$file: $!";
	print $fh "@$_\n" for @s;
	close $fh;
} elsif ($cmd eq 'check') {
	my ($file) = @a;
	open my $fh, '<', $file or die "$file: $!";
	my %n = (live => 0, revoked => 0, bad => 0);
	while (<$fh>) {
		my ($state, $sid, $tok) = split;
		my ($st) = call(GET => '/auth/me', undef, $tok);
		my $want = $state eq 'live' ? 200 : 401;
		if ($st == $want) {
			$n{$state}++;
		} else {
			$n{bad}++;
			print STDERR "session $sid ($state): /auth/me answered $st\n";
		}
	}
	print "live=$n{live} revoked=$n{revoked} wrong=$n{bad}\n";
	exit($n{bad} ? 1 : 0);
} else {
	die "usage: sessions.pl user|make|revoke|check BASE ...\n";
}
