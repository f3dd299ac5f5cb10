/*
 * http_resp.h - HTTP/1.1 responses: what a handler fills in (status,
 * content type, body, extra header fields), how it goes on the wire
 * (status line, Date, Server, Content-Type, Content-Length, Connection,
 * X-Request-Id, the security fields, extra fields, body), the JSON error
 * body every refusal carries, and request ids.
 *
 * Every response carries the security fields: X-Content-Type-Options:
 * nosniff, X-Frame-Options: DENY, Referrer-Policy: no-referrer, a
 * Content-Security-Policy (HTTP_RESP_CSP unless the handler set its own)
 * and, over TLS only, Strict-Transport-Security.
 *
 * A worker serves one request at a time, so it keeps one struct
 * http_resp and resets it for each request; the serialized bytes go to a
 * struct buf the caller sends.
 *
 * Callers: worker processes and the unit tests.
 */
#ifndef PACER_HTTP_RESP_H
#define PACER_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

/* A request id a client may send: 1..HTTP_RESP_ID_MAX bytes. Generated
 * ids are HTTP_RESP_ID_GEN_LEN hex digits. */
#define HTTP_RESP_ID_MAX 128
#define HTTP_RESP_ID_GEN_LEN 16

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") and its NUL. */
#define HTTP_RESP_DATE_LEN 30

/* Content types used by the server. */
#define HTTP_RESP_JSON "application/json"
#define HTTP_RESP_TEXT "text/plain; charset=utf-8"

/* The Content-Security-Policy of every response that does not set one:
 * JSON needs nothing, and no one may frame it. */
#define HTTP_RESP_CSP "default-src 'none'; frame-ancestors 'none'"
/* Strict-Transport-Security, sent over TLS only. */
#define HTTP_RESP_HSTS "max-age=31536000"

struct http_resp {
	int status;
	const char *content_type; /* static; NULL: no Content-Type */
	struct buf body;          /* owned, dynamic */
	struct buf headers;       /* extra "Name: value\r\n" lines, owned */
	bool close;               /* the handler wants the connection closed */
	/* Content-Security-Policy: NULL sends HTTP_RESP_CSP; a handler
	 * serving a page of its own sets one (static, or alive until the
	 * response is written; header-safe). */
	const char *csp;
};

/* How the response goes out. */
struct http_resp_meta {
	const char *request_id; /* echoed as X-Request-Id; NULL: none */
	bool keep_alive;        /* false: "Connection: close" */
	bool http10;            /* an HTTP/1.0 client: say keep-alive aloud */
	bool head;              /* HEAD: headers as for GET, no body */
	time_t now;             /* for the Date field */
	bool tls;               /* over TLS: Strict-Transport-Security */
	/* The head of a streamed body: "Transfer-Encoding: chunked" (or,
	 * for an HTTP/1.0 client, nothing: the body ends at the close)
	 * instead of Content-Length, and no body. */
	bool stream;
};

/* Set up an empty 200 response whose body may grow to max_body bytes.
 * Release with http_resp_free(). */
void http_resp_init(struct http_resp *r, size_t max_body);

/* Empty it for the next request (storage kept, shrunk if it grew large). */
void http_resp_reset(struct http_resp *r);

/* Free the storage; NULL-safe. */
void http_resp_free(struct http_resp *r);

/* Add a header field. name and value must be header-safe (no CR, LF);
 * a value that is not is refused. Returns 0 or -1. */
int http_resp_header(struct http_resp *r, const char *name, const char *value);

/* Set status, content type and a body copied from body[0..len). Returns
 * 0, or -1 when the body does not fit (the response becomes a 500). */
int http_resp_set(struct http_resp *r, int status, const char *type,
    const char *body, size_t len);

/*
 * Make r a JSON error: {"error": "<code>", "message": "<message>",
 * "request_id": "<id>"}, with code http_resp_error_code(status). message
 * is a human sentence; NULL uses a generic one for the status. Keeps the
 * extra headers already added (such as Allow).
 */
void http_resp_error(struct http_resp *r, int status, const char *message,
    const char *request_id);

/* The short error code of a status ("bad_request", "not_found" ...), and
 * a generic sentence for it. Static strings. */
const char *http_resp_error_code(int status);
const char *http_resp_error_message(int status);

/*
 * Append the whole response to out: status line, header fields, the empty
 * line and (unless m->head, or a status without body) the body. Returns
 * 0, or -1 when out overflowed.
 */
int http_resp_write(const struct http_resp *r, const struct http_resp_meta *m,
    struct buf *out);

/* Bytes of the body that http_resp_write() sends for r and m. */
size_t http_resp_body_sent(const struct http_resp *r,
    const struct http_resp_meta *m);

/* The Date value for now, formatted once per second. Static storage,
 * valid until the next call. */
const char *http_resp_date(time_t now);

/* Whether s[0..len) is a request id worth keeping: 1..128 bytes of
 * [A-Za-z0-9._:-]. */
bool http_resp_id_sane(const char *s, size_t len);

/* Start this process's id sequence from a random seed (getrandom);
 * call once after fork. Returns 0, or -1 if no randomness was available
 * (the sequence then derives from the pid and the clock). */
int http_resp_id_seed(void);

/* The next generated id: HTTP_RESP_ID_GEN_LEN hex digits and a NUL into
 * dst (at least HTTP_RESP_ID_GEN_LEN + 1 bytes). Ids never repeat within
 * a process and differ between processes with overwhelming odds. */
void http_resp_id_next(char *dst);

#endif /* PACER_HTTP_RESP_H */
