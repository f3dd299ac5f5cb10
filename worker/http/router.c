/*
 * router.c - route table checks and path matching; see router.h.
 *
 * Runs in worker processes, once per request, on a path the parser has
 * already checked (visible ASCII, no '#'). The table is small (tens of
 * routes) and matching is a linear walk that compares bytes in place: no
 * allocation, no copying, no regular expressions. Patterns are validated
 * once at start-up, so the matcher can trust that '{' opens a whole
 * parameter segment that a '}' closes.
 */
#include "router.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "http_resp.h"

/* Methods in the order an Allow header lists them. */
static const enum http_method allow_order[] = {
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_POST,
    HTTP_METHOD_PUT,
    HTTP_METHOD_PATCH,
    HTTP_METHOD_DELETE,
    HTTP_METHOD_OPTIONS,
    HTTP_METHOD_CONNECT,
    HTTP_METHOD_TRACE,
};
#define NALLOW (sizeof(allow_order) / sizeof(allow_order[0]))

const char *router_method_name(enum http_method method)
{
	switch (method) {
	case HTTP_METHOD_GET: return "GET";
	case HTTP_METHOD_HEAD: return "HEAD";
	case HTTP_METHOD_POST: return "POST";
	case HTTP_METHOD_PUT: return "PUT";
	case HTTP_METHOD_PATCH: return "PATCH";
	case HTTP_METHOD_DELETE: return "DELETE";
	case HTTP_METHOD_OPTIONS: return "OPTIONS";
	case HTTP_METHOD_CONNECT: return "CONNECT";
	case HTTP_METHOD_TRACE: return "TRACE";
	case HTTP_METHOD_OTHER: break;
	}
	return "";
}

bool router_label_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= ROUTER_LABEL_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '_'))
			return false;
	}
	return true;
}

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || c == '_')
		return true;
	return !first && c >= '0' && c <= '9';
}

/* Check one pattern; returns NULL or what is wrong with it. */
static const char *check_pattern(const char *p)
{
	size_t nparams = 0;

	if (p == NULL || p[0] != '/')
		return "pattern must start with '/'";
	while (*p != '\0') {
		if (*p == '}')
			return "'}' outside a parameter";
		if (*p != '{') {
			p++;
			continue;
		}
		if (p[-1] != '/')
			return "a parameter must be a whole segment";
		p++;
		if (!name_char(*p, true))
			return "invalid parameter name";
		while (name_char(*p, false))
			p++;
		if (*p != '}')
			return "invalid parameter name";
		p++;
		if (*p != '\0' && *p != '/')
			return "a parameter must be a whole segment";
		if (++nparams > ROUTER_MAX_PARAMS)
			return "too many parameters";
	}
	return NULL;
}

static const char *check_route(const struct router_route *rt)
{
	const char *why = check_pattern(rt->pattern);

	if (why != NULL)
		return why;
	if (rt->handler == NULL)
		return "no handler";
	if (!router_label_valid(rt->label))
		return "invalid metric label";
	if (rt->method == HTTP_METHOD_OTHER)
		return "a route needs a known method";
	return NULL;
}

int router_init(struct router *r, const struct router_route *routes, size_t n,
    char *err, size_t errlen)
{
	size_t i, j;

	r->routes = NULL;
	r->n = 0;
	if (n > ROUTER_MAX_ROUTES) {
		(void)snprintf(err, errlen,
		    "route table has %zu routes, most %d", n,
		    ROUTER_MAX_ROUTES);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *why = check_route(&routes[i]);

		for (j = 0; why == NULL && j < i; j++)
			if (routes[j].method == routes[i].method &&
			    strcmp(routes[j].pattern, routes[i].pattern) == 0)
				why = "method and pattern listed twice";
		if (why != NULL) {
			(void)snprintf(err, errlen, "route %zu (%s %s): %s", i,
			    router_method_name(routes[i].method),
			    routes[i].pattern != NULL ? routes[i].pattern : "",
			    why);
			return -1;
		}
	}
	r->routes = routes;
	r->n = n;
	return 0;
}

/* Whether path[0..len) matches pat; fills m's parameters when it does. */
static bool match_path(const char *pat, const char *path, size_t len,
    struct router_match *m)
{
	size_t i = 0;

	m->nparams = 0;
	while (*pat != '\0') {
		if (*pat == '{') {
			const char *end = strchr(pat, '}');
			size_t start = i;

			while (i < len && path[i] != '/')
				i++;
			if (i == start || end == NULL)
				return false;
			if (m->nparams < ROUTER_MAX_PARAMS) {
				struct router_param *p =
				    &m->params[m->nparams++];

				p->name = pat + 1;
				p->name_len = (size_t)(end - pat - 1);
				p->value = path + start;
				p->value_len = i - start;
			}
			pat = end + 1;
			continue;
		}
		if (i >= len || path[i] != *pat)
			return false;
		i++;
		pat++;
	}
	return i == len;
}

/* The 405 answer: every method some visible route takes for this path. */
static void build_allow(const bool *seen, char *dst, size_t n)
{
	struct buf b;
	size_t k;

	buf_init_fixed(&b, dst, n);
	for (k = 0; k < NALLOW; k++) {
		if (!seen[allow_order[k]])
			continue;
		if (b.len > 0)
			(void)buf_puts(&b, ", ");
		(void)buf_puts(&b, router_method_name(allow_order[k]));
	}
}

int router_match(const struct router *r, enum http_method method,
    const char *path, size_t len, unsigned hide, struct router_match *m)
{
	bool seen[HTTP_METHOD_OTHER + 1] = {false};
	bool any = false;
	long head_via_get = -1;
	size_t i;

	m->route = NULL;
	m->index = 0;
	m->nparams = 0;
	m->allow[0] = '\0';
	if (method == HTTP_METHOD_OTHER)
		return 501;
	for (i = 0; i < r->n; i++) {
		const struct router_route *rt = &r->routes[i];

		if ((rt->flags & hide) != 0 ||
		    !match_path(rt->pattern, path, len, m))
			continue;
		if (rt->method == method) {
			m->route = rt;
			m->index = i;
			return 0;
		}
		if (method == HTTP_METHOD_HEAD &&
		    rt->method == HTTP_METHOD_GET && head_via_get < 0)
			head_via_get = (long)i;
		seen[rt->method] = true;
		if (rt->method == HTTP_METHOD_GET)
			seen[HTTP_METHOD_HEAD] = true;
		any = true;
	}
	if (head_via_get >= 0) {
		i = (size_t)head_via_get;
		(void)match_path(r->routes[i].pattern, path, len, m);
		m->route = &r->routes[i];
		m->index = i;
		return 0;
	}
	m->nparams = 0;
	if (!any)
		return 404;
	build_allow(seen, m->allow, sizeof(m->allow));
	return 405;
}

size_t router_methods(const struct router *r, const char *path, size_t len,
    unsigned hide, char *dst, size_t n)
{
	bool seen[HTTP_METHOD_OTHER + 1] = {false};
	struct router_match scratch;
	size_t i, found = 0;

	for (i = 0; i < r->n; i++) {
		const struct router_route *rt = &r->routes[i];

		if ((rt->flags & hide) != 0 ||
		    !match_path(rt->pattern, path, len, &scratch))
			continue;
		seen[rt->method] = true;
		if (rt->method == HTTP_METHOD_GET)
			seen[HTTP_METHOD_HEAD] = true;
		found++;
	}
	build_allow(seen, dst, n);
	return found;
}

const char *router_param(const struct router_match *m, const char *name,
    size_t *len)
{
	size_t i, n = strlen(name);

	for (i = 0; i < m->nparams; i++) {
		const struct router_param *p = &m->params[i];

		if (p->name_len == n && memcmp(p->name, name, n) == 0) {
			*len = p->value_len;
			return p->value;
		}
	}
	*len = 0;
	return NULL;
}

const char *router_header(const struct router_call *call, const char *name,
    char *out, size_t outlen)
{
	struct http_slice s;
	size_t n;

	if (!http_header_get(call->req, call->buf, name, &s))
		return NULL;
	n = s.len < outlen - 1 ? s.len : outlen - 1;
	memcpy(out, call->buf + s.off, n);
	out[n] = '\0';
	return out;
}

bool router_content_type_is(const struct router_call *call, const char *type)
{
	char ct[128];
	size_t n = strlen(type);

	return router_header(call, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strcspn(ct, "; \t") == n && strncasecmp(ct, type, n) == 0;
}

void router_send_json(const struct router_call *call, struct http_resp *r,
    int status, struct json_object *doc)
{
	const char *text = doc != NULL
	    ? json_object_to_json_string_ext(doc,
	          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
	    : NULL;

	if (text == NULL ||
	    http_resp_set(r, status, HTTP_RESP_JSON, text, strlen(text)) != 0)
		http_resp_error(r, 500, "The reply could not be built.",
		    call->request_id);
	json_object_put(doc);
}
