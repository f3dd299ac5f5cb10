/*
 * access_log.h - one line per request, in Apache's combined format (plus
 * request id, worker pid and duration in microseconds) or as one JSON
 * object.
 *
 * combined:
 *   127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET /x?a=1 HTTP/1.1" 200
 *   15 "-" "curl/8.0" 3f2a9c0d1e4b5a69 4242 187
 * (one line; the time is UTC; "-" for an absent referer or user agent, a
 * zero byte count, or a request line that never parsed.)
 *
 * json:
 *   {"time":"1994-11-06T08:49:37.123Z","client":"127.0.0.1",
 *   "method":"GET","path":"/x","query":"a=1","protocol":"HTTP/1.1",
 *   "status":200,"bytes":15,"referer":null,"user_agent":"curl/8.0",
 *   "request_id":"3f2a9c0d1e4b5a69","pid":4242,"duration_us":187}
 * (query only when the target had one; null for an absent header field
 * or an unparsed request line.)
 *
 * Every byte a client chose is escaped, so a hostile path or user agent
 * can neither break a line nor inject a field: in combined, '"' and '\'
 * get a backslash and bytes outside printable ASCII become \xHH, as
 * Apache does; in JSON, the same bytes become \" \\ and \u00HH, so every
 * line is valid JSON whatever the client sent.
 *
 * Callers: worker processes and the unit tests.
 */
#ifndef PACER_ACCESS_LOG_H
#define PACER_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A byte string that need not be NUL-terminated; p NULL: absent. */
struct access_log_str {
	const char *p;
	size_t len;
};

struct access_log_entry {
	int64_t time_s; /* wall clock when the request started, UTC */
	int time_ms;    /* its milliseconds (JSON only) */
	const char *client;
	struct access_log_str method; /* absent: the head never parsed */
	struct access_log_str target; /* the request-target as sent */
	struct access_log_str path;   /* target before '?' */
	struct access_log_str query;  /* after '?'; absent or empty: none */
	int version_minor;            /* HTTP/1.x; -1: unknown */
	int status;
	uint64_t bytes; /* response body bytes */
	struct access_log_str referer;
	struct access_log_str user_agent;
	const char *request_id;
	long pid;
	uint64_t duration_us;
};

/* Append e as one line (newline included) in format (enum
 * cfg_access_format) to out. Returns 0, or -1 when out overflowed. */
int access_log_format(struct buf *out, int format,
    const struct access_log_entry *e);

/* Write a finished line to fd with one write(2) (O_APPEND keeps lines of
 * several workers whole). Returns 0, or -1 with errno set. */
int access_log_write(int fd, const struct buf *line);

#endif /* PACER_ACCESS_LOG_H */
