/*
 * cors.c - CORS fields and preflights; see cors.h.
 *
 * Runs in worker processes, once per request, before the handler. The
 * allowed list is the configuration's string, scanned in place: it holds
 * a handful of origins, and scanning costs less than keeping a parsed
 * copy in step with reloads. The Origin value comes from the client: it
 * is compared byte for byte and echoed only when it equals a listed
 * origin, so what goes back is the operator's text, never the client's.
 */
#include "cors.h"

#include <string.h>

#include "log.h"

bool cors_origin_allowed(const char *allowed, const char *origin, size_t len)
{
	const char *p = allowed;

	if (len == 0 || len > CORS_ORIGIN_MAX)
		return false;
	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if (n == len && memcmp(p, origin, len) == 0)
			return true;
		p += n;
	}
	return false;
}

/* The fields of every answer to a listed origin. Returns 0 or -1. */
static int allow_origin(struct http_resp *r, const char *origin)
{
	if (http_resp_header(r, "Access-Control-Allow-Origin", origin) != 0 ||
	    http_resp_header(r, "Access-Control-Allow-Credentials", "true") !=
	        0 ||
	    http_resp_header(r, "Vary", "Origin") != 0)
		return -1;
	return 0;
}

static bool preflight(const struct http_request *q, const char *buf,
    const struct router *rt, unsigned hide, const char *origin, bool listed,
    const char *request_id, struct http_resp *r)
{
	char methods[ROUTER_ALLOW_MAX];

	if (router_methods(rt, buf + q->path.off, q->path.len, hide, methods,
	        sizeof(methods)) == 0)
		return false; /* the router answers 404 */
	if (!listed) {
		http_resp_error(r, 403,
		    "This request is not allowed: origin not allowed.",
		    request_id);
		return true;
	}
	(void)http_resp_set(r, 204, NULL, "", 0);
	if (allow_origin(r, origin) != 0 ||
	    http_resp_header(r, "Access-Control-Allow-Methods", methods) != 0 ||
	    http_resp_header(r, "Access-Control-Allow-Headers",
	        CORS_ALLOW_HEADERS) != 0 ||
	    http_resp_header(r, "Access-Control-Max-Age", CORS_MAX_AGE) != 0) {
		log_errx("request %s: could not add the CORS fields",
		    request_id);
		http_resp_reset(r);
		http_resp_error(r, 500, NULL, request_id);
	}
	return true;
}

bool cors_apply(const char *allowed, const struct http_request *q,
    const char *buf, const struct router *rt, unsigned hide,
    const char *request_id, struct http_resp *r)
{
	char origin[CORS_ORIGIN_MAX + 1];
	struct http_slice o, acrm;
	bool listed;

	origin[0] = '\0';
	if (!http_header_get(q, buf, "Origin", &o))
		return false;
	listed = cors_origin_allowed(allowed, buf + o.off, o.len);
	if (listed) {
		memcpy(origin, buf + o.off, o.len);
		origin[o.len] = '\0';
	}
	if (q->method == HTTP_METHOD_OPTIONS &&
	    http_header_get(q, buf, "Access-Control-Request-Method", &acrm))
		return preflight(q, buf, rt, hide, origin, listed, request_id,
		    r);
	if (!listed) {
		/* The answer depends on the origin all the same: a shared
		 * cache must not give this one to a listed origin. */
		if (http_resp_header(r, "Vary", "Origin") != 0)
			log_errx("request %s: could not add Vary", request_id);
		return false;
	}
	if (allow_origin(r, origin) != 0 ||
	    http_resp_header(r, "Access-Control-Expose-Headers",
	        CORS_EXPOSE_HEADERS) != 0)
		log_errx("request %s: could not add the CORS fields",
		    request_id);
	return false;
}
