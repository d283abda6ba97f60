/*
 * Mail from handlers: messages are written to the email_outbox table in
 * the caller's transaction; the mailer process delivers them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "crypto.h"
#include "datakey.h"
#include "db.h"
#include "log.h"
#include "outbox.h"

static struct db_stmt q_insert = DB_STMT("outbox_insert",
    "INSERT INTO email_outbox (kind, to_addr, subject, body) "
    "VALUES ($1, $2, $3, $4)");

/*
 * The body (it carries links and codes) is stored sealed under the data
 * key, bound to its recipient; only the mailer opens it, and it wipes
 * the body once the message is sent or given up.
 */
int
mail_queue(const char *kind, const char *to, const char *subject,
    const char *body)
{
	const char *p[4] = { kind, to, subject, NULL };
	char *sealed;
	int rc;

	if ((sealed = datakey_seal(DK_OUTBOX, to, body)) == NULL) {
		log_err("mail: cannot seal a message (no data key?)");
		return -1;
	}
	p[3] = sealed;
	rc = db_run(&q_insert, 4, p);
	free(sealed);
	return rc;
}

/* mail_queue of a body formatted from fmt; the text is wiped after. */
int
mail_queuef(const char *kind, const char *to, const char *subject,
    const char *fmt, ...)
{
	char body[8192];
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	rc = n < 0 || (size_t)n >= sizeof(body) ?
	    -1 :
	    mail_queue(kind, to, subject, body);
	crypto_wipe(body, sizeof(body));
	return rc;
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
