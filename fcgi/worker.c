/*
 * A worker: accept -> request -> dispatch -> response -> reset, until
 * SIGTERM (finish the request in flight, then exit) or AUTH_MAX_REQUESTS.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "db.h"
#include "cache.h"
#include "dispatch.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "worker.h"

volatile int worker_stop;
int worker_pool = POOL_FAST;
int worker_has_hash_pool;

static void
on_term(int sig)
{
	(void)sig;
	worker_stop = 1;
	FCGX_ShutdownPending();
}

static void
serve(FCGX_Request *fx)
{
	struct timespec end;
	struct req r;
	double ms;

	req_init(&r, fx, fx->envp);
	log_set_reqid(r.reqid);
	dispatch(&r);
	db_rollback(); /* never carry a transaction across requests */
	clock_gettime(CLOCK_MONOTONIC, &end);
	ms = (double)(end.tv_sec - r.start.tv_sec) * 1e3 +
	    (double)(end.tv_nsec - r.start.tv_nsec) / 1e6;
	log_request(r.reqid, r.method_str, r.path[0] ? r.path : "-", r.status,
	    ms, r.who[0] ? r.who : NULL);
	metrics_request(r.route, r.status, ms / 1e3);
	FCGX_Finish_r(fx);
	if (r.after != NULL) { /* the answer is sent: nobody waits on this */
		r.after(&r);
		db_rollback();
	}
	log_set_reqid(NULL);
	req_free(&r);
}

int
worker_run(int listen_fd, int (*init)(void))
{
	struct sigaction sa;
	FCGX_Request fx;
	sigset_t term, none;
	long served = 0;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term; /* no SA_RESTART: accept() must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_SETMASK, &term, NULL);

	if (init != NULL && init() == -1) {
		log_err("worker: the application's start failed");
		return 1;
	}
	if (FCGX_InitRequest(&fx, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_err("worker: FCGX_InitRequest failed");
		return 1;
	}
	while (!worker_stop) {
		/* SIGTERM is only delivered while we wait for a request. */
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (worker_stop)
			break;
		rc = FCGX_Accept_r(&fx);
		sigprocmask(SIG_SETMASK, &term, NULL);
		if (rc < 0) {
			if (worker_stop)
				break;
			if (rc == -EINTR)
				continue;
			log_err("worker: accept failed (%d)", rc);
			break;
		}
		serve(&fx);
		if (cfg.max_requests > 0 && ++served >= cfg.max_requests) {
			log_info("worker: recycling after %ld requests",
			    served);
			break;
		}
	}
	FCGX_Free(&fx, 0);
	db_close();
	cache_close();
	return 0;
}
