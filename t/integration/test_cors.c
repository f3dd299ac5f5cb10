/*
 * test_cors.c - CORS and the security fields as real worker processes
 * serve them (harness: wtest.h): a listed origin gets its CORS fields, an
 * unlisted one none; preflights answered 204 with the path's methods, 403
 * for an unlisted origin, 404 on an unknown path; a plain OPTIONS still
 * 405; the security fields on a 200, a 404 and a 400 refusal. Plus the
 * origin matcher and router_methods on their own.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <string.h>

#include "cors.h"
#include "router.h"
#include "wtest.h"

#define ORIGINS                                                                \
	"cors_allowed_origins = 'https://app.example.com, "                    \
	"http://localhost:3000'\n"

TestSuite(cors, .init = wt_setup, .fini = wt_teardown, .timeout = 90);

/* ---- the matcher ---------------------------------------------------------- */

Test(cors, origin_matches_exactly)
{
	const char *list = "https://app.example.com, http://localhost:3000\t"
	                   "http://[::1]:8080";

	cr_assert(cors_origin_allowed(list, "https://app.example.com", 23));
	cr_assert(cors_origin_allowed(list, "http://localhost:3000", 21));
	cr_assert(cors_origin_allowed(list, "http://[::1]:8080", 17));
	cr_assert(not(cors_origin_allowed(list, "https://app.example.co", 22)));
	cr_assert(
	    not(cors_origin_allowed(list, "https://app.example.com.evil", 28)));
	cr_assert(
	    not(cors_origin_allowed(list, "HTTPS://APP.EXAMPLE.COM", 23)));
	cr_assert(not(cors_origin_allowed(list, "http://localhost", 16)));
	cr_assert(not(cors_origin_allowed(list, "null", 4)));
	cr_assert(not(cors_origin_allowed(list, "", 0)));
	cr_assert(not(cors_origin_allowed("", "https://a.example", 17)));
}

static void h_none(const struct router_call *call, struct http_resp *r)
{
	(void)call;
	(void)r;
}

Test(cors, router_methods_lists_a_paths_methods)
{
	static const struct router_route routes[] = {
	    {HTTP_METHOD_GET, "/a/{id}", h_none, ROUTER_AUTH_NONE,
	        ROUTER_RATE_NONE, "a_get", 0},
	    {HTTP_METHOD_DELETE, "/a/{id}", h_none, ROUTER_AUTH_NONE,
	        ROUTER_RATE_NONE, "a_delete", 0},
	    {HTTP_METHOD_POST, "/b", h_none, ROUTER_AUTH_NONE, ROUTER_RATE_NONE,
	        "b_post", ROUTER_F_DEBUG},
	};
	struct router rt;
	char err[256], m[ROUTER_ALLOW_MAX];

	cr_assert(eq(int, router_init(&rt, routes, 3, err, sizeof(err)), 0),
	    "%s", err);
	cr_assert(eq(sz, router_methods(&rt, "/a/7", 4, 0, m, sizeof(m)), 2));
	cr_assert(eq(str, m, "GET, HEAD, DELETE"));
	cr_assert(eq(sz, router_methods(&rt, "/b", 2, 0, m, sizeof(m)), 1));
	cr_assert(eq(str, m, "POST"));
	cr_assert(eq(sz,
	    router_methods(&rt, "/b", 2, ROUTER_F_DEBUG, m, sizeof(m)), 0));
	cr_assert(eq(sz, router_methods(&rt, "/c", 2, 0, m, sizeof(m)), 0));
}

/* ---- the worker ----------------------------------------------------------- */

static bool no_cors(const struct wt_rep *r)
{
	return strstr(r->head, "Access-Control-") == NULL;
}

static bool listed_fields(const struct wt_rep *r, const char *origin)
{
	return wt_rep_has(r, "Access-Control-Allow-Origin", origin) &&
	    wt_rep_has(r, "Access-Control-Allow-Credentials", "true") &&
	    wt_rep_has(r, "Vary", "Origin");
}

Test(cors, listed_origin_gets_its_fields)
{
	struct wt_rep r;

	wt_start(ORIGINS, 1);
	wt_exchange(
	    "GET /health/live HTTP/1.1\r\nHost: t\r\n"
	    "Origin: http://localhost:3000\r\nConnection: close\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 200));
	cr_assert(listed_fields(&r, "http://localhost:3000"), "%s", r.head);
	cr_assert(wt_rep_has(&r, "Access-Control-Expose-Headers",
	              CORS_EXPOSE_HEADERS),
	    "%s", r.head);
	cr_assert(not(wt_rep_has(&r, "Access-Control-Allow-Origin", "*")));
	wt_rep_free(&r);
}

Test(cors, unlisted_origin_gets_none_and_is_served)
{
	struct wt_rep r;

	wt_start(ORIGINS, 1);
	wt_exchange("GET /health/live HTTP/1.1\r\nHost: t\r\n"
	            "Origin: https://evil.example\r\nConnection: close\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 200));
	cr_assert(no_cors(&r), "%s", r.head);
	/* The answer still varies with the origin, for shared caches. */
	cr_assert(wt_rep_has(&r, "Vary", "Origin"), "%s", r.head);
	wt_rep_free(&r);
	/* Nothing listed: nobody gets CORS fields. */
	wt_teardown();
	wt_start(NULL, 1);
	wt_exchange(
	    "GET /health/live HTTP/1.1\r\nHost: t\r\n"
	    "Origin: https://app.example.com\r\nConnection: close\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 200));
	cr_assert(no_cors(&r), "%s", r.head);
	wt_rep_free(&r);
}

Test(cors, preflight_from_a_listed_origin)
{
	struct wt_rep r;

	wt_start(ORIGINS, 1);
	wt_exchange("OPTIONS /health/live HTTP/1.1\r\nHost: t\r\n"
	            "Origin: https://app.example.com\r\n"
	            "Access-Control-Request-Method: GET\r\n"
	            "Access-Control-Request-Headers: authorization\r\n"
	            "Connection: close\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 204), "%s", r.head);
	cr_assert(listed_fields(&r, "https://app.example.com"), "%s", r.head);
	cr_assert(wt_rep_has(&r, "Access-Control-Allow-Methods", "GET, HEAD"),
	    "%s", r.head);
	cr_assert(wt_rep_has(&r, "Access-Control-Allow-Headers",
	              CORS_ALLOW_HEADERS),
	    "%s", r.head);
	cr_assert(wt_rep_has(&r, "Access-Control-Max-Age", "600"));
	cr_assert(wt_rep_has(&r, "X-Frame-Options", "DENY"));
	cr_assert(eq(sz, r.body_len, 0));
	wt_rep_free(&r);
}

Test(cors, preflight_from_an_unlisted_origin_is_403)
{
	struct wt_rep r;

	wt_start(ORIGINS, 1);
	wt_exchange("OPTIONS /health/live HTTP/1.1\r\nHost: t\r\n"
	            "Origin: https://evil.example\r\n"
	            "Access-Control-Request-Method: GET\r\n"
	            "Connection: close\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 403), "%s", r.head);
	cr_assert(no_cors(&r), "%s", r.head);
	cr_assert(not(eq(ptr, strstr(r.body, "\"error\": \"forbidden\""),
	              NULL)),
	    "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "origin not allowed"), NULL)),
	    "%s", r.body);
	wt_rep_free(&r);
}

Test(cors, preflight_on_an_unknown_path_is_404)
{
	struct wt_rep r;

	wt_start(ORIGINS, 1);
	wt_exchange("OPTIONS /no/such/path HTTP/1.1\r\nHost: t\r\n"
	            "Origin: https://app.example.com\r\n"
	            "Access-Control-Request-Method: GET\r\n"
	            "Connection: close\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 404), "%s", r.head);
	wt_rep_free(&r);
}

Test(cors, plain_options_is_still_405)
{
	struct wt_rep r;

	wt_start(ORIGINS, 1);
	wt_exchange("OPTIONS /health/live HTTP/1.1\r\nHost: t\r\n"
	            "Connection: close\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 405), "%s", r.head);
	cr_assert(wt_rep_has(&r, "Allow", "GET, HEAD"), "%s", r.head);
	cr_assert(no_cors(&r), "%s", r.head);
	wt_rep_free(&r);
}

/* ---- security fields ------------------------------------------------------ */

static void expect_security(const struct wt_rep *r)
{
	cr_expect(wt_rep_has(r, "X-Content-Type-Options", "nosniff"), "%s",
	    r->head);
	cr_expect(wt_rep_has(r, "X-Frame-Options", "DENY"), "%s", r->head);
	cr_expect(wt_rep_has(r, "Referrer-Policy", "no-referrer"), "%s",
	    r->head);
	cr_expect(wt_rep_has(r, "Content-Security-Policy",
	              "default-src 'none'; frame-ancestors 'none'"),
	    "%s", r->head);
	cr_expect(eq(ptr, strstr(r->head, "Strict-Transport-Security"), NULL),
	    "HSTS over plain HTTP: %s", r->head);
}

Test(cors, security_fields_on_200_404_and_400)
{
	struct wt_rep r;

	wt_start(NULL, 1);
	wt_exchange("GET /health/live HTTP/1.1\r\nHost: t\r\n"
	            "Connection: close\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 200));
	expect_security(&r);
	wt_rep_free(&r);
	wt_exchange("GET /nothing/here HTTP/1.1\r\nHost: t\r\n"
	            "Connection: close\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 404));
	expect_security(&r);
	wt_rep_free(&r);
	wt_exchange("GET /health/live HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	    &r, false);
	cr_assert(eq(int, r.status, 400), "%s", r.head);
	expect_security(&r);
	wt_rep_free(&r);
}
