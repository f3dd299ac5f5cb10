/*
 * http_parse.h - strict, incremental HTTP/1.1 request parser: the request
 * head (request line and header fields) and the body (Content-Length or
 * chunked).
 *
 * The caller keeps every byte received on a connection in one contiguous
 * buffer and calls the parser again each time the buffer grew, passing the
 * whole buffer. The parser remembers how far it got, so the total work is
 * linear in the bytes received however they are dribbled in, and a request
 * split at any byte boundary parses exactly as if it came in one piece.
 * Nothing is copied: the method, target and header fields are (offset,
 * length) slices into the caller's buffer. Only a chunked body is decoded,
 * into a struct buf the caller provides.
 *
 * Between calls the buffer may move (realloc) but the bytes already passed
 * must not change and len must not shrink. The parser never reads past len
 * and never writes to the buffer.
 *
 * A request, step by step:
 *
 *	http_request_init(&req, &limits, hdrs, nhdrs);
 *	while ((rc = http_parse_head(&req, buf, len)) == HTTP_PARSE_NEED_MORE)
 *		read more into buf, len += n;
 *	(on HTTP_PARSE_ERROR answer req.status with req.reason, then close)
 *	(if req.expect_continue, send "HTTP/1.1 100 Continue" first)
 *	while ((rc = http_parse_body(&req, buf, len, &body)) == NEED_MORE)
 *		read more into buf, len += n;
 *	serve; the next pipelined request starts at buf + req.consumed.
 *
 * Callers: worker processes only (the connection loop), the unit tests and
 * the fuzz target. Not thread-safe (pacer has no threads).
 */
#ifndef PACER_HTTP_PARSE_H
#define PACER_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/* Defaults of struct http_limits (the pacerd.conf defaults). */
#define HTTP_DEFAULT_MAX_HEADER_SIZE ((size_t)16 * 1024)
#define HTTP_DEFAULT_MAX_HEADERS 100
#define HTTP_DEFAULT_MAX_BODY_SIZE ((size_t)1024 * 1024)
#define HTTP_DEFAULT_MAX_URI ((size_t)8 * 1024)

/* Fixed limits, not configurable. */
#define HTTP_METHOD_MAX 32      /* longest method token */
#define HTTP_LEADING_CRLF_MAX 4 /* empty lines skipped before a request */
#define HTTP_CHUNK_LINE_MAX 256 /* chunk-size line with extensions, no CRLF */
#define HTTP_CHUNK_SLACK 4096   /* framing allowance of a chunked body */

/* What a client may send. Sizes are bytes. */
struct http_limits {
	size_t max_header_size; /* request line + fields + empty line: 431 */
	size_t max_headers;     /* header fields (and trailer fields): 431 */
	size_t max_body_size;   /* decoded body: 413 */
	size_t max_uri;         /* request-target: 414 */
};

enum http_method {
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_TRACE,
	HTTP_METHOD_OTHER, /* any other valid token; see method_text */
};

enum http_parse_result {
	HTTP_PARSE_ERROR = -1,    /* answer req->status, then close */
	HTTP_PARSE_DONE = 0,      /* complete; see the function */
	HTTP_PARSE_NEED_MORE = 1, /* call again when more bytes arrived */
};

/* Bytes buf[off .. off + len) of the caller's buffer. An absent element is
 * {0, 0}. */
struct http_slice {
	size_t off;
	size_t len;
};

struct http_header {
	struct http_slice name;  /* a token, case as sent */
	struct http_slice value; /* leading and trailing SP/HTAB removed */
};

/* Parser state; private to http_parse.c. */
struct http_parse_state {
	int phase;           /* enum phase in http_parse.c */
	size_t line;         /* start of the line being received */
	size_t scan;         /* where the search for the next LF resumes */
	size_t work;         /* bytes examined so far (tests check linearity) */
	unsigned leading;    /* empty lines skipped before the request line */
	unsigned host_count; /* Host field lines */
	unsigned cl_count;   /* Content-Length field lines */
	unsigned te_count;   /* Transfer-Encoding field lines */
	unsigned te_chunked; /* "chunked" elements over all of them */
	bool te_other;       /* another transfer coding was listed */
	bool te_bad;         /* an element was not a token */
	bool conn_close;     /* Connection lists "close" */
	bool conn_keep;      /* Connection lists "keep-alive" */
	bool expect_other;   /* an expectation other than 100-continue */
	int chunk_state;     /* enum chunk_state in http_parse.c */
	size_t cpos;         /* next byte of a chunked body to decode */
	size_t chunk_left;   /* size being read, then data bytes still due */
	size_t chunk_line;   /* bytes of the current chunk-size line */
	size_t overhead;     /* framing bytes of the chunked body */
	size_t trailer_off;  /* start of the trailer section */
	size_t ntrailers;    /* trailer fields seen */
};

/*
 * One request. Set up with http_request_init(); the public fields are
 * valid once http_parse_head() (head fields) or http_parse_body() (body
 * fields) returned HTTP_PARSE_DONE, and status/reason once either returned
 * HTTP_PARSE_ERROR. Slices point into the buffer passed to the parser.
 */
struct http_request {
	enum http_method method;
	struct http_slice method_text; /* the method as sent */
	struct http_slice target;      /* the whole request-target */
	struct http_slice path;        /* target before '?' ("*": OPTIONS *) */
	struct http_slice query;       /* after '?'; empty without one */
	int version_minor;             /* HTTP/1.<version_minor>: 0 or 1 */
	struct http_header *headers;   /* the caller's array, borrowed */
	size_t nheaders;               /* fields stored in headers[] */
	bool has_host;                 /* a Host field was sent */
	struct http_slice host;        /* its value (may be empty) */
	int64_t content_length;        /* -1 without Content-Length */
	bool chunked;                  /* Transfer-Encoding: chunked */
	bool keep_alive;               /* the connection may be reused */
	bool expect_continue;          /* answer 100 Continue before reading */
	size_t head_len; /* bytes of the head, empty line included */

	size_t body_len; /* bytes of the (decoded) body */
	size_t consumed; /* bytes of the whole request on the wire */

	int status;         /* the HTTP status to answer on error */
	const char *reason; /* static, lowercase, for the error body */

	struct http_limits limits; /* copied by http_request_init() */
	size_t headers_cap;        /* room in headers[] */
	struct http_parse_state st;
};

/* Fill lim with the HTTP_DEFAULT_* values. */
void http_limits_default(struct http_limits *lim);

/*
 * The most bytes one request within lim can take on the wire: head, body
 * data, chunk framing and trailers. A connection buffer this large (plus
 * one read) never has to refuse a valid request.
 */
size_t http_max_request_size(const struct http_limits *lim);

/*
 * Start a request: lim is copied; headers (room for nheaders fields) is
 * borrowed until the request is done and receives the header fields. The
 * field limit is the smaller of lim->max_headers and nheaders. Call again
 * for the next request on the connection (after moving the pipelined bytes
 * from buf + consumed to the front of the buffer).
 */
void http_request_init(struct http_request *req, const struct http_limits *lim,
    struct http_header *headers, size_t nheaders);

/*
 * Parse the request head in buf[0 .. len). Returns HTTP_PARSE_NEED_MORE
 * until the empty line ending the head arrived, then HTTP_PARSE_DONE with
 * every head field set and head_len the offset of the first body byte; or
 * HTTP_PARSE_ERROR with status (400, 414, 417, 431, 501, 505) and reason.
 * An error is final: later calls return it again. Calls after DONE return
 * DONE. A head growing past max_header_size is refused as soon as the
 * buffer holds that many bytes without a complete head.
 */
enum http_parse_result http_parse_head(struct http_request *req,
    const char *buf, size_t len);

/*
 * Parse the body after a head that parsed DONE. buf and len are as for
 * http_parse_head() (the same buffer, grown). Returns HTTP_PARSE_NEED_MORE
 * until the whole body arrived, then HTTP_PARSE_DONE with body_len and
 * consumed set; or HTTP_PARSE_ERROR (400, 413, 431; 500 when out cannot
 * take the body).
 *
 * Without Content-Length or chunked the body is empty (a POST may have an
 * empty body). A Content-Length body is not copied: it is
 * buf[head_len .. head_len + body_len). A chunked body is decoded and
 * appended to out as it arrives (out may be NULL to discard it; give a
 * dynamic buf of max_body_size + 1 to never run out); chunk extensions and
 * trailer fields are checked, then dropped. http_body() finds the body in
 * either case.
 */
enum http_parse_result http_parse_body(struct http_request *req,
    const char *buf, size_t len, struct buf *out);

/* The body after http_parse_body() returned DONE: in buf for a
 * Content-Length body, in out for a chunked one. Borrowed from either. */
static inline const char *http_body(const struct http_request *req,
    const char *buf, const struct buf *out)
{
	if (req->chunked)
		return (out != NULL) ? buf_str(out) : "";
	return buf + req->head_len;
}

/* A slice as a pointer into buf (not NUL-terminated: use s.len). */
static inline const char *http_slice_ptr(const char *buf, struct http_slice s)
{
	return buf + s.off;
}

/*
 * Find the first header field named name (ASCII case-insensitive) of a head
 * that parsed DONE. Returns true and sets *value, or false when absent.
 */
bool http_header_get(const struct http_request *req, const char *buf,
    const char *name, struct http_slice *value);

/* The reason phrase of an HTTP status ("Bad Request"), "" when unknown.
 * Static. */
const char *http_status_reason(int status);

/* The value of name in an application/x-www-form-urlencoded text
 * (a request body or a query string) q[0..qlen), percent-decoded with
 * '+' as a space, into out (outlen bytes, NUL included). Returns its
 * length; -1 when absent; -2 when given twice (RFC 6749 3.2), malformed,
 * holding a NUL, or longer than outlen - 1. */
ssize_t http_form_get(const char *q, size_t qlen, const char *name, char *out,
    size_t outlen);

#endif /* PACER_HTTP_PARSE_H */
