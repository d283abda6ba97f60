/* Unit tests: the strict JSON pre-parser, one line per case. */
#include <string.h>

#include "json_strict.h"
#include "tap.h"

int
main(void)
{
	/* ok: what json_strict_check answers (0, or -1) */
	static const struct tap_case cases[] = {
		{ "{}", 0 },
		{ " {\"a\":1} \n", 0 },
		{ "[1,2,{\"x\":[true,false,null]}]", 0 },
		{ "{\"a\":\"\\u00e9\\n\\\"\"}", 0 },
		{ "{\"a\":-0.5e+10}", 0 },
		{ "{\"a\":\"\\ud83d\\ude00\"}", 0 },
		{ "{\"a\":\"caf\xc3\xa9\"}", 0 },
		{ "", -1 },
		{ "{", -1 },
		{ "{\"a\"}", -1 },
		{ "{\"a\":}", -1 },
		{ "{\"a\":1,}", -1 },
		{ "[1,]", -1 },
		{ "{} {}", -1 },
		{ "{'a':1}", -1 },
		{ "{\"a\":01}", -1 },
		{ "{\"a\":1.}", -1 },
		{ "{\"a\":.5}", -1 },
		{ "{\"a\":+1}", -1 },
		{ "{\"a\":NaN}", -1 },
		{ "{\"a\":tru}", -1 },
		{ "{\"a\":\"\\u0000\"}", -1 },
		{ "{\"a\":\"\\x41\"}", -1 },
		{ "{\"a\":\"\\ud800\"}", -1 },
		{ "{\"a\":\"\\udc00\"}", -1 },
		{ "{\"a\":\"\xff\"}", -1 },
		{ "{\"a\":\"\xc0\xaf\"}", -1 },
		{ "{\"a\":\"tab\there\"}", -1 },
		{ "{\"a\":1} x", -1 },
		{ "{\"a\":1,\"a\":2}", -2 },
		{ "{\"a\":1,\"\\u0061\":2}", -2 },
		{ "{\"x\":{\"b\":1,\"b\":1}}", -2 },
		{ "[{\"k\":1},{\"k\":1}]", 0 },
		{ "{\"a\":{\"a\":1}}", 0 },
	};
	char deep[200], dup[72];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(json_strict_check(cases[i].s, strlen(cases[i].s), 32, dup,
		       sizeof(dup)) == cases[i].ok,
		    "case %zu -> %d", i, cases[i].ok);
	json_strict_check("{\"a\":1,\"\\u0061\":2}", 18, 32, dup, sizeof(dup));
	ok(strcmp(dup, "a") == 0, "duplicate key named: %s", dup);
	ok(json_strict_check("{\"a\":\"x\0y\"}", 11, 32, dup, sizeof(dup)) ==
	        -1,
	    "raw NUL refused");
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	ok(json_strict_check(deep, 80, 32, dup, sizeof(dup)) == -1,
	    "depth 40 refused");
	ok(json_strict_check(deep + 8, 64, 32, dup, sizeof(dup)) == 0,
	    "depth 32 accepted");
	return done_testing();
}
