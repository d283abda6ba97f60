/*
 * Passwords (password.c): yescrypt through libxcrypt, NFKC first; the
 * rules of API.md; the common-password list.
 */
#ifndef FA_PASSWORD_H
#define FA_PASSWORD_H

int pw_init(void);
char *pw_hash(const char *password);
void pw_hash_free(char *hash);
char *pw_normalize(const char *password);
int pw_verify(const char *password, const char *hash);
int pw_needs_rehash(const char *hash);
void pw_dummy_verify(const char *password);
int pw_check_rules(const char *pw, const char *username, const char *email,
    const char **why);
int pw_load_common(const char *file);
int pw_is_common(const char *);
void pw_free_common(void);

#endif
