/* The worker's Redis connection (cache.c): Sentinel-aware, with an epoch. */
#ifndef FA_CACHE_H
#define FA_CACHE_H

#include <stddef.h>

struct redisReply;
int cache_ok(void);
struct redisReply *cache_cmd_at(const char *epoch, const char *fmt, ...);
#define cache_cmd(...) cache_cmd_at(NULL, __VA_ARGS__)
struct redisReply *
cache_argv_at(const char *epoch, int argc, const char **argv);
const char *cache_epoch(void);
int cache_ready(void);
int cache_check_url(const char *url, char *err, size_t errlen);
void cache_close(void);

#endif
