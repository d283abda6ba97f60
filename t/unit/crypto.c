/*
 * Unit tests: base64url (strict, canonical), SHA-256, HMAC, UUIDs, and
 * the data key's seal/open (AES-256-GCM bound to associated data).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "datakey.h"
#include "validate.h"
#include "config.h"
#include "tap.h"

int
main(void)
{
	static const struct tap_pair enc[] = {
		{ "", "" },
		{ "f", "Zg" },
		{ "fo", "Zm8" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg" },
		{ "\xfb\xff", "-_8" },
	};
	static const char *const bad[] = {
		"Zg==",
		"Zm9v+",
		"Zm9v/",
		"Zm 9v",
		"Z",
		"Zh",
		"Zm9",
		"-_9",
		"Zm9v\n",
	};
	unsigned char buf[64], md[32];
	char out[128], hex[65], u[UUID_LEN + 1], u2[UUID_LEN + 1];
	size_t i;
	long n;

	for (i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
		b64url_encode((const unsigned char *)enc[i].in,
		    strlen(enc[i].in), out, sizeof(out));
		ok(strcmp(out, enc[i].out) == 0, "encode '%s' -> '%s'",
		    enc[i].out, out);
		n = b64url_decode(enc[i].out, strlen(enc[i].out), buf,
		    sizeof(buf));
		ok(n == (long)strlen(enc[i].in) &&
		        memcmp(buf, enc[i].in, (size_t)n) == 0,
		    "decode '%s'", enc[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(b64url_decode(bad[i], strlen(bad[i]), buf, sizeof(buf)) ==
		        -1,
		    "reject non-canonical base64url #%zu", i);
	ok(b64url_encode((const unsigned char *)"foobar", 6, out, 4) == 0,
	    "encode refuses a short buffer");

	crypto_sha256_hex("abc", 3, hex);
	ok(strcmp(hex,
	       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"
	       "d") == 0,
	    "sha256(abc)");
	crypto_hmac_sha256("key", 3,
	    "The quick brown fox jumps over the lazy dog", 43, md);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ok(strcmp(hex,
	       "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd"
	       "8") == 0,
	    "hmac-sha256 RFC vector");
	{
		/* A keyed context gives the same MAC, every time it is used. */
		struct crypto_mac *m = crypto_mac_new("key", 3);
		unsigned char md2[32];
		int same = m != NULL;

		for (i = 0; same && i < 3; i++)
			same =
			    crypto_mac(m,
			        "The quick brown fox jumps over the lazy dog",
			        43, md2) == 0 &&
			    memcmp(md, md2, 32) == 0;
		ok(same, "keyed hmac-sha256 matches, reused three times");
		ok(crypto_mac(m, "", 0, md2) == 0 && memcmp(md, md2, 32) != 0,
		    "and differs for another message");
		crypto_mac_free(m);
		ok(crypto_mac(NULL, "x", 1, md2) == -1, "no key, no MAC");
	}
	ok(crypto_ct_equal("abcd", "abcd", 4), "ct_equal equal");
	ok(!crypto_ct_equal("abcd", "abce", 4), "ct_equal differs");

	ok(crypto_uuid(u) == 0 && valid_uuid(u), "uuid is canonical: %s", u);
	ok(u[14] == '4' && strchr("89ab", u[19]) != NULL, "uuid is version 4");
	crypto_uuid(u2);
	ok(strcmp(u, u2) != 0, "uuids differ");
	{
		char t1[TOKEN_B64_LEN + 1], t2[TOKEN_B64_LEN + 1];
		unsigned char r1[TOKEN_BYTES], r2[TOKEN_BYTES];

		crypto_token(t1, r1);
		crypto_token(t2, r2);
		ok(strlen(t1) == TOKEN_B64_LEN && strcmp(t1, t2) != 0,
		    "tokens are 256-bit and differ");
	}
	{
		char path[] = "/tmp/fcgi-auth-unit-key.XXXXXX", err[256];
		char *s1, *s2, *o, *tampered;
		unsigned char k1[32], k2[32];
		const char *msg = "Reset here: https://x.test/r?token=SECRET";
		FILE *f;
		int fd = mkstemp(path);

		memset(&cfg, 0, sizeof(cfg));
		cfg.data_key_file = path;
		ok(datakey_seal(DK_OUTBOX, "a@x.test", msg) == NULL,
		    "no key loaded: nothing is sealed");
		f = fdopen(fd, "w");
		fputs("short\n", f);
		fflush(f);
		ok(datakey_load(err, sizeof(err)) == -1,
		    "a short key file is refused: %s", err);
		rewind(f);
		fputs("0123456789abcdefghijklmnopqrstuvwxyzABCDEF\n", f);
		fclose(f);
		ok(datakey_load(err, sizeof(err)) == 0, "the key loads");
		s1 = datakey_seal(DK_OUTBOX, "a@x.test", msg);
		s2 = datakey_seal(DK_OUTBOX, "a@x.test", msg);
		ok(s1 != NULL && strncmp(s1, "fa1.", 4) == 0 &&
		        strstr(s1, "SECRET") == NULL,
		    "sealed text hides the message");
		ok(s1 && s2 && strcmp(s1, s2) != 0, "a fresh nonce each time");
		o = s1 ? datakey_open(DK_OUTBOX, "a@x.test", s1) : NULL;
		ok(o != NULL && strcmp(o, msg) == 0, "it opens to the message");
		free(o);
		ok(s1 && datakey_open(DK_OUTBOX, "b@x.test", s1) == NULL,
		    "not under other associated data (another recipient)");
		ok(s1 && datakey_open(DK_CAPTCHA, "a@x.test", s1) == NULL,
		    "not under another subkey");
		tampered = s1 ? strdup(s1) : NULL;
		if (tampered != NULL)
			tampered[strlen(tampered) - 3] ^= 1;
		o = tampered ? datakey_open(DK_OUTBOX, "a@x.test", tampered) :
		               NULL;
		ok(tampered && o == NULL,
		    "a flipped byte is refused (GCM tag)");
		ok(datakey_open(DK_OUTBOX, "a@x.test", "plain text") == NULL &&
		        datakey_open(DK_OUTBOX, "a@x.test", "fa1.") == NULL &&
		        datakey_open(DK_OUTBOX, "a@x.test",
		            "fa1.00000000.AAAA") == NULL,
		    "junk is refused");
		ok(s1 && datakey_is_ours(DK_OUTBOX, s1) &&
		        datakey_is_ours(DK_OUTBOX, tampered) &&
		        !datakey_is_ours(DK_CAPTCHA, s1) &&
		        !datakey_is_ours(DK_OUTBOX, "fa1.00000000.AAAA") &&
		        !datakey_is_ours(DK_OUTBOX, "plain"),
		    "our key id is told from another key's");
		ok(datakey_sub(DK_REFRESH, k1) == 0 &&
		        datakey_sub(DK_CAPTCHA, k2) == 0 &&
		        memcmp(k1, k2, 32) != 0,
		    "subkeys differ by use");
		free(tampered);
		free(s1);
		free(s2);
		datakey_free();
		unlink(path);
	}
	/* RFC 4226 appendix D (HOTP, the secret "12345678901234567890"),
	 * and RFC 6238 appendix B's SHA-1 rows, cut to 6 digits. */
	{
		static const char *const hotp[] = { "755224", "287082",
			"359152", "969429", "338314", "254676", "287922",
			"162583", "399871", "520489" };
		static const struct {
			unsigned long long t;
			const char *code;
		} totp[] = { { 59, "287082" }, { 1111111109, "081804" },
			{ 1111111111, "050471" }, { 1234567890, "005924" },
			{ 2000000000, "279037" },
			{ 20000000000ULL, "353130" } };
		const unsigned char *k =
		    (const unsigned char *)"12345678901234567890";
		char code[7], b32[64];
		int all = 1;

		for (i = 0; i < 10; i++)
			all &= crypto_hotp(k, 20, i, code) == 0 &&
			    strcmp(code, hotp[i]) == 0;
		ok(all, "HOTP: the ten codes of RFC 4226 appendix D");
		all = 1;
		for (i = 0; i < sizeof(totp) / sizeof(totp[0]); i++)
			all &= crypto_hotp(k, 20, totp[i].t / 30, code) == 0 &&
			    strcmp(code, totp[i].code) == 0;
		ok(all, "TOTP: RFC 6238 appendix B (SHA-1, 6 digits)");
		b32_encode(k, 20, b32, sizeof(b32));
		ok(strcmp(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == 0,
		    "base32 of the RFC secret: %s", b32);
		b32_encode((const unsigned char *)"f", 1, b32, sizeof(b32));
		ok(strcmp(b32, "MY") == 0, "base32 of a short input, unpadded");
	}
	return done_testing();
}
