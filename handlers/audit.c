/* The audit log: one row per security event; never a secret. */
#include "audit.h"
#include "db.h"
#include "request.h"

/*
 * A row about user uid, done by actor (an admin's user id, "cli", or
 * NULL: the user, or nobody known). 0 when written, -1 when not: inside
 * a transaction that aborts it, so the caller must fail the request.
 */
int
audit_write_by(struct req *r, const char *uid, const char *actor,
    const char *event, const char *outcome)
{
	static struct db_stmt q_audit = DB_STMT("audit",
	    "INSERT INTO audit_log (user_id, ip, user_agent, event, outcome, "
	    "actor) VALUES ($1, $2, left($3, 512), $4, $5, $6)");
	const char *p[6] = { uid != NULL && *uid ? uid : NULL,
		r ? r->remote_addr : "", r ? r->user_agent : "", event, outcome,
		actor };

	return db_run(&q_audit, 6, p);
}

int
audit_write(struct req *r, const char *uid, const char *event,
    const char *outcome)
{
	return audit_write_by(r, uid, NULL, event, outcome);
}
