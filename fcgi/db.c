/*
 * The worker's Postgres connection: a pool of one. Connected lazily with
 * a timeout, checked before use, re-established after a failure without
 * restarting the worker. Every statement is prepared once per connection
 * and executed with out-of-line parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "fcgi-auth.h"

static PGconn *conn;

#define ACTIVE "revoked_at IS NULL AND idle_expires_at > now() " \
	"AND absolute_expires_at > now()"
#define EPOCH(c) "extract(epoch FROM " c ")::bigint"
#define USER_COLS "id, username, email, display_name, avatar_url, " \
	"email_verified, " EPOCH("created_at") ", role, password_hash"

static const struct {
	const char	*name;		/* prepared statement name */
	const char	*sql;		/* statement text, $n parameters */
} stmts[Q__MAX] = {
	[Q_USER_INSERT] = { "user_insert",
	    "INSERT INTO users (username, email, password_hash, display_name) "
	    "VALUES ($1, $2, $3, $4) RETURNING id" },
	[Q_USER_BY_LOGIN] = { "user_by_login",
	    "SELECT " USER_COLS " FROM users "
	    "WHERE lower(username) = lower($1) OR lower(email) = lower($1) "
	    "LIMIT 1" },
	[Q_USER_BY_ID] = { "user_by_id",
	    "SELECT " USER_COLS " FROM users WHERE id = $1" },
	[Q_USER_SET_HASH] = { "user_set_hash",
	    "UPDATE users SET password_hash = $2, updated_at = now() "
	    "WHERE id = $1" },
	[Q_USER_UPDATE_PROFILE] = { "user_update_profile",
	    "UPDATE users SET display_name = COALESCE($2, display_name), "
	    "avatar_url = COALESCE($3, avatar_url), updated_at = now() "
	    "WHERE id = $1 RETURNING " USER_COLS },
	[Q_USER_SET_ROLE] = { "user_set_role",
	    "UPDATE users SET role = $2, updated_at = now() "
	    "WHERE lower(username) = lower($1) RETURNING id" },
	[Q_USER_ROLE] = { "user_role",
	    "SELECT role FROM users WHERE id = $1" },
	[Q_SESSION_INSERT] = { "session_insert",
	    "INSERT INTO sessions (id, user_id, idle_expires_at, "
	    "absolute_expires_at, ip, user_agent) VALUES ($1, $2, "
	    "to_timestamp($3), to_timestamp($4), $5, $6)" },
	[Q_SESSION_ACTIVE] = { "session_active",
	    "SELECT s.user_id, " EPOCH("s.idle_expires_at") ", "
	    EPOCH("s.absolute_expires_at") ", u.email FROM sessions s "
	    "JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND "
	    "s.revoked_at IS NULL AND s.idle_expires_at > now() AND "
	    "s.absolute_expires_at > now()" },
	[Q_SESSION_TRIM] = { "session_trim",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = 'limit' "
	    "WHERE id IN (SELECT id FROM sessions WHERE user_id = $1 AND "
	    ACTIVE " ORDER BY created_at DESC, id OFFSET $2) "
	    "RETURNING id, " EPOCH("absolute_expires_at") },
	[Q_SESSION_REVOKE] = { "session_revoke",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = $2 "
	    "WHERE id = $1 AND revoked_at IS NULL "
	    "RETURNING id, " EPOCH("absolute_expires_at") },
	[Q_SESSION_REVOKE_USER] = { "session_revoke_user",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = $2 "
	    "WHERE user_id = $1 AND " ACTIVE
	    " RETURNING id, " EPOCH("absolute_expires_at") },
	[Q_SESSION_REVOKE_OTHERS] = { "session_revoke_others",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = $2 "
	    "WHERE user_id = $1 AND id <> $3 AND " ACTIVE
	    " RETURNING id, " EPOCH("absolute_expires_at") },
	[Q_SESSION_LIST] = { "session_list",
	    "SELECT id, " EPOCH("created_at") ", " EPOCH("last_used_at") ", "
	    EPOCH("LEAST(idle_expires_at, absolute_expires_at)") ", ip, "
	    "user_agent FROM sessions WHERE user_id = $1 AND " ACTIVE
	    " ORDER BY created_at DESC, id LIMIT 10000" },
	[Q_SESSION_TOUCH] = { "session_touch",
	    "UPDATE sessions SET last_used_at = now(), idle_expires_at = "
	    "LEAST(to_timestamp($2), absolute_expires_at) WHERE id = $1 AND "
	    ACTIVE " RETURNING " EPOCH("idle_expires_at") ", "
	    EPOCH("absolute_expires_at") },
	[Q_SESSION_REVOKE_OWN] = { "session_revoke_own",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = 'deleted' "
	    "WHERE id = $1 AND user_id = $2 AND " ACTIVE
	    " RETURNING id, " EPOCH("absolute_expires_at") },
	[Q_RT_INSERT] = { "rt_insert",
	    "INSERT INTO refresh_tokens (session_id, token_hash) "
	    "VALUES ($1, $2)" },
	[Q_RT_LOOKUP] = { "rt_lookup",
	    "SELECT id, session_id, rotated_at IS NOT NULL "
	    "FROM refresh_tokens WHERE token_hash = $1" },
	[Q_REFRESH] = { "refresh",
	    "SELECT outcome, session_id, user_id, email, idle_exp, abs_exp "
	    "FROM refresh_rotate($1, $2, $3, $4, $5, $6, $7)" },
	[Q_AUDIT] = { "audit",
	    "INSERT INTO audit_log (user_id, ip, user_agent, event, outcome) "
	    "VALUES ($1, $2, left($3, 512), $4, $5)" },
	[Q_OUTBOX_INSERT] = { "outbox_insert",
	    "INSERT INTO email_outbox (kind, to_addr, subject, body) "
	    "VALUES ($1, $2, $3, $4)" },
	[Q_VERIFY_INSERT] = { "verify_insert",
	    "INSERT INTO email_verifications (token_hash, user_id, expires_at) "
	    "VALUES ($1, $2, now() + make_interval(secs => $3))" },
	[Q_VERIFY_CONSUME] = { "verify_consume",
	    "UPDATE email_verifications SET used_at = now() "
	    "WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() "
	    "RETURNING user_id" },
	[Q_USER_SET_VERIFIED] = { "user_set_verified",
	    "UPDATE users SET email_verified = true, updated_at = now() "
	    "WHERE id = $1" },
	[Q_USER_BY_EMAIL] = { "user_by_email",
	    "SELECT id, username, email FROM users WHERE lower(email) = lower($1)" },
	[Q_RESET_SET] = { "reset_set",
	    "UPDATE users SET reset_token = $2, reset_token_expire = now() + "
	    "make_interval(secs => $3) WHERE id = $1" },
	[Q_RESET_LOOKUP] = { "reset_lookup",
	    "SELECT id, username, email FROM users WHERE reset_token = $1 "
	    "AND reset_token_expire > now()" },
	[Q_RESET_CONSUME] = { "reset_consume",
	    "UPDATE users SET reset_token = NULL, reset_token_expire = NULL, "
	    "password_hash = $2, email_verified = true, updated_at = now() "
	    "WHERE reset_token = $1 AND "
	    "reset_token_expire > now() RETURNING id" },
};

static void
notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

void
db_close(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
}

/* Connect without preparing statements (used by migrate). */
int
db_connect_raw(void)
{
	char timeout[16], opts[64];
	const char *kw[] = { "dbname", "connect_timeout", "options",
	    "application_name", NULL };
	const char *val[5];

	db_close();
	snprintf(timeout, sizeof(timeout), "%ld", cfg.db_timeout);
	snprintf(opts, sizeof(opts), "-c statement_timeout=%ld",
	    cfg.db_timeout * 2500);
	val[0] = cfg.database_url;
	val[1] = timeout;
	val[2] = opts;
	val[3] = "fcgi-auth";
	val[4] = NULL;
	conn = PQconnectdbParams(kw, val, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		metrics_inc(MET_PG_CONNECT_FAIL);
		log_warn("postgres: connect failed: %s", conn ?
		    PQerrorMessage(conn) : "out of memory");
		db_close();
		return -1;
	}
	PQsetNoticeProcessor(conn, notice_quiet, NULL);
	return 0;
}

struct pg_conn *
db_conn(void)
{
	return conn;
}

static int
db_connect(void)
{
	PGresult *res;
	int i;

	if (db_connect_raw() == -1)
		return -1;
	for (i = 0; i < Q__MAX; i++) {
		res = PQprepare(conn, stmts[i].name, stmts[i].sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_err("postgres: prepare %s failed: %s",
			    stmts[i].name, PQerrorMessage(conn));
			PQclear(res);
			db_close();
			return -1;
		}
		PQclear(res);
	}
	log_info("postgres: connected");
	metrics_inc(MET_PG_CONNECT);
	return 0;
}

/* A usable, idle connection, or -1. */
static int
db_ensure(void)
{
	if (conn != NULL && (PQstatus(conn) != CONNECTION_OK ||
	    PQtransactionStatus(conn) == PQTRANS_INERROR ||
	    PQtransactionStatus(conn) == PQTRANS_UNKNOWN))
		db_close();
	if (conn == NULL)
		return db_connect();
	return 0;
}

/* A connection is up (made now if need be); no query is run. */
int
db_ready(void)
{
	return db_ensure() == 0;
}

int
db_ok(void)
{
	PGresult *res;
	int ok;

	if (db_ensure() == -1)
		return 0;
	res = PQexec(conn, "SELECT 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	if (!ok && PQstatus(conn) != CONNECTION_OK) {
		db_close();
		if (db_ensure() == -1)
			return 0;
		res = PQexec(conn, "SELECT 1");
		ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
	}
	return ok;
}

static char last_state[6];
static char last_constraint[64];

const char *
db_sqlstate(void)
{
	return last_state;
}

const char *
db_constraint(void)
{
	return last_constraint;
}

/*
 * Run a prepared statement. On a connection that turns out to be dead
 * outside a transaction (the server restarted since the last request)
 * it reconnects and retries once: nothing was executed on a dead socket.
 */
PGresult *
db_exec(enum db_stmt q, int n, const char *const *params)
{
	PGresult *res;
	ExecStatusType st;
	const char *s;
	int tries, in_tx;

	last_state[0] = last_constraint[0] = '\0';
	for (tries = 0; tries < 2; tries++) {
		if (db_ensure() == -1)
			return NULL;
		in_tx = PQtransactionStatus(conn) != PQTRANS_IDLE;
		res = PQexecPrepared(conn, stmts[q].name, n, params, NULL, NULL,
		    0);
		st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
			return res;
		if ((s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) != NULL)
			snprintf(last_state, sizeof(last_state), "%s", s);
		if ((s = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME)) != NULL)
			snprintf(last_constraint, sizeof(last_constraint), "%s",
			    s);
		if (strcmp(last_state, "25006") == 0) {
			/*
			 * Read-only: this server was demoted (or is a
			 * standby a failover left us on). Drop it; the next
			 * connect finds the read-write one (conninfo lists
			 * every host, target_session_attrs=read-write).
			 */
			log_warn("postgres: server is read-only, reconnecting");
			PQclear(res);
			db_close();
			return NULL;
		}
		if (PQstatus(conn) == CONNECTION_OK || in_tx) {
			if (strcmp(last_state, "23505") != 0)
				log_err("postgres: %s failed: %s",
				    stmts[q].name, PQresultErrorMessage(res));
			PQclear(res);
			return NULL;
		}
		PQclear(res);
		log_warn("postgres: connection lost, reconnecting");
		db_close();
	}
	return NULL;
}

static int
simple(const char *sql)
{
	PGresult *res;
	int ok;

	res = PQexec(conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		log_err("postgres: %s failed: %s", sql, PQerrorMessage(conn));
	PQclear(res);
	return ok ? 0 : -1;
}

int
db_begin(void)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (db_ensure() == -1)
			return -1;
		if (simple("BEGIN") == 0)
			return 0;
		if (PQstatus(conn) == CONNECTION_OK)
			return -1;
		db_close();
	}
	return -1;
}

/*
 * COMMIT of a transaction in which a statement failed "succeeds" with
 * the tag ROLLBACK: only the tag COMMIT means the writes are durable.
 */
int
db_commit(void)
{
	PGresult *res;
	int ok;

	if (conn == NULL)
		return -1;
	if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
		log_err("postgres: COMMIT of a failed transaction refused");
		db_rollback();
		return -1;
	}
	res = PQexec(conn, "COMMIT");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0;
	if (!ok)
		log_err("postgres: COMMIT did not commit (%s)",
		    PQresultStatus(res) == PGRES_COMMAND_OK ? PQcmdStatus(res) :
		    PQerrorMessage(conn));
	PQclear(res);
	return ok ? 0 : -1;
}

void
db_rollback(void)
{
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
	    PQtransactionStatus(conn) != PQTRANS_IDLE)
		(void)simple("ROLLBACK");
}

/* Is the failure we just saw an outage (503) rather than a bug (500)? */
int
db_down(void)
{
	return conn == NULL || PQstatus(conn) != CONNECTION_OK ||
	    strcmp(last_state, "57014") == 0 ||
	    strcmp(last_state, "25006") == 0 ||
	    strncmp(last_state, "08", 2) == 0 || strncmp(last_state, "57P", 3) == 0;
}

/*
 * One audit row; never a secret. 0 when written, -1 when not: inside a
 * transaction that aborts it, so the caller must fail the request.
 */
int
db_audit(struct req *r, const char *uid, const char *event,
    const char *outcome)
{
	const char *p[5];
	PGresult *res;

	p[0] = uid != NULL && *uid ? uid : NULL;
	p[1] = r ? r->remote_addr : "";
	p[2] = r ? r->user_agent : "";
	p[3] = event;
	p[4] = outcome;
	if ((res = db_exec(Q_AUDIT, 5, p)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* The answer for a failed statement: 503 for an outage, else 500. */
void
resp_db_error(struct req *r)
{
	db_rollback();
	resp_error(r, db_down() ? ERR_SERVICE_UNAVAILABLE : ERR_INTERNAL, NULL);
}
