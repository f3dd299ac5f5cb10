/*
 * test_status.c - `pacerctl status` and its renderings, from a scoreboard
 * written the way workers write it: the summary, the per-worker table,
 * the JSON and Prometheus forms, latency quantiles, per-route counters,
 * recycle requests, and the errors an operator sees when there is no
 * scoreboard.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb.h"
#include "status.h"
#include "testutil.h"

static char *dir, path[512];
static struct sb *sb;
static struct sb_header_view hdr;

/* Three workers: one idle after 3 requests, one handling a request, one
 * finishing; latencies 0.4 ms, 0.8 ms, 20 ms; statuses 200, 200, 404.
 * The idle one wants recycling for its size, the finishing one for both
 * reasons. Routes: health_live (2 x 2xx, 2 ms in all), mcp (a 2xx and a
 * 5xx, 21.2 ms; a request without a status is not counted) and idle
 * (registered, never used); route 1 is not registered. */
static void setup_routes(void)
{
	cr_assert(eq(int, sb_route_register(sb, 0, "health_live"), 0));
	cr_assert(eq(int, sb_route_register(sb, 2, "mcp"), 0));
	cr_assert(eq(int, sb_route_register(sb, 5, "idle"), 0));
	cr_assert(eq(int, sb_route_count(sb, 0, 200, 500), 0));
	cr_assert(eq(int, sb_route_count(sb, 0, 204, 1500), 0));
	cr_assert(eq(int, sb_route_count(sb, 2, 200, 1200), 0));
	cr_assert(eq(int, sb_route_count(sb, 2, 503, 20000), 0));
	cr_assert(eq(int, sb_route_count(sb, 2, 0, 999999), 0));
	cr_assert(eq(int, sb_slot_want_recycle(sb, 0, SB_RECYCLE_RSS), 0));
	cr_assert(eq(int,
	    sb_slot_want_recycle(sb, 3, SB_RECYCLE_REQUESTS | SB_RECYCLE_RSS),
	    0));
}

static void setup(void)
{
	char err[256];

	dir = tu_tmpdir();
	(void)snprintf(path, sizeof(path), "%s/%s", dir, SB_FILE_NAME);
	sb = sb_create(path, 8, 4321, err, sizeof(err));
	cr_assert(not(eq(ptr, sb, NULL)), "sb_create: %s", err);
	cr_assert(eq(int, sb_set_generation(sb, 2), 0));
	cr_assert(eq(int, sb_slot_claim(sb, 0, 1001, 2), 0));
	cr_assert(eq(int, sb_slot_claim(sb, 1, 1002, 2), 0));
	cr_assert(eq(int, sb_slot_claim(sb, 3, 1003, 1), 0));
	(void)sb_slot_begin_request(sb, 0, "GET", 3, "/health/live", 12,
	    "127.0.0.1", 1000);
	(void)sb_slot_end_request(sb, 0, 200, 100, 50, 400);
	(void)sb_slot_begin_request(sb, 0, "GET", 3, "/health/live", 12,
	    "127.0.0.1", 2000);
	(void)sb_slot_end_request(sb, 0, 200, 100, 50, 800);
	(void)sb_slot_begin_request(sb, 0, "GET", 3, "/nope", 5, "127.0.0.1",
	    3000);
	(void)sb_slot_end_request(sb, 0, 404, 100, 60, 20000);
	(void)sb_slot_begin_request(sb, 1, "POST", 4, "/mcp", 4, "10.0.0.7",
	    5000000);
	(void)sb_slot_set_state(sb, 3, SB_STATE_FINISHING);
	cr_assert(eq(int, sb_slot_set_db_state(sb, 0, SB_DB_UP), 0));
	cr_assert(eq(int, sb_slot_set_db_state(sb, 1, SB_DB_DOWN), 0));
	setup_routes();
	cr_assert(eq(int, sb_header_read(sb, &hdr), 0));
}

static void teardown(void)
{
	sb_close(&sb);
	free(dir);
}

TestSuite(status, .init = setup, .fini = teardown);

static char *render(enum status_format fmt)
{
	struct buf out;
	char err[256], *s;

	buf_init_dynamic(&out, 1 << 20);
	/* 1h 2m 3s after start; the POST began 7 s before "now". */
	cr_assert(eq(int,
	              status_render(sb, fmt, hdr.start_time + 3723, 12000000,
	                  &out, err, sizeof(err)),
	              0),
	    "%s", err);
	s = strdup(buf_str(&out));
	buf_free(&out);
	return s;
}

Test(status, text_summary_and_worker_table)
{
	char *s = render(STATUS_TEXT);

	TU_EXPECT_IN(s, "pacerd master pid 4321, generation 2, up 1h 2m 3s\n");
	TU_EXPECT_IN(s, "last reload: none\n");
	TU_EXPECT_IN(s, "requests: 3 (1xx 0, 2xx 2, 3xx 0, 4xx 1, 5xx 0)");
	TU_EXPECT_IN(s,
	    "workers: 3 of 8 slots (_ 1 waiting, R 0 reading, W 1 handling, K "
	    "0 keep-alive, G 1 finishing, S 0 streaming)");
	cr_expect(eq(sz, tu_count_lines_with(s, " 1002 "), 1), "%s", s);
	cr_expect(not(eq(ptr, strstr(s, "7000  POST /mcp 10.0.0.7\n"), NULL)),
	    "age of the running request: %s", s);
	cr_expect(eq(ptr, strstr(s, " 1004 "), NULL),
	    "an open slot was listed");
	free(s);
}

Test(status, failed_reload_is_shown_with_its_error)
{
	char *s;

	cr_assert(eq(int,
	    sb_record_reload(sb, false, hdr.start_time + 60,
	        "pacerd.conf:3: unknown key \"x\""),
	    0));
	cr_assert(eq(int, sb_header_read(sb, &hdr), 0));
	s = render(STATUS_TEXT);
	TU_EXPECT_IN(s, "FAILED: pacerd.conf:3: unknown key \"x\"\n");
	free(s);
}

Test(status, json_carries_the_same_numbers)
{
	char *s = render(STATUS_JSON);
	struct json_object *root = json_tokener_parse(s), *o, *v, *slots;

	cr_assert(not(eq(ptr, root, NULL)), "not JSON: %s", s);
	cr_assert(json_object_object_get_ex(root, "master_pid", &v));
	cr_expect(eq(int, json_object_get_int(v), 4321));
	cr_assert(json_object_object_get_ex(root, "uptime_seconds", &v));
	cr_expect(eq(i64, json_object_get_int64(v), 3723));
	cr_assert(json_object_object_get_ex(root, "requests", &o));
	cr_assert(json_object_object_get_ex(o, "4xx", &v));
	cr_expect(eq(int, json_object_get_int(v), 1));
	cr_assert(json_object_object_get_ex(root, "workers", &o));
	cr_assert(json_object_object_get_ex(o, "W", &v));
	cr_expect(eq(int, json_object_get_int(v), 1));
	cr_assert(json_object_object_get_ex(root, "slots", &slots));
	cr_expect(eq(sz, json_object_array_length(slots), 3));
	o = json_object_array_get_idx(slots, 1);
	cr_assert(json_object_object_get_ex(o, "path", &v));
	cr_expect(eq(str, json_object_get_string(v), "/mcp"));
	json_object_put(root);
	free(s);
}

Test(status, prometheus_form_has_counters_states_and_histogram)
{
	char *s = render(STATUS_PROMETHEUS);

	TU_EXPECT_IN(s, "pacer_http_requests_total{class=\"2xx\"} 2\n");
	TU_EXPECT_IN(s, "pacer_workers{state=\"handling\"} 1\n");
	TU_EXPECT_IN(s,
	    "pacer_http_request_duration_seconds_bucket{le=\"0.0005\"} 1\n");
	TU_EXPECT_IN(s,
	    "pacer_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n");
	TU_EXPECT_IN(s, "pacer_http_request_duration_seconds_count 3\n");
	TU_EXPECT_IN(s, "pacer_http_request_duration_seconds_sum 0.0212\n");
	TU_EXPECT_IN(s, "pacer_generation 2\n");
	free(s);
}

Test(status, quantiles_interpolate_within_buckets)
{
	struct sb_hist_view h;
	int above;

	memset(&h, 0, sizeof(h));
	cr_assert(eq(dbl, status_quantile_us(&h, 0.5, &above), -1.0),
	    "empty histogram");
	h.bucket[0] = 50; /* <= 500 us */
	h.bucket[1] = 50; /* <= 1000 us */
	h.count = 100;
	cr_assert(eq(dbl, status_quantile_us(&h, 0.5, &above), 500.0));
	cr_assert(eq(dbl, status_quantile_us(&h, 0.75, &above), 750.0));
	cr_assert(eq(int, above, 0));
	memset(&h, 0, sizeof(h));
	h.bucket[SB_HIST_NBUCKETS - 1] = 10; /* all over 10 s */
	h.count = 10;
	cr_assert(eq(dbl, status_quantile_us(&h, 0.5, &above), 10000000.0));
	cr_assert(eq(int, above, 1),
	    "a quantile in +Inf must say it is a lower bound");
}

/* Run the built pacerctl with args (NULL-terminated, at most 6) and
 * expect status; the caller frees r. */
static void run_ctl(struct tu_run *r, const char *const *args, int status)
{
	char *argv[8];
	size_t n;

	argv[0] = tu_buildpath("master/pacerctl");
	for (n = 0; args[n] != NULL && n < 6; n++)
		argv[n + 1] = (char *)args[n];
	argv[n + 1] = NULL;
	cr_assert(eq(int, tu_run(r, argv, NULL), 0), "could not run %s",
	    argv[0]);
	free(argv[0]);
	cr_expect(eq(int, r->status, status),
	    "pacerctl exit status; stderr: %s", r->err);
}

Test(status, pacerctl_status_reads_the_file_without_the_server)
{
	const char *args[] = {"-s", path, "status", NULL};
	const char *jargs[] = {"-s", path, "status", "--json", NULL};
	struct json_object *o;
	struct tu_run r;

	run_ctl(&r, args, 0);
	TU_EXPECT_IN(r.out, "pacerd master pid 4321");
	tu_run_free(&r);
	run_ctl(&r, jargs, 0);
	o = json_tokener_parse(r.out);
	cr_expect(not(eq(ptr, o, NULL)), "not JSON: %s", r.out);
	json_object_put(o);
	tu_run_free(&r);
}

Test(status, pacerctl_finds_the_scoreboard_through_run_dir)
{
	char conf_text[700], *conf;
	struct tu_run r;

	(void)snprintf(conf_text, sizeof(conf_text), "run_dir = '%s'\n", dir);
	conf = tu_write(dir, "pacerd.conf", conf_text);
	{
		const char *args[] = {"-f", conf, "status", "--prometheus",
		    NULL};

		run_ctl(&r, args, 0);
	}
	TU_EXPECT_IN(r.out, "# TYPE pacer_workers gauge\n");
	tu_run_free(&r);
	free(conf);
}

Test(status, pacerctl_without_a_scoreboard_says_where_it_looked)
{
	const char *args[] = {"-s", "/nonexistent/pacerd.scoreboard", "status",
	    NULL};
	const char *bad[] = {"-s", path, "status", "--yaml", NULL};
	struct tu_run r;

	run_ctl(&r, args, 1);
	TU_EXPECT_IN(r.err, "/nonexistent/pacerd.scoreboard");
	TU_EXPECT_IN(r.err, "No such file or directory");
	tu_run_free(&r);
	run_ctl(&r, bad, 2); /* a usage error */
	TU_EXPECT_IN(r.err, "unknown option \"--yaml\"");
	tu_run_free(&r);
}

/* A second scoreboard, name in the test's folder: 2 slots, master pid 1. */
static struct sb *other_sb(const char *name)
{
	char p[600], err[256];
	struct sb *b;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	b = sb_create(p, 2, 1, err, sizeof(err));
	cr_assert(not(eq(ptr, b, NULL)), "sb_create %s: %s", p, err);
	return b;
}

/* Append b's rendering in fmt, at time 0, to out. */
static void render_into(const struct sb *b, enum status_format fmt,
    struct buf *out)
{
	char err[256] = "";

	cr_assert(eq(int, status_render(b, fmt, 0, 0, out, err, sizeof(err)),
	              0),
	    "status_render %d: %s", (int)fmt, err);
}

Test(status, empty_histogram_gives_null_latency_not_zero)
{
	struct sb *empty = other_sb("empty.scoreboard");
	struct buf out;
	struct json_object *root, *o, *v;

	buf_init_dynamic(&out, 1 << 16);
	render_into(empty, STATUS_JSON, &out);
	root = json_tokener_parse(buf_str(&out));
	cr_assert(not(eq(ptr, root, NULL)), "not JSON: %s", buf_str(&out));
	cr_assert(json_object_object_get_ex(root, "latency_ms", &o));
	cr_assert(json_object_object_get_ex(o, "p50", &v), "p50 missing");
	cr_assert(eq(ptr, v, NULL), "p50 is %s, expected null",
	    json_object_to_json_string(v));
	json_object_put(root);
	buf_free(&out);
	sb_close(&empty);
}

/* ---------------------------------------------------- routes and recycling */

Test(status, text_lists_registered_routes_after_the_summary)
{
	char *s = render(STATUS_TEXT);
	const char *table =
	    "workers: 3 of 8 slots (_ 1 waiting, R 0 reading, W 1 handling, K "
	    "0 keep-alive, G 1 finishing, S 0 streaming)\n"
	    "database: workers up 1, down 1, connecting 1; queries 0 (0 "
	    "failed), errors 0, reconnects 0, 503s 0\n"
	    "cache: local 0 hits 0 misses; redis 0 hits 0 misses, errors 0, "
	    "reconnects 0\n"
	    "\n"
	    "ROUTE                                REQS    1XX    2XX    3XX  "
	    "  4XX    5XX  MEAN_MS\n"
	    "health_live                             2      0      2      0  "
	    "    0      0      1.0\n"
	    "mcp                                     2      0      1      0  "
	    "    0      1     10.6\n"
	    "idle                                    0      0      0      0  "
	    "    0      0        -\n"
	    "\n"
	    " SLOT     PID  GEN S DB   RECYCLE       REQS";

	cr_expect(not(eq(ptr, strstr(s, table), NULL)),
	    "expected the route table between the summary and the workers "
	    "(registered routes only, in route order):\n%s",
	    s);
	free(s);
}

Test(status, text_shows_which_workers_want_recycling)
{
	char *s = render(STATUS_TEXT);

	cr_expect(
	    eq(sz, tu_count_lines_starting(s, "    0    1001    2 _ up   rss "),
	        1),
	    "expected slot 0 to want recycling for its size:\n%s", s);
	cr_expect(
	    eq(sz, tu_count_lines_starting(s, "    1    1002    2 W down - "),
	        1),
	    "expected slot 1 not to want recycling:\n%s", s);
	cr_expect(eq(sz,
	              tu_count_lines_starting(s,
	                  "    3    1003    1 G none reqs,rss "),
	              1),
	    "expected slot 3 to want recycling for both reasons:\n%s", s);
	free(s);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	bool found = json_object_object_get_ex(o, key, &v);

	cr_assert(found, "expected key \"%s\" in %s", key,
	    json_object_to_json_string(o));
	return v;
}

/* Expect route object o to be named route and to count requests. */
static void expect_route(struct json_object *o, const char *route,
    int64_t requests)
{
	cr_expect(eq(str, (char *)json_object_get_string(get(o, "route")),
	    (char *)route));
	cr_expect(eq(i64, json_object_get_int64(get(o, "requests")), requests),
	    "requests of route %s", route);
}

Test(status, json_has_routes_and_recycle_requests)
{
	static const char *const recycle[] = {"rss", NULL, "requests,rss"};
	char *s = render(STATUS_JSON);
	struct json_object *root = json_tokener_parse(s), *routes, *slots, *o,
	                   *st;
	size_t i;

	cr_assert(not(eq(ptr, root, NULL)), "not JSON: %s", s);
	routes = get(root, "routes");
	cr_assert(eq(sz, json_object_array_length(routes), 3),
	    "expected the three registered routes: %s", s);
	o = json_object_array_get_idx(routes, 1);
	expect_route(o, "mcp", 2);
	st = get(o, "status");
	cr_expect(eq(i64, json_object_get_int64(get(st, "1xx")), 0));
	cr_expect(eq(i64, json_object_get_int64(get(st, "2xx")), 1));
	cr_expect(eq(i64, json_object_get_int64(get(st, "5xx")), 1));
	cr_expect(
	    eq(dbl, json_object_get_double(get(o, "latency_sum_ms")), 21.2));
	cr_expect(not(eq(ptr, strstr(s, "\"latency_sum_ms\":21.200}"), NULL)),
	    "expected the sum exact to the microsecond: %s", s);
	expect_route(json_object_array_get_idx(routes, 2), "idle", 0);

	slots = get(root, "slots");
	cr_assert(eq(sz, json_object_array_length(slots), 3));
	for (i = 0; i < 3; i++) {
		struct json_object *v =
		    get(json_object_array_get_idx(slots, i), "recycle");

		if (recycle[i] == NULL)
			cr_expect(eq(ptr, v, NULL),
			    "expected recycle null in slot object %zu, got %s",
			    i, json_object_to_json_string(v));
		else
			cr_expect(eq(str, (char *)json_object_get_string(v),
			              (char *)recycle[i]),
			    "expected recycle \"%s\" in slot object %zu",
			    recycle[i], i);
	}
	json_object_put(root);
	free(s);
}

Test(status, prometheus_has_route_counters_for_registered_routes_only)
{
	char *s = render(STATUS_PROMETHEUS);
	const char *block =
	    "# HELP pacer_http_requests_by_route_total HTTP requests "
	    "answered, by route and status class.\n"
	    "# TYPE pacer_http_requests_by_route_total counter\n"
	    "pacer_http_requests_by_route_total{route=\"health_live\","
	    "class=\"1xx\"} 0\n"
	    "pacer_http_requests_by_route_total{route=\"health_live\","
	    "class=\"2xx\"} 2\n"
	    "pacer_http_requests_by_route_total{route=\"health_live\","
	    "class=\"3xx\"} 0\n"
	    "pacer_http_requests_by_route_total{route=\"health_live\","
	    "class=\"4xx\"} 0\n"
	    "pacer_http_requests_by_route_total{route=\"health_live\","
	    "class=\"5xx\"} 0\n"
	    "pacer_http_requests_by_route_total{route=\"mcp\",class=\"1xx\"} "
	    "0\n"
	    "pacer_http_requests_by_route_total{route=\"mcp\",class=\"2xx\"} "
	    "1\n"
	    "pacer_http_requests_by_route_total{route=\"mcp\",class=\"3xx\"} "
	    "0\n"
	    "pacer_http_requests_by_route_total{route=\"mcp\",class=\"4xx\"} "
	    "0\n"
	    "pacer_http_requests_by_route_total{route=\"mcp\",class=\"5xx\"} "
	    "1\n"
	    "pacer_http_requests_by_route_total{route=\"idle\",class=\"1xx\"} "
	    "0\n"
	    "pacer_http_requests_by_route_total{route=\"idle\",class=\"2xx\"} "
	    "0\n"
	    "pacer_http_requests_by_route_total{route=\"idle\",class=\"3xx\"} "
	    "0\n"
	    "pacer_http_requests_by_route_total{route=\"idle\",class=\"4xx\"} "
	    "0\n"
	    "pacer_http_requests_by_route_total{route=\"idle\",class=\"5xx\"} "
	    "0\n"
	    "# HELP pacer_http_request_duration_by_route_seconds Time from a "
	    "complete request head to the end of the response, by route.\n"
	    "# TYPE pacer_http_request_duration_by_route_seconds summary\n"
	    "pacer_http_request_duration_by_route_seconds_sum{route=\"health_"
	    "live\"} 0.002\n"
	    "pacer_http_request_duration_by_route_seconds_count{route=\"health_"
	    "live\"} 2\n"
	    "pacer_http_request_duration_by_route_seconds_sum{route=\"mcp\"} "
	    "0.0212\n"
	    "pacer_http_request_duration_by_route_seconds_count{route=\"mcp\"} "
	    "2\n"
	    "pacer_http_request_duration_by_route_seconds_sum{route=\"idle\"} "
	    "0\n"
	    "pacer_http_request_duration_by_route_seconds_count{route=\"idle\"}"
	    " "
	    "0\n";

	cr_expect(not(eq(ptr, strstr(s, block), NULL)),
	    "expected exactly this route block:\n%s\nin:\n%s", block, s);
	cr_expect(eq(sz, tu_count_lines_with(s, "by_route"), 25),
	    "expected 2 families x (HELP, TYPE) + 15 counters + 6 sum/count "
	    "lines, no more:\n%s",
	    s);
	free(s);
}

Test(status, two_routes_with_one_label_show_as_one)
{
	char *s;

	cr_assert(eq(int, sb_route_register(sb, 9, "mcp"), 0));
	cr_assert(eq(int, sb_route_count(sb, 9, 404, 800), 0));
	s = render(STATUS_PROMETHEUS);
	cr_expect(eq(sz,
	              tu_count_lines_starting(s,
	                  "pacer_http_requests_by_route_total{route=\"mcp\","
	                  "class=\"4xx\"} 1"),
	              1),
	    "expected route 9's 4xx added to route 2's series:\n%s", s);
	cr_expect(eq(sz,
	              tu_count_lines_with(s,
	                  "by_route_total{route=\"mcp\",class=\"2xx\"}"),
	              1),
	    "expected one series per label and class:\n%s", s);
	TU_EXPECT_IN(s,
	    "pacer_http_request_duration_by_route_seconds_count{route=\"mcp\"} "
	    "3\n");
	free(s);
}

Test(status, no_registered_route_means_no_route_output)
{
	struct sb *bare = other_sb("bare.scoreboard");
	struct buf out;
	const char *text;

	cr_assert(eq(int, sb_slot_claim(bare, 0, 77, 1), 0));
	buf_init_dynamic(&out, 1 << 16);
	render_into(bare, STATUS_TEXT, &out);
	render_into(bare, STATUS_JSON, &out);
	render_into(bare, STATUS_PROMETHEUS, &out);
	text = buf_str(&out);
	cr_expect(eq(ptr, strstr(text, "ROUTE"), NULL),
	    "expected no route table:\n%s", text);
	cr_expect(eq(ptr, strstr(text, "by_route"), NULL),
	    "expected no route metrics:\n%s", text);
	cr_expect(not(eq(ptr, strstr(text, "\"routes\":[]"), NULL)),
	    "expected an empty routes array:\n%s", text);
	cr_expect(not(eq(ptr, strstr(text, "\"recycle\":null"), NULL)),
	    "expected recycle null for a worker that did not ask:\n%s", text);
	cr_expect(eq(sz,
	              tu_count_lines_starting(text,
	                  "    0      77    1 _ none - "),
	              1),
	    "expected '-' in the RECYCLE column:\n%s", text);
	buf_free(&out);
	sb_close(&bare);
}

/* ------------------------------------------------------------ data layer */

static void setup_data(void)
{
	int i;

	cr_assert(eq(int, sb_query_register(sb, 0, "ping"), 0));
	cr_assert(eq(int, sb_query_register(sb, 3, "schema_state"), 0));
	cr_assert(eq(int, sb_query_count(sb, 0, true, 400), 0));
	cr_assert(eq(int, sb_query_count(sb, 0, true, 2000), 0));
	cr_assert(eq(int, sb_query_count(sb, 3, false, 30000), 0));
	for (i = 0; i < 3; i++)
		cr_assert(
		    eq(int, sb_data_count(sb, SB_DATA_CACHE_REDIS_HITS), 0));
	cr_assert(eq(int, sb_data_count(sb, SB_DATA_DB_RECONNECTS), 0));
	cr_assert(eq(int, sb_data_count(sb, SB_DATA_REDIS_ERRORS), 0));
}

Test(status, data_layer_in_text_json_and_prometheus)
{
	char *text, *json, *prom;

	setup_data();
	text = render(STATUS_TEXT);
	TU_EXPECT_IN(text,
	    "database: workers up 1, down 1, connecting 1; queries 3 (1 "
	    "failed), errors 0, reconnects 1, 503s 0\n");
	TU_EXPECT_IN(text,
	    "cache: local 0 hits 0 misses; redis 3 hits 0 misses, errors 1, "
	    "reconnects 0\n");
	json = render(STATUS_JSON);
	TU_EXPECT_IN(json, "\"db_state\":\"down\"");
	TU_EXPECT_IN(json,
	    "\"database\":{\"workers\":{\"none\":1,\"up\":1,\"down\":1},"
	    "\"errors\":0,\"reconnects\":1,\"unavailable\":0,\"queries\":[{"
	    "\"query\":\"ping\",\"count\":2,\"errors\":0,");
	TU_EXPECT_IN(json,
	    "{\"query\":\"schema_state\",\"count\":1,"
	    "\"errors\":1,\"latency_sum_ms\":30");
	TU_EXPECT_IN(json,
	    "\"cache\":{\"local\":{\"hits\":0,\"misses\":0},\"redis\":{"
	    "\"hits\":3,\"misses\":0,\"errors\":1,\"reconnects\":0}}");
	prom = render(STATUS_PROMETHEUS);
	TU_EXPECT_IN(prom,
	    "# TYPE pacer_db_query_duration_seconds histogram\n");
	TU_EXPECT_IN(prom,
	    "pacer_db_query_duration_seconds_bucket{query="
	    "\"ping\",le=\"0.0005\"} 1\n");
	TU_EXPECT_IN(prom,
	    "pacer_db_query_duration_seconds_bucket{query="
	    "\"ping\",le=\"0.0025\"} 2\n");
	TU_EXPECT_IN(prom,
	    "pacer_db_query_duration_seconds_count{query="
	    "\"schema_state\"} 1\n");
	TU_EXPECT_IN(prom,
	    "pacer_db_query_errors_total{query=\"schema_state\"} 1\n");
	TU_EXPECT_IN(prom, "pacer_db_reconnects_total 1\n");
	TU_EXPECT_IN(prom, "pacer_redis_errors_total 1\n");
	TU_EXPECT_IN(prom,
	    "pacer_cache_requests_total{level=\"redis\","
	    "result=\"hit\"} 3\n");
	TU_EXPECT_IN(prom, "pacer_workers_by_db_state{state=\"down\"} 1\n");
	free(text);
	free(json);
	free(prom);
}
