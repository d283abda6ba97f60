/*
 * POST /auth/tokens, GET /auth/tokens, DELETE /auth/tokens/{id}: the
 * caller's personal access tokens (pat.h). Made with a session's access
 * token only (a token cannot make tokens); the secret is answered once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "authn.h"
#include "config.h"
#include "db.h"
#include "errors.h"
#include "fields.h"
#include "pat.h"
#include "routes.h"
#include "validate.h"

#define DEFAULT_TTL 2592000L /* 30 days, or AUTH_PAT_MAX_TTL if shorter */
#define SCOPES_MAX  10

static struct db_stmt q_insert = DB_STMT("pat_insert",
    "INSERT INTO personal_access_tokens (id, user_id, token_hash, name, "
    "scopes, expires_at) VALUES ($1, $2, $3, $4, $5::text[], now() + "
    "make_interval(secs => $6)) RETURNING "
    "extract(epoch FROM created_at)::bigint AS created, "
    "extract(epoch FROM expires_at)::bigint AS exp");
static struct db_stmt q_list = DB_STMT("pat_list",
    "SELECT id, name, array_to_json(scopes)::text AS scopes, "
    "extract(epoch FROM created_at)::bigint AS created, "
    "extract(epoch FROM expires_at)::bigint AS exp, "
    "extract(epoch FROM last_used_at)::bigint AS used "
    "FROM personal_access_tokens WHERE user_id = $1 AND revoked_at IS NULL "
    "ORDER BY created_at DESC, id");

static struct db_stmt q_revoke_one = DB_STMT("pat_revoke_one",
    "UPDATE personal_access_tokens SET revoked_at = now() WHERE id = $1 "
    "AND user_id = $2 AND revoked_at IS NULL RETURNING token_hash, "
    "extract(epoch FROM expires_at)::bigint AS exp");
static struct db_stmt q_count = DB_STMT("pat_count",
    "SELECT (SELECT count(*) FROM personal_access_tokens p WHERE "
    "p.user_id = u.id AND p.revoked_at IS NULL AND p.expires_at > now()) "
    "AS n FROM users u WHERE u.id = $1 FOR UPDATE");

/*
 * The scopes field as a Postgres array literal ({a,b}: valid_scope
 * allows no quote, comma or brace) and as JSON. 0, or -1 with the 400.
 */
static int
scopes_read(struct req *r, char *lit, size_t litlen, struct json_object **js)
{
	struct json_object *v = NULL;
	size_t i, n = 0, o = 0;

	*js = json_object_new_array();
	if (r->arg[TOK_SCOPES] != NULL &&
	    json_object_object_get_ex(r->json, "scopes", &v))
		n = json_object_array_length(v);
	if (n > SCOPES_MAX) {
		json_object_put(*js);
		resp_field_error(r, "scopes",
		    "Field 'scopes' must have at most 10 scopes");
		return -1;
	}
	buf_put(lit, &o, litlen, "{", 1);
	for (i = 0; i < n; i++) {
		const char *s =
		    json_object_get_string(json_object_array_get_idx(v, i));

		if (i > 0)
			buf_put(lit, &o, litlen, ",", 1);
		buf_put(lit, &o, litlen, s, 64);
		json_object_array_add(*js, json_object_new_string(s));
	}
	buf_put(lit, &o, litlen, "}", 1);
	lit[o] = '\0';
	return 0;
}

/* The lifetime asked for (expires_in, seconds): 0, or -1 with the 400. */
static int
ttl_read(struct req *r, char out[24])
{
	long max = cfg.pat_max_ttl, ttl;
	char msg[120];

	ttl = r->arg[TOK_EXPIRES] ? atol(r->arg[TOK_EXPIRES]) :
	    DEFAULT_TTL < max     ? DEFAULT_TTL :
	                            max;
	if (ttl < 60 || ttl > max) {
		snprintf(msg, sizeof(msg),
		    "Field 'expires_in' must be 60 to %ld seconds", max);
		resp_field_error(r, "expires_in", msg);
		return -1;
	}
	snprintf(out, 24, "%ld", ttl);
	return 0;
}

/* In the open transaction: room for one more? 1, 0 (400 written), -1. */
static int
room(struct req *r, const char *uid)
{
	const char *p[1] = { uid };
	PGresult *res;
	long n;

	if ((res = db_exec(&q_count, 1, p)) == NULL)
		return -1;
	n = PQntuples(res) == 1 ? atol(db_value(res, 0, "n")) : PAT_PER_USER;
	PQclear(res);
	if (n < PAT_PER_USER)
		return 1;
	db_rollback();
	resp_error(r, ERR_INVALID_REQUEST,
	    "An account has at most 50 personal access tokens: revoke one");
	return 0;
}

static void
created(struct req *r, PGresult *res, const char *id, const char *tok,
    struct json_object *scopes)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "token_id", json_object_new_string(id));
	json_object_object_add(o, "token", json_object_new_string(tok));
	json_object_object_add(o, "name",
	    json_object_new_string(r->arg[TOK_NAME]));
	json_object_object_add(o, "scopes", scopes);
	json_object_object_add(o, "created_at",
	    json_object_new_int64(atoll(db_value(res, 0, "created"))));
	json_object_object_add(o, "expires_at",
	    json_object_new_int64(atoll(db_value(res, 0, "exp"))));
	r->no_store = 1;
	resp_json(r, 201, o);
}

void
handle_token_create(struct req *r)
{
	const char *uid = auth_of(r)->uid;
	char tok[PAT_LEN + 1], hash[65], id[UUID_LEN + 1], ttl[24], lit[800];
	const char *p[6] = { id, uid, hash, r->arg[TOK_NAME], lit, ttl };
	struct json_object *scopes;
	PGresult *res = NULL;
	int ok;

	if (ttl_read(r, ttl) == -1 ||
	    scopes_read(r, lit, sizeof(lit), &scopes) == -1)
		return;
	if (crypto_uuid(id) == -1 || pat_generate(tok) == -1) {
		json_object_put(scopes);
		resp_error(r, ERR_INTERNAL, NULL);
		return;
	}
	crypto_sha256_hex(tok, PAT_LEN, hash);
	if (db_begin() == -1 || (ok = room(r, uid)) == -1 ||
	    (ok == 1 &&
	        ((res = db_exec(&q_insert, 6, p)) == NULL ||
	            audit_write(r, uid, "pat_created", "success") == -1 ||
	            db_commit() == -1))) {
		json_object_put(scopes);
		resp_db_error(r);
	} else if (ok == 1)
		created(r, res, id, tok, scopes);
	else
		json_object_put(scopes);
	PQclear(res);
	crypto_wipe(tok, sizeof(tok));
}

void
handle_tokens_list(struct req *r)
{
	const char *p[1] = { auth_of(r)->uid };
	struct json_object *o, *a, *t;
	PGresult *res;
	int i;

	if ((res = db_exec(&q_list, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	a = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		t = json_object_new_object();
		json_object_object_add(t, "token_id",
		    json_object_new_string(db_value(res, i, "id")));
		json_object_object_add(t, "name",
		    json_object_new_string(db_value(res, i, "name")));
		json_object_object_add(t, "scopes",
		    json_tokener_parse(db_value(res, i, "scopes")));
		json_object_object_add(t, "created_at",
		    db_epoch(res, i, "created"));
		json_object_object_add(t, "expires_at",
		    db_epoch(res, i, "exp"));
		json_object_object_add(t, "last_used_at",
		    db_epoch(res, i, "used"));
		json_object_array_add(a, t);
	}
	PQclear(res);
	o = json_object_new_object();
	json_object_object_add(o, "tokens", a);
	resp_json(r, 200, o);
}

/* DELETE /auth/tokens/{id}: the caller's own; dead at once (tombstone). */
void
handle_token_delete(struct req *r)
{
	const char *p[2] = { r->param, auth_of(r)->uid };
	struct json_object *o;
	PGresult *res;

	if (!valid_uuid(r->param)) {
		resp_error(r, ERR_NOT_FOUND, "No such token");
		return;
	}
	if (db_begin() == -1 || (res = db_exec(&q_revoke_one, 2, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback();
		resp_error(r, ERR_NOT_FOUND, "No such token");
		return;
	}
	if (pat_revoke_rows(res) == -1) {
		PQclear(res);
		db_rollback();
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	PQclear(res);
	if (audit_write(r, p[1], "pat_revoked", "success") == -1 ||
	    db_commit() == -1) {
		resp_db_error(r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	resp_json(r, 200, o);
}
