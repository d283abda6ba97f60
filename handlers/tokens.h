/*
 * What a client is handed (tokens.c): the body of a login or refresh
 * answer, with a fresh access token; and the single-use tokens of the
 * links we mail (?token= or a body field).
 */
#ifndef FA_TOKENS_H
#define FA_TOKENS_H

struct db_stmt;
struct json_object;
struct pg_result;
struct req;

struct jwt_subject;
struct user;
void tokens_sign_in(struct req *, const struct user *, const char *amr,
    const char *event);
struct json_object *token_body(struct req *, const struct jwt_subject *,
    const char *refresh, long long refresh_exp);
int link_issue(struct db_stmt *q, const char *id, const char *const *more,
    int nmore, long ttl, const char *base, char *link, size_t linklen);
struct pg_result *
link_consume(struct req *, struct db_stmt *, int n, const char *const *params);
int link_token_hash(struct req *, const char *body_token, char hash[65]);

#endif
