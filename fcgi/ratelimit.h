/*
 * Fixed-window counters (ratelimit.c): in Redis, or while Redis is down
 * in a table the master shares with its workers.
 */
#ifndef FA_RATELIMIT_H
#define FA_RATELIMIT_H

struct req;
int rl_init(void);
int rl_hit(const char *kind, const char *subject, long limit, long window,
    long *retry_after);
void rl_clear(const char *kind, const char *subject);
int
rl_over(const char *kind, const char *subject, long limit, long *retry_after);
void resp_rate_limited(struct req *, long retry_after);

#endif
