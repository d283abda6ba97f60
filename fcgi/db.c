/*
 * The worker's Postgres connection: a pool of one. Connected lazily with
 * a timeout, checked before use, re-established after a failure without
 * restarting the worker. Every statement is prepared on first use on
 * each connection and executed with out-of-line parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "response.h"

static PGconn *conn;

static unsigned conn_gen; /* counts connections: statements prepared on it */

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
		log_warn("postgres: connect failed: %s",
		    conn ? PQerrorMessage(conn) : "out of memory");
		db_close();
		return -1;
	}
	PQsetNoticeProcessor(conn, notice_quiet, NULL);
	if (++conn_gen == 0)
		conn_gen = 1;
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
	if (db_connect_raw() == -1)
		return -1;
	log_info("postgres: connected");
	metrics_inc(MET_PG_CONNECT);
	return 0;
}

/* A usable, idle connection, or -1. */
static int
db_ensure(void)
{
	if (conn != NULL &&
	    (PQstatus(conn) != CONNECTION_OK ||
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
 * Prepare q on the current connection unless it is already: 0, or -1
 * (the error is logged; inside a transaction, that transaction failed).
 */
int
db_prepare(struct db_stmt *q)
{
	PGresult *res;
	int ok;

	if (conn == NULL)
		return -1;
	if (q->gen == conn_gen)
		return 0;
	res = PQprepare(conn, q->name, q->sql, 0, NULL);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok && PQstatus(conn) == CONNECTION_OK)
		log_err("postgres: prepare %s failed: %s", q->name,
		    PQresultErrorMessage(res));
	PQclear(res);
	if (!ok)
		return -1;
	q->gen = conn_gen;
	return 0;
}

/*
 * Run a prepared statement. On a connection that turns out to be dead
 * outside a transaction (the server restarted since the last request)
 * it reconnects and retries once: nothing was executed on a dead socket.
 */
PGresult *
db_exec(struct db_stmt *q, int n, const char *const *params)
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
		if (db_prepare(q) == -1) {
			if (PQstatus(conn) == CONNECTION_OK || in_tx)
				return NULL;
			log_warn("postgres: connection lost, reconnecting");
			db_close();
			continue;
		}
		res = PQexecPrepared(conn, q->name, n, params, NULL, NULL, 0);
		st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
			return res;
		if ((s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) != NULL)
			snprintf(last_state, sizeof(last_state), "%s", s);
		if ((s = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME)) !=
		    NULL)
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
				log_err("postgres: %s failed: %s", q->name,
				    PQresultErrorMessage(res));
			PQclear(res);
			return NULL;
		}
		PQclear(res);
		log_warn("postgres: connection lost, reconnecting");
		db_close();
	}
	return NULL;
}

/* A statement whose rows nobody reads: 0, or -1 as db_exec fails. */
int
db_run(struct db_stmt *q, int n, const char *const *params)
{
	PGresult *res;

	if ((res = db_exec(q, n, params)) == NULL)
		return -1;
	PQclear(res);
	return 0;
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
		    PQresultStatus(res) == PGRES_COMMAND_OK ?
		        PQcmdStatus(res) :
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

/*
 * Is the failure we just saw an outage or a transient conflict (503: a
 * retry may well succeed; a deadlock or a serialization failure rolled
 * the transaction back) rather than a bug (500)?
 */
int
db_down(void)
{
	return conn == NULL || PQstatus(conn) != CONNECTION_OK ||
	    strncmp(last_state, "40", 2) == 0 ||
	    strcmp(last_state, "57014") == 0 ||
	    strcmp(last_state, "25006") == 0 ||
	    strncmp(last_state, "08", 2) == 0 ||
	    strncmp(last_state, "57P", 3) == 0;
}

/*
 * Row row's value of the column named col, for the readers of result
 * rows: "" when the result has no such row or column (never NULL).
 */
const char *
db_value(PGresult *res, int row, const char *col)
{
	int c;

	if (res == NULL || row < 0 || row >= PQntuples(res) ||
	    (c = PQfnumber(res, col)) < 0)
		return "";
	return PQgetvalue(res, row, c);
}

/*
 * A column of Unix seconds as a JSON integer; NULL (JSON null) when it
 * is SQL NULL or the result has no such row or column.
 */
struct json_object *
db_epoch(PGresult *res, int row, const char *col)
{
	int c;

	if (res == NULL || row < 0 || row >= PQntuples(res) ||
	    (c = PQfnumber(res, col)) < 0 || PQgetisnull(res, row, c))
		return NULL;
	return json_object_new_int64(atoll(PQgetvalue(res, row, c)));
}

/* The answer for a failed statement: 503 for an outage, else 500. */
void
resp_db_error(struct req *r)
{
	db_rollback();
	resp_error(r, db_down() ? ERR_SERVICE_UNAVAILABLE : ERR_INTERNAL, NULL);
}
