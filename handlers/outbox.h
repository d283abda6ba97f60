/* Mail (outbox.c): a message queued in the caller's transaction. */
#ifndef FA_OUTBOX_H
#define FA_OUTBOX_H

#include <stddef.h>

int mail_queue(const char *kind, const char *to, const char *subject,
    const char *body);
int mail_queuef(const char *kind, const char *to, const char *subject,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int mail_link(char *out, size_t outlen, const char *base, const char *token);

#endif
