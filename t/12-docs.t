# The docs stay true: every route of the route table (handlers/routes.c) is in
# docs/openapi.yaml with its method, and the README names both commands.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $root = root_dir();
open my $fh, '<', "$root/handlers/routes.c" or die;
my @routes;
while (<$fh>) {
	push @routes, [lc $1, $2] if /^\s*\{ M_(\w+),\s+"([^"]+)"/;
}
cmp_ok(scalar @routes, '>=', 30, 'routes parsed from the dispatch table');
open $fh, '<', "$root/docs/openapi.yaml" or die;
my $doc = do { local $/; <$fh> };
my %ops;
my $cur;
for (split /\n/, $doc) {
	$cur = $1 if /^  "([^"]+)":$/;
	$ops{"$1 $cur"} = 1 if defined $cur && /^    (get|post|patch|delete|put):$/;
}
for my $r (@routes) {
	my ($m, $p) = @$r;
	# a route with one variable segment: its documented {name}
	if ($p =~ m{^(.*)\{\}(.*)$}) {
		my ($head, $tail) = ($1, $2);
		my ($doc) = grep { m{^\Q$m $head\E\{\w+\}\Q$tail\E$} } sort keys %ops;
		$p = defined $doc ? ($doc =~ /^\S+ (.*)$/)[0] : "$head\{?}$tail";
	} elsif ($p =~ m{/$}) {
		my ($doc) = grep { m{^\Q$m $p\E\{\w+\}$} } sort keys %ops;
		$p = defined $doc ? ($doc =~ /^\S+ (.*)$/)[0] : "$p\{?}";
	}
	ok($ops{"$m $p"}, "openapi documents \U$m\E $p");
}
open $fh, '<', "$root/README" or die;
my $readme = do { local $/; <$fh> };
like($readme, qr{script/server}, 'README: script/server');
like($readme, qr{script/test}, 'README: script/test');
done_testing;
