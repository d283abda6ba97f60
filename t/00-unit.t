# The C unit tests (t/unit/*.c) print TAP; run each and pass its results on.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my @bins = sort glob(root_dir() . '/t/unit/*.test');
ok(@bins >= 4, 'unit test binaries are built') or diag 'run script/bootstrap';
for my $bin (@bins) {
	my $name = $bin =~ s{.*/}{}r;
	subtest $name => sub {
		my @out = `$bin 2>&1`;
		my $rc = $? >> 8;
		my $n = 0;
		for (@out) {
			if (/^(not )?ok \d+ - (.*)$/) {
				ok(!$1, $2);
				$n++;
			} elsif (!/^1\.\.\d+$/) {
				diag $_;
			}
		}
		ok($n > 0, "$name ran tests");
		is($rc, 0, "$name exit status");
	};
}
done_testing;
