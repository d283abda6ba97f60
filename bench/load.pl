#!/usr/bin/perl
# bench/load.pl BASE SECONDS OUTFILE USER PASSWORD ACCESS_TOKEN: a bounded
# load loop on loopback for fault tests. Cycles GET /ping, GET /auth/me,
# POST /auth/verify (with ACCESS_TOKEN) and, every 10th round, a login;
# writes one line per request: "end-time route status seconds [session_id]".
use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time);

my ($base, $secs, $out, $user, $pw, $at) = @ARGV;
{
	no warnings 'redefine';
	my $c = \&HTTP::Tiny::Handle::connect;
	*HTTP::Tiny::Handle::connect = sub {
		my $s = $c->(@_);
		setsockopt($s->{fh}, IPPROTO_TCP, TCP_NODELAY, 1);
		$s;
	};
}
my $h = HTTP::Tiny->new(timeout => 5, keep_alive => 1);
open my $fh, '>', $out or die "$out: $!";
$fh->autoflush(1);
my $json = { 'Content-Type' => 'application/json' };
my $end = time + $secs;
my $n = 0;
while (time < $end) {
	my @r = (['ping', GET => "$base/api/v1/ping", {}],
	    ['me', GET => "$base/api/v1/auth/me", { headers => { Authorization => "Bearer $at" } }],
	    ['verify', POST => "$base/api/v1/auth/verify",
	    { headers => $json, content => encode_json({ token => $at }) }]);
	push @r, ['login', POST => "$base/api/v1/auth/login",
	    { headers => $json, content => encode_json({ username => $user, password => $pw }) }]
	    if ++$n % 10 == 0;
	for my $q (@r) {
		my ($name, $m, $url, $o) = @$q;
		my $t0 = time;
		my $r = $h->request($m, $url, $o);
		my $sid = '';
		if ($name eq 'login' && $r->{status} == 200) {
			$sid = eval { decode_json($r->{content})->{session_id} } // '';
		}
		printf $fh "%.3f %s %d %.4f %s\n", time, $name, $r->{status}, time - $t0, $sid;
	}
}
close $fh;
