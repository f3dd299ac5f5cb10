/*
 * test_router.c - the route table: literal and parameterised patterns,
 * first match wins, HEAD served by GET, 405 with the Allow list, 404,
 * 501 for unknown methods, hidden (debug) routes, and the checks a table
 * must pass at start-up.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <string.h>

#include "router.h"

static void h_a(const struct router_call *call, struct http_resp *resp)
{
	(void)call;
	(void)resp;
}

static void h_b(const struct router_call *call, struct http_resp *resp)
{
	(void)call;
	(void)resp;
}

#define R(m, p, h, label, flags)                                               \
	{                                                                      \
		HTTP_METHOD_##m, p, h, ROUTER_AUTH_NONE, ROUTER_RATE_NONE,     \
		    label, flags                                               \
	}

static const struct router_route table[] = {
    R(GET, "/health/live", h_a, "health_live", 0),
    R(GET, "/api/keys/new", h_b, "keys_new", 0),
    R(GET, "/api/keys/{id}", h_a, "keys_get", 0),
    R(DELETE, "/api/keys/{id}", h_b, "keys_delete", 0),
    R(POST, "/api/keys", h_a, "keys_create", 0),
    R(GET, "/users/{user}/goals/{goal}", h_a, "goal_get", 0),
    R(PUT, "/users/{user}/goals/{goal}", h_b, "goal_put", 0),
    R(HEAD, "/special", h_b, "special_head", 0),
    R(GET, "/special", h_a, "special_get", 0),
    R(GET, "/debug/sleep", h_a, "debug_sleep", ROUTER_F_DEBUG),
    R(POST, "/", h_b, "root_post", 0),
};

static struct router rt;
static struct router_match m;

static void setup(void)
{
	char err[256];

	cr_assert(eq(int,
	              router_init(&rt, table, sizeof(table) / sizeof(table[0]),
	                  err, sizeof(err)),
	              0),
	    "router_init: %s", err);
}

TestSuite(router, .init = setup);

static int match(enum http_method method, const char *path, unsigned hide)
{
	return router_match(&rt, method, path, strlen(path), hide, &m);
}

static void assert_param(const char *name, const char *want)
{
	size_t len;
	const char *v = router_param(&m, name, &len);
	bool found = v != NULL;

	cr_assert(found, "parameter %s missing", name);
	cr_assert(eq(sz, len, strlen(want)));
	cr_assert(eq(int, memcmp(v, want, len), 0), "%s is %.*s, want %s", name,
	    (int)len, v, want);
}

Test(router, literal_path_finds_its_handler_and_index)
{
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/health/live", 0), 0));
	cr_assert(eq(ptr, (void *)m.route, (void *)&table[0]));
	cr_assert(eq(sz, m.index, 0));
	cr_assert(eq(sz, m.nparams, 0));
	cr_assert(eq(str, m.allow, ""));
}

Test(router, parameter_takes_one_segment)
{
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/api/keys/k_42", 0), 0));
	cr_assert(eq(sz, m.index, 2));
	assert_param("id", "k_42");
	cr_assert(eq(int, match(HTTP_METHOD_DELETE, "/api/keys/k%2F1", 0), 0));
	cr_assert(eq(sz, m.index, 3));
	assert_param("id", "k%2F1");
}

Test(router, parameter_never_matches_empty_or_several_segments)
{
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/api/keys/", 0), 404));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/api/keys/a/b", 0), 404));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/users//goals/1", 0), 404));
}

Test(router, two_parameters)
{
	cr_assert(eq(int, match(HTTP_METHOD_PUT, "/users/u1/goals/g-9", 0), 0));
	cr_assert(eq(sz, m.index, 6));
	cr_assert(eq(sz, m.nparams, 2));
	assert_param("user", "u1");
	assert_param("goal", "g-9");
	size_t len = 1;
	bool absent = router_param(&m, "nope", &len) == NULL;
	cr_assert(absent);
	cr_assert(eq(sz, len, 0));
}

Test(router, first_route_in_table_order_wins)
{
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/api/keys/new", 0), 0));
	cr_assert(eq(sz, m.index, 1));
	cr_assert(eq(sz, m.nparams, 0));
}

Test(router, literal_match_is_exact)
{
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/health/live/", 0), 404));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/Health/live", 0), 404));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/health/liv", 0), 404));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/health/lives", 0), 404));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/health", 0), 404));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "", 0), 404));
}

Test(router, root_pattern)
{
	cr_assert(eq(int, match(HTTP_METHOD_POST, "/", 0), 0));
	cr_assert(eq(sz, m.index, 10));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/", 0), 405));
	cr_assert(eq(str, m.allow, "POST"));
}

Test(router, head_is_served_by_get)
{
	cr_assert(eq(int, match(HTTP_METHOD_HEAD, "/api/keys/7", 0), 0));
	cr_assert(eq(sz, m.index, 2));
	assert_param("id", "7");
}

Test(router, an_explicit_head_route_wins_over_get)
{
	cr_assert(eq(int, match(HTTP_METHOD_HEAD, "/special", 0), 0));
	cr_assert(eq(sz, m.index, 7));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/special", 0), 0));
	cr_assert(eq(sz, m.index, 8));
}

Test(router, wrong_method_is_405_with_allow_in_fixed_order)
{
	cr_assert(eq(int, match(HTTP_METHOD_POST, "/api/keys/1", 0), 405));
	cr_assert(eq(str, m.allow, "GET, HEAD, DELETE"));
	bool none = m.route == NULL;
	cr_assert(none);
	cr_assert(eq(int, match(HTTP_METHOD_DELETE, "/health/live", 0), 405));
	cr_assert(eq(str, m.allow, "GET, HEAD"));
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/api/keys", 0), 405));
	cr_assert(eq(str, m.allow, "POST"));
	cr_assert(
	    eq(int, match(HTTP_METHOD_OPTIONS, "/users/a/goals/b", 0), 405));
	cr_assert(eq(str, m.allow, "GET, HEAD, PUT"));
}

Test(router, unknown_path_is_404)
{
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/nope", 0), 404));
	cr_assert(eq(str, m.allow, ""));
	bool none = m.route == NULL;
	cr_assert(none);
}

Test(router, unknown_method_is_501)
{
	cr_assert(eq(int, match(HTTP_METHOD_OTHER, "/health/live", 0), 501));
	cr_assert(eq(int, match(HTTP_METHOD_OTHER, "/nope", 0), 501));
}

Test(router, hidden_routes_are_absent)
{
	cr_assert(eq(int, match(HTTP_METHOD_GET, "/debug/sleep", 0), 0));
	cr_assert(eq(sz, m.index, 9));
	cr_assert(eq(int,
	    match(HTTP_METHOD_GET, "/debug/sleep", ROUTER_F_DEBUG), 404));
	cr_assert(eq(int,
	    match(HTTP_METHOD_POST, "/debug/sleep", ROUTER_F_DEBUG), 404));
}

Test(router, method_names)
{
	cr_assert(eq(str, (char *)router_method_name(HTTP_METHOD_GET), "GET"));
	cr_assert(
	    eq(str, (char *)router_method_name(HTTP_METHOD_PATCH), "PATCH"));
	cr_assert(eq(str, (char *)router_method_name(HTTP_METHOD_OTHER), ""));
}

static int init_one(const char *pattern, const char *label,
    enum http_method method, char *err, size_t errlen)
{
	struct router r;
	struct router_route one[1] = {{method, pattern, h_a, ROUTER_AUTH_NONE,
	    ROUTER_RATE_NONE, label, 0}};

	return router_init(&r, one, 1, err, errlen);
}

Test(router, init_refuses_broken_patterns)
{
	static const char *const bad[] = {"health", "", "/a{id}", "/{id}x",
	    "/{}", "/{Id}", "/{1d}", "/{id", "/a}",
	    "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(eq(int,
		              init_one(bad[i], "x", HTTP_METHOD_GET, err,
		                  sizeof(err)),
		              -1),
		    "pattern \"%s\" was accepted", bad[i]);
	cr_assert(eq(int,
	    init_one("/a{id}", "x", HTTP_METHOD_GET, err, sizeof(err)), -1));
	cr_assert(eq(str, err,
	    "route 0 (GET /a{id}): a parameter must be a whole segment"));
	cr_assert(eq(int,
	    init_one("/{a}/{b_2}/x", "x", HTTP_METHOD_GET, err, sizeof(err)),
	    0));
}

Test(router, init_refuses_bad_labels_methods_and_duplicates)
{
	struct router r;
	struct router_route dup[2] = {R(GET, "/a", h_a, "a", 0),
	    R(GET, "/a", h_b, "b", 0)};
	char err[256];

	cr_assert(
	    eq(int, init_one("/a", "Bad", HTTP_METHOD_GET, err, 256), -1));
	cr_assert(eq(int, init_one("/a", "", HTTP_METHOD_GET, err, 256), -1));
	cr_assert(eq(int,
	    init_one("/a", "a23456789012345678901234567890123", HTTP_METHOD_GET,
	        err, 256),
	    -1));
	cr_assert(
	    eq(int, init_one("/a", "ok", HTTP_METHOD_OTHER, err, 256), -1));
	cr_assert(eq(int, router_init(&r, dup, 2, err, sizeof(err)), -1));
	cr_assert(
	    eq(str, err, "route 1 (GET /a): method and pattern listed twice"));
	dup[1].method = HTTP_METHOD_POST;
	cr_assert(eq(int, router_init(&r, dup, 2, err, sizeof(err)), 0));
}

Test(router, label_syntax)
{
	bool ok = router_label_valid("health_live_2");
	bool upper = router_label_valid("Health");
	bool dash = router_label_valid("a-b");
	bool max = router_label_valid("a234567890123456789012345678901");
	bool over = router_label_valid("a2345678901234567890123456789012");

	cr_assert(ok);
	cr_assert(not(upper));
	cr_assert(not(dash));
	cr_assert(max);
	cr_assert(not(over));
}
