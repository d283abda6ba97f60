/*
 * Known devices (devices.c): at each sign-in, has the account been used
 * from this device before? A device is its device cookie (long-lived,
 * random, HttpOnly), or, for a client that keeps no cookies, its user
 * agent and address prefix (/24, /48). A sign-in from a device the
 * account does not know mails a notice, except the account's first.
 */
#ifndef FA_DEVICES_H
#define FA_DEVICES_H

#include "crypto.h"

struct req;
struct user;

struct device {
	char cookie[TOKEN_B64_LEN + 1]; /* a new cookie to set, or "" */
};

int device_sign_in(struct req *, const struct user *, struct device *);
void device_cookie_set(struct req *, const struct device *);

#endif
