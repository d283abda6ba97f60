/* Forward authentication (check.c): GET /auth/check, GET /auth/redirect. */
#ifndef FA_CHECK_H
#define FA_CHECK_H

#include "request.h"

/* May the sign-in page send the browser to url after sign-in? */
int redirect_allowed(const struct req *, const char *url);

#endif
