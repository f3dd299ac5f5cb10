/*
 * router.h - the route table: which handler serves a method and a path,
 * with what authentication, rate-limit class and metric label.
 *
 * Every endpoint of pacer is one struct router_route in a constant table
 * (worker/handlers.c). A pattern is a path whose segments are either
 * literal or a parameter "{name}" that matches one non-empty segment:
 * "/api/keys/{id}" matches "/api/keys/k_42" with id = "k_42". Literal
 * bytes must match exactly (no case folding, no percent-decoding, a
 * trailing slash is significant); parameter values are the raw bytes of
 * the path, still percent-encoded. The first route of the table whose
 * pattern and method match wins, so put literal routes before
 * parameterised ones that would also match.
 *
 * HEAD is served by the GET route of a path unless the table has its own
 * HEAD route. A path that matches with another method is 405 with the
 * Allow list; a path no route matches is 404; a method the server does
 * not know at all (HTTP_METHOD_OTHER) is 501.
 *
 * A route's index in the table is its identity for the scoreboard's
 * per-route counters, so a table only ever grows at its end and keeps
 * routes that are switched off by flags (they are hidden, not removed).
 *
 * Callers: worker processes and the unit tests. The tables are constant;
 * a struct router only borrows one.
 */
#ifndef PACER_ROUTER_H
#define PACER_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http_parse.h"

#define ROUTER_MAX_PARAMS 8  /* parameters in one pattern */
#define ROUTER_LABEL_MAX 31  /* metric label length ([a-z0-9_]) */
#define ROUTER_ALLOW_MAX 96  /* the Allow value, NUL included */
#define ROUTER_MAX_ROUTES 63 /* routes in one table */

/* Who may call a route (enforced by the auth middleware, worker/auth/). */
enum router_auth {
	ROUTER_AUTH_NONE,     /* anyone */
	ROUTER_AUTH_JWT,      /* an active user's access token (JWT) only */
	ROUTER_AUTH_USER,     /* an active user: access token or API key */
	ROUTER_AUTH_ADMIN,    /* an admin (role admin or super_admin), by
	                         access token or API key */
	ROUTER_AUTH_OPTIONAL, /* anyone; a credential, when sent, must be
	                         valid and is passed on */
	ROUTER_AUTH_MCP /* /mcp: an active user's access token (first-party,
	                   or an OAuth token whose audience is this MCP
	                   resource) or API key; anonymous callers too when
	                   mcp_fixtures is on. Refusals carry the
	                   WWW-Authenticate of the MCP authorization spec. */
};

/* Which rate-limit bucket a call counts against besides an API key's own
 * quota and burst (which every call made with a key counts against). */
enum router_rate {
	ROUTER_RATE_NONE,
	ROUTER_RATE_AUTH, /* public auth endpoints: per client address */
};

/* Route flags. */
#define ROUTER_F_DEBUG 0x1u /* test-only: hidden unless debug_routes */
#define ROUTER_F_BODY 0x2u  /* takes a body: no length at all is 411 */

struct http_resp;
struct router_call;
struct auth_principal;
struct json_object;

/* A handler fills resp (status, body, headers); it never fails: errors
 * become 4xx/5xx responses. */
typedef void (
    *router_handler_fn)(const struct router_call *call, struct http_resp *resp);

struct router_route {
	enum http_method method;
	const char *pattern;
	router_handler_fn handler;
	enum router_auth auth;
	enum router_rate rate;
	const char *label; /* metric label, [a-z0-9_], 1..ROUTER_LABEL_MAX */
	unsigned flags;    /* ROUTER_F_* */
};

/* A parameter: name points into the pattern (not NUL-terminated), value
 * into the matched path. */
struct router_param {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct router_match {
	const struct router_route *route; /* set when router_match gave 0 */
	size_t index;                     /* its index in the table */
	struct router_param params[ROUTER_MAX_PARAMS];
	size_t nparams;
	char allow[ROUTER_ALLOW_MAX]; /* 405: "GET, HEAD, POST"; else "" */
};

struct router {
	const struct router_route *routes; /* borrowed */
	size_t n;
};

/*
 * A response body a handler sends piece by piece while it runs (a
 * text/event-stream), instead of the whole body at its end. begin sends
 * r's status line and fields at once (the body then goes in chunks over
 * HTTP/1.1, or until the close over HTTP/1.0); write sends one piece,
 * waiting at most send_timeout for a slow client; the loop ends the body
 * after the handler returns. Once begun, what the handler puts in r is
 * not sent. begin and write return 0, or -1 when the client is gone or
 * too slow (the connection is then closed after the handler).
 */
struct router_stream {
	int (*begin)(struct router_stream *s, struct http_resp *r);
	int (*write)(struct router_stream *s, const char *p, size_t n);
	/* Whether the client closed or reset the connection. */
	bool (*gone)(struct router_stream *s);
	/* Close this worker's idle keep-alive connections, so that a
	 * request the client sends while this handler waits for it reaches
	 * another worker instead of this busy one. */
	void (*release_idle)(struct router_stream *s);
	int fd; /* the client's socket (poll it for POLLRDHUP) */
};

/* What a handler gets. Everything is borrowed for the handler's call. */
struct router_call {
	const struct http_request *req;
	const char *buf;  /* the bytes the request's slices point into */
	const char *body; /* the request body (decoded), body_len bytes */
	size_t body_len;
	const struct router_match *match;
	const char *request_id; /* NUL-terminated */
	const char *client;     /* numeric peer address, NUL-terminated */
	bool tls;               /* the request came over TLS */
	/* Who called, as the auth middleware established it; NULL for a
	 * route without authentication or an anonymous call. */
	const struct auth_principal *who;
	/* Streaming the body; NULL where the caller cannot (unit tests). */
	struct router_stream *stream;
};

/*
 * Check a table and borrow it: every pattern starts with '/', parameters
 * are whole segments with a name of [a-z_][a-z0-9_]* and at most
 * ROUTER_MAX_PARAMS of them, labels are valid, handlers set, no method +
 * pattern twice, at most ROUTER_MAX_ROUTES routes. Returns 0, or -1 with
 * the reason (naming the route) in err.
 */
int router_init(struct router *r, const struct router_route *routes, size_t n,
    char *err, size_t errlen);

/*
 * Find the route for method and path[0..len). Routes with a flag in hide
 * are skipped as if absent. Returns 0 with m->route, m->index and the
 * parameters set; 404; 405 with m->allow; or 501.
 */
int router_match(const struct router *r, enum http_method method,
    const char *path, size_t len, unsigned hide, struct router_match *m);

/*
 * The methods the visible routes (as router_match would see them with
 * hide) take for path[0..len), in Allow order ("GET, HEAD, POST"), into
 * dst (n bytes; ROUTER_ALLOW_MAX is enough). Returns how many routes
 * match the path: 0 for a path no route serves.
 */
size_t router_methods(const struct router *r, const char *path, size_t len,
    unsigned hide, char *dst, size_t n);

/* The value of parameter name, or NULL (and *len 0) when absent. */
const char *router_param(const struct router_match *m, const char *name,
    size_t *len);

/* A request header of call as a NUL-terminated copy in out (truncated to
 * outlen - 1): out, or NULL when the request has none. */
const char *router_header(const struct router_call *call, const char *name,
    char *out, size_t outlen);

/* Whether call's Content-Type is the media type type (case-insensitive),
 * alone or followed by parameters ("; charset=utf-8"). */
bool router_content_type_is(const struct router_call *call, const char *type);

/* Make doc (taken; NULL is allowed) the JSON body of r with status; when
 * it cannot be (NULL, or too large for r), a 500 that says so. */
void router_send_json(const struct router_call *call, struct http_resp *r,
    int status, struct json_object *doc);

/* "GET", "HEAD" ...; "" for HTTP_METHOD_OTHER. Static. */
const char *router_method_name(enum http_method method);

/* Whether s is a valid metric label. */
bool router_label_valid(const char *s);

#endif /* PACER_ROUTER_H */
