/*
 * test_http_resp.c - the response writer: exact bytes of a reply (status
 * line, Date, Server, Content-Type, Content-Length, Connection,
 * X-Request-Id, security fields, extra fields, body), HEAD, bodiless
 * statuses, the security fields on every reply (HSTS over TLS only, a
 * handler's own CSP), the JSON
 * error body, header injection refused, the Date format, and request ids
 * (sane ones kept, generated ones unique and well-formed).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "http_resp.h"
#include "testutil.h"

static struct http_resp r;
static struct buf out;

static void setup(void)
{
	http_resp_init(&r, 1 << 20);
	buf_init_dynamic(&out, 2 << 20);
}

static void teardown(void)
{
	http_resp_free(&r);
	buf_free(&out);
}

TestSuite(http_resp, .init = setup, .fini = teardown);

/* 784111777 is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example). */
#define T0 ((time_t)784111777)
#define DATE "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
/* The security fields of every reply (plain HTTP, default CSP). */
#define SEC                                                                    \
	"X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"         \
	"Referrer-Policy: no-referrer\r\n"                                     \
	"Content-Security-Policy: default-src 'none'; frame-ancestors "        \
	"'none'\r\n"
#define HSTS "Strict-Transport-Security: max-age=31536000\r\n"

static const char *render(const char *rid, bool keep, bool http10, bool head)
{
	struct http_resp_meta m = {rid, keep, http10, head, T0, false, false};

	buf_reset(&out);
	cr_assert(eq(int, http_resp_write(&r, &m, &out), 0));
	return buf_str(&out);
}

Test(http_resp, ok_reply_exact_bytes)
{
	cr_assert(
	    eq(int, http_resp_set(&r, 200, HTTP_RESP_JSON, "{\"a\":1}", 7), 0));
	cr_assert(eq(str, (char *)render("abc", true, false, false),
	    "HTTP/1.1 200 OK\r\n" DATE "Server: pacer\r\n"
	    "Content-Type: application/json\r\nContent-Length: 7\r\n"
	    "X-Request-Id: abc\r\n" SEC "\r\n{\"a\":1}"));
}

Test(http_resp, close_and_http10_keep_alive)
{
	(void)http_resp_set(&r, 200, HTTP_RESP_TEXT, "hi", 2);
	cr_assert(eq(str, (char *)render("x", false, false, false),
	    "HTTP/1.1 200 OK\r\n" DATE "Server: pacer\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n"
	    "Connection: close\r\nX-Request-Id: x\r\n" SEC "\r\nhi"));
	cr_assert(eq(str, (char *)render("x", true, true, false),
	    "HTTP/1.1 200 OK\r\n" DATE "Server: pacer\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n"
	    "Connection: keep-alive\r\nX-Request-Id: x\r\n" SEC "\r\nhi"));
}

Test(http_resp, head_has_the_get_headers_and_no_body)
{
	struct http_resp_meta m = {"id", true, false, true, T0, false, false};

	(void)http_resp_set(&r, 200, HTTP_RESP_JSON, "{\"status\":\"ok\"}", 15);
	cr_assert(eq(str, (char *)render("id", true, false, true),
	    "HTTP/1.1 200 OK\r\n" DATE "Server: pacer\r\n"
	    "Content-Type: application/json\r\nContent-Length: 15\r\n"
	    "X-Request-Id: id\r\n" SEC "\r\n"));
	cr_assert(eq(sz, http_resp_body_sent(&r, &m), 0));
	m.head = false;
	cr_assert(eq(sz, http_resp_body_sent(&r, &m), 15));
}

Test(http_resp, no_content_has_no_length_nor_body)
{
	(void)http_resp_set(&r, 204, HTTP_RESP_JSON, "ignored", 7);
	cr_assert(eq(str, (char *)render(NULL, true, false, false),
	    "HTTP/1.1 204 No Content\r\n" DATE "Server: pacer\r\n" SEC "\r\n"));
}

Test(http_resp, extra_headers_follow_the_fixed_ones)
{
	http_resp_error(&r, 405, NULL, "r1");
	cr_assert(eq(int, http_resp_header(&r, "Allow", "GET, HEAD"), 0));
	cr_assert(eq(int, http_resp_header(&r, "Retry-After", "3"), 0));
	const char *s = render("r1", true, false, false);
	const char *body = "{\"error\": \"method_not_allowed\", \"message\": "
	                   "\"This path does not take that method.\", "
	                   "\"request_id\": \"r1\"}";
	char want[1024];

	(void)snprintf(want, sizeof(want),
	    "HTTP/1.1 405 Method Not Allowed\r\n" DATE "Server: pacer\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "X-Request-Id: r1\r\n" SEC
	    "Allow: GET, HEAD\r\nRetry-After: 3\r\n\r\n%s",
	    strlen(body), body);
	cr_assert(eq(str, (char *)s, want));
}

Test(http_resp, security_fields_on_errors_and_refusals)
{
	static const int statuses[] = {404, 400, 408, 413, 500, 503};
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		http_resp_reset(&r);
		http_resp_error(&r, statuses[i], NULL, "e");
		const char *s = render("e", false, false, false);

		cr_expect(not(eq(ptr, strstr(s, "\r\nX-Request-Id: e\r\n" SEC),
		              NULL)),
		    "status %d: expected the security fields in:\n%s",
		    statuses[i], s);
		cr_expect(eq(ptr, strstr(s, "Strict-Transport-Security"), NULL),
		    "status %d: HSTS over plain HTTP", statuses[i]);
	}
}

Test(http_resp, a_streamed_head_is_chunked_without_length_or_body)
{
	struct http_resp_meta m = {"s", true, false, false, T0, false, true};
	const char *s;

	(void)http_resp_set(&r, 200, "text/event-stream", "ignored", 7);
	buf_reset(&out);
	cr_assert(eq(int, http_resp_write(&r, &m, &out), 0));
	s = buf_str(&out);
	cr_assert(not(eq(ptr, strstr(s, "\r\nTransfer-Encoding: chunked\r\n"),
	              NULL)),
	    "%s", s);
	cr_assert(eq(ptr, strstr(s, "Content-Length"), NULL), "%s", s);
	cr_assert(eq(ptr, strstr(s, "ignored"), NULL), "%s", s);
	cr_assert(eq(str, (char *)s + strlen(s) - 4, "\r\n\r\n"));
	/* HTTP/1.0: no chunking; the close ends the body. */
	m.http10 = true;
	m.keep_alive = false;
	buf_reset(&out);
	cr_assert(eq(int, http_resp_write(&r, &m, &out), 0));
	s = buf_str(&out);
	cr_assert(eq(ptr, strstr(s, "Transfer-Encoding"), NULL), "%s", s);
	cr_assert(eq(ptr, strstr(s, "Content-Length"), NULL), "%s", s);
	cr_assert(not(eq(ptr, strstr(s, "Connection: close\r\n"), NULL)));
}

Test(http_resp, hsts_only_over_tls)
{
	struct http_resp_meta m = {"t", true, false, false, T0, true, false};

	http_resp_error(&r, 404, NULL, "t");
	buf_reset(&out);
	cr_assert(eq(int, http_resp_write(&r, &m, &out), 0));
	cr_assert(not(eq(ptr,
	              strstr(buf_str(&out), "\r\nX-Request-Id: t\r\n" SEC HSTS),
	              NULL)),
	    "expected HSTS after the security fields in:\n%s", buf_str(&out));
	m.tls = false;
	buf_reset(&out);
	cr_assert(eq(int, http_resp_write(&r, &m, &out), 0));
	cr_assert(eq(ptr, strstr(buf_str(&out), "Strict-Transport"), NULL));
}

Test(http_resp, a_handler_replaces_the_csp_until_reset)
{
	(void)http_resp_set(&r, 200, "text/html; charset=utf-8", "<p>", 3);
	r.csp = "default-src 'self'; frame-ancestors 'none'";
	const char *s = render("c", true, false, false);

	cr_assert(not(eq(ptr,
	              strstr(s,
	                  "\r\nContent-Security-Policy: default-src 'self'; "
	                  "frame-ancestors 'none'\r\n"),
	              NULL)),
	    "expected the handler's CSP in:\n%s", s);
	cr_assert(
	    eq(sz, tu_count_lines_with(s, "Content-Security-Policy:"), 1));
	/* One that could split the reply is not sent. */
	r.csp = "a\r\nSet-Cookie: x=1";
	s = render("c", true, false, false);
	cr_assert(eq(ptr, strstr(s, "Set-Cookie"), NULL));
	TU_EXPECT_IN(s, "Content-Security-Policy: default-src 'none'; ");
	http_resp_reset(&r);
	cr_assert(eq(ptr, (void *)r.csp, NULL));
}

Test(http_resp, header_injection_is_refused)
{
	cr_assert(
	    eq(int, http_resp_header(&r, "X-A", "a\r\nSet-Cookie: x=1"), -1));
	cr_assert(eq(int, http_resp_header(&r, "X-A\n", "a"), -1));
	cr_assert(eq(int, http_resp_header(&r, "", "a"), -1));
	cr_assert(eq(sz, r.headers.len, 0));
}

Test(http_resp, error_body_is_exact_json)
{
	http_resp_error(&r, 400, "Bad \"quote\"\n.", "rid-1");
	cr_assert(eq(int, r.status, 400));
	cr_assert(eq(str, (char *)r.content_type, HTTP_RESP_JSON));
	cr_assert(eq(str, (char *)buf_str(&r.body),
	    "{\"error\": \"bad_request\", \"message\": \"Bad "
	    "\\\"quote\\\"\\n.\", "
	    "\"request_id\": \"rid-1\"}"));
	json_object *o = json_tokener_parse(buf_str(&r.body));
	bool parsed = o != NULL;
	cr_assert(parsed);
	cr_assert(eq(str,
	    (char *)json_object_get_string(
	        json_object_object_get(o, "message")),
	    "Bad \"quote\"\n."));
	json_object_put(o);
}

Test(http_resp, error_codes_and_generic_messages)
{
	static const struct {
		int status;
		const char *code;
	} want[] = {{400, "bad_request"}, {404, "not_found"},
	    {405, "method_not_allowed"}, {408, "request_timeout"},
	    {411, "length_required"}, {413, "content_too_large"},
	    {414, "uri_too_long"}, {417, "expectation_failed"},
	    {431, "header_fields_too_large"}, {500, "internal_error"},
	    {501, "not_implemented"}, {505, "http_version_not_supported"},
	    {418, "client_error"}, {599, "server_error"}};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *msg = http_resp_error_message(want[i].status);
		size_t n = strlen(msg);
		bool sentence = n > 1 && msg[n - 1] == '.' && msg[0] >= 'A' &&
		    msg[0] <= 'Z';

		cr_expect(eq(str, (char *)http_resp_error_code(want[i].status),
		    (char *)want[i].code));
		cr_expect(sentence, "%d: \"%s\"", want[i].status, msg);
	}
	http_resp_error(&r, 404, NULL, NULL);
	cr_assert(eq(str, (char *)buf_str(&r.body),
	    "{\"error\": \"not_found\", \"message\": \"No resource lives at "
	    "this path.\", \"request_id\": \"\"}"));
}

Test(http_resp, oversized_body_becomes_500)
{
	struct http_resp small;
	static char big[4096];

	http_resp_init(&small, 1024);
	cr_assert(eq(int,
	    http_resp_set(&small, 200, HTTP_RESP_TEXT, big, sizeof(big)), -1));
	cr_assert(eq(int, small.status, 500));
	cr_assert(eq(sz, small.body.len, 0));
	http_resp_free(&small);
}

Test(http_resp, reset_empties_everything)
{
	(void)http_resp_set(&r, 201, HTTP_RESP_TEXT, "x", 1);
	(void)http_resp_header(&r, "A", "b");
	r.close = true;
	http_resp_reset(&r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(sz, r.body.len, 0));
	cr_assert(eq(sz, r.headers.len, 0));
	bool open = !r.close && r.content_type == NULL;
	cr_assert(open);
}

Test(http_resp, date_is_imf_fixdate)
{
	cr_assert(eq(str, (char *)http_resp_date(T0),
	    "Sun, 06 Nov 1994 08:49:37 GMT"));
	cr_assert(eq(str, (char *)http_resp_date(0),
	    "Thu, 01 Jan 1970 00:00:00 GMT"));
	/* 2024-02-29 23:59:59 UTC, a leap day */
	cr_assert(eq(str, (char *)http_resp_date((time_t)1709251199),
	    "Thu, 29 Feb 2024 23:59:59 GMT"));
	cr_assert(eq(str, (char *)http_resp_date(T0),
	    "Sun, 06 Nov 1994 08:49:37 GMT"));
}

Test(http_resp, sane_request_ids)
{
	char long_ok[129], too_long[130];
	bool ok, bad;

	memset(long_ok, 'a', 128);
	long_ok[128] = '\0';
	memset(too_long, 'a', 129);
	too_long[129] = '\0';
	ok = http_resp_id_sane("Abc-123_x.y:z", 13) &&
	    http_resp_id_sane(long_ok, 128) && http_resp_id_sane("0", 1);
	bad = http_resp_id_sane("", 0) || http_resp_id_sane(too_long, 129) ||
	    http_resp_id_sane("a b", 3) || http_resp_id_sane("a\"b", 3) ||
	    http_resp_id_sane("a/b", 3) || http_resp_id_sane("\xc3\xa9", 2) ||
	    http_resp_id_sane("a\r", 2);
	cr_assert(ok);
	cr_assert(not(bad));
}

Test(http_resp, generated_ids_are_hex_and_unique)
{
	char ids[1000][HTTP_RESP_ID_GEN_LEN + 1];
	size_t i, j;

	(void)http_resp_id_seed();
	for (i = 0; i < 1000; i++) {
		http_resp_id_next(ids[i]);
		cr_assert(eq(sz, strlen(ids[i]), HTTP_RESP_ID_GEN_LEN));
		cr_assert(eq(sz, strspn(ids[i], "0123456789abcdef"),
		    HTTP_RESP_ID_GEN_LEN));
		bool sane = http_resp_id_sane(ids[i], strlen(ids[i]));
		cr_assert(sane);
	}
	for (i = 0; i < 1000; i++)
		for (j = i + 1; j < 1000; j++)
			cr_assert(ne(str, ids[i], ids[j]));
}
