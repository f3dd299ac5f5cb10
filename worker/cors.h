/*
 * cors.h - cross-origin requests from browser pages (CORS, the Fetch
 * standard), for the origins of cors_allowed_origins only.
 *
 * A request whose Origin is exactly one of the listed origins gets
 * Access-Control-Allow-Origin with that origin (never "*"), credentials
 * allowed, "Vary: Origin" and the response fields a page may read. Any
 * other origin gets no CORS field at all and the request is served as
 * usual: the browser keeps the answer from the page. A preflight
 * (OPTIONS with Origin and Access-Control-Request-Method) is answered here,
 * before authentication (preflights carry no credentials): 204 with the
 * path's methods for a listed origin, 403 for another; a path no route
 * serves is left to the router (404).
 *
 * Callers: worker processes (conn.c) and the unit tests.
 */
#ifndef PACER_CORS_H
#define PACER_CORS_H

#include <stdbool.h>
#include <stddef.h>

#include "http_parse.h"
#include "http_resp.h"
#include "router.h"

/* What a preflight may ask to send, and what a page may read. */
#define CORS_ALLOW_HEADERS                                                     \
	"Authorization, Content-Type, X-API-Key, X-Request-Id, "               \
	"Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID"
#define CORS_EXPOSE_HEADERS                                                    \
	"X-Request-Id, Retry-After, X-RateLimit-Limit, "                       \
	"X-RateLimit-Remaining, X-RateLimit-Reset, Mcp-Session-Id"
/* Seconds a browser may cache a preflight's answer. */
#define CORS_MAX_AGE "600"
/* The longest Origin value compared; longer ones are never allowed. */
#define CORS_ORIGIN_MAX 512

/* Whether origin[0..len) is one of allowed (the cors_allowed_origins
 * value: origins separated by spaces or commas): exact, byte for byte. */
bool cors_origin_allowed(const char *allowed, const char *origin, size_t len);

/*
 * CORS for a request whose head is parsed (q, its bytes in buf), before
 * its handler runs. allowed is cors_allowed_origins; rt and hide are the
 * route table as router_match sees it; request_id goes into an error
 * body. Returns true when q is a preflight that r now answers (204, or a
 * 403 JSON error), false when the request goes on to its handler, r then
 * carrying the CORS fields if its origin is allowed.
 */
bool cors_apply(const char *allowed, const struct http_request *q,
    const char *buf, const struct router *rt, unsigned hide,
    const char *request_id, struct http_resp *r);

#endif /* PACER_CORS_H */
