/*
 * The data key (datakey.c): secrets kept outside the database. Each use
 * has its own subkey, named by a label; the labels are listed here so
 * that no two uses can share one.
 */
#ifndef FA_DATAKEY_H
#define FA_DATAKEY_H

#include <stddef.h>

int datakey_load(char *err, size_t errlen);
int datakey_loaded(void);
void datakey_free(void);
int datakey_sub(const char *label, unsigned char out[32]);
void datakey_mac_hex(const char *label, const char *msg, char out[65]);
char *datakey_seal(const char *label, const char *aad, const char *text);
char *datakey_open(const char *label, const char *aad, const char *sealed);
int datakey_is_ours(const char *label, const char *sealed);
#define DK_OUTBOX   "fcgi-auth outbox aes-256-gcm"
#define DK_REFRESH  "fcgi-auth refresh successor"
#define DK_CAPTCHA  "fcgi-auth captcha code"
#define DK_WEB      "fcgi-auth browser session cookie"
#define DK_TOTP     "fcgi-auth totp secret"
#define DK_RECOVERY "fcgi-auth recovery code"
#define DK_DEVICE   "fcgi-auth known device"

#endif
