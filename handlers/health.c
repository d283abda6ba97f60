/*
 * GET /ping: touches neither Postgres nor Redis (seed 000's EmptyResp).
 * GET /health: checks both; 503 with the same shape when one is down.
 * GET /metrics: the pool's Prometheus text (loopback only, R_LOOPBACK).
 */
#include <stdlib.h>

#include <json-c/json.h>

#include "db.h"
#include "cache.h"
#include "metrics.h"
#include "request.h"
#include "response.h"
#include "routes.h"

void
handle_ping(struct req *r)
{
	resp_raw(r, 200, CONTENT_TYPE_JSON, "{}", 2); /* nothing to build */
}

static const char *
down_message(int pg, int rd)
{
	if (!pg && !rd)
		return "Postgres and Redis are unavailable";
	return !pg ? "Postgres is unavailable" : "Redis is unavailable";
}

void
handle_health(struct req *r)
{
	struct json_object *o;
	int pg, rd;

	pg = db_ok();
	rd = cache_ok();
	o = json_object_new_object();
	json_object_object_add(o, "status",
	    json_object_new_string(pg && rd ? "ok" : "down"));
	json_object_object_add(o, "postgres",
	    json_object_new_string(pg ? "ok" : "down"));
	json_object_object_add(o, "redis",
	    json_object_new_string(rd ? "ok" : "down"));
	if (!(pg && rd)) {
		/* Also the uniform error body, so both shapes hold. */
		json_object_object_add(o, "error",
		    json_object_new_string(ERR_SERVICE_UNAVAILABLE->code));
		json_object_object_add(o, "message",
		    json_object_new_string(down_message(pg, rd)));
	}
	r->no_store = 1;
	resp_json(r, pg && rd ? 200 : 503, o);
}

void
handle_metrics(struct req *r)
{
	size_t len;
	char *text;

	if ((text = metrics_render(&len)) == NULL) {
		resp_error(r, ERR_INTERNAL, NULL);
		return;
	}
	r->no_store = 1;
	resp_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}
