/*
 * Personal access tokens (pat.c, API.md "Administration and personal
 * access tokens"): credentials for scripts, "fa_pat_" + 40 random base62
 * characters + 6 base62 digits of their CRC-32 (so secret scanners can
 * tell a token from noise without asking us). Only the SHA-256 of the
 * token is stored; a check reads the Redis mirror fa:t:<epoch>:<hash>
 * first, Postgres on a miss, as sessions do.
 */
#ifndef FA_PAT_H
#define FA_PAT_H

#include <stddef.h>

#include "crypto.h"

#define PAT_PREFIX     "fa_pat_"
#define PAT_RANDOM     40
#define PAT_LEN        (7 + PAT_RANDOM + 6)
#define PAT_SCOPES_MAX 700 /* 10 scopes of 64, comma-joined */
#define PAT_PER_USER   50

struct pat_info {
	char id[UUID_LEN + 1];
	char uid[UUID_LEN + 1];
	long long created, exp;      /* epoch s */
	char scopes[PAT_SCOPES_MAX]; /* comma-separated */
	char role[16];
	char username[72];
	char email[256];
};

int pat_shaped(const char *tok, size_t len);
int pat_generate(char out[PAT_LEN + 1]);
int pat_check(const char *tok, size_t len, struct pat_info *);
void pat_touch(const char *id);
struct pg_result *pat_revoke_user(const char *uid);
int pat_revoke_rows(struct pg_result *);
int pat_mirror_user(const char *uid);
int valid_scope(const char *);

#endif
