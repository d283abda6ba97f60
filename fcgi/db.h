/*
 * The worker's Postgres connection (db.c): a pool of one, connected
 * lazily, re-established after a failure. A statement is declared where
 * it is bound (its SQL beside the code that reads its columns) and
 * prepared on first use on each connection.
 */
#ifndef FA_DB_H
#define FA_DB_H

struct pg_result;
struct pg_conn;
struct req;

struct db_stmt {
	const char *name; /* prepared statement name, unique */
	const char *sql;  /* its text, $n parameters */
	unsigned gen;     /* connection it is prepared on (db.c) */
};
#define DB_STMT(name, sql) \
	{ \
		name, sql, 0 \
	}

int db_ok(void);
int db_ready(void);
struct pg_result *db_exec(struct db_stmt *, int n, const char *const *params);
int db_run(struct db_stmt *, int n, const char *const *params);
int db_prepare(struct db_stmt *);
int db_begin(void);
int db_commit(void);
void db_rollback(void);
void db_close(void);
int db_down(void);
void resp_db_error(struct req *);
const char *db_sqlstate(void);
const char *db_constraint(void);
int db_connect_raw(void);
struct pg_conn *db_conn(void);
struct json_object;

const char *db_value(struct pg_result *, int row, const char *col);
struct json_object *db_epoch(struct pg_result *, int row, const char *col);

#endif
