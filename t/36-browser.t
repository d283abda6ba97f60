# The hosted pages in a real browser: headless Chromium driven by
# t/browser/flows.py (Selenium). Sign in from a protected page and land
# back on it, a wrong password in words, the account page's sessions
# (this device marked, revoke another), sign out, the reset link from
# the mail sink, sign-up and the verification link, the email change and
# the deletion, personal access tokens, the admin page, 360 px, no CSP
# violation, no script-readable credential. Screenshots of every page
# are kept in the directory the test names.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use File::Temp qw(tempdir);

for my $bin ('/usr/bin/chromium', '/usr/bin/chromedriver', '/usr/bin/oathtool') {
	BAIL_OUT("$bin is missing: script/bootstrap installs it") unless -x $bin;
}
my ($port) = $ENV{FCGI_AUTH_URL} =~ /:(\d+)/;
my $shots = tempdir('/tmp/fcgi-auth-browser.XXXXXX', CLEANUP => 0);
diag "screenshots: $shots";
local $ENV{BASE} = "http://localhost:$port";
local $ENV{MAILDIR} = stack_dir() . '/mail';
local $ENV{SHOTS} = $shots;
# an admin for the admin page, made by the operator
my $admin = new_user();
my ($out, $rc) = cli(stack_dir(), 'user', 'set-role', $admin->{username}, 'admin');
BAIL_OUT("set-role: $out") if $rc;
local $ENV{ADMIN_USER} = $admin->{username};
local $ENV{ADMIN_PASSWORD} = $admin->{password};
# Debian's python3, which has python3-selenium (not one earlier on PATH)
open my $py, '-|', '/usr/bin/python3', root_dir() . '/t/browser/flows.py' or die "python3: $!";
my $plan = 0;
while (my $line = <$py>) {
	chomp $line;
	if ($line =~ /^(not )?ok \d+ - (.*)$/) {
		ok(!$1, $2);
	} elsif ($line =~ /^1\.\.(\d+)$/) {
		$plan = $1;
	} elsif ($line =~ /^# ?(.*)$/) {
		diag $1;
	}
}
close $py;
is($? >> 8, 0, 'the browser run exited cleanly');
cmp_ok($plan, '>=', 33, 'and ran every flow');
my @png = glob "$shots/*.png";
cmp_ok(scalar @png, '>=', 12, 'a screenshot of each page');
done_testing;
