/* libFuzzer driver: Cookie, Authorization and query-string parsing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi-auth.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s, out[128];
	const char *tok;
	size_t tlen;

	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	(void)req_cookie(s, "sid", out, sizeof(out));
	(void)req_cookie(s, "refresh", out, 8);
	if (req_bearer(s, &tok, &tlen) == 0 && (tok < s || tok + tlen > s + len))
		abort();
	(void)req_query(s, "token", out, sizeof(out));
	(void)req_query(s, "user_id", out, 3);
	(void)req_method(s);
	free(s);
	return 0;
}
