/* libFuzzer driver: JWT parse and verify (HS256) on arbitrary tokens. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "jwt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int init;
	struct json_object *c = NULL;
	char err[128];

	if (!init) {
		cfg_load(&cfg, NULL, err, sizeof(err));
		jwt_set_hs_secret((const unsigned char
		                          *)"fuzzing-secret-fuzzing-secret-32",
		    32);
		init = 1;
	}
	if (jwt_verify((const char *)data, len, 1800000000LL, &c) == 0 &&
	    c == NULL)
		abort();
	json_object_put(c);
	return 0;
}
