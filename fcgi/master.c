/*
 * The master: it preforks workers on the FastCGI socket, restarts the
 * ones that die (with back-off), drains on SIGTERM and, on SIGHUP, has
 * the application reload its configuration and replaces the workers.
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

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "worker.h"

#define MAX_WORKERS 256

struct slot {
	int pool;          /* POOL_FAST or POOL_HASH */
	pid_t pid;         /* 0 when empty */
	double started;    /* monotonic seconds */
	int fails;         /* consecutive quick deaths */
	double respawn_at; /* when an empty slot is refilled */
};

static struct slot slots[MAX_WORKERS];
static int nslots;
static int listen_fd = -1;
static int hash_fd = -1; /* the hash pool's socket, -1 without one */
static char hash_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct stat hash_st; /* its inode: unlinked at exit only if ours */
static const struct master_hooks *hooks;
static char *title_base;
static size_t title_len;

/* "NAME: what", for the process title. */
static const char *
title(const char *what)
{
	static char t[64];

	snprintf(t, sizeof(t), "%s: %s", hooks->name, what);
	return t;
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

/* Overwrite the argv area so ps shows "fcgi-auth: master" / "worker". */
static void
set_title(const char *t)
{
	if (title_base == NULL || title_len < 2)
		return;
	memset(title_base, 0, title_len);
	snprintf(title_base, title_len, "%s", t);
}

/*
 * At start, before anything opens a file: fds 1 and 2 exist, and the
 * argv area is remembered for the process titles.
 */
void
master_init(int argc, char **argv)
{
	int i;

	ensure_std_fds();
	title_base = argv[0];
	for (i = 0; i < argc; i++)
		if (argv[i] == title_base + title_len || i == 0)
			title_len = (size_t)(argv[i] + strlen(argv[i]) + 1 -
			    title_base);
}

static int
is_socket(int fd)
{
	int type;
	socklen_t len = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
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
			if (setpriority(PRIO_PROCESS, 0, (int)cfg.hash_nice) ==
			    -1)
				log_warn("hash worker: setpriority: %s",
				    strerror(errno));
			set_title(title("hash worker"));
		} else
			set_title(title("worker"));
		/* exit(), not _exit(): LeakSanitizer checks at exit. */
		exit(
		    worker_run(slots[i].pool == POOL_HASH ? hash_fd : listen_fd,
		        hooks->worker_init));
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

static void
reload(void)
{
	double deadline;
	pid_t old;
	int i;

	log_info("master: SIGHUP, reloading configuration");
	if (hooks->reload() == -1)
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
			fprintf(stderr,
			    "fcgi-auth: AUTH_HASH_SOCKET: too long\n");
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
		unlink(hash_path); /* left by an earlier master */
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
		         "nginx's user must be in group %d",
		    hash_path, main_path, strerror(errno), (int)getegid());
	return 0;
}

/* No wait after a clean exit; 0.2 s after a quick death, doubling to 6.4 s. */
static double
backoff_of(int fails)
{
	if (fails == 0)
		return 0;
	return 0.1 * (double)(1 << (fails > 6 ? 6 : fails));
}

/*
 * Collect the workers that exited; each slot is refilled after a
 * back-off that doubles with every quick death in a row (up to 6.4 s).
 */
static void
reap(void)
{
	double t, backoff;
	pid_t pid;
	int i, st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < nslots; i++)
			if (slots[i].pid == pid)
				break;
		if (i == nslots)
			continue; /* a replaced worker */
		t = now_mono();
		if (WIFSIGNALED(st))
			log_warn("master: worker %d killed by signal %d",
			    (int)pid, WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0)
			log_warn("master: worker %d exited with %d", (int)pid,
			    WEXITSTATUS(st));
		/* A clean exit is a recycle (AUTH_MAX_REQUESTS), not a crash. */
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			slots[i].fails = 0;
		else
			slots[i].fails =
			    t - slots[i].started < 1.0 ? slots[i].fails + 1 : 0;
		backoff = backoff_of(slots[i].fails);
		slots[i].pid = 0;
		slots[i].respawn_at = t + backoff;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			metrics_inc(MET_WORKER_RESTART);
	}
}

static int
supervise(void)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	sigset_t set;
	siginfo_t si;
	double t;
	long n;
	int i, sig;

	n = cfg.workers > 0 ? cfg.workers : 2 * sysconf(_SC_NPROCESSORS_ONLN);
	nslots = (int)(n < 1 ? 1 : n > MAX_WORKERS / 2 ? MAX_WORKERS / 2 : n);
	for (i = 0; i < nslots; i++)
		slots[i].pool = POOL_FAST;
	if (hash_fd != -1) {
		/* yescrypt is CPU-bound: more workers than cores only queue. */
		n = cfg.hash_workers;
		if (n <= 0)
			n = sysconf(_SC_NPROCESSORS_ONLN);
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
	set_title(title("master"));
	for (i = 0; i < nslots; i++)
		if (spawn(i) == -1)
			return 1;
	if (hash_fd != -1)
		log_info("master: %d workers started (%ld in the hash pool, "
		         "nice %ld, on %s)",
		    nslots, n, cfg.hash_nice, hash_path);
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
		reap();
		t = now_mono();
		for (i = 0; i < nslots; i++)
			if (slots[i].pid == 0 && slots[i].respawn_at <= t)
				spawn(i);
	}
}

/*
 * The FastCGI socket: -s PATH|HOST:PORT (made 0660: only the service
 * user and nginx's group may connect), or fd 0 inherited from
 * spawn-fcgi. 0, or -1 with the reason on stderr.
 */
int
master_listen(const char *sock)
{
	if (sock != NULL) {
		mode_t old = umask(0117);

		listen_fd = FCGX_OpenSocket(sock, 1024);
		umask(old);
		if (listen_fd < 0) {
			fprintf(stderr, "fcgi-auth: cannot listen on %s\n",
			    sock);
			return -1;
		}
	} else if (is_socket(0)) {
		listen_fd = 0;
	} else {
		fprintf(stderr,
		    "fcgi-auth: fd 0 is not a socket: run under "
		    "spawn-fcgi or pass -s PATH|HOST:PORT\n");
		return -1;
	}
	return 0;
}

/*
 * Map the shared areas, open the hash pool's socket, prefork and
 * supervise the workers until SIGTERM. The exit status.
 */
int
master_run(const struct master_hooks *h)
{
	struct stat st;
	int rc;

	hooks = h;
	if (metrics_init() == -1 || rl_init() == -1) {
		fprintf(stderr, "fcgi-auth: cannot map the shared areas\n");
		return 1;
	}
	if (open_hash_socket() == -1)
		return 1;
	if (FCGX_Init() != 0) {
		fprintf(stderr, "fcgi-auth: FCGX_Init failed\n");
		return 1;
	}
	rc = supervise();
	/* Not a socket a newer master has made at the same path since. */
	if (hash_fd != -1 && is_path(hash_path) && stat(hash_path, &st) == 0 &&
	    st.st_ino == hash_st.st_ino && st.st_dev == hash_st.st_dev)
		unlink(hash_path);
	return rc;
}
