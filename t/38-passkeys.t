# Passkeys (API.md "Second factors and passkeys"), against an independent
# WebAuthn authenticator written here: CBOR and COSE by hand, keys and
# signatures from CryptX (ES256 on P-256, EdDSA on Ed25519, RS256).
# Registration (none, packed self-attestation), discoverable sign-in, a
# passkey as the second factor, listing, renaming, deleting, and every
# check the RP steps require: challenge (single use, bound to purpose),
# origin, RP ID hash, UP and UV, ownership, signature, counter.
use strict;
use warnings;
use lib 't/lib';
use FcgiAuth::Test;
use Test::More;
use Digest::SHA qw(sha256);
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use Crypt::PK::RSA;
use JSON::PP ();

my $base = $ENV{FCGI_AUTH_URL};
my ($port) = $base =~ /:(\d+)$/;
my $ORIGIN = "http://localhost:$port";
my $RP = 'localhost';
my $J = JSON::PP->new->canonical;

# --- CBOR, by hand -----------------------------------------------------
sub head { my ($mt, $n) = @_;
	return chr($mt << 5 | $n) if $n < 24;
	return chr($mt << 5 | 24) . chr($n) if $n < 256;
	return chr($mt << 5 | 25) . pack('n', $n) if $n < 65536;
	return chr($mt << 5 | 26) . pack('N', $n) }
sub c_int { $_[0] >= 0 ? head(0, $_[0]) : head(1, -1 - $_[0]) }
sub c_bytes { head(2, length $_[0]) . $_[0] }
sub c_text { head(3, length $_[0]) . $_[0] }
sub c_map { my @kv = @_; head(5, @kv / 2) . join '', @kv }

# --- an authenticator ----------------------------------------------------
sub new_key {
	my ($alg) = @_;
	my %k = (alg => $alg, id => join('', map { chr int rand 256 } 1 .. 32), count => 0);
	if ($alg == -7) {
		$k{pk} = Crypt::PK::ECC->new; $k{pk}->generate_key('secp256r1');
		my $raw = $k{pk}->export_key_raw('public');
		$k{cose} = c_map(c_int(1), c_int(2), c_int(3), c_int(-7), c_int(-1), c_int(1),
		    c_int(-2), c_bytes(substr($raw, 1, 32)), c_int(-3), c_bytes(substr($raw, 33, 32)));
	} elsif ($alg == -8) {
		$k{pk} = Crypt::PK::Ed25519->new; $k{pk}->generate_key;
		$k{cose} = c_map(c_int(1), c_int(1), c_int(3), c_int(-8), c_int(-1), c_int(6),
		    c_int(-2), c_bytes($k{pk}->export_key_raw('public')));
	} else {
		$k{pk} = Crypt::PK::RSA->new; $k{pk}->generate_key(256, 65537);
		my $h = $k{pk}->key2hash;
		$k{cose} = c_map(c_int(1), c_int(3), c_int(3), c_int(-257),
		    c_int(-1), c_bytes(pack 'H*', $h->{N}), c_int(-2), c_bytes(pack 'H*', $h->{e}));
	}
	return \%k;
}
sub sign {
	my ($k, $msg) = @_;
	return $k->{pk}->sign_message($msg) if $k->{alg} == -8;
	return $k->{pk}->sign_message($msg, 'SHA256', 'v1.5') if $k->{alg} == -257;
	return $k->{pk}->sign_message($msg, 'SHA256');	# DER, as WebAuthn wants
}
sub cdj { my (%o) = @_; $J->encode({ type => $o{type}, challenge => $o{challenge},
	origin => $o{origin} // $ORIGIN, crossOrigin => JSON::PP::false }) }
sub uid_handle { b64url(pack 'H*', $_[0] =~ s/-//gr) }

# A registration response for options $pk: fmt none, or packed self.
sub attest {
	my ($k, $pk, %o) = @_;
	my $cd = cdj(type => $o{type} // 'webauthn.create', challenge => $pk->{challenge}, origin => $o{origin});
	my $flags = $o{flags} // 0x45;	# UP | UV | AT
	my $ad = sha256($o{rp} // $RP) . chr($flags) . pack('N', $k->{count}) . ("\0" x 16)
	    . pack('n', length $k->{id}) . $k->{id} . ($o{cose} // $k->{cose});
	my $fmt = $o{fmt} // 'none';
	my $st = $fmt eq 'packed'
	    ? c_map(c_text('alg'), c_int($k->{alg}), c_text('sig'), c_bytes($o{badsig} ? 'x' x 70 : sign($k, $ad . sha256($cd))))
	    : c_map();
	my $ao = c_map(c_text('fmt'), c_text($fmt), c_text('attStmt'), $st, c_text('authData'), c_bytes($ad));
	return { id => $o{id} // b64url($k->{id}), rawId => b64url($k->{id}), type => 'public-key',
	    response => { clientDataJSON => b64url($cd), attestationObject => b64url($ao) } };
}
# An authentication response for request options $pk.
sub assert_ {
	my ($k, $pk, $uid, %o) = @_;
	$k->{count} += $o{step} // 1 unless $o{same_count};
	$k->{count} = $o{count} if defined $o{count};
	my $cd = cdj(type => 'webauthn.get', challenge => $pk->{challenge}, origin => $o{origin});
	my $ad = sha256($o{rp} // $RP) . chr($o{flags} // 0x05) . pack('N', $k->{count});
	my $sig = sign($o{signer} // $k, $ad . sha256($cd));
	return { id => b64url($k->{id}), rawId => b64url($k->{id}), type => 'public-key',
	    response => { clientDataJSON => b64url($cd), authenticatorData => b64url($ad),
	    signature => b64url($sig), userHandle => $o{handle} // uid_handle($uid) } };
}
sub claims { json_decode(b64url_decode((split /\./, $_[0])[1])) }
sub reg_options { api(POST => '/auth/passkeys/register/options', headers => bearer($_[0]))->{json}{publicKey} }
sub register { my ($t, $cred, $name) = @_;
	api(POST => '/auth/passkeys/register', headers => bearer($t), json => { credential => $cred, name => $name // 'key' }) }
sub login_options { api(POST => '/auth/passkeys/login/options', json => $_[0] // {})->{json}{publicKey} }
sub pk_login { my ($cred, %x) = @_; api(POST => '/auth/passkeys/login', json => { credential => $cred, %x }) }

# --- registration ----------------------------------------------------
my $u = new_user();
my $j = login_user($u);
my $o = reg_options($j->{access_token});
is($o->{rp}{id}, 'localhost', 'register options: the RP id (AUTH_WEBAUTHN_RP_ID)');
is($o->{user}{id}, uid_handle($u->{user_id}), '... the user handle (the user id\'s bytes)');
is($o->{user}{name}, $u->{username}, '... the user name');
like($o->{challenge}, qr/^[A-Za-z0-9_-]{43}$/, '... a 256-bit challenge');
is_deeply([map { $_->{alg} } @{ $o->{pubKeyCredParams} }], [-7, -8, -257], '... ES256, EdDSA, RS256');
is($o->{authenticatorSelection}{userVerification}, 'required', '... user verification required');
is($o->{authenticatorSelection}{residentKey}, 'required', '... a discoverable credential');
is_deeply($o->{excludeCredentials}, [], '... nothing to exclude yet');
unlike(psql("SELECT string_agg(challenge_hash, ',') FROM webauthn_challenges"), qr/\Q$o->{challenge}\E/,
    'the challenge is stored hashed');

my $es = new_key(-7);
my $r = register($j->{access_token}, attest($es, $o), 'Laptop');
is($r->{status}, 201, 'an ES256 passkey, attestation none: 201');
is($r->{json}{name}, 'Laptop', '... named');
like($r->{json}{passkey_id} // '', qr/^[0-9a-f-]{36}$/, '... with an id');
my $es_id = $r->{json}{passkey_id};
is(register($j->{access_token}, attest(new_key(-7), $o))->{status}, 400, 'the same challenge again: 400 (single use)');
like(mail_like($u->{email}, qr/Subject: A second factor was added/) // '', qr/\(a passkey\).*Device: /s,
    'adding a passkey mails a notice');

my $ed = new_key(-8);
is(register($j->{access_token}, attest($ed, reg_options($j->{access_token}), fmt => 'packed'))->{status}, 201,
    'an EdDSA passkey, packed self-attestation: 201');
my $rs = new_key(-257);
is(register($j->{access_token}, attest($rs, reg_options($j->{access_token}), fmt => 'packed'))->{status}, 201,
    'an RS256 passkey (2048 bits), packed self-attestation: 201');
is(scalar @{ reg_options($j->{access_token})->{excludeCredentials} }, 3, 'the next options exclude all three');

for my $bad (
	['another origin', origin => 'https://evil.example'],
	['another RP ID', rp => 'evil.example'],
	['no user verification', flags => 0x41],
	['no user presence', flags => 0x44],
	['the wrong ceremony type', type => 'webauthn.get'],
	['a packed statement that does not verify', fmt => 'packed', badsig => 1],
	['an attestation format we do not take', fmt => 'fido-u2f'],
	['a credential.id that is not the attested one', id => b64url('x' x 32)],
	['a point not on the curve', cose => c_map(c_int(1), c_int(2), c_int(3), c_int(-7), c_int(-1), c_int(1),
	    c_int(-2), c_bytes("\1" x 32), c_int(-3), c_bytes("\2" x 32))],
	['an algorithm we do not take (ES384)', cose => c_map(c_int(1), c_int(2), c_int(3), c_int(-35), c_int(-1), c_int(2),
	    c_int(-2), c_bytes("\1" x 48), c_int(-3), c_bytes("\2" x 48))],
	) {
	my ($what, %x) = @$bad;
	$r = register($j->{access_token}, attest(new_key(-7), reg_options($j->{access_token}), %x));
	is($r->{status}, 400, "registration with $what: 400");
	is($r->{json}{error}, 'invalid_request', '... invalid_request');
}
is(register($j->{access_token}, attest($es, reg_options($j->{access_token})))->{status}, 400,
    'a credential that is registered already: 400');
$r = api(POST => '/auth/passkeys/register', headers => bearer($j->{access_token}),
    json => { credential => { id => 'x', response => { clientDataJSON => '!!', attestationObject => [] } } });
is($r->{status}, 400, 'garbage in the credential: 400');
my $other = new_user();
my $oj = login_user($other);
is(register($oj->{access_token}, attest(new_key(-7), $o))->{status}, 400, 'another user\'s challenge: 400');

$r = api(GET => '/auth/passkeys', headers => bearer($j->{access_token}));
is($r->{status}, 200, 'GET /auth/passkeys: 200');
is_deeply([map { $_->{name} } @{ $r->{json}{passkeys} }], ['Laptop', 'key', 'key'], '... lists the three');
ok(!defined $r->{json}{passkeys}[0]{last_used_at}, '... never used yet');

# --- discoverable sign-in ---------------------------------------------
my $lo = login_options();
like($lo->{challenge}, qr/^[A-Za-z0-9_-]{43}$/, 'login options: a challenge');
is_deeply([$lo->{rpId}, $lo->{userVerification}, $lo->{allowCredentials}], ['localhost', 'required', []],
    '... the RP id, UV required, no allow list (discoverable)');
my $assertion = assert_($es, $lo, $u->{user_id});
$r = pk_login($assertion);
is($r->{status}, 200, 'sign-in with the passkey alone: 200');
ok($r->{json}{access_token} && $r->{json}{refresh_token}, '... answers like login');
is(claims($r->{json}{access_token})->{sub}, $u->{user_id}, '... as its user');
is_deeply(claims($r->{json}{access_token})->{amr}, ['hwk', 'user', 'mfa'], '... amr hwk, user, mfa');
my $web = set_cookies($r)->{fa_session}{value};
is(api(GET => "$base/demo/mfa/whoami", headers => { Cookie => "fa_session=$web" })->{status}, 200,
    '... which AUTH_REQUIRE_MFA lets in');
is(pk_login($assertion)->{status}, 401, 'the same assertion again: 401 (its challenge is spent)');
is(api(GET => '/auth/passkeys', headers => bearer($j->{access_token}))->{json}{passkeys}[0]{last_used_at} ? 1 : 0, 1,
    'its last use is recorded');

# Each refusal on a user of its own: refusals count against the account
# (five per window, like wrong codes), which a later case would hit.
sub fresh {
	my $v = new_user();
	my $vj = login_user($v);
	my $k = new_key(-7);
	register($vj->{access_token}, attest($k, reg_options($vj->{access_token})));
	return ($v, $k);
}
for my $bad (
	['another origin', origin => 'https://evil.example'],
	['another RP ID', rp => 'evil.example'],
	['no user verification', flags => 0x01],
	['a signature by another key', signer => new_key(-7)],
	['another user\'s handle', handle => uid_handle($other->{user_id})],
	) {
	my ($what, %x) = @$bad;
	my ($v, $k) = fresh();
	$r = pk_login(assert_($k, login_options(), $v->{user_id}, %x));
	is($r->{status}, 401, "sign-in with $what: 401");
	is($r->{json}{error}, 'invalid_credentials', '... invalid_credentials');
	is(pk_login(assert_($k, login_options(), $v->{user_id}))->{status}, 200, '... while a good one passes');
}
{
	my ($v, $k) = fresh();
	my @st = map { pk_login(assert_($k, login_options(), $v->{user_id}, origin => 'https://evil.example'))->{status} } 1 .. 5;
	is_deeply(\@st, [401, 401, 401, 401, 401], 'five refused assertions: 401 each');
	$r = pk_login(assert_($k, login_options(), $v->{user_id}));
	is($r->{status}, 429, '... then the account is limited: 429');
}
my $stored = psql("SELECT sign_count FROM passkeys WHERE id = '$es_id'");
is(pk_login(assert_($es, login_options(), $u->{user_id}, count => $stored))->{status}, 401,
    "a counter that did not increase ($stored again): 401");
is(pk_login(assert_($es, login_options(), $u->{user_id}, count => $stored - 1))->{status}, 401,
    'a counter that went backwards: 401');
$es->{count} = $stored;
is(pk_login(assert_($es, login_options(), $u->{user_id}))->{status}, 200, 'a counter that went on: 200');
is(pk_login(assert_(new_key(-7), login_options(), $u->{user_id}))->{status}, 401, 'an unknown passkey: 401');
is(pk_login(assert_($es, reg_options($j->{access_token}), $u->{user_id}))->{status}, 401,
    'a registration challenge used to sign in: 401');
is(pk_login(assert_($ed, login_options(), $u->{user_id}))->{status}, 200, 'EdDSA passkey: 200');
is(pk_login(assert_($rs, login_options(), $u->{user_id}))->{status}, 200, 'RS256 passkey: 200');
my $zero = new_key(-8);
$r = register($j->{access_token}, attest($zero, reg_options($j->{access_token})));
is($r->{status}, 201, 'a passkey whose counter stays 0');
is(pk_login(assert_($zero, login_options(), $u->{user_id}, same_count => 1))->{status}, 200, '... signs in');
is(pk_login(assert_($zero, login_options(), $u->{user_id}, same_count => 1))->{status}, 200, '... and again (both 0)');

# --- a passkey as the second factor -------------------------------------
$r = api(POST => '/auth/login', json => { username => $u->{username}, password => $u->{password} });
is($r->{status}, 403, 'password login of an account with a passkey: 403');
is_deeply($r->{json}{methods}, ['passkey'], '... mfa_required, by passkey');
my $mt = $r->{json}{mfa_token};
my $mo = login_options({ mfa_token => $mt });
is(scalar @{ $mo->{allowCredentials} }, 4, 'login options for the mfa_token allow the user\'s passkeys');
$r = pk_login(assert_($es, $mo, $u->{user_id}), mfa_token => $mt);
is($r->{status}, 200, 'the passkey as the second factor: 200');
is_deeply(claims($r->{json}{access_token})->{amr}, ['pwd', 'hwk', 'mfa'], '... amr pwd, hwk, mfa');
is(api(POST => '/auth/mfa/verify', json => { mfa_token => $mt, code => '123456' })->{json}{error}, 'invalid_token',
    '... and the mfa_token is spent');
is(login_options({ mfa_token => $mt }), undef, 'no options for a spent mfa_token');
my $mt2 = api(POST => '/auth/login', json => { username => $u->{username}, password => $u->{password} })->{json}{mfa_token};
is(pk_login(assert_($es, login_options(), $u->{user_id}), mfa_token => $mt2)->{status}, 401,
    'a sign-in challenge used with an mfa_token: 401');
my $ok_ = new_key(-7);
register($oj->{access_token}, attest($ok_, reg_options($oj->{access_token})));
is(pk_login(assert_($ok_, login_options({ mfa_token => $mt2 }), $other->{user_id}), mfa_token => $mt2)->{status}, 401,
    'another user\'s passkey for this mfa_token: 401');

# --- rename, delete ------------------------------------------------------
is(api(PATCH => "/auth/passkeys/$es_id", headers => bearer($j->{access_token}), json => { name => 'Work laptop' })->{status},
    200, 'rename: 200');
is(api(GET => '/auth/passkeys', headers => bearer($j->{access_token}))->{json}{passkeys}[0]{name}, 'Work laptop', '... renamed');
is(api(DELETE => "/auth/passkeys/$es_id", headers => bearer($oj->{access_token}))->{status}, 404,
    'another user deleting it: 404');
is(api(DELETE => "/auth/passkeys/$es_id", headers => bearer($j->{access_token}))->{status}, 200, 'delete: 200');
is(api(DELETE => "/auth/passkeys/$es_id", headers => bearer($j->{access_token}))->{status}, 404, 'twice: 404');
like(mail_like($u->{email}, qr/Subject: A second factor was removed/) // '', qr/\(a passkey\)/,
    'removing one mails a notice');
is(pk_login(assert_($es, login_options(), $u->{user_id}))->{status}, 401, 'a deleted passkey no longer signs in');
my $ev = psql("SELECT string_agg(DISTINCT event, ' ') FROM audit_log WHERE user_id = '$u->{user_id}'");
like($ev, qr/passkey_added.*passkey_removed.*passkey_renamed/, 'adding, removing and renaming are audited');

done_testing;
