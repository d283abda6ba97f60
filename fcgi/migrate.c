/*
 * Schema migrations: every sql/NNN_*.sql not yet recorded in
 * schema_migrations is applied, in name order, each in its own
 * transaction together with its record. Idempotent; serialised across
 * concurrent runs by an advisory lock.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "fcgi-auth: migrate: %s", PQerrorMessage(c));
	PQclear(res);
	return ok ? 0 : -1;
}

static char *
slurp(const char *path)
{
	char *buf;
	long n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    n > 16 * 1024 * 1024 || fseek(f, 0, SEEK_SET) == -1 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The NNN_*.sql files of dir into names (malloc'd), sorted; -1 on error. */
static int
list_migrations(const char *dir, char **names, size_t cap, size_t *n)
{
	struct dirent *de;
	size_t len;
	DIR *d;

	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "fcgi-auth: migrate: %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL && *n < cap) {
		len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".sql") == 0 &&
		    de->d_name[0] >= '0' && de->d_name[0] <= '9' &&
		    (names[(*n)++] = strdup(de->d_name)) == NULL) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	qsort(names, *n, sizeof(names[0]), cmp);
	return 0;
}

/* A parameterised statement on c: its status is want, or -1. */
static int
run_param(PGconn *c, const char *sql, const char *param, ExecStatusType want,
    int *rows)
{
	const char *p[1] = { param };
	PGresult *res;
	int ok;

	res = PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0);
	ok = PQresultStatus(res) == want;
	if (!ok)
		fprintf(stderr, "fcgi-auth: migrate: %s", PQerrorMessage(c));
	else if (rows != NULL)
		*rows = PQntuples(res);
	PQclear(res);
	return ok ? 0 : -1;
}

/* COMMIT that committed: the tag, not just the status. */
static int
commit(PGconn *c)
{
	PGresult *res = PQexec(c, "COMMIT");
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0;

	if (!ok)
		fprintf(stderr, "fcgi-auth: migrate: COMMIT did not commit\n");
	PQclear(res);
	return ok ? 0 : -1;
}

/* Apply dir/name unless recorded: 1 applied, 0 already, -1 failed. */
static int
apply(PGconn *c, const char *dir, const char *name)
{
	char path[4096], *sql;
	int have, ok;

	if (run_param(c, "SELECT 1 FROM schema_migrations WHERE version = $1",
	        name, PGRES_TUPLES_OK, &have) == -1)
		return -1;
	if (have)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = slurp(path)) == NULL) {
		fprintf(stderr, "fcgi-auth: migrate: cannot read %s\n", path);
		return -1;
	}
	ok = run(c, "BEGIN") == 0 && run(c, sql) == 0 &&
	    run_param(c, "INSERT INTO schema_migrations (version) VALUES ($1)",
	        name, PGRES_COMMAND_OK, NULL) == 0 &&
	    commit(c) == 0;
	free(sql);
	if (!ok) {
		(void)run(c, "ROLLBACK");
		fprintf(stderr, "fcgi-auth: migrate: %s failed\n", name);
		return -1;
	}
	printf("applied %s\n", name);
	return 1;
}

int
migrate_run(const char *dir)
{
	char *names[512];
	size_t n = 0, i;
	PGconn *c;
	int rc = 1, applied = 0, one;

	if (db_connect_raw() == -1) {
		fprintf(stderr,
		    "fcgi-auth: migrate: cannot connect to "
		    "AUTH_DATABASE_URL\n");
		return 1;
	}
	c = db_conn();
	if (list_migrations(dir, names, sizeof(names) / sizeof(names[0]), &n) ==
	    -1)
		goto out;
	if (run(c, "SELECT pg_advisory_lock(7262616)") == -1 ||
	    run(c,
	        "CREATE TABLE IF NOT EXISTS schema_migrations ("
	        "version text PRIMARY KEY, applied_at timestamptz NOT NULL "
	        "DEFAULT now())") == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if ((one = apply(c, dir, names[i])) == -1)
			goto out;
		applied += one;
	}
	printf("migrations up to date (%d applied)\n", applied);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	db_close();
	return rc;
}
