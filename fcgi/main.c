/*
 * fcgi-auth: options, configuration, start-up checks, and the master
 * that preforks workers on the FastCGI socket, restarts the ones that
 * die (with back-off), drains on SIGTERM and reloads on SIGHUP.
 *
 * Two pools: the fast pool serves the socket spawn-fcgi passed (or -s),
 * the hash pool (fewer workers, at a lower CPU priority) its own socket,
 * AUTH_HASH_SOCKET, to which nginx sends the routes that hash a
 * password. A flood of logins then queues for the hash pool's workers
 * and yields the CPU to token checks; it can never occupy the workers
 * that answer /auth/me.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#include "fcgi-auth.h"

#define MAX_WORKERS	256

struct slot {
	int	 pool;		/* POOL_FAST or POOL_HASH */
	pid_t	 pid;		/* 0 when empty */
	double	 started;	/* monotonic seconds */
	int	 fails;		/* consecutive quick deaths */
	double	 respawn_at;	/* when an empty slot is refilled */
};

static struct slot slots[MAX_WORKERS];
static int nslots;
static int listen_fd = -1;
static int hash_fd = -1;	/* the hash pool's socket, -1 without one */
static char hash_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct stat hash_st;	/* its inode: unlinked at exit only if ours */
static char *cfg_file;
static char *title_base;
static size_t title_len;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: fcgi-auth [-c FILE] [-s PATH|HOST:PORT]   serve FastCGI\n"
	    "       fcgi-auth [-c FILE] --check-config       print configuration\n"
	    "       fcgi-auth [-c FILE] migrate [DIR]        apply sql/ migrations\n"
	    "       fcgi-auth [-c FILE] user set-role NAME user|admin\n");
	exit(2);
}

/* Overwrite the argv area so ps shows "fcgi-auth: master" / "worker". */
static void
set_title(const char *t)
{
	if (title_base == NULL || title_len < 2)
		return;
	memset(title_base, 0, title_len);
	snprintf(title_base, title_len, "%s", t);
}

static void
init_title(int argc, char **argv)
{
	int i;

	title_base = argv[0];
	for (i = 0; i < argc; i++)
		if (argv[i] == title_base + title_len || i == 0)
			title_len = (size_t)(argv[i] + strlen(argv[i]) + 1 -
			    title_base);
}

static void
ensure_std_fds(void)
{
	int fd;

	/* fd 0 is the listen socket under spawn-fcgi; 1 and 2 must exist. */
	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

static int
is_socket(int fd)
{
	int type;
	socklen_t len = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
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
	if (secret_file_create("AUTH_JWT_SECRET_FILE", cfg.jwt_secret_file,
	    48, err, sizeof(err)) == -1) {
		fprintf(stderr, "fcgi-auth: %s\n", err);
		return -1;
	}
	return 0;
}

static pid_t
spawn(int i)
{
	sigset_t none;
	pid_t pid, master = getpid();

	if ((pid = fork()) == -1) {
		log_err("master: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/*
		 * A master killed outright (SIGKILL, a crash) must take its
		 * workers with it: they would keep serving a socket that the
		 * next master, started by supervisord, has replaced.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != master)
			_exit(0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		worker_pool = slots[i].pool;
		worker_has_hash_pool = hash_fd != -1;
		if (slots[i].pool == POOL_HASH) {
			if (setpriority(PRIO_PROCESS, 0, (int)cfg.hash_nice) == -1)
				log_warn("hash worker: setpriority: %s",
				    strerror(errno));
			set_title("fcgi-auth: hash worker");
		} else
			set_title("fcgi-auth: worker");
		/* exit(), not _exit(): LeakSanitizer checks at exit. */
		exit(worker_run(slots[i].pool == POOL_HASH ? hash_fd :
		    listen_fd));
	}
	slots[i].pid = pid;
	slots[i].started = now_mono();
	slots[i].respawn_at = 0;
	return pid;
}

/* Wait for one child to exit, re-sending SIGTERM, then SIGKILL. */
static void
stop_child(pid_t pid, double deadline)
{
	double next = 0;

	for (;;) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		if (now_mono() > deadline) {
			log_warn("master: worker %d did not drain, killing",
			    (int)pid);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return;
		}
		if (now_mono() >= next) {
			kill(pid, SIGTERM);
			next = now_mono() + 0.2;
		}
		usleep(10000);
	}
}

static void
drain_all(void)
{
	double deadline = now_mono() + (double)cfg.drain_timeout;
	int i;

	log_info("master: draining %d workers", nslots);
	for (i = 0; i < nslots; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, SIGTERM);
	for (i = 0; i < nslots; i++)
		if (slots[i].pid > 0) {
			stop_child(slots[i].pid, deadline);
			slots[i].pid = 0;
		}
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
		fprintf(stderr, "fcgi-auth: AUTH_COMMON_PASSWORDS_FILE: "
		    "cannot read %s\n", cfg.common_passwords);
		if (first)
			return -1;
	}
	if (!first)
		cfg_free(&prev);
	return 0;
}

static void
reload(void)
{
	double deadline;
	pid_t old;
	int i;

	log_info("master: SIGHUP, reloading configuration");
	if (load_all(cfg_file, 0) == -1)
		return;
	/* Replace workers one at a time so capacity never drops to zero. */
	for (i = 0; i < nslots; i++) {
		old = slots[i].pid;
		if (spawn(i) == -1) {
			slots[i].pid = old;
			continue;
		}
		if (old > 0) {
			deadline = now_mono() + (double)cfg.drain_timeout;
			stop_child(old, deadline);
		}
	}
	log_info("master: reload complete");
}

/* A unix socket path (not HOST:PORT)? */
static int
is_path(const char *s)
{
	return strchr(s, '/') != NULL || strchr(s, ':') == NULL;
}

/*
 * The hash pool's socket: AUTH_HASH_SOCKET (a path or HOST:PORT), or,
 * when unset and the main socket is a unix socket X.sock, X-hash.sock
 * beside it; "none" runs one pool only. A unix socket is made 0660 with
 * the main socket's group when the service user may set it (nginx must
 * be able to connect to both). 0, or -1.
 */
static int
open_hash_socket(void)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct stat st;
	char main_path[sizeof(sa.sun_path)];
	size_t n;
	mode_t old;

	main_path[0] = '\0';
	memset(&sa, 0, sizeof(sa));
	if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) == 0 &&
	    sa.sun_family == AF_UNIX && sa.sun_path[0] == '/')
		snprintf(main_path, sizeof(main_path), "%s", sa.sun_path);
	if (strcmp(cfg.hash_socket, "none") == 0)
		return 0;
	if (*cfg.hash_socket != '\0') {
		if (strlen(cfg.hash_socket) >= sizeof(hash_path)) {
			fprintf(stderr, "fcgi-auth: AUTH_HASH_SOCKET: too long\n");
			return -1;
		}
		snprintf(hash_path, sizeof(hash_path), "%s", cfg.hash_socket);
	} else if (main_path[0] != '\0') {
		n = strlen(main_path);
		if (n > 5 && strcmp(main_path + n - 5, ".sock") == 0)
			n -= 5;
		if (snprintf(hash_path, sizeof(hash_path), "%.*s-hash.sock",
		    (int)n, main_path) >= (int)sizeof(hash_path)) {
			fprintf(stderr, "fcgi-auth: socket path too long\n");
			return -1;
		}
	} else {
		log_warn("master: one pool only: the socket is not a unix "
		    "socket and AUTH_HASH_SOCKET is not set");
		return 0;
	}
	if (is_path(hash_path) && lstat(hash_path, &st) == 0 &&
	    S_ISSOCK(st.st_mode))
		unlink(hash_path);	/* left by an earlier master */
	old = umask(0117);
	hash_fd = FCGX_OpenSocket(hash_path, 1024);
	umask(old);
	if (hash_fd < 0) {
		fprintf(stderr, "fcgi-auth: cannot listen on %s\n", hash_path);
		hash_fd = -1;
		return -1;
	}
	if (is_path(hash_path) && stat(hash_path, &hash_st) == -1)
		memset(&hash_st, 0, sizeof(hash_st));
	if (is_path(hash_path) && main_path[0] != '\0' &&
	    stat(main_path, &st) == 0 && st.st_gid != getegid() &&
	    chown(hash_path, (uid_t)-1, st.st_gid) == -1)
		log_warn("master: %s: cannot give it the group of %s (%s); "
		    "nginx's user must be in group %d", hash_path, main_path,
		    strerror(errno), (int)getegid());
	return 0;
}

static int
master(void)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	sigset_t set;
	siginfo_t si;
	double t, backoff;
	long n;
	pid_t pid;
	int i, sig, st;

	n = cfg.workers > 0 ? cfg.workers : 2 * sysconf(_SC_NPROCESSORS_ONLN);
	nslots = (int)(n < 1 ? 1 : n > MAX_WORKERS / 2 ? MAX_WORKERS / 2 : n);
	for (i = 0; i < nslots; i++)
		slots[i].pool = POOL_FAST;
	if (hash_fd != -1) {
		/* yescrypt is CPU-bound: more workers than cores only queue. */
		n = cfg.hash_workers > 0 ? cfg.hash_workers :
		    sysconf(_SC_NPROCESSORS_ONLN);
		n = n < 1 ? 1 : n > MAX_WORKERS / 2 ? MAX_WORKERS / 2 : n;
		for (i = 0; i < n; i++)
			slots[nslots + i].pool = POOL_HASH;
		nslots += (int)n;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	set_title("fcgi-auth: master");
	for (i = 0; i < nslots; i++)
		if (spawn(i) == -1)
			return 1;
	if (hash_fd != -1)
		log_info("master: %d workers started (%ld in the hash pool, "
		    "nice %ld, on %s)", nslots, n, cfg.hash_nice, hash_path);
	else
		log_info("master: %d workers started (no hash pool)", nslots);
	for (;;) {
		sig = sigtimedwait(&set, &si, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			drain_all();
			log_info("master: exiting");
			return 0;
		}
		if (sig == SIGHUP)
			reload();
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (i = 0; i < nslots; i++)
				if (slots[i].pid == pid)
					break;
			if (i == nslots)
				continue;	/* a replaced worker */
			t = now_mono();
			if (WIFSIGNALED(st))
				log_warn("master: worker %d killed by signal "
				    "%d", (int)pid, WTERMSIG(st));
			else if (WEXITSTATUS(st) != 0)
				log_warn("master: worker %d exited with %d",
				    (int)pid, WEXITSTATUS(st));
			/* A clean exit is a recycle (AUTH_MAX_REQUESTS), not a crash. */
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				slots[i].fails = 0;
			else
				slots[i].fails = t - slots[i].started < 1.0 ?
				    slots[i].fails + 1 : 0;
			backoff = slots[i].fails == 0 ? 0 :
			    0.1 * (double)(1 << (slots[i].fails > 6 ? 6 :
			    slots[i].fails));
			slots[i].pid = 0;
			slots[i].respawn_at = t + backoff;
			if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
				metrics_inc(MET_WORKER_RESTART);
		}
		t = now_mono();
		for (i = 0; i < nslots; i++)
			if (slots[i].pid == 0 && slots[i].respawn_at <= t)
				spawn(i);
	}
}

static int
cmd_set_role(const char *name, const char *role)
{
	const char *p[2] = { name, role };
	PGresult *res;
	int ok;

	if (strcmp(role, "user") != 0 && strcmp(role, "admin") != 0) {
		fprintf(stderr, "fcgi-auth: role must be user or admin\n");
		return 2;
	}
	if ((res = db_exec(Q_USER_SET_ROLE, 2, p)) == NULL) {
		fprintf(stderr, "fcgi-auth: database unavailable\n");
		return 1;
	}
	ok = PQntuples(res) == 1;
	PQclear(res);
	if (!ok) {
		fprintf(stderr, "fcgi-auth: no such user: %s\n", name);
		return 1;
	}
	printf("%s is now %s\n", name, role);
	return 0;
}

int
main(int argc, char **argv)
{
	char *sock = NULL, err[512];
	struct stat st;
	int i, check = 0, rc;

	init_title(argc, argv);
	for (i = 1; i < argc; i++) {
		/* Copies: set_title() later overwrites the argv area. */
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfg_file = strdup(argv[++i]);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock = strdup(argv[++i]);
		else if (strcmp(argv[i], "--check-config") == 0)
			check = 1;
		else if (argv[i][0] == '-')
			usage();
		else
			break;
	}
	if (check || i < argc) {
		if (cfg_load(&cfg, cfg_file, err, sizeof(err)) == -1) {
			fprintf(stderr, "fcgi-auth: %s\n", err);
			return 1;
		}
		log_set_level(cfg.log_level);
		if (check) {
			cfg_print(&cfg, stdout);
			if (!cfg.dev && (jwt_init(err, sizeof(err)) == -1 ||
			    datakey_load(err, sizeof(err)) == -1)) {
				fprintf(stderr, "fcgi-auth: %s\n", err);
				return 1;
			}
			datakey_free();
			return 0;
		}
		if (strcmp(argv[i], "migrate") == 0 && argc - i <= 2)
			rc = migrate_run(i + 1 < argc ? argv[i + 1] : cfg.sql_dir);
		else if (strcmp(argv[i], "user") == 0 && argc - i == 4 &&
		    strcmp(argv[i + 1], "set-role") == 0)
			rc = cmd_set_role(argv[i + 2], argv[i + 3]);
		else
			usage();
		db_close();
		cfg_free(&cfg);
		return rc;
	}

	ensure_std_fds();
	if (geteuid() == 0) {
		fprintf(stderr, "fcgi-auth: refusing to run as root "
		    "(use spawn-fcgi -u USER or a service user)\n");
		return 1;
	}
	if (load_all(cfg_file, 1) == -1)
		return 1;
	if (sock != NULL) {
		/* 0660: only the service user and nginx's group may connect. */
		mode_t old = umask(0117);

		listen_fd = FCGX_OpenSocket(sock, 1024);
		umask(old);
		if (listen_fd < 0) {
			fprintf(stderr, "fcgi-auth: cannot listen on %s\n",
			    sock);
			return 1;
		}
	} else if (is_socket(0)) {
		listen_fd = 0;		/* inherited from spawn-fcgi */
	} else {
		fprintf(stderr, "fcgi-auth: fd 0 is not a socket: run under "
		    "spawn-fcgi or pass -s PATH|HOST:PORT\n");
		return 1;
	}
	if (metrics_init() == -1 || dispatch_metrics_labels() == -1 ||
	    rl_init() == -1) {
		fprintf(stderr, "fcgi-auth: cannot map the shared areas\n");
		return 1;
	}
	if (open_hash_socket() == -1)
		return 1;
	if (FCGX_Init() != 0) {
		fprintf(stderr, "fcgi-auth: FCGX_Init failed\n");
		return 1;
	}
	rc = master();
	/* Not a socket a newer master has made at the same path since. */
	if (hash_fd != -1 && is_path(hash_path) && stat(hash_path, &st) == 0 &&
	    st.st_ino == hash_st.st_ino && st.st_dev == hash_st.st_dev)
		unlink(hash_path);
	free(sock);
	free(cfg_file);
	jwt_free();
	datakey_free();
	pw_free_common();
	cfg_free(&cfg);
	return rc;
}
