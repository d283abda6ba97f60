/*
 * fcgi-auth: options, subcommands, the configuration and what depends on
 * it (keys, the data key, the common-password list), and the hand-over
 * to the runtime: the route table, the metric names and the hooks the
 * master calls (fcgi/worker.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "counters.h"
#include "crypto.h"
#include "datakey.h"
#include "db.h"
#include "dispatch.h"
#include "jwt.h"
#include "log.h"
#include "metrics.h"
#include "mfa.h"
#include "outbox.h"
#include "migrate.h"
#include "password.h"
#include "routes.h"
#include "session.h"
#include "users.h"
#include "worker.h"

static const char *const counter_names[] = COUNTER_NAMES;
static char *cfg_file;

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
	    "usage: fcgi-auth [-c FILE] [-s PATH|HOST:PORT]   serve FastCGI\n"
	    "       fcgi-auth --version\n"
	    "       fcgi-auth [-c FILE] --check-config       print "
	    "configuration\n"
	    "       fcgi-auth [-c FILE] migrate [DIR]        apply sql/ "
	    "migrations\n"
	    "       fcgi-auth [-c FILE] user list [Q]\n"
	    "       fcgi-auth [-c FILE] user show|disable|enable|logout-all|"
	    "reset-mfa NAME\n"
	    "       fcgi-auth [-c FILE] user set-role NAME user|admin\n");
	exit(2);
}

/* Dev mode: generate the HS256 secret on first start. */
static int
dev_secret(void)
{
	char err[256];

	if (!cfg.dev || strcmp(cfg.jwt_alg, "HS256") != 0)
		return 0;
	if (*cfg.jwt_secret_file == '\0') {
		free(cfg.jwt_secret_file);
		if ((cfg.jwt_secret_file = strdup("var/jwt-secret")) == NULL)
			return -1;
	}
	if (access(cfg.jwt_secret_file, F_OK) == 0)
		return 0;
	if (secret_file_create("AUTH_JWT_SECRET_FILE", cfg.jwt_secret_file, 48,
	        err, sizeof(err)) == -1) {
		fprintf(stderr, "fcgi-auth: %s\n", err);
		return -1;
	}
	return 0;
}

static int
load_all(const char *file, int first)
{
	struct config next, prev;
	char err[512];

	if (cfg_load(&next, file, err, sizeof(err)) == -1) {
		fprintf(stderr, "fcgi-auth: %s\n", err);
		if (!first)
			log_err("reload: %s (keeping the old configuration)",
			    err);
		cfg_free(&next);
		return -1;
	}
	prev = cfg;
	cfg = next;
	log_set_level(cfg.log_level);
	err[0] = '\0';
	if (dev_secret() == -1 || jwt_init(err, sizeof(err)) == -1 ||
	    datakey_load(err, sizeof(err)) == -1) {
		if (err[0])
			fprintf(stderr, "fcgi-auth: %s\n", err);
		log_err("configuration: %s", err);
		cfg_free(&cfg);
		cfg = prev;
		if (!first) {
			(void)jwt_init(err, sizeof(err));
			(void)datakey_load(err, sizeof(err));
		}
		return -1;
	}
	pw_free_common();
	if (pw_load_common(cfg.common_passwords) == -1) {
		fprintf(stderr,
		    "fcgi-auth: AUTH_COMMON_PASSWORDS_FILE: cannot read %s\n",
		    cfg.common_passwords);
		if (first)
			return -1;
	}
	if (mail_templates_load(cfg.mail_templates, err, sizeof(err)) == -1) {
		fprintf(stderr, "fcgi-auth: AUTH_MAIL_TEMPLATES: %s\n", err);
		log_err("AUTH_MAIL_TEMPLATES: %s", err);
		if (first)
			return -1;
	}
	if (!first)
		cfg_free(&prev);
	return 0;
}

static int
reload(void)
{
	return load_all(cfg_file, 0);
}

/* --check-config, migrate, user ...: the exit status. */
static int
command(int check, int argc, char **argv)
{
	char err[512];
	int rc;

	if (cfg_load(&cfg, cfg_file, err, sizeof(err)) == -1) {
		fprintf(stderr, "fcgi-auth: %s\n", err);
		return 1;
	}
	log_set_level(cfg.log_level);
	if (check) {
		cfg_print(&cfg, stdout);
		rc = (!cfg.dev &&
		         (jwt_init(err, sizeof(err)) == -1 ||
		             datakey_load(err, sizeof(err)) == -1)) ||
		    mail_templates_load(cfg.mail_templates, err, sizeof(err)) ==
		        -1;
		if (rc)
			fprintf(stderr, "fcgi-auth: %s\n", err);
		datakey_free();
		mail_templates_free();
		return rc;
	}
	if (strcmp(argv[0], "migrate") == 0 && argc <= 2)
		rc = migrate_run(argc == 2 ? argv[1] : cfg.sql_dir);
	else if (strcmp(argv[0], "user") == 0 &&
	    (rc = cli_user(argc, argv)) != -2)
		;
	else
		usage();
	db_close();
	cfg_free(&cfg);
	return rc;
}

static int
serve(const char *sock)
{
	static const struct master_hooks hooks = { "fcgi-auth", reload,
		pw_init };
	int rc;

	if (geteuid() == 0) {
		fprintf(stderr,
		    "fcgi-auth: refusing to run as root "
		    "(use spawn-fcgi -u USER or a service user)\n");
		return 1;
	}
	if (load_all(cfg_file, 1) == -1 || master_listen(sock) == -1)
		return 1;
	if (dispatch_init(&app_routes) == -1 ||
	    metrics_set_counters(counter_names,
	        sizeof(counter_names) / sizeof(counter_names[0])) == -1) {
		fprintf(stderr,
		    "fcgi-auth: the route table or the metrics do not fit\n");
		return 1;
	}
	rc = master_run(&hooks);
	jwt_free();
	datakey_free();
	pw_free_common();
	mail_templates_free();
	cfg_free(&cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	char *sock = NULL;
	int i, check = 0, rc;

	master_init(argc, argv);
	for (i = 1; i < argc; i++) {
		/* Copies: the process title later overwrites the argv area. */
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfg_file = strdup(argv[++i]);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock = strdup(argv[++i]);
		else if (strcmp(argv[i], "--check-config") == 0)
			check = 1;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("fcgi-auth %s\n", PACKAGE_VERSION);
			return 0;
		} else if (argv[i][0] == '-')
			usage();
		else
			break;
	}
	if (check || i < argc)
		rc = command(check, argc - i, argv + i);
	else
		rc = serve(sock);
	free(sock);
	free(cfg_file);
	return rc;
}
