/*
 * Mail from handlers: each message is rendered from its kind's template
 * and written to the email_outbox table in the caller's transaction; the
 * mailer process delivers it. Security notices (a new device, a changed
 * password, ...) carry the request's time, device and address, and come
 * at most once per kind and address per AUTH_NOTICE_INTERVAL, so a
 * flood of changes is not a flood of mail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "config.h"
#include "crypto.h"
#include "datakey.h"
#include "db.h"
#include "log.h"
#include "mailtpl.h"
#include "outbox.h"
#include "request.h"
#include "validate.h"

static const char *const kind_names[MAIL__KINDS] = {
	[MAIL_EMAIL_VERIFY] = "email_verify",
	[MAIL_PASSWORD_RESET] = "password_reset",
	[MAIL_CAPTCHA] = "captcha",
	[MAIL_EMAIL_CHANGE] = "email_change",
	[MAIL_EMAIL_CHANGE_REQUESTED] = "email_change_requested",
	[MAIL_EMAIL_CHANGED] = "email_changed",
	[MAIL_NEW_DEVICE] = "new_device",
	[MAIL_PASSWORD_CHANGED] = "password_changed",
	[MAIL_PASSWORD_RESET_DONE] = "password_reset_done",
	[MAIL_FACTOR_ADDED] = "factor_added",
	[MAIL_FACTOR_REMOVED] = "factor_removed",
	[MAIL_ACCOUNT_DELETED] = "account_deleted",
	[MAIL_ACCOUNT_DISABLED] = "account_disabled",
};
static const char *const var_names[MV__N + 1] = {
	[MV_LINK] = "link",
	[MV_HOURS] = "hours",
	[MV_MINUTES] = "minutes",
	[MV_CODE] = "code",
	[MV_USERNAME] = "username",
	[MV_NEW_EMAIL] = "new_email",
	[MV_FACTOR] = "factor",
	[MV_TIME] = "time",
	[MV_DEVICE] = "device",
	[MV_ADDRESS] = "address",
	[MV_ACCOUNT_URL] = "account_url",
	[MV__N] = NULL,
};
static struct mailtpl tpl[MAIL__KINDS];

static struct db_stmt q_insert = DB_STMT("outbox_insert",
    "INSERT INTO email_outbox (kind, to_addr, subject, body) "
    "VALUES ($1, $2, $3, $4)");
static struct db_stmt q_notice = DB_STMT("outbox_notice",
    "INSERT INTO email_outbox (kind, to_addr, subject, body) "
    "SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM email_outbox "
    "WHERE lower(to_addr) = lower($2) AND kind = $1 AND "
    "created_at > now() - make_interval(secs => $5))");

/* Every kind's template from dir (DIR/KIND.txt): 0, or -1 with err. */
int
mail_templates_load(const char *dir, char *err, size_t errlen)
{
	struct mailtpl next[MAIL__KINDS];
	char path[4200];
	int i, j;

	for (i = 0; i < MAIL__KINDS; i++) {
		snprintf(path, sizeof(path), "%s/%s.txt", dir, kind_names[i]);
		if (mailtpl_load(&next[i], path, var_names, err, errlen) ==
		    -1) {
			for (j = 0; j < i; j++)
				mailtpl_free(&next[j]);
			return -1;
		}
	}
	mail_templates_free();
	memcpy(tpl, next, sizeof(tpl));
	return 0;
}

void
mail_templates_free(void)
{
	int i;

	for (i = 0; i < MAIL__KINDS; i++)
		mailtpl_free(&tpl[i]);
}

/*
 * The rendered message, sealed under the data key (it carries links and
 * codes) and bound to its recipient; only the mailer opens it, and it
 * wipes the body once the message is sent or given up. With interval,
 * nothing is queued when a message of the kind went to the address
 * within it (0 then too: the notice was sent).
 */
static int
queue(enum mail_kind k, const char *to, struct mail_vars *mv, long interval)
{
	char body[MAILTPL_MAX], secs[24], *sealed = NULL;
	const char *p[5] = { kind_names[k], to, tpl[k].subject, NULL, secs };
	int rc = -1;

	if (tpl[k].body == NULL ||
	    mailtpl_render(&tpl[k], var_names, mv->v, body, sizeof(body)) == -1)
		log_err("mail: cannot render %s (template missing or too long)",
		    kind_names[k]);
	else if ((p[3] = sealed = datakey_seal(DK_OUTBOX, to, body)) == NULL)
		log_err("mail: cannot seal a message (no data key?)");
	else {
		snprintf(secs, sizeof(secs), "%ld", interval);
		rc = interval > 0 ? db_run(&q_notice, 5, p) :
		                    db_run(&q_insert, 4, p);
	}
	free(sealed);
	crypto_wipe(body, sizeof(body));
	return rc;
}

/* A message of kind k to the address to, in the caller's transaction. */
int
mail_send(enum mail_kind k, const char *to, struct mail_vars *mv)
{
	return queue(k, to, mv, 0);
}

/*
 * A security notice to the address to, in the caller's transaction: the
 * template's time, device and address are the request's (r NULL: the
 * operator's command line), its link the account page. It grants
 * nothing: {{link}} renders empty in a notice whatever its template says,
 * so a link made for another address never reaches this one.
 */
int
mail_notice(struct req *r, enum mail_kind k, const char *to,
    struct mail_vars *mv)
{
	char when[40], device[200];
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof(when), "%lld (Unix time)",
		    (long long)now);
	if (r == NULL)
		snprintf(device, sizeof(device), "the fcgi-auth command line");
	else if (utf8_sanitize(r->user_agent, device, sizeof(device)) == 0)
		snprintf(device, sizeof(device), "unknown");
	mv->v[MV_TIME] = when;
	mv->v[MV_DEVICE] = device;
	mv->v[MV_ADDRESS] = r && *r->remote_addr ? r->remote_addr : "unknown";
	mv->v[MV_ACCOUNT_URL] = cfg.account_url;
	mv->v[MV_LINK] = NULL;
	/* a deletion's confirmation is no flood: it always goes */
	return queue(k, to, mv,
	    k == MAIL_ACCOUNT_DELETED ? 0 : cfg.notice_interval);
}

/* BASE?token=TOKEN (or &token= when BASE has a query already). */
int
mail_link(char *out, size_t outlen, const char *base, const char *token)
{
	int n;

	n = snprintf(out, outlen, "%s%stoken=%s", base,
	    strchr(base, '?') ? "&" : "?", token);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
