# POST /auth/register (and /register): rules, conflicts, aliases.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $tag = sprintf '%x', time ^ $$;
my %u = (username => "reg$tag", email => "Reg$tag\@Example.com",
    password => 'a perfectly fine passphrase');

my $r = api(POST => '/auth/register', json => \%u);
is($r->{status}, 201, 'register 201');
is($r->{json}{message}, 'registered', 'message');
like($r->{json}{user_id}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    'user_id is a lowercase UUID');
ok(!exists $r->{json}{token} && !exists $r->{json}{verification_token},
    'no token in the register answer');
like(psql("SELECT password_hash FROM users WHERE id = '$r->{json}{user_id}'"),
    qr/^\$y\$/, 'password stored as a yescrypt hash');

$r = api(POST => '/auth/register', json => { %u, email => "other$tag\@example.com",
    username => uc $u{username} });
is($r->{status}, 409, 'username taken (case-insensitive)');
is($r->{json}{error}, 'username_taken', 'username_taken');
$r = api(POST => '/auth/register', json => { %u, username => "other$tag",
    email => lc $u{email} });
is($r->{status}, 409, 'email taken (case-insensitive)');
is($r->{json}{error}, 'email_taken', 'email_taken');

my @bad = (
	[{ %u, username => 'ab' }, 400, 'invalid_request', 'username too short'],
	[{ %u, username => 'a' x 33 }, 400, 'invalid_request', 'username too long'],
	[{ %u, username => "bad name" }, 400, 'invalid_request', 'username charset'],
	[{ %u, username => "x'--;" }, 400, 'invalid_request', 'SQL-looking username'],
	[{ %u, email => 'not-an-email' }, 400, 'invalid_request', 'bad email'],
	[{ %u, email => ('a' x 250) . '@b.co' }, 400, 'invalid_request', 'email over 254 bytes'],
	[{ username => "n$tag", password => 'x' x 12 }, 400, 'invalid_request', 'missing email'],
	[{ %u, username => "p1$tag", email => "p1$tag\@x.co", password => 'short' }, 400, 'weak_password', 'password under 8'],
	[{ %u, username => "p2$tag", email => "p2$tag\@x.co", password => 'x' x 257 }, 400, 'weak_password', 'password over 256 bytes'],
	[{ %u, username => "p3$tag", email => "p3$tag\@x.co", password => 'password1' }, 400, 'weak_password', 'common password'],
	[{ %u, username => "p4$tag", email => "p4$tag\@x.co", password => 'Qwertyuiop' }, 400, 'weak_password', 'common password, any case'],
	[{ %u, username => "p5longname$tag", email => "p5$tag\@x.co", password => "p5longname$tag" }, 400, 'weak_password', 'password equals username'],
	[{ %u, username => "p6$tag", email => "p6$tag\@x.co", password => "p6$tag\@x.co" }, 400, 'weak_password', 'password equals email'],
	[{ %u, username => 12345 }, 400, 'invalid_request', 'numeric username'],
	[{ %u, username => "d$tag", email => "d$tag\@x.co", display_name => 'x' x 65 }, 400, 'invalid_request', 'display_name too long'],
);
for my $b (@bad) {
	my ($body, $st, $code, $name) = @$b;
	my $r = api(POST => '/auth/register', json => $body);
	is($r->{status}, $st, "$name: $st");
	is($r->{json}{error}, $code, "$name: $code");
}

# A long password is not truncated: 200 bytes work, a change at the end fails.
my $long = join '', map { chr(97 + $_ % 26) } 1 .. 200;
my $lu = { username => "long$tag", email => "long$tag\@x.co", password => $long };
is(api(POST => '/register', json => $lu)->{status}, 201, '/register alias, 200-byte password');
is(api(POST => '/login', json => { username => $lu->{username},
    password => $long })->{status}, 200, 'long password logs in');
is(api(POST => '/login', json => { username => $lu->{username},
    password => substr($long, 0, 199) . 'X' })->{status}, 401,
    'the last byte of a long password counts');
# Unicode passwords count characters, not bytes.
my $uni = { username => "uni$tag", email => "uni$tag\@x.co",
    password => "\x{00e9}t\x{00e9} \x{00e0} Z\x{00fc}rich" };
is(api(POST => '/auth/register', json => $uni)->{status}, 201,
    'unicode password accepted');

# Seed 004: type/account/psw; a username is derived and returned.
$r = api(POST => '/auth/register', json => { type => 'email',
    account => "seed4$tag\@example.com", psw => 'seed four passphrase' });
is($r->{status}, 201, 'seed 004 register with account/psw');
like($r->{json}{username}, qr/^seed4\Q$tag\E-[0-9a-f]{6}$/, 'derived username');
logs_clean();
done_testing;
