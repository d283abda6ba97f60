/* The audit log (audit.c): one row per security event, never a secret. */
#ifndef FA_AUDIT_H
#define FA_AUDIT_H

struct req;
int audit_write(struct req *, const char *uid, const char *event,
    const char *outcome);
int audit_write_by(struct req *, const char *uid, const char *actor,
    const char *event, const char *outcome);

#endif
