/* The audit log: one row per security event; never a secret. */
#include "audit.h"
#include "db.h"
#include "request.h"

/*
 * 0 when written, -1 when not: inside a transaction that aborts it, so
 * the caller must fail the request.
 */
int
audit_write(struct req *r, const char *uid, const char *event,
    const char *outcome)
{
	static struct db_stmt q_audit = DB_STMT("audit",
	    "INSERT INTO audit_log (user_id, ip, user_agent, event, outcome) "
	    "VALUES ($1, $2, left($3, 512), $4, $5)");
	const char *p[5] = { uid != NULL && *uid ? uid : NULL,
		r ? r->remote_addr : "", r ? r->user_agent : "", event,
		outcome };

	return db_run(&q_audit, 5, p);
}
