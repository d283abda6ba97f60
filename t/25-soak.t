# The CI-sized soak: script/soak for half a minute — the mixed workload
# with 0 errors and flat RSS per worker (script/soak 10 is the long form).
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

plan skip_all => 'RSS is not meaningful under AddressSanitizer' if $ENV{FCGI_AUTH_SANITIZED};
my $out = `${\ root_dir()}/script/soak 0.5 2>&1`;
my $rc = $? >> 8;
diag join "\n", grep { /^soak:/ } split /\n/, $out;
is($rc, 0, 'script/soak 0.5 passed') or diag $out;
like($out, qr/errors: 0,/, '0 errors');
like($out, qr/RSS per worker \(MiB\) start \[[\d ]+\] end \[[\d ]+\]/, 'RSS reported');
like($out, qr/passed \(RSS growth at most [0-2] MiB\)/, 'RSS flat within 2 MiB');
done_testing;
