/* Unit tests: validators and UTF-8 checks, one line per case. */
#include <string.h>

#include "password.h"
#include "users.h"
#include "validate.h"
#include "tap.h"

int
main(void)
{
	static const struct tap_case users[] = {
		{ "bob", 1 },
		{ "a.b-c_d9", 1 },
		{ "ab", 0 },
		{ "", 0 },
		{ "abcdefghijklmnopqrstuvwxyz0123456", 0 },
		{ "abcdefghijklmnopqrstuvwxyz012345", 1 },
		{ "bob smith", 0 },
		{ "bob@x", 0 },
		{ "bö b", 0 },
		{ "x'; DROP TABLE users;--", 0 },
	};
	static const struct tap_case emails[] = {
		{ "a@b.co", 1 },
		{ "first.last+tag@example.com", 1 },
		{ "a@b", 0 },
		{ "@b.co", 0 },
		{ "a@@b.co", 0 },
		{ "a b@c.co", 0 },
		{ "a@-b.co", 0 },
		{ "a@b..co", 0 },
		{ ".a@b.co", 0 },
		{ "a\"@b.co", 0 },
		{ "a@b_c.co", 0 },
	};
	static const struct tap_case uuids[] = {
		{ "0b8c0f6e-2d3a-4c1b-9e7f-1a2b3c4d5e6f", 1 },
		{ "0B8C0F6E-2D3A-4C1B-9E7F-1A2B3C4D5E6F", 0 },
		{ "0b8c0f6e2d3a4c1b9e7f1a2b3c4d5e6f", 0 },
		{ "0b8c0f6e-2d3a-4c1b-9e7f-1a2b3c4d5e6", 0 },
		{ "../../../etc/passwd", 0 },
	};
	static const struct tap_case urls[] = {
		{ "https://example.com/a.png", 1 },
		{ "http://example.com/a", 0 },
		{ "javascript:alert(1)", 0 },
		{ "https://", 0 },
		{ "https://ex ample.com", 0 },
		{ "https:///x", 0 },
	};
	static const struct {
		const char *s;
		size_t n;
		int ok;
	} utf[] = {
		{ "plain", 5, 1 },
		{ "caf\xc3\xa9", 5, 1 },
		{ "\xc0\xaf", 2, 0 },
		{ "\xed\xa0\x80", 3, 0 },
		{ "\xf4\x90\x80\x80", 4, 0 },
		{ "\xe2\x82", 2, 0 },
		{ "\xff", 1, 0 },
		{ "\xf0\x9f\x98\x80", 4, 1 },
	};
	char big[300];
	size_t i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		ok(valid_username(users[i].s) == users[i].ok, "username '%s'",
		    users[i].s);
	for (i = 0; i < sizeof(emails) / sizeof(emails[0]); i++)
		ok(valid_email(emails[i].s) == emails[i].ok, "email '%s'",
		    emails[i].s);
	memset(big, 'a', sizeof(big));
	memcpy(big + 250, "@b.co", 6);
	ok(!valid_email(big), "email over 254 bytes");
	for (i = 0; i < sizeof(uuids) / sizeof(uuids[0]); i++)
		ok(valid_uuid(uuids[i].s) == uuids[i].ok, "uuid '%s'",
		    uuids[i].s);
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		ok(valid_https_url(urls[i].s) == urls[i].ok, "url '%s'",
		    urls[i].s);
	for (i = 0; i < sizeof(utf) / sizeof(utf[0]); i++)
		ok(utf8_valid(utf[i].s, utf[i].n) == utf[i].ok, "utf8 case %zu",
		    i);
	ok(utf8_chars("caf\xc3\xa9") == 4, "utf8_chars counts characters");
	{
		/* Header values are made valid UTF-8 and bounded. */
		static const struct tap_pair san[] = {
			{ "plain", "plain" },
			{ "caf\xc3\xa9", "caf\xc3\xa9" },
			{ "\xff", "\xef\xbf\xbd" },
			{ "a\xc3(b", "a\xef\xbf\xbd(b" }, /* cut sequence */
			{ "\xed\xa0\x80",
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
			{ "\xc0\xaf",
			    "\xef\xbf\xbd\xef\xbf\xbd" }, /* overlong */
			{ "tab\there\x7f", "tab here " },
			{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
			{ "end\xe2\x82", "end\xef\xbf\xbd\xef\xbf\xbd" },
		};
		char out[64], wide[2000];
		size_t n;

		for (i = 0; i < sizeof(san) / sizeof(san[0]); i++) {
			utf8_sanitize(san[i].in, out, sizeof(out));
			ok(strcmp(out, san[i].out) == 0 &&
			        utf8_valid(out, strlen(out)),
			    "sanitize case %zu", i);
		}
		memset(wide, 0, sizeof(wide));
		for (i = 0; i + 2 < sizeof(wide) - 1; i += 2)
			memcpy(wide + i, "\xc3\xa9", 2);
		n = utf8_sanitize(wide, out, 10);
		ok(n == 8 && utf8_valid(out, n),
		    "sanitize cuts at a character boundary within the bound");
		n = utf8_sanitize("\xff\xff\xff\xff", out, 8);
		ok(n == 6 && utf8_valid(out, n),
		    "sanitize never writes a partial replacement character");
	}
	{
		/* One canonical form per identifier (limits count on it). */
		static const struct {
			const char *a, *b;
			int same;
		} can[] = {
			{ "Alice@Example.COM", "alice@example.com", 1 },
			{ "ALICE", "alice", 1 },
			{ "\xef\xbd\x81lice", "alice", 1 }, /* full-width a */
			{ "\xe2\x84\xaa\x65lvin", "kelvin",
			    1 },                              /* KELVIN SIGN */
			{ "Stra\xc3\x9f\x65", "strasse", 1 }, /* sharp s */
			{ "alice", "alicf", 0 },
			{ "bob@x.test", "bob@x.tes", 0 },
		};
		char a[CANON_MAX + 1], b[CANON_MAX + 1];

		for (i = 0; i < sizeof(can) / sizeof(can[0]); i++) {
			canon_ident(can[i].a, a, sizeof(a));
			canon_ident(can[i].b, b, sizeof(b));
			ok((strcmp(a, b) == 0) == can[i].same,
			    "canonical '%s' %s '%s'", can[i].a,
			    can[i].same ? "==" : "!=", can[i].b);
		}
		canon_ident("\xff\x41\x42\x43", a, sizeof(a));
		ok(strcmp(a, "\xff\x61\x62\x63") == 0,
		    "non-UTF-8 input is folded ASCII-wise, never dropped");
	}
	ok(valid_reqid("abc-123_x.y") && !valid_reqid("a b") &&
	        !valid_reqid("") && !valid_reqid("x\r\nSet-Cookie: a=b"),
	    "request id charset");
	ok(pw_load_common("data/common-passwords.txt") == 0 ||
	        pw_load_common("../../data/common-passwords.txt") == 0,
	    "common password list loads");
	ok(pw_is_common("password1") && pw_is_common("PASSWORD1") &&
	        pw_is_common("qwertyuiop"),
	    "common passwords found");
	ok(!pw_is_common("correct horse battery staple 42"),
	    "an uncommon password is not common");
	pw_free_common();
	{
		char small[4];

		ok(str_copy(small, sizeof(small), "abcdef") == 3 &&
		        strcmp(small, "abc") == 0,
		    "str_copy cuts to fit and terminates");
		ok(str_copy(small, sizeof(small), "") == 0 && small[0] == '\0',
		    "str_copy of the empty string");
		ok(str_copy(small, 0, "x") == 0, "str_copy into nothing");
	}
	return done_testing();
}
