/* Logging (log.c): one line per event on stderr, and the access log. */
#ifndef FA_LOG_H
#define FA_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
void log_set_level(const char *);
void log_set_reqid(const char *);
void log_msg(enum log_level, const char *, ...)
    __attribute__((format(printf, 2, 3)));
double now_mono(void);
#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
void log_request(const char *reqid, const char *method, const char *path,
    int status, double ms, const char *who);

#endif
