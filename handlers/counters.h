/* The application's metric counters, numbered after the runtime's. */
#ifndef FA_COUNTERS_H
#define FA_COUNTERS_H

#include "metrics.h"

enum {
	MET_LOGIN_SUCCESS = MET__RUNTIME,
	MET_LOGIN_FAILURE,
	MET_LOGIN_LIMITED,
	MET_LOGIN_UNVERIFIED,
	MET_REFRESH_REUSE,
	MET_PW_HASH,
	MET__APP_END
};
/* Their names, in that order (main.c hands them to the metrics). */
#define COUNTER_NAMES \
	{ \
		"login_success", "login_failure", "login_rate_limited", \
		    "login_email_not_verified", "refresh_reuse", \
		    "password_hashes" \
	}

#endif
