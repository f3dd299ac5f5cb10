/*
 * test_worker.c - HTTP/1.1 as worker processes serve it, without the
 * master (harness: wtest.h), over real sockets: keep-alive, pipelining
 * in order, HEAD, 404, 405 with Allow, every refusal status (400, 411,
 * 413, 414, 417, 431, 501, 505, request smuggling) with a JSON body and
 * a lingering close, 100-continue, chunked bodies, X-Request-Id kept or
 * generated, /metrics and the debug routes switch.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sb.h"
#include "testutil.h"
#include "worker.h"
#include "wtest.h"

TestSuite(worker, .init = wt_setup, .fini = wt_teardown, .timeout = 90);

/* Send req on c and read its reply into r (caller frees); assert that it
 * came and has status. */
static void send_expect(struct wt_cl *c, const char *req, int status,
    struct wt_rep *r)
{
	wt_send(c, req);
	cr_assert(eq(int, wt_reply(c, r, false), 0), "no reply to %s", req);
	cr_assert(eq(int, r->status, status), "reply to %s: %s", req, r->head);
}

/* ---- keep-alive, pipelining, routes ------------------------------------- */

Test(worker, health_live_keep_alive_on_one_connection)
{
	struct wt_cl c;
	struct wt_rep r;
	char pid[32], want[128], id[64], prev[64] = "";
	int i;

	wt_start(NULL, 1);
	(void)snprintf(pid, sizeof(pid), "%ld", (long)wt_kids[0]);
	(void)snprintf(want, sizeof(want),
	    "{\"status\":\"ok\",\"pid\":%s,\"generation\":1}", pid);
	wt_open(&c);
	for (i = 0; i < 5; i++) {
		wt_get(&c, "/health/live", NULL, &r);
		cr_assert(eq(int, r.status, 200));
		cr_assert(eq(str, r.body, want));
		bool json = wt_rep_has(&r, "Content-Type", "application/json");
		bool server = wt_rep_has(&r, "Server", "pacer");
		bool dated = wt_head_field(r.head, "Date", id, sizeof(id));
		cr_assert(json && server && dated, "%s", r.head);
		cr_assert(not(wt_rep_closes(&r)), "%s", r.head);
		cr_assert(
		    wt_head_field(r.head, "X-Request-Id", id, sizeof(id)));
		cr_assert(wt_is_hex_id(id), "generated id \"%s\"", id);
		cr_assert(ne(str, id, prev));
		(void)snprintf(prev, sizeof(prev), "%s", id);
		wt_rep_free(&r);
	}
	wt_close(&c);
}

Test(worker, pipelined_requests_are_answered_in_order)
{
	struct wt_cl c;
	struct wt_rep r;
	static const char *const ids[] = {"p-1", "p-2", "p-3", "p-4"};
	static const int want[] = {200, 404, 200, 405};
	char id[64];
	int i;

	wt_start(NULL, 1);
	wt_open(&c);
	wt_send(&c,
	    "GET /health/live HTTP/1.1\r\nHost: t\r\nX-Request-Id: p-1\r\n\r\n"
	    "GET /nope HTTP/1.1\r\nHost: t\r\nX-Request-Id: p-2\r\n\r\n"
	    "GET /health/live HTTP/1.1\r\nHost: t\r\nX-Request-Id: p-3\r\n\r\n"
	    "DELETE /metrics HTTP/1.1\r\nHost: t\r\nX-Request-Id: p-4\r\n\r\n");
	for (i = 0; i < 4; i++) {
		cr_assert(eq(int, wt_reply(&c, &r, false), 0), "reply %d", i);
		cr_assert(eq(int, r.status, want[i]), "reply %d: %s", i,
		    r.head);
		cr_assert(
		    wt_head_field(r.head, "X-Request-Id", id, sizeof(id)));
		cr_assert(eq(str, id, (char *)ids[i]));
		wt_rep_free(&r);
	}
	/* The connection is still good. */
	wt_get(&c, "/health/live", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	wt_rep_free(&r);
	wt_close(&c);
}

Test(worker, unknown_path_404_and_wrong_method_405_keep_the_connection)
{
	struct wt_cl c;
	struct wt_rep r;
	char id[64], want[256];

	wt_start(NULL, 1);
	wt_open(&c);
	wt_get(&c, "/nope", "X-Request-Id: nf-1\r\n", &r);
	cr_assert(eq(int, r.status, 404));
	cr_assert(eq(str, r.body,
	    "{\"error\": \"not_found\", \"message\": \"No resource lives at "
	    "this path.\", \"request_id\": \"nf-1\"}"));
	cr_assert(not(wt_rep_closes(&r)));
	wt_rep_free(&r);
	send_expect(&c, "DELETE /health/live HTTP/1.1\r\nHost: t\r\n\r\n", 405,
	    &r);
	bool allow = wt_rep_has(&r, "Allow", "GET, HEAD");
	cr_assert(allow, "%s", r.head);
	cr_assert(wt_head_field(r.head, "X-Request-Id", id, sizeof(id)));
	(void)snprintf(want, sizeof(want),
	    "{\"error\": \"method_not_allowed\", \"message\": \"This path does "
	    "not take that method.\", \"request_id\": \"%s\"}",
	    id);
	cr_assert(eq(str, r.body, want));
	wt_rep_free(&r);
	/* A body sent to a 405 is read and dropped, and the next request on
	 * the connection still parses. */
	send_expect(&c,
	    "POST /health/live HTTP/1.1\r\nHost: t\r\nContent-Length: "
	    "5\r\n\r\nhello",
	    405, &r);
	wt_rep_free(&r);
	wt_get(&c, "/health/live", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	wt_rep_free(&r);
	wt_close(&c);
}

Test(worker, head_has_get_headers_and_no_body)
{
	struct wt_cl c;
	struct wt_rep get, head;
	char glen[32], hlen[32];

	wt_start(NULL, 1);
	wt_open(&c);
	wt_get(&c, "/health/live", NULL, &get);
	wt_send(&c, "HEAD /health/live HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(eq(int, wt_reply(&c, &head, true), 0));
	cr_assert(eq(int, head.status, 200));
	cr_assert(
	    wt_head_field(get.head, "Content-Length", glen, sizeof(glen)));
	cr_assert(
	    wt_head_field(head.head, "Content-Length", hlen, sizeof(hlen)));
	cr_assert(eq(str, hlen, glen));
	bool json = wt_rep_has(&head, "Content-Type", "application/json");
	cr_assert(json);
	/* No body came: the next reply starts right away. */
	wt_rep_free(&get);
	wt_get(&c, "/nope", NULL, &get);
	cr_assert(eq(int, get.status, 404));
	wt_rep_free(&get);
	wt_rep_free(&head);
	wt_close(&c);
}

/* ---- refusals ----------------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *req;
	int status;
	const char *code;
};

/* Send req, expect status with a JSON error body, Connection: close and
 * then a clean EOF (the lingering close lets the reply arrive). */
static void expect_refusal(const struct bad_case *bc)
{
	struct wt_cl c;
	struct wt_rep r;
	json_object *o, *v;
	char id[200];

	wt_open(&c);
	wt_send(&c, bc->req);
	cr_assert(eq(int, wt_reply(&c, &r, false), 0), "%s: no reply",
	    bc->name);
	cr_assert(eq(int, r.status, bc->status), "%s: %s", bc->name, r.head);
	cr_assert(wt_rep_closes(&r), "%s: no Connection: close", bc->name);
	cr_assert(wt_head_field(r.head, "X-Request-Id", id, sizeof(id)));
	o = json_tokener_parse(r.body);
	bool parsed = o != NULL;
	cr_assert(parsed, "%s: body %s", bc->name, r.body);
	cr_assert(json_object_object_get_ex(o, "error", &v));
	cr_assert(eq(str, (char *)json_object_get_string(v), (char *)bc->code),
	    "%s", bc->name);
	cr_assert(json_object_object_get_ex(o, "request_id", &v));
	cr_assert(eq(str, (char *)json_object_get_string(v), id));
	cr_assert(json_object_object_get_ex(o, "message", &v));
	json_object_put(o);
	cr_assert(wt_eof(&c, 4000), "%s: connection not closed", bc->name);
	wt_rep_free(&r);
	wt_close(&c);
}

static char *repeat(const char *prefix, char ch, size_t n, const char *suffix)
{
	size_t a = strlen(prefix), b = strlen(suffix);
	char *s = malloc(a + n + b + 1);

	cr_assert(not(eq(ptr, s, NULL)));
	memcpy(s, prefix, a);
	memset(s + a, ch, n);
	memcpy(s + a + n, suffix, b + 1);
	return s;
}

Test(worker, malformed_requests_get_their_status_and_a_lingering_close)
{
	char *long_uri =
	    repeat("GET /", 'a', 9000, " HTTP/1.1\r\nHost: t\r\n\r\n");
	char *big_field = repeat("GET / HTTP/1.1\r\nHost: t\r\nX-Big: ", 'b',
	    20000, "\r\n\r\n");
	struct buf many;
	int i;

	buf_init_dynamic(&many, 1 << 16);
	(void)buf_puts(&many, "GET / HTTP/1.1\r\nHost: t\r\n");
	for (i = 0; i < 120; i++)
		(void)buf_printf(&many, "X-%d: v\r\n", i);
	(void)buf_puts(&many, "\r\n");
	const struct bad_case cases[] = {
	    {"missing host", "GET /health/live HTTP/1.1\r\n\r\n", 400,
	        "bad_request"},
	    {"bare lf", "GET /health/live HTTP/1.1\nHost: t\n\n", 400,
	        "bad_request"},
	    {"space before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400,
	        "bad_request"},
	    {"garbage", "\x16\x03\x01\x02\x01\xfc\x03\x03\r\n\r\n", 400,
	        "bad_request"},
	    {"uri too long", long_uri, 414, "uri_too_long"},
	    {"field too large", big_field, 431, "header_fields_too_large"},
	    {"too many fields", buf_str(&many), 431, "header_fields_too_large"},
	    {"expectation", "GET / HTTP/1.1\r\nHost: t\r\nExpect: tea\r\n\r\n",
	        417, "expectation_failed"},
	    {"version", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505,
	        "http_version_not_supported"},
	    {"transfer coding",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: gzip, chunked\r\n\r\n",
	        501, "not_implemented"},
	    {"smuggling cl+te",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Content-Length: 5\r\nTransfer-Encoding: "
	        "chunked\r\n\r\n0\r\n\r\n",
	        400, "bad_request"},
	    {"smuggling te+cl",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: chunked\r\nContent-Length: "
	        "5\r\n\r\n0\r\n\r\n",
	        400, "bad_request"},
	    {"two content-lengths",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Content-Length: 5\r\nContent-Length: 6\r\n"
	        "\r\nhello!",
	        400, "bad_request"},
	    {"content-length list",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Content-Length: 5, 5\r\n\r\nhello",
	        400, "bad_request"},
	    {"chunked twice",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: chunked, chunked\r\n\r\n",
	        400, "bad_request"},
	    {"bad chunk size",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
	        400, "bad_request"},
	    {"body too large",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Content-Length: 2000000\r\n\r\n",
	        413, "content_too_large"},
	    {"chunk too large",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: chunked\r\n\r\n"
	        "200000\r\n",
	        413, "content_too_large"},
	};

	wt_start(NULL, 1);
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++)
		expect_refusal(&cases[i]);
	buf_free(&many);
	free(long_uri);
	free(big_field);
}

Test(worker, unknown_method_501_and_missing_length_411)
{
	struct wt_rep r;

	wt_start(NULL, 1);
	wt_exchange("BREW /health/live HTTP/1.1\r\nHost: t\r\n\r\n", &r, false);
	cr_assert(eq(int, r.status, 501));
	cr_assert(not(
	    eq(ptr, strstr(r.body, "\"error\": \"not_implemented\""), NULL)));
	wt_rep_free(&r);
	wt_exchange("POST /debug/echo HTTP/1.1\r\nHost: t\r\n\r\n", &r, false);
	cr_assert(eq(int, r.status, 411));
	cr_assert(not(
	    eq(ptr, strstr(r.body, "\"error\": \"length_required\""), NULL)));
	wt_rep_free(&r);
}

/* ---- bodies ------------------------------------------------------------- */

Test(worker, chunked_post_body_is_decoded)
{
	struct wt_cl c;
	struct wt_rep r;

	wt_start(NULL, 1);
	wt_open(&c);
	send_expect(&c,
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
	    200, &r);
	cr_assert(eq(str, r.body, "hello world"));
	wt_rep_free(&r);
	/* Content-Length body on the same connection. */
	send_expect(&c,
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 3\r\n\r\nabc",
	    200, &r);
	cr_assert(eq(str, r.body, "abc"));
	wt_rep_free(&r);
	/* POST where only GET is served. */
	send_expect(&c,
	    "POST /health/live HTTP/1.1\r\nHost: t\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	    405, &r);
	bool allow = wt_rep_has(&r, "Allow", "GET, HEAD");
	cr_assert(allow);
	wt_rep_free(&r);
	wt_close(&c);
}

/* A request that expects 100-continue with a Content-Length of len. */
static void send_expect_continue(struct wt_cl *c, const char *path,
    const char *len, int status, struct wt_rep *r)
{
	char req[256];
	int n = snprintf(req, sizeof(req),
	    "POST %s HTTP/1.1\r\nHost: t\r\n"
	    "Expect: 100-continue\r\nContent-Length: %s\r\n\r\n",
	    path, len);

	cr_assert(n > 0 && (size_t)n < sizeof(req), "request for %s cut", path);
	send_expect(c, req, status, r);
}

Test(worker, expect_100_continue)
{
	struct wt_cl c;
	struct wt_rep r;

	wt_start(NULL, 1);
	wt_open(&c);
	send_expect_continue(&c, "/debug/echo", "5", 100, &r);
	cr_assert(eq(str, r.head, "HTTP/1.1 100 Continue\r\n\r\n"));
	wt_rep_free(&r);
	send_expect(&c, "hello", 200, &r);
	cr_assert(eq(str, r.body, "hello"));
	wt_rep_free(&r);
	wt_close(&c);

	/* Refused anyway: no 100, the final status at once. */
	wt_open(&c);
	send_expect_continue(&c, "/debug/echo", "5000000", 413, &r);
	wt_rep_free(&r);
	wt_close(&c);
	wt_open(&c);
	send_expect_continue(&c, "/nope", "5", 404, &r);
	cr_assert(wt_rep_closes(&r));
	wt_rep_free(&r);
	wt_close(&c);
}

/* ---- ids, metrics, debug routes ----------------------------------------- */

Test(worker, request_id_kept_when_sane_generated_otherwise)
{
	struct wt_cl c;
	struct wt_rep r;
	char id[200], long_id[129];

	wt_start(NULL, 1);
	wt_open(&c);
	wt_get(&c, "/health/live", "X-Request-Id: abc-123_x.y:z\r\n", &r);
	cr_assert(wt_head_field(r.head, "X-Request-Id", id, sizeof(id)));
	cr_assert(eq(str, id, "abc-123_x.y:z"));
	wt_rep_free(&r);
	memset(long_id, 'q', 128);
	long_id[128] = '\0';
	char hdr[200];
	(void)snprintf(hdr, sizeof(hdr), "X-Request-Id: %s\r\n", long_id);
	wt_get(&c, "/health/live", hdr, &r);
	cr_assert(wt_head_field(r.head, "X-Request-Id", id, sizeof(id)));
	cr_assert(eq(str, id, long_id));
	wt_rep_free(&r);
	static const char *const insane[] = {"X-Request-Id: bad id\r\n",
	    "X-Request-Id: a\"b\r\n", "X-Request-Id: \r\n",
	    "X-Request-Id: "
	    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
	    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
	    "qq"
	    "qqqqqqqqqq\r\n"};
	for (size_t i = 0; i < sizeof(insane) / sizeof(insane[0]); i++) {
		wt_get(&c, "/nope", insane[i], &r);
		cr_assert(
		    wt_head_field(r.head, "X-Request-Id", id, sizeof(id)));
		cr_assert(wt_is_hex_id(id), "%s -> %s", insane[i], id);
		cr_assert(not(eq(ptr, strstr(r.body, id), NULL)));
		wt_rep_free(&r);
	}
	wt_close(&c);
}

Test(worker, metrics_serve_the_scoreboard)
{
	struct wt_cl c;
	struct wt_rep r;

	wt_start(NULL, 2);
	wt_open(&c);
	wt_get(&c, "/health/live", NULL, &r);
	wt_rep_free(&r);
	wt_get(&c, "/nope", NULL, &r);
	wt_rep_free(&r);
	wt_get(&c, "/metrics", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	bool type = wt_rep_has(&r, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	cr_assert(type, "%s", r.head);
	cr_assert(
	    not(eq(ptr, strstr(r.body, "pacer_http_requests_total"), NULL)));
	cr_assert(
	    not(eq(ptr,
	        strstr(r.body,
	            "pacer_http_requests_by_route_total{route=\"health_live\","
	            "class=\"2xx\"} 1"),
	        NULL)),
	    "%s", r.body);
	cr_assert(
	    not(eq(ptr,
	        strstr(r.body,
	            "pacer_http_requests_by_route_total{route=\"unmatched\","
	            "class=\"4xx\"} 1"),
	        NULL)),
	    "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "pacer_workers{state=\""), NULL)));
	cr_assert(not(eq(ptr, strstr(r.body, "route=\"debug_sleep\""), NULL)));
	wt_rep_free(&r);
	wt_close(&c);
}

Test(worker, debug_routes_are_off_by_default)
{
	struct wt_rep r;

	wt_start("debug_routes = off\n", 1);
	wt_exchange("GET /debug/sleep?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n", &r,
	    false);
	cr_assert(eq(int, r.status, 404));
	wt_rep_free(&r);
	wt_exchange(
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
	    "\r\nx",
	    &r, false);
	cr_assert(eq(int, r.status, 404));
	wt_rep_free(&r);
}
