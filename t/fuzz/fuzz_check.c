/*
 * libFuzzer driver: where the sign-in page may send the browser
 * (redirect_allowed, behind GET /auth/redirect). Whatever the input, an
 * allowed target is a path of the site or starts with the request's
 * own origin followed by the end, '/', '?' or '#'; it never holds a
 * backslash, a control byte, a space or a byte beyond ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char own[] = "http://site.test:8080";
	static char none[] = "";
	struct req r;
	char *u;
	size_t i, n;

	if ((u = malloc(len + 1)) == NULL)
		return 0;
	memcpy(u, data, len);
	u[len] = '\0';
	memset(&r, 0, sizeof(r));
	r.scheme = "http";
	r.host = "site.test:8080";
	cfg.allowed_origins = none;
	if (redirect_allowed(&r, u)) {
		n = strlen(u);
		for (i = 0; i < n; i++)
			if ((unsigned char)u[i] <= 0x20 ||
			    (unsigned char)u[i] >= 0x7f || u[i] == '\\')
				abort();
		if (u[0] == '/') {
			if (u[1] == '/')
				abort();
		} else if (strncasecmp(u, own, sizeof(own) - 1) != 0 ||
		    (u[sizeof(own) - 1] != '\0' &&
		        strchr("/?#", u[sizeof(own) - 1]) == NULL))
			abort();
	}
	free(u);
	return 0;
}
