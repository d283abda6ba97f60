# Configuration: --check-config masks secrets, a bad value stops start-up
# naming the key, the sample file lists every key, root is refused.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $bin = stack_dir() . '/bin/fcgi-auth';
my $conf = stack_dir() . '/conf/fcgi-auth.conf';
my $sample = root_dir() . '/conf/fcgi-auth.conf';

my $out = `AUTH_DATABASE_URL='postgresql://app:s3cret\@db/auth' $bin -c $conf --check-config 2>&1`;
is($?, 0, '--check-config exits 0');
like($out, qr/^AUTH_ACCESS_TTL = 900$/m, 'prints the effective configuration');
like($out, qr/^AUTH_DATABASE_URL = \*+$/m, 'credentials masked');
unlike($out, qr/s3cret/, 'no secret printed');

my @keys = $out =~ /^(\w+) = /mg;
open my $fh, '<', $sample or die;
my $text = do { local $/; <$fh> };
open my $mh, '<', root_dir() . '/man/fcgi-auth.conf.5' or die;
my $man = do { local $/; <$mh> };
for my $k (@keys) {
	like($man, qr/^\.It Cm \Q$k\E$/m, "fcgi-auth.conf(5) documents $k");
}
is(system('python3', root_dir() . '/script/man-conf', '--check'), 0,
    'fcgi-auth.conf(5) matches the config table (types, bounds, defaults): script/man-conf');
for my $k (@keys) {
	like($text, qr/^#\Q$k\E =/m, "sample config lists $k");
}
# Every commented default in the sample parses as a valid configuration.
(my $uncommented = $text) =~ s/^#(\w+ =)/$1/mg;
open my $tmp, '>', "/tmp/fcgi-auth-conf-$$" or die;
print $tmp $uncommented;
close $tmp;
$out = `AUTH_JWT_SECRET_FILE=/dev/null $bin -c /tmp/fcgi-auth-conf-$$ --check-config 2>&1`;
like($out, qr/AUTH_ISSUER = fcgi-auth/, 'the sample\'s defaults load');
unlink "/tmp/fcgi-auth-conf-$$";

for my $case (['AUTH_ACCESS_TTL=abc', 'AUTH_ACCESS_TTL'], ['AUTH_WORKERS=9999', 'AUTH_WORKERS'],
    ['AUTH_JWT_ALG=none', 'AUTH_JWT_ALG'], ['AUTH_DEV=perhaps', 'AUTH_DEV'],
    ['AUTH_REDIS_URL=http://x', 'AUTH_REDIS_URL']) {
	my $o = `$case->[0] $bin -c $conf --check-config 2>&1`;
	isnt($?, 0, "$case->[0] refused");
	like($o, qr/\Q$case->[1]\E/, "error names $case->[1]");
}
# AUTH_REDIS_URL forms: one server, a unix socket, or Sentinels.
for my $u ('redis://127.0.0.1:6379/0', 'redis://:pw@cache.internal', 'redis://[::1]:6380/2',
    'unix:/run/redis/redis.sock', 'redis-sentinel://10.0.0.1:26379,10.0.0.2,10.0.0.3:26380/mymaster',
    'redis-sentinel://:pw@[fd00::1]:26379/auth-cache/3', 'redis://:p\@ss/w\@cache:6379/1') {
	`AUTH_REDIS_URL='$u' $bin -c $conf --check-config 2>&1`;
	is($?, 0, "AUTH_REDIS_URL=$u accepted");
}
for my $u ('redis://', 'redis://h:0', 'redis://a,b', 'redis://h/x', 'unix:relative.sock',
    'redis-sentinel://h1,h2', 'redis-sentinel://h1/', 'redis-sentinel://h1/na me',
    'redis-sentinel://' . join(',', map { "h$_" } 1 .. 9) . '/m', 'redis-sentinel://h1:99999/m') {
	my $o = `AUTH_REDIS_URL='$u' $bin -c $conf --check-config 2>&1`;
	isnt($?, 0, "AUTH_REDIS_URL=$u refused");
	like($o, qr/AUTH_REDIS_URL: must be/, 'with the forms it accepts');
}
my $o = `AUTH_REDIS_URL='redis-sentinel://:hunter22\@s1/m' $bin -c $conf --check-config 2>&1`;
unlike($o, qr/hunter22/, 'a Redis password is masked');

$o = `$bin -c /nonexistent.conf --check-config 2>&1`;
isnt($?, 0, 'a missing config file is an error');

# Production refuses a missing or short secret.
open $tmp, '>', "/tmp/fcgi-auth-short-$$" or die;
print $tmp "tooshort";
close $tmp;
chmod 0644, "/tmp/fcgi-auth-short-$$";
$o = `AUTH_DEV=0 AUTH_JWT_SECRET_FILE=/tmp/fcgi-auth-short-$$ runuser -u nobody -- $bin -c $conf -s /tmp/fcgi-auth-never-$$.sock 2>&1 </dev/null`;
isnt($?, 0, 'a short JWT secret stops start-up');
like($o, qr/AUTH_JWT_SECRET_FILE/, 'naming the key');
$o = `AUTH_DEV=0 AUTH_JWT_SECRET_FILE=/nonexistent runuser -u nobody -- $bin -c $conf -s /tmp/fcgi-auth-never-$$.sock 2>&1 </dev/null`;
isnt($?, 0, 'a missing JWT secret stops start-up');
unlink "/tmp/fcgi-auth-short-$$";

$o = `$bin -c $conf -s /tmp/fcgi-auth-never-$$.sock 2>&1 </dev/null`;
isnt($?, 0, 'refuses to run as root');
like($o, qr/root/, 'says why');
ok(!-e "/tmp/fcgi-auth-never-$$.sock", 'no socket left behind');

# Migrations are idempotent.
$o = `$bin -c $conf migrate 2>&1`;
is($?, 0, 'migrate again exits 0');
like($o, qr/up to date \(0 applied\)/, 'nothing re-applied');
is(psql("SELECT count(*) FROM schema_migrations"), scalar(() = glob(root_dir() . '/sql/*.sql')),
    'every migration recorded once');

done_testing;
