/* Registration codes (captcha.c): hashed in Redis, 10 minutes, 5 tries. */
#ifndef FA_CAPTCHA_H
#define FA_CAPTCHA_H

int captcha_check(const char *email, const char *code);

#endif
