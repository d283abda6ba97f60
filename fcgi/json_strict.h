/* The strict pre-parse check of a JSON body (json_strict.c). */
#ifndef FA_JSON_STRICT_H
#define FA_JSON_STRICT_H

#include <stddef.h>

#define JSON_MAX_DEPTH 32
int json_strict_check(const char *, size_t, int maxdepth, char *dupkey,
    size_t dupkeylen);

#endif
