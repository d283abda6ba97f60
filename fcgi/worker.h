/* Workers and their master (worker.c, master.c). */
#ifndef FA_WORKER_H
#define FA_WORKER_H

enum { POOL_FAST, POOL_HASH };
extern volatile int worker_stop;
extern int worker_pool;          /* this worker's POOL_* */
extern int worker_has_hash_pool; /* the master runs a hash pool */
int worker_run(int listen_fd, int (*init)(void));

/* What the application hands the master. */
struct master_hooks {
	const char *name;         /* process titles: "NAME: master" */
	int (*reload)(void);      /* SIGHUP; -1 keeps the old configuration */
	int (*worker_init)(void); /* in each new worker; -1: it exits */
};
void master_init(int argc, char **argv);
int master_listen(const char *sock);
int master_run(const struct master_hooks *);

#endif
