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

#include "fcgi-auth.h"

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

int
migrate_run(const char *dir)
{
	char *names[512], path[4096], *sql;
	const char *p[1];
	size_t n = 0, i, len;
	struct dirent *de;
	PGresult *res;
	PGconn *c;
	DIR *d;
	int rc = 1, applied = 0, have;

	if (db_connect_raw() == -1) {
		fprintf(stderr, "fcgi-auth: migrate: cannot connect to "
		    "AUTH_DATABASE_URL\n");
		return 1;
	}
	c = db_conn();
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "fcgi-auth: migrate: %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL && n < 512) {
		len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".sql") == 0 &&
		    de->d_name[0] >= '0' && de->d_name[0] <= '9')
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);
	if (run(c, "SELECT pg_advisory_lock(7262616)") == -1 ||
	    run(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version text PRIMARY KEY, applied_at timestamptz NOT NULL "
	    "DEFAULT now())") == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			goto out;
		p[0] = names[i];
		res = PQexecParams(c, "SELECT 1 FROM schema_migrations "
		    "WHERE version = $1", 1, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			fprintf(stderr, "fcgi-auth: migrate: %s",
			    PQerrorMessage(c));
			PQclear(res);
			goto out;
		}
		have = PQntuples(res) > 0;
		PQclear(res);
		if (have)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((sql = slurp(path)) == NULL) {
			fprintf(stderr, "fcgi-auth: migrate: cannot read %s\n",
			    path);
			goto out;
		}
		if (run(c, "BEGIN") == -1 || run(c, sql) == -1) {
			free(sql);
			(void)run(c, "ROLLBACK");
			fprintf(stderr, "fcgi-auth: migrate: %s failed\n",
			    names[i]);
			goto out;
		}
		free(sql);
		res = PQexecParams(c, "INSERT INTO schema_migrations (version) "
		    "VALUES ($1)", 1, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK ||
		    run(c, "COMMIT") == -1) {
			PQclear(res);
			(void)run(c, "ROLLBACK");
			goto out;
		}
		PQclear(res);
		printf("applied %s\n", names[i]);
		applied++;
	}
	printf("migrations up to date (%d applied)\n", applied);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	db_close();
	return rc;
}
