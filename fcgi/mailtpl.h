/*
 * Mail templates (mailtpl.c): a plain-text file per message, a
 * "Subject: " line, a blank line, then the body with {{name}}
 * placeholders. Parsed once at start-up against the names the
 * application allows; rendered into a buffer per message.
 */
#ifndef FA_MAILTPL_H
#define FA_MAILTPL_H

#include <stddef.h>

#define MAILTPL_MAX 8192 /* longest template file, and rendered body */

struct mailtpl {
	char *subject; /* printable ASCII, no placeholders */
	char *body;    /* UTF-8, placeholders checked */
};

int mailtpl_parse(struct mailtpl *, const char *text, size_t len,
    const char *const *names, char *err, size_t errlen);
int mailtpl_load(struct mailtpl *, const char *path, const char *const *names,
    char *err, size_t errlen);
void mailtpl_free(struct mailtpl *);
int mailtpl_render(const struct mailtpl *, const char *const *names,
    const char *const *values, char *out, size_t outlen);

#endif
