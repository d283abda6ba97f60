/*
 * fcgi-auth-mailer: delivers the email_outbox over SMTP with libcurl.
 *
 * It claims one due row at a time with FOR UPDATE SKIP LOCKED (several
 * mailers can run), sends it, and marks it sent in the same transaction.
 * Failures are retried with exponential back-off and given up after
 * AUTH_MAIL_MAX_ATTEMPTS, recording why. It sleeps on LISTEN
 * email_outbox until a message is queued or a retry falls due.
 *
 * Delivery is at-least-once with a window of one message: if the mailer
 * dies after the SMTP server accepted a message but before its COMMIT,
 * that one message is sent again (with the same Message-ID) by the next
 * run. Nothing is ever lost. To keep that window to the two statements
 * after the server's 250, one SMTP connection serves a whole burst and
 * its QUIT waits until the outbox is empty.
 *
 * Bodies wait sealed under the data key (handlers/outbox.c) and are opened here
 * only; once a message is sent or given up its body is wiped, so no
 * delivered link or code stays readable in the database.
 *
 * TLS: AUTH_SMTP_TLS=required (the default, but towards this host)
 * refuses to send without STARTTLS (or smtps://), opportunistic uses it
 * when offered, none never.
 */
#include <sys/select.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "config.h"
#include "crypto.h"
#include "datakey.h"
#include "db.h"
#include "log.h"

static volatile sig_atomic_t stopping;
static PGconn *pg;
static char smtp_pass[256];

static void
on_term(int s)
{
	(void)s;
	stopping = 1;
}

static struct db_stmt mstmts[] = {
	DB_STMT("claim",
	    "SELECT id, to_addr, subject, body, attempts, "
	    "extract(epoch FROM created_at)::bigint AS created FROM "
	    "email_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND "
	    "next_attempt_at <= now() ORDER BY id LIMIT 1 "
	    "FOR UPDATE SKIP LOCKED"),
	DB_STMT("sent",
	    "UPDATE email_outbox SET sent_at = now(), attempts = "
	    "attempts + 1, last_error = NULL, body = '' WHERE id = $1"),
	DB_STMT("failed",
	    "UPDATE email_outbox SET attempts = attempts + 1, "
	    "last_error = left($2, 500), next_attempt_at = now() + "
	    "make_interval(secs => $3), failed_at = CASE WHEN attempts + 1 >= "
	    "$4 THEN now() END, body = CASE WHEN attempts + 1 >= $4 THEN '' "
	    "ELSE body END WHERE id = $1"),
	DB_STMT("unreadable",
	    "UPDATE email_outbox SET attempts = attempts + 1, "
	    "last_error = 'does not open under its data key: damaged or "
	    "moved', failed_at = now(), body = '' WHERE id = $1"),
	DB_STMT("next_due",
	    "SELECT COALESCE(extract(epoch FROM min(next_attempt_at) "
	    "- now()), 3600)::float8 FROM email_outbox WHERE sent_at IS NULL "
	    "AND failed_at IS NULL"),
};

static int
cmd(const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		log_err("mailer: %s: %s", sql, PQerrorMessage(pg));
	PQclear(res);
	return ok ? 0 : -1;
}

/* COMMIT that really committed (the tag, not just the status). */
static int
commit(void)
{
	PGresult *res = PQexec(pg, "COMMIT");
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0;

	if (!ok)
		log_err("mailer: COMMIT did not commit: %s",
		    PQerrorMessage(pg));
	PQclear(res);
	return ok ? 0 : -1;
}

static int
pg_connect(void)
{
	size_t i;

	if (db_connect_raw() == -1)
		return -1;
	pg = db_conn();
	for (i = 0; i < sizeof(mstmts) / sizeof(mstmts[0]); i++) {
		if (db_prepare(&mstmts[i]) == -1) {
			db_close();
			pg = NULL;
			return -1;
		}
	}
	if (cmd("LISTEN email_outbox") == -1) {
		db_close();
		pg = NULL;
		return -1;
	}
	log_info("mailer: connected, listening");
	return 0;
}

struct upload {
	const char *data; /* the whole message */
	size_t len, off;  /* bytes and bytes sent */
};

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t room = size * n, left = u->len - u->off;

	if (left < room)
		room = left;
	memcpy(buf, u->data + u->off, room);
	u->off += room;
	return room;
}

/* The address inside "Name <addr>", or the whole string. */
static void
bare_address(const char *from, char *out, size_t outlen)
{
	const char *lt = strrchr(from, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		snprintf(out, outlen, "<%.*s>", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(out, outlen, "<%s>", from);
}

/* RFC 5322 message: headers, then the body with CRLF line ends. */
static char *
compose(const char *id, long long created, const char *to, const char *subject,
    const char *body, size_t *len)
{
	char date[64], from[320], *domain, *out, *o;
	const char *b;
	size_t cap;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	bare_address(cfg.mail_from, from, sizeof(from));
	domain = strchr(from, '@');
	cap = strlen(body) * 2 + 2048;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	o = out +
	    snprintf(out, cap,
	        "Date: %s\r\nFrom: %s\r\nTo: <%s>\r\n"
	        "Subject: %s\r\nMessage-ID: <outbox.%s.%lld@%.*s>\r\n"
	        "MIME-Version: 1.0\r\nContent-Type: text/plain; "
	        "charset=utf-8\r\n"
	        "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: "
	        "auto-generated\r\n"
	        "\r\n",
	        date, cfg.mail_from, to, subject, id, created,
	        domain ? (int)strlen(domain + 1) - 1 : 9,
	        domain ? domain + 1 : "localhost");
	for (b = body; *b; b++) {
		if (*b == '\n' && (b == body || b[-1] != '\r'))
			*o++ = '\r';
		*o++ = *b;
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

/* The SMTP connection, kept open while there is mail to send. */
static CURL *smtp;

static void
smtp_close(void)
{
	if (smtp != NULL)
		curl_easy_cleanup(smtp); /* QUIT */
	smtp = NULL;
}

/* AUTH_SMTP_TLS as libcurl's CURLOPT_USE_SSL. */
static long
tls_mode(void)
{
	if (strcmp(cfg.smtp_tls, "required") == 0)
		return (long)CURLUSESSL_ALL;
	if (strcmp(cfg.smtp_tls, "none") == 0)
		return (long)CURLUSESSL_NONE;
	return (long)CURLUSESSL_TRY;
}

static int
smtp_send(const char *to, const char *msg, size_t len, char *err, size_t errlen)
{
	struct upload up = { msg, len, 0 };
	struct curl_slist *rcpt = NULL;
	char from[320], rto[300];
	CURLcode rc;
	CURL *c;

	if (smtp != NULL)
		curl_easy_reset(smtp); /* options go, the connection stays */
	else if ((smtp = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	c = smtp;
	bare_address(cfg.mail_from, from, sizeof(from));
	snprintf(rto, sizeof(rto), "<%s>", to);
	rcpt = curl_slist_append(rcpt, rto);
	curl_easy_setopt(c, CURLOPT_URL, cfg.smtp_url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_USE_SSL, tls_mode());
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (smtp_pass[0])
		curl_easy_setopt(c, CURLOPT_PASSWORD, smtp_pass);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		smtp_close(); /* start the next try on a new connection */
	}
	curl_slist_free_all(rcpt);
	return rc == CURLE_OK ? 0 : -1;
}

/* A claimed row of the outbox, read by column name. */
struct outbox_row {
	const char *id, *to, *subject, *sealed;
	long attempts;
	long long created;
};

static void
outbox_read(PGresult *res, struct outbox_row *m)
{
	m->id = db_value(res, 0, "id");
	m->to = db_value(res, 0, "to_addr");
	m->subject = db_value(res, 0, "subject");
	m->sealed = db_value(res, 0, "body");
	m->attempts = atol(db_value(res, 0, "attempts"));
	m->created = atoll(db_value(res, 0, "created"));
}

/*
 * Open and send m: 1 sent; 0 not sent (why in err: retried later); 2
 * sealed under our key yet it does not open (damaged, or moved to another
 * recipient: never retried); -1 out of memory.
 */
static int
send_message(const struct outbox_row *m, char *err, size_t errlen)
{
	char *msg, *body;
	size_t len;
	int sent;

	err[0] = '\0';
	if ((body = datakey_open(DK_OUTBOX, m->to, m->sealed)) == NULL) {
		if (datakey_is_ours(DK_OUTBOX, m->sealed))
			return 2;
		/* Another key: retried (and in time given up) as a failure. */
		snprintf(err, errlen,
		    "sealed under another data key (is "
		    "AUTH_DATA_KEY_FILE the server's?)");
		return 0;
	}
	msg = compose(m->id, m->created, m->to, m->subject, body, &len);
	crypto_wipe(body, strlen(body));
	free(body);
	if (msg == NULL)
		return -1;
	sent = smtp_send(m->to, msg, len, err, errlen) == 0;
	crypto_wipe(msg, len);
	free(msg);
	return sent;
}

/* Record a failed try: the next after a back-off that doubles, to 1 h. */
static PGresult *
mark_failed(const struct outbox_row *m, const char *err)
{
	char delay[24], max[24];
	const char *p[4] = { m->id, err, delay, max };
	long attempts = m->attempts + 1, d = cfg.mail_retry_base;

	while (--attempts > 0 && d < 3600)
		d *= 2;
	if (d > 3600)
		d = 3600;
	snprintf(delay, sizeof(delay), "%ld", d);
	snprintf(max, sizeof(max), "%ld", cfg.mail_max_attempts);
	log_warn("mailer: message %s not sent (%s), retry in %lds", m->id, err,
	    d);
	return PQexecPrepared(pg, "failed", 4, p, NULL, NULL, 0);
}

/* Deliver one due message. 1: did one, 0: none due, -1: database error. */
static int
deliver_one(void)
{
	PGresult *res = NULL, *u = NULL;
	struct outbox_row m;
	char err[256];
	int rc = -1, sent;

	if (cmd("BEGIN") == -1)
		return -1;
	res = PQexecPrepared(pg, "claim", 0, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = commit() == 0 ? 0 : -1;
		goto out;
	}
	outbox_read(res, &m);
	if ((sent = send_message(&m, err, sizeof(err))) == -1)
		goto out;
	if (sent == 2) {
		log_err("mailer: message %s does not open; given up", m.id);
		u = PQexecPrepared(pg, "unreadable", 1, &m.id, NULL, NULL, 0);
	} else if (sent == 1) {
		u = PQexecPrepared(pg, "sent", 1, &m.id, NULL, NULL, 0);
		log_info("mailer: message %s sent", m.id);
	} else
		u = mark_failed(&m, err);
	if (PQresultStatus(u) == PGRES_COMMAND_OK)
		rc = commit() == 0 ? 1 : -1;
	PQclear(u);
out:
	PQclear(res);
	if (rc == -1 && pg != NULL && PQstatus(pg) == CONNECTION_OK)
		(void)cmd("ROLLBACK");
	return rc;
}

/* Forget the notifications libpq holds; 1 if there were any. */
static int
drain_notifies(void)
{
	PGnotify *n;
	int any = 0;

	while ((n = PQnotifies(pg)) != NULL) {
		PQfreemem(n);
		any = 1;
	}
	return any;
}

/*
 * Sleep until a NOTIFY, the next retry, or at most 30 s. A NOTIFY that
 * libpq read while the last queries ran (a message queued just after
 * next_due's snapshot) is already off the socket, so select() would not
 * see it: notifications held are checked first, or that message would
 * wait for the timeout.
 */
static void
wait_for_work(void)
{
	PGresult *res;
	struct timeval tv;
	double due = 30;
	fd_set fds;
	int fd;

	res = PQexecPrepared(pg, "next_due", 0, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		due = atof(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (due > 30)
		due = 30;
	if (due <= 0)
		return;
	PQconsumeInput(pg);
	if (drain_notifies())
		return;
	if ((fd = PQsocket(pg)) < 0)
		return;
	FD_ZERO(&fds);
	FD_SET(fd, &fds);
	tv.tv_sec = (time_t)due;
	tv.tv_usec = (suseconds_t)((due - (double)(long)due) * 1e6);
	if (select(fd + 1, &fds, NULL, NULL, &tv) > 0)
		PQconsumeInput(pg);
	drain_notifies();
}

static void
load_smtp_password(void)
{
	ssize_t n;
	int fd;

	if (*cfg.smtp_password_file == '\0')
		return;
	if ((fd = open(cfg.smtp_password_file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_err("AUTH_SMTP_PASSWORD_FILE: %s: %s",
		    cfg.smtp_password_file, strerror(errno));
		exit(1);
	}
	n = read(fd, smtp_pass, sizeof(smtp_pass) - 1);
	close(fd);
	while (n > 0 && (smtp_pass[n - 1] == '\n' || smtp_pass[n - 1] == '\r'))
		n--;
	smtp_pass[n > 0 ? n : 0] = '\0';
}

int
main(int argc, char **argv)
{
	const char *file = NULL;
	struct sigaction sa;
	char err[512];
	int backoff = 1, rc = 0;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("fcgi-auth-mailer %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		file = argv[2];
	else if (argc != 1) {
		fprintf(stderr,
		    "usage: fcgi-auth-mailer [-c FILE] | --version\n");
		return 2;
	}
	if (cfg_load(&cfg, file, err, sizeof(err)) == -1) {
		fprintf(stderr, "fcgi-auth-mailer: %s\n", err);
		return 1;
	}
	log_set_level(cfg.log_level);
	if (geteuid() == 0) {
		fprintf(stderr, "fcgi-auth-mailer: refusing to run as root\n");
		return 1;
	}
	load_smtp_password();
	if (datakey_load(err, sizeof(err)) == -1) {
		fprintf(stderr, "fcgi-auth-mailer: %s\n", err);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "fcgi-auth-mailer: curl_global_init failed\n");
		return 1;
	}
	log_info("mailer: started");
	while (!stopping) {
		if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
			db_close();
			pg = NULL;
			if (pg_connect() == -1) {
				sleep((unsigned)backoff);
				backoff = backoff < 16 ? backoff * 2 : 30;
				continue;
			}
			backoff = 1;
		}
		while (!stopping && (rc = deliver_one()) == 1)
			;
		smtp_close();
		if (stopping)
			break;
		if (rc == -1) {
			if (pg != NULL && PQstatus(pg) != CONNECTION_OK)
				continue;
			sleep(1);
			continue;
		}
		wait_for_work();
	}
	log_info("mailer: stopping");
	db_close();
	crypto_wipe(smtp_pass, sizeof(smtp_pass));
	datakey_free();
	curl_global_cleanup();
	cfg_free(&cfg);
	return 0;
}
