/*
 * fcgi-auth user list|show|disable|enable|set-role|logout-all|reset-mfa:
 * the admin API's operations (admin.c) for the operator, with the same
 * rules (the last admin stays) and audit rows (actor "cli"). NAME is a
 * username or an email address. Output: list, a line per user (tab-
 * separated); show, the admin API's JSON object; the rest, a sentence.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "cli.h"
#include "config.h"
#include "datakey.h"
#include "log.h"
#include "mfa.h"
#include "outbox.h"

static const char *
str(struct json_object *o, const char *k)
{
	const char *s = json_object_get_string(json_object_object_get(o, k));

	return s ? s : "";
}

/* user list [Q]: every matching user, page by page. */
static int
list(const char *q)
{
	char after[80] = "", next[80];
	struct json_object *users, *u;
	size_t i;

	do {
		if (admin_search(q, after, 100, &users, next, sizeof(next)) ==
		    -1) {
			fprintf(stderr, "fcgi-auth: database unavailable\n");
			return 1;
		}
		for (i = 0; i < json_object_array_length(users); i++) {
			u = json_object_array_get_idx(users, i);
			printf("%s\t%s\t%s\t%s\t%s%s%s\n", str(u, "user_id"),
			    str(u, "username"), str(u, "email"), str(u, "role"),
			    json_object_get_boolean(
			        json_object_object_get(u, "disabled")) ?
			        "disabled" :
			        "enabled",
			    json_object_get_boolean(
			        json_object_object_get(u, "mfa")) ?
			        ",mfa" :
			        "",
			    json_object_get_boolean(
			        json_object_object_get(u, "email_verified")) ?
			        ",verified" :
			        "");
		}
		json_object_put(users);
		snprintf(after, sizeof(after), "%s", next);
	} while (*after);
	return 0;
}

static int
why(enum admin_rc rc, const char *name)
{
	if (rc == ADM_NO_USER)
		fprintf(stderr, "fcgi-auth: no such user: %s\n", name);
	else if (rc == ADM_LAST_ADMIN)
		fprintf(stderr,
		    "fcgi-auth: %s is the last admin: make another one "
		    "first\n",
		    name);
	else
		fprintf(stderr,
		    "fcgi-auth: database or Redis unavailable; nothing was "
		    "changed\n");
	return 1;
}

/* A command about one user (uid, named name): the exit status. */
static int
one(const char *cmd, const char *name, const char *uid, const char *arg)
{
	struct admin_change c = { NULL, -1, -1 };
	struct json_object *o;
	enum admin_rc rc;
	int n = 0;

	if (strcmp(cmd, "show") == 0) {
		if ((o = admin_user(uid)) == NULL)
			return why(ADM_FAILED, name);
		printf("%s\n",
		    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		return 0;
	}
	if (strcmp(cmd, "logout-all") == 0) {
		if ((rc = admin_logout_all(NULL, "cli", uid, &n)) != ADM_OK)
			return why(rc, name);
		printf("%s: %d sessions ended\n", name, n);
		return 0;
	}
	if (strcmp(cmd, "reset-mfa") == 0) {
		if ((n = mfa_reset_user(NULL, uid, "cli")) != 0)
			return why(n == 1 ? ADM_NO_USER : ADM_FAILED, name);
		printf("%s: second factors removed, every session ended\n",
		    name);
		return 0;
	}
	if (strcmp(cmd, "set-role") == 0)
		c.role = arg;
	else
		c.disabled = strcmp(cmd, "disable") == 0;
	if ((rc = admin_update(NULL, "cli", uid, &c)) != ADM_OK)
		return why(rc, name);
	if (c.role)
		printf("%s is now %s\n", name, c.role);
	else
		printf("%s is %s%s\n", name,
		    c.disabled ? "disabled" : "enabled",
		    c.disabled ? ": every session and token ended" : "");
	return 0;
}

/* Is argv a user command this knows, with its arguments? */
static int
known(int argc, char **argv)
{
	static const char *const one_arg[] = { "show", "disable", "enable",
		"logout-all", "reset-mfa" };
	size_t i;

	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return argc <= 3;
	if (argc == 4 && strcmp(argv[1], "set-role") == 0)
		return 1;
	for (i = 0; i < sizeof(one_arg) / sizeof(one_arg[0]); i++)
		if (argc == 3 && strcmp(argv[1], one_arg[i]) == 0)
			return 1;
	return 0;
}

/* argv: "user", the command, its arguments. -2: not one (usage). */
int
cli_user(int argc, char **argv)
{
	char uid[UUID_LEN + 1], err[512];
	int rc;

	if (!known(argc, argv))
		return -2;
	/* stdout is the answer; stderr says only what went wrong */
	if (strcmp(cfg.log_level, "debug") != 0)
		log_set_level("warn");
	if (strcmp(argv[1], "set-role") == 0 && strcmp(argv[3], "user") != 0 &&
	    strcmp(argv[3], "admin") != 0) {
		fprintf(stderr, "fcgi-auth: role must be user or admin\n");
		return 2;
	}
	if (strcmp(argv[1], "list") == 0)
		return list(argc == 3 ? argv[2] : "");
	if ((rc = admin_uid_of(argv[2], uid)) != 1) {
		fprintf(stderr, "fcgi-auth: %s\n",
		    rc == 0 ? "no such user" : "database unavailable");
		return 1;
	}
	/* some mail the user: the outbox needs the key and templates */
	if (datakey_load(err, sizeof(err)) == -1 ||
	    mail_templates_load(cfg.mail_templates, err, sizeof(err)) == -1) {
		fprintf(stderr, "fcgi-auth: %s\n", err);
		return 1;
	}
	rc = one(argv[1], argv[2], uid, argc == 4 ? argv[3] : NULL);
	datakey_free();
	mail_templates_free();
	return rc;
}
