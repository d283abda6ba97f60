/*
 * Mail (outbox.c): a message, rendered from its template (templates/,
 * one file per kind), queued in the caller's transaction; the mailer
 * delivers it.
 */
#ifndef FA_OUTBOX_H
#define FA_OUTBOX_H

#include <stddef.h>

struct req;

enum mail_kind {
	MAIL_EMAIL_VERIFY,
	MAIL_PASSWORD_RESET,
	MAIL_CAPTCHA,
	MAIL_EMAIL_CHANGE,
	MAIL_EMAIL_CHANGE_REQUESTED,
	MAIL_EMAIL_CHANGED,
	MAIL_NEW_DEVICE,
	MAIL_PASSWORD_CHANGED,
	MAIL_PASSWORD_RESET_DONE,
	MAIL_FACTOR_ADDED,
	MAIL_FACTOR_REMOVED,
	MAIL_ACCOUNT_DELETED,
	MAIL_ACCOUNT_DISABLED,
	MAIL__KINDS
};

/* The placeholders a template may name ({{link}}, ...). */
enum mail_var {
	MV_LINK,
	MV_HOURS,
	MV_MINUTES,
	MV_CODE,
	MV_USERNAME,
	MV_NEW_EMAIL,
	MV_FACTOR,
	MV_TIME,
	MV_DEVICE,
	MV_ADDRESS,
	MV_ACCOUNT_URL,
	MV__N
};

struct mail_vars {
	const char *v[MV__N];
};

int mail_templates_load(const char *dir, char *err, size_t errlen);
void mail_templates_free(void);
int mail_send(enum mail_kind, const char *to, struct mail_vars *);
int
mail_notice(struct req *, enum mail_kind, const char *to, struct mail_vars *);
int mail_link(char *out, size_t outlen, const char *base, const char *token);

#endif
