# GET and PATCH /user/info.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;

my $u = new_user();
my $j = login_user($u);
my $h = bearer($j->{access_token});

my $r = api(GET => '/user/info', headers => $h);
is($r->{status}, 200, 'user info 200');
is_deeply([sort keys %{ $r->{json} }], [sort qw(user_id username email display_name
    avatar_url email_verified created_at)], 'fields');
is($r->{json}{user_id}, $u->{user_id}, 'user_id');
is($r->{json}{username}, $u->{username}, 'username');
is($r->{json}{display_name}, '', 'unset text is an empty string, not null');
is($r->{json}{avatar_url}, '', 'avatar_url empty');
is($r->{json}{email_verified}, JSON::PP::false, 'email_verified false');
ok(abs($r->{json}{created_at} - time) < 120, 'created_at is Unix seconds');
is(api(GET => '/user/info')->{status}, 401, 'needs a token');

$r = api(PATCH => '/user/info', headers => $h, json => { display_name => "Zo\x{eb} Q",
    avatar_url => 'https://cdn.example.com/a.png' });
is($r->{status}, 200, 'patch 200');
is($r->{json}{display_name}, "Zo\x{eb} Q", 'display_name updated');
is($r->{json}{avatar_url}, 'https://cdn.example.com/a.png', 'avatar_url updated');
is(api(GET => '/user/info', headers => $h)->{json}{display_name}, "Zo\x{eb} Q", 'persisted');
$r = api(PATCH => '/user/info', headers => $h, json => { avatar_url => '' });
is($r->{json}{avatar_url}, '', 'avatar_url cleared');
is($r->{json}{display_name}, "Zo\x{eb} Q", 'display_name kept');

for my $bad ([{ avatar_url => 'http://x.example/a.png' }, 'plain http'],
    [{ avatar_url => 'javascript:alert(1)' }, 'javascript:'],
    [{ avatar_url => 'https://x.example/' . ('a' x 2040) }, 'over 2048 bytes'],
    [{ display_name => 'x' x 65 }, 'display_name over 64'],
    [{ display_name => "a\nb" }, 'control characters'],
    [{ display_name => 7 }, 'number'],
    [{}, 'nothing to update']) {
	my $r = api(PATCH => '/user/info', headers => $h, json => $bad->[0]);
	is($r->{status}, 400, "patch: $bad->[1] 400");
	is($r->{json}{error}, 'invalid_request', "patch: $bad->[1] invalid_request");
}
is(api(PATCH => '/user/info', headers => $h, json => { display_name => "\x{1F600}" x 64 })->{status},
    200, '64 characters (not bytes) accepted');
logs_clean();
done_testing;
