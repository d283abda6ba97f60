/*
 * libFuzzer driver: the request parser. The input is split into lines
 * that become the FastCGI environment (NAME=value) for req_init and the
 * route lookup; each line is also fed to the Cookie, Authorization and
 * query-string parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "request.h"
#include "routes.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s, out[128];
	const char *tok;
	size_t tlen;
	static int ready;

	if (!ready++ && dispatch_init(&app_routes) == -1)
		abort();
	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	(void)req_cookie(s, "sid", out, sizeof(out));
	(void)req_cookie(s, "refresh", out, 8);
	if (req_bearer(s, &tok, &tlen) == 0 &&
	    (tok < s || tok + tlen > s + len))
		abort();
	(void)req_query(s, "token", out, sizeof(out));
	(void)req_query(s, "user_id", out, 3);
	(void)req_method(s);
	{
		char *envp[17], *line, *save = NULL, allow[64], param[44];
		struct req r;
		int n = 0, known;

		for (line = strtok_r(s, "\n", &save); line != NULL && n < 16;
		     line = strtok_r(NULL, "\n", &save))
			envp[n++] = line;
		envp[n] = NULL;
		req_init(&r, NULL, envp);
		(void)route_find(r.path, r.method, &known, allow, sizeof(allow),
		    param, sizeof(param));
		if (strlen(r.reqid) == 0 || strlen(r.reqid) > REQID_MAX)
			abort();
		req_free(&r);
	}
	free(s);
	return 0;
}
