/* Access tokens (jwt.c): HS256 or EdDSA JWTs, their keys and the JWKS. */
#ifndef FA_JWT_H
#define FA_JWT_H

#include <stddef.h>

#include "crypto.h"

struct json_object;

int jwt_init(char *err, size_t errlen);
void jwt_free(void);
/* Whom an access token is for. */
struct jwt_subject {
	const char *uid, *sid, *email;
	const char *amr; /* how the user signed in: RFC 8176 values, spaced */
	long long auth_time; /* when, epoch s */
};
char *jwt_issue(const struct jwt_subject *, long long now,
    char jti_out[UUID_LEN + 1]);
int jwt_verify(const char *tok, size_t len, long long now,
    struct json_object **claims);
struct json_object *jwt_jwks(void);
int jwt_set_hs_secret(const unsigned char *, size_t);

#endif
