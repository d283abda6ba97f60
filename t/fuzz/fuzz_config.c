/* libFuzzer driver: configuration lines, and the input as AUTH_REDIS_URL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct config c;
	static int init;
	char *s, err[256];

	if (!init) {
		cfg_load(&c, NULL, err, sizeof(err));
		init = 1;
	}
	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	(void)cfg_parse_line(&c, s, err, sizeof(err));
	(void)cache_check_url(s, err, sizeof(err));
	free(s);
	return 0;
}
