/*
 * Mail templates: see mailtpl.h. A template is the operator's text, read
 * once; the values are the request's (a user agent, an address), so a
 * value is pasted as it is, never read for placeholders itself, and the
 * subject takes none at all: nothing a client sends reaches a header.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailtpl.h"
#include "validate.h"

#define NAME_MAX_LEN 32

/* The placeholder at s ("{{name}}"): its name's index in names, or -1. */
static int
placeholder(const char *s, size_t len, const char *const *names, size_t *used)
{
	const char *end;
	size_t n;
	int i;

	if (len < 5 || s[0] != '{' || s[1] != '{')
		return -1;
	if ((end = memchr(s + 2, '}', len - 2)) == NULL ||
	    (size_t)(end - s) + 2 > len || end[1] != '}')
		return -1;
	n = (size_t)(end - s) - 2;
	if (n == 0 || n > NAME_MAX_LEN)
		return -1;
	for (i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s + 2, n) == 0) {
			*used = n + 4;
			return i;
		}
	return -1;
}

static int
fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* The subject line: printable ASCII only, 1-200 bytes. */
static int
subject_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 200)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '{')
			return 0;
	return 1;
}

/* Every "{{" in the body opens a known placeholder. */
static int
body_ok(const char *s, size_t len, const char *const *names)
{
	size_t i, used;

	if (!utf8_valid(s, len) || memchr(s, '\0', len) != NULL)
		return 0;
	for (i = 0; i + 1 < len; i++)
		if (s[i] == '{' && s[i + 1] == '{') {
			if (placeholder(s + i, len - i, names, &used) == -1)
				return 0;
			i += used - 1;
		}
	return 1;
}

int
mailtpl_parse(struct mailtpl *t, const char *text, size_t len,
    const char *const *names, char *err, size_t errlen)
{
	const char *nl, *body;
	size_t sl;

	t->subject = t->body = NULL;
	if (len > MAILTPL_MAX)
		return fail(err, errlen, "longer than 8 KiB");
	if (len < 9 || memcmp(text, "Subject: ", 9) != 0 ||
	    (nl = memchr(text, '\n', len)) == NULL)
		return fail(err, errlen, "does not start with a Subject: line");
	sl = (size_t)(nl - text) - 9;
	if (sl > 0 && text[9 + sl - 1] == '\r')
		sl--;
	if (!subject_ok(text + 9, sl))
		return fail(err, errlen,
		    "the subject must be 1-200 printable ASCII characters, "
		    "without placeholders");
	body = nl + 1;
	if (body < text + len && *body == '\r')
		body++;
	if (body >= text + len || *body != '\n')
		return fail(err, errlen, "no blank line after the subject");
	body++;
	if (!body_ok(body, (size_t)(text + len - body), names))
		return fail(err, errlen,
		    "the body is not UTF-8 text, or names an unknown "
		    "{{placeholder}}");
	if ((t->subject = strndup(text + 9, sl)) == NULL ||
	    (t->body = strndup(body, (size_t)(text + len - body))) == NULL) {
		mailtpl_free(t);
		return fail(err, errlen, "out of memory");
	}
	return 0;
}

int
mailtpl_load(struct mailtpl *t, const char *path, const char *const *names,
    char *err, size_t errlen)
{
	char buf[MAILTPL_MAX + 1], why[160];
	ssize_t n;
	size_t len = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) &&
	    (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if ((rc = mailtpl_parse(t, buf, len, names, why, sizeof(why))) == -1)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}

void
mailtpl_free(struct mailtpl *t)
{
	free(t->subject);
	free(t->body);
	t->subject = t->body = NULL;
}

/*
 * The body with each placeholder replaced by its value (values[i] for
 * names[i]; NULL renders as nothing), into out: 0, or -1 when it does
 * not fit.
 */
int
mailtpl_render(const struct mailtpl *t, const char *const *names,
    const char *const *values, char *out, size_t outlen)
{
	const char *s = t->body;
	size_t len = strlen(s), o = 0, i, used, vl;
	int k;

	for (i = 0; i < len;) {
		if (s[i] == '{' && i + 1 < len && s[i + 1] == '{' &&
		    (k = placeholder(s + i, len - i, names, &used)) != -1) {
			vl = values[k] ? strlen(values[k]) : 0;
			if (o + vl >= outlen)
				return -1;
			memcpy(out + o, values[k] ? values[k] : "", vl);
			o += vl;
			i += used;
			continue;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = s[i++];
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return 0;
}
