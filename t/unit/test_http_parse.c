/*
 * test_http_parse.c - the HTTP/1.1 request parser: well-formed requests,
 * keep-alive and Expect rules, chunked bodies, pipelining, resumability at
 * every byte boundary, linear cost for slow clients, and one test per
 * refusal with the status it must produce.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http_parse.h"

#define NHDRS 256

static struct http_limits lim;
static struct http_header hdrs[NHDRS];
static struct http_request req;
static struct buf body;

static void setup(void)
{
	http_limits_default(&lim);
	buf_init_dynamic(&body, lim.max_body_size + 1);
}

static void teardown(void)
{
	buf_free(&body);
}

TestSuite(http_parse, .init = setup, .fini = teardown);

/* Parse text[0..n) fed whole: the head, then the body if the head is
 * done. */
static enum http_parse_result parse_n(const char *text, size_t n)
{
	enum http_parse_result rc;

	http_request_init(&req, &lim, hdrs, NHDRS);
	buf_reset(&body);
	rc = http_parse_head(&req, text, n);
	if (rc != HTTP_PARSE_DONE)
		return rc;
	return http_parse_body(&req, text, n, &body);
}

static enum http_parse_result parse(const char *text)
{
	return parse_n(text, strlen(text));
}

/* A slice of text as a NUL-terminated string (four rotating stores). */
static char *sl(const char *text, struct http_slice s)
{
	static char store[4][2048];
	static int k;
	struct buf b;

	k = (k + 1) % 4;
	buf_init_fixed(&b, store[k], sizeof(store[k]));
	(void)buf_append(&b, text + s.off, s.len);
	return store[k];
}

static void assert_refused_n(const char *text, size_t n, int status)
{
	enum http_parse_result rc = parse_n(text, n);

	cr_assert(eq(int, rc, HTTP_PARSE_ERROR),
	    "expected the request to be refused with %d, parse returned %d",
	    status, rc);
	cr_assert(eq(int, req.status, status),
	    "expected status %d, got %d (%s)", status, req.status,
	    req.reason != NULL ? req.reason : "no reason");
	cr_assert(not(eq(ptr, (void *)req.reason, NULL)),
	    "expected a reason with status %d", status);
	cr_assert(not(req.keep_alive), "expected a refused request to close");
	cr_assert(eq(int, http_parse_head(&req, text, n), HTTP_PARSE_ERROR),
	    "expected the error to stick on the next call");
}

static void assert_refused(const char *text, int status)
{
	assert_refused_n(text, strlen(text), status);
}

static void assert_done(const char *text)
{
	enum http_parse_result rc = parse(text);

	cr_assert(eq(int, rc, HTTP_PARSE_DONE),
	    "expected a complete request, got %d (status %d: %s)", rc,
	    req.status, req.reason != NULL ? req.reason : "");
}

/* ------------------------------------------------------ good requests */

Test(http_parse, parses_simple_get)
{
	const char *t = "GET /v1/runs?limit=10&page=2 HTTP/1.1\r\n"
	                "Host: api.example.com:8080\r\n"
	                "User-Agent: curl/7.88\r\n"
	                "\r\n";

	assert_done(t);
	cr_assert(eq(int, req.method, HTTP_METHOD_GET), "expected GET");
	cr_assert(eq(str, sl(t, req.method_text), "GET"),
	    "expected method text");
	cr_assert(eq(str, sl(t, req.target), "/v1/runs?limit=10&page=2"),
	    "expected the whole target");
	cr_assert(eq(str, sl(t, req.path), "/v1/runs"), "expected the path");
	cr_assert(eq(str, sl(t, req.query), "limit=10&page=2"),
	    "expected the query without '?'");
	cr_assert(eq(int, req.version_minor, 1), "expected HTTP/1.1");
	cr_assert(eq(sz, req.nheaders, 2), "expected two header fields");
	cr_assert(eq(str, sl(t, req.headers[1].name), "User-Agent"),
	    "expected the second field name as sent");
	cr_assert(eq(str, sl(t, req.headers[1].value), "curl/7.88"),
	    "expected the second field value");
	cr_assert(req.has_host, "expected has_host");
	cr_assert(eq(str, sl(t, req.host), "api.example.com:8080"),
	    "expected the host value");
	cr_assert(eq(i64, req.content_length, -1), "expected no length");
	cr_assert(not(req.chunked), "expected no chunked body");
	cr_assert(req.keep_alive, "expected HTTP/1.1 to keep alive");
	cr_assert(not(req.expect_continue), "expected no 100-continue");
	cr_assert(eq(sz, req.head_len, strlen(t)), "expected the whole head");
	cr_assert(eq(sz, req.body_len, 0), "expected an empty body");
	cr_assert(eq(sz, req.consumed, strlen(t)), "expected all consumed");
}

Test(http_parse, parses_head_request)
{
	const char *t = "HEAD /health HTTP/1.1\r\nHost: a\r\n\r\n";

	assert_done(t);
	cr_assert(eq(int, req.method, HTTP_METHOD_HEAD), "expected HEAD");
	cr_assert(eq(str, sl(t, req.path), "/health"), "expected the path");
	cr_assert(eq(sz, req.query.len, 0), "expected an empty query");
}

Test(http_parse, every_known_method_maps_to_its_enum)
{
	static const struct {
		const char *text;
		enum http_method m;
	} cases[] = {
	    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_GET},
	    {"PUT / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_PUT},
	    {"PATCH / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_PATCH},
	    {"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_DELETE},
	    {"OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_OPTIONS},
	    {"TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_TRACE},
	    {"POST / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_POST},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_done(cases[i].text);
		cr_assert(eq(int, req.method, cases[i].m),
		    "expected method %d for %s", cases[i].m, cases[i].text);
	}
}

Test(http_parse, unknown_and_lowercase_methods_are_other)
{
	const char *t = "PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n";

	assert_done(t);
	cr_assert(eq(int, req.method, HTTP_METHOD_OTHER), "expected OTHER");
	cr_assert(eq(str, sl(t, req.method_text), "PROPFIND"),
	    "expected the method text");
	assert_done("get / HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert(eq(int, req.method, HTTP_METHOD_OTHER),
	    "expected methods to be case-sensitive");
}

Test(http_parse, post_with_content_length_body)
{
	const char *t = "POST /v1/runs HTTP/1.1\r\n"
	                "Host: a\r\n"
	                "Content-Type: application/json\r\n"
	                "Content-Length: 13\r\n"
	                "\r\n"
	                "{\"km\": 10.5}\n";

	assert_done(t);
	cr_assert(eq(int, req.method, HTTP_METHOD_POST), "expected POST");
	cr_assert(eq(i64, req.content_length, 13), "expected length 13");
	cr_assert(eq(sz, req.body_len, 13), "expected a 13-byte body");
	cr_assert(eq(sz, req.consumed, strlen(t)), "expected all consumed");
	cr_assert(eq(int,
	              memcmp(http_body(&req, t, &body), "{\"km\": 10.5}\n", 13),
	              0),
	    "expected the body bytes in place after the head");
	cr_assert(eq(sz, body.len, 0), "expected nothing copied to out");
}

Test(http_parse, content_length_body_waits_for_all_bytes)
{
	const char *t =
	    "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
	    "hello";
	size_t n = strlen(t);

	http_request_init(&req, &lim, hdrs, NHDRS);
	cr_assert(eq(int, http_parse_head(&req, t, n - 5), HTTP_PARSE_DONE),
	    "expected the head without its body to be done");
	cr_assert(eq(int, http_parse_body(&req, t, n - 1, NULL),
	              HTTP_PARSE_NEED_MORE),
	    "expected to wait for the fifth body byte");
	cr_assert(eq(int, http_parse_body(&req, t, n, NULL), HTTP_PARSE_DONE),
	    "expected the body once all 5 bytes are in");
}

Test(http_parse, post_without_length_has_empty_body)
{
	const char *t = "POST /x HTTP/1.1\r\nHost: a\r\n\r\n";

	assert_done(t);
	cr_assert(eq(sz, req.body_len, 0), "expected an empty body");
	cr_assert(eq(sz, req.consumed, strlen(t)), "expected only the head");
}

Test(http_parse, decodes_chunked_body_with_extensions_and_trailers)
{
	const char *t = "POST /upload HTTP/1.1\r\n"
	                "Host: a\r\n"
	                "Transfer-Encoding: chunked\r\n"
	                "\r\n"
	                "5;name=value;q=\"x y\"\r\n"
	                "hello\r\n"
	                "6 ; sig=abc\r\n"
	                " world\r\n"
	                "0a\r\n"
	                "0123456789\r\n"
	                "0;last\r\n"
	                "X-Checksum: abc\r\n"
	                "X-Other:\t1 \r\n"
	                "\r\n";

	assert_done(t);
	cr_assert(req.chunked, "expected a chunked body");
	cr_assert(eq(i64, req.content_length, -1), "expected no length");
	cr_assert(eq(sz, req.body_len, 21), "expected 21 decoded bytes");
	cr_assert(eq(str, (char *)buf_str(&body), "hello world0123456789"),
	    "expected the decoded body in out");
	cr_assert(eq(str, (char *)http_body(&req, t, &body),
	              "hello world0123456789"),
	    "expected http_body to find the decoded body");
	cr_assert(eq(sz, req.consumed, strlen(t)),
	    "expected trailers and the final CRLF consumed");
	cr_assert(eq(sz, req.nheaders, 2),
	    "expected trailers not to be added to the headers");
}

Test(http_parse, chunked_body_can_be_discarded)
{
	const char *t = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	                "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
	size_t n = strlen(t);

	http_request_init(&req, &lim, hdrs, NHDRS);
	cr_assert(eq(int, http_parse_head(&req, t, n), HTTP_PARSE_DONE),
	    "expected the head");
	cr_assert(eq(int, http_parse_body(&req, t, n, NULL), HTTP_PARSE_DONE),
	    "expected the body to parse with out == NULL");
	cr_assert(eq(sz, req.body_len, 3), "expected 3 bytes counted");
	cr_assert(eq(sz, req.consumed, n), "expected all consumed");
}

Test(http_parse, pipelined_requests_are_parsed_one_after_another)
{
	const char *t = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	                "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	                "\r\nabc"
	                "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
	                "chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
	                "GET /d HT";
	const char *p = t;
	size_t n = strlen(t);

	assert_done(p);
	cr_assert(eq(str, sl(p, req.path), "/a"), "expected the first request");
	cr_assert(eq(sz, req.consumed, 28), "expected 28 bytes consumed");
	p += req.consumed;
	n -= req.consumed;

	cr_assert(eq(int, parse_n(p, n), HTTP_PARSE_DONE), "expected /b");
	cr_assert(eq(str, sl(p, req.path), "/b"),
	    "expected the second request");
	cr_assert(eq(int, memcmp(http_body(&req, p, &body), "abc", 3), 0),
	    "expected the second body");
	p += req.consumed;
	n -= req.consumed;

	cr_assert(eq(int, parse_n(p, n), HTTP_PARSE_DONE), "expected /c");
	cr_assert(eq(str, sl(p, req.path), "/c"), "expected the third request");
	cr_assert(eq(str, (char *)buf_str(&body), "xy"), "expected its body");
	p += req.consumed;
	n -= req.consumed;

	cr_assert(eq(sz, n, 9), "expected the partial fourth request left");
	cr_assert(eq(int, parse_n(p, n), HTTP_PARSE_NEED_MORE),
	    "expected the fourth request to need more");
}

Test(http_parse, values_are_trimmed_and_may_be_empty)
{
	const char *t = "GET / HTTP/1.1\r\nHost: a\r\n"
	                "X-A: \t spaced out \t \r\n"
	                "X-Empty:\r\n"
	                "X-Blank:   \r\n"
	                "X-Utf8: caf\xc3\xa9\r\n\r\n";

	assert_done(t);
	cr_assert(eq(str, sl(t, req.headers[1].value), "spaced out"),
	    "expected OWS trimmed on both sides, inner space kept");
	cr_assert(eq(sz, req.headers[2].value.len, 0), "expected empty");
	cr_assert(eq(sz, req.headers[3].value.len, 0), "expected empty");
	cr_assert(eq(str, sl(t, req.headers[4].value), "caf\xc3\xa9"),
	    "expected obs-text bytes kept");
}

Test(http_parse, header_lookup_is_case_insensitive)
{
	const char *t = "GET / HTTP/1.1\r\nHost: a\r\n"
	                "content-TYPE: text/plain\r\nX-Twice: 1\r\n"
	                "x-twice: 2\r\n\r\n";
	struct http_slice v;

	assert_done(t);
	cr_assert(http_header_get(&req, t, "Content-Type", &v),
	    "expected Content-Type to be found");
	cr_assert(eq(str, sl(t, v), "text/plain"), "expected its value");
	cr_assert(http_header_get(&req, t, "X-TWICE", &v), "expected X-Twice");
	cr_assert(eq(str, sl(t, v), "1"), "expected the first occurrence");
	cr_assert(not(http_header_get(&req, t, "Content", &v)),
	    "expected no match on a prefix");
	cr_assert(not(http_header_get(&req, t, "Content-Type-X", &v)),
	    "expected no match on a longer name");
}

Test(http_parse, leading_empty_lines_are_skipped)
{
	const char *t = "\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n";

	assert_done(t);
	cr_assert(eq(str, sl(t, req.path), "/x"), "expected the path");
	cr_assert(eq(sz, req.consumed, strlen(t)),
	    "expected the empty lines consumed too");
}

Test(http_parse, asterisk_form_is_accepted_for_options)
{
	const char *t = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";

	assert_done(t);
	cr_assert(eq(str, sl(t, req.path), "*"), "expected the path '*'");
}

Test(http_parse, percent_escapes_and_empty_query_are_accepted)
{
	const char *t = "GET /a%20b%2F? HTTP/1.1\r\nHost: a\r\n\r\n";

	assert_done(t);
	cr_assert(eq(str, sl(t, req.path), "/a%20b%2F"),
	    "expected the path still encoded");
	cr_assert(eq(sz, req.query.len, 0), "expected an empty query");
}

/* ------------------------------------------------- connection, expect */

Test(http_parse, http_1_0_closes_by_default)
{
	assert_done("GET / HTTP/1.0\r\n\r\n");
	cr_assert(eq(int, req.version_minor, 0), "expected HTTP/1.0");
	cr_assert(not(req.keep_alive), "expected HTTP/1.0 to close");
	cr_assert(not(req.has_host), "expected no Host needed in 1.0");
}

Test(http_parse, http_1_0_keeps_alive_on_request)
{
	assert_done("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	cr_assert(req.keep_alive, "expected Connection: keep-alive honoured");
	assert_done("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
	cr_assert(not(req.keep_alive), "expected close to win over keep-alive");
}

Test(http_parse, connection_close_ends_keep_alive)
{
	assert_done("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	cr_assert(not(req.keep_alive), "expected Connection: close to close");
	assert_done("GET / HTTP/1.1\r\nHost: a\r\n"
	            "Connection: Upgrade , ,CLOSE\r\n\r\n");
	cr_assert(not(req.keep_alive), "expected close found in the list");
	assert_done("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n");
	cr_assert(req.keep_alive, "expected 'closed' not to mean close");
}

Test(http_parse, rejects_invalid_connection_option)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nConnection: a b\r\n\r\n",
	    400);
}

Test(http_parse, expect_100_continue_is_reported)
{
	assert_done("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
	            "Expect: 100-Continue\r\n\r\nhi");
	cr_assert(req.expect_continue, "expected expect_continue");
	assert_done("POST / HTTP/1.0\r\nContent-Length: 2\r\n"
	            "Expect: 100-continue\r\n\r\nhi");
	cr_assert(not(req.expect_continue),
	    "expected 100-continue ignored in HTTP/1.0");
}

Test(http_parse, unsupported_expect_is_417)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n",
	    417);
}

Test(http_parse, empty_expect_is_417)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nExpect: \r\n\r\n", 417);
}

/* ----------------------------------------------------- request line */

Test(http_parse, rejects_http_2_0_with_505)
{
	assert_refused("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
}

Test(http_parse, rejects_http_1_2_with_505)
{
	assert_refused("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505);
}

Test(http_parse, rejects_garbage_version_with_400)
{
	assert_refused("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400);
	assert_refused("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
	assert_refused("GET / HTTP/1\r\nHost: a\r\n\r\n", 400);
	assert_refused("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
}

Test(http_parse, rejects_http_0_9_request_line)
{
	assert_refused("GET /\r\n\r\n", 400);
}

Test(http_parse, rejects_double_space_in_request_line)
{
	assert_refused("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	assert_refused("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	assert_refused("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

Test(http_parse, rejects_method_longer_than_32)
{
	assert_done("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF / HTTP/1.1\r\n"
	            "Host: a\r\n\r\n");
	assert_refused("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1\r\n"
	               "Host: a\r\n\r\n",
	    400);
}

Test(http_parse, rejects_method_with_non_token_char)
{
	assert_refused("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

Test(http_parse, rejects_absolute_form_target)
{
	assert_refused("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	assert_refused("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 400);
}

Test(http_parse, rejects_asterisk_form_for_get)
{
	assert_refused("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

Test(http_parse, rejects_fragment_in_target)
{
	assert_refused("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

Test(http_parse, rejects_bad_percent_escape_in_target)
{
	assert_refused("GET /a%2 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	assert_refused("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

Test(http_parse, rejects_non_ascii_in_target)
{
	assert_refused("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

Test(http_parse, uri_over_limit_is_414)
{
	lim.max_uri = 16;
	assert_done("GET /0123456789abcde HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_refused("GET /0123456789abcdef HTTP/1.1\r\nHost: a\r\n\r\n",
	    414);
}

Test(http_parse, uri_past_head_limit_is_414_not_431)
{
	char store[512];
	struct buf b;

	lim.max_uri = 100;
	lim.max_header_size = 200;
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_puts(&b, "GET /");
	for (int i = 0; i < 300; i++)
		(void)buf_putc(&b, 'a');
	/* No CRLF yet: the target alone is past both limits. */
	assert_refused_n(buf_str(&b), b.len, 414);
}

Test(http_parse, too_many_leading_empty_lines_is_400)
{
	assert_refused("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	    400);
}

/* ---------------------------------------------------- line endings */

Test(http_parse, rejects_bare_lf)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\n\r\n", 400);
}

Test(http_parse, rejects_bare_lf_after_request_line)
{
	assert_refused("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
}

Test(http_parse, rejects_bare_lf_as_head_end)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
}

Test(http_parse, rejects_bare_cr)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400);
}

/* ----------------------------------------------------- field lines */

Test(http_parse, rejects_obs_fold)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n",
	    400);
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n",
	    400);
}

Test(http_parse, rejects_space_before_colon)
{
	assert_refused("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
	assert_refused(
	    "GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 0\r\n\r\n", 400);
}

Test(http_parse, rejects_field_without_colon)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n", 400);
}

Test(http_parse, rejects_empty_field_name)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400);
}

Test(http_parse, rejects_invalid_char_in_field_name)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", 400);
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: b\r\n\r\n",
	    400);
}

Test(http_parse, nul_in_header_value_is_400)
{
	static const char t[] =
	    "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n";

	assert_refused_n(t, sizeof(t) - 1, 400);
}

Test(http_parse, control_char_in_header_value_is_400)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01\r\n\r\n", 400);
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n", 400);
}

Test(http_parse, missing_host_in_1_1_is_400)
{
	assert_refused("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 400);
}

Test(http_parse, duplicate_host_is_400)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
	assert_refused("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

Test(http_parse, invalid_host_is_400)
{
	assert_refused("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
	assert_refused("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
	assert_refused("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400);
}

Test(http_parse, empty_and_ipv6_hosts_are_accepted)
{
	assert_done("GET / HTTP/1.1\r\nHost:\r\n\r\n");
	cr_assert(req.has_host, "expected an empty Host to count");
	assert_done("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
}

/* ----------------------------------------------------------- limits */

Test(http_parse, head_over_limit_is_431_before_terminator)
{
	const char *t = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: "
	                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

	lim.max_header_size = 64;
	cr_assert(ge(sz, strlen(t), 70), "expected the test head past 64");
	http_request_init(&req, &lim, hdrs, NHDRS);
	cr_assert(eq(int, http_parse_head(&req, t, 63), HTTP_PARSE_NEED_MORE),
	    "expected 63 bytes without an end to need more");
	cr_assert(eq(int, http_parse_head(&req, t, 64), HTTP_PARSE_ERROR),
	    "expected 431 once 64 bytes hold no complete head");
	cr_assert(eq(int, req.status, 431), "expected 431, got %d", req.status);
}

Test(http_parse, head_of_exactly_the_limit_is_accepted)
{
	const char *t = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

	lim.max_header_size = strlen(t);
	assert_done(t);
	lim.max_header_size = strlen(t) - 1;
	assert_refused(t, 431);
}

Test(http_parse, too_many_headers_is_431)
{
	lim.max_headers = 3;
	assert_done("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n");
	assert_refused(
	    "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431);
}

Test(http_parse, small_header_array_limits_the_fields)
{
	struct http_header two[2];
	const char *t = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";

	http_request_init(&req, &lim, two, 2);
	cr_assert(eq(int, http_parse_head(&req, t, strlen(t)),
	              HTTP_PARSE_ERROR),
	    "expected a third field not to fit an array of two");
	cr_assert(eq(int, req.status, 431), "expected 431, got %d", req.status);
}

Test(http_parse, body_over_limit_is_413)
{
	lim.max_body_size = 10;
	assert_done("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"
	            "0123456789");
	/* Refused from the head alone, before any body byte. */
	assert_refused(
	    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", 413);
}

Test(http_parse, chunked_over_limit_is_413)
{
	lim.max_body_size = 10;
	assert_done("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
	            "\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n");
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	               "chunked\r\n\r\n5\r\n01234\r\n6\r\n",
	    413);
}

Test(http_parse, huge_chunk_size_is_413_before_its_data)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	               "chunked\r\n\r\nffffffffffffffffffffffff",
	    413);
}

Test(http_parse, chunk_framing_overhead_is_413)
{
	char store[65536];
	struct buf b;

	lim.max_body_size = 1024; /* framing allowed: 1024 + 4096 bytes */
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_puts(&b,
	    "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 1000; i++)
		(void)buf_puts(&b, "0000000001\r\nx\r\n");
	assert_refused_n(buf_str(&b), b.len, 413);
	cr_assert(eq(str, (char *)req.reason, "chunked framing too large"),
	    "expected the framing limit, not the body limit");
}

Test(http_parse, trailer_section_over_limit_is_431)
{
	lim.max_header_size = 80;
	assert_refused(
	    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n0\r\nX-Big: "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa\r\n\r\n",
	    431);
}

/* ------------------------------------------ framing and smuggling */

Test(http_parse, rejects_duplicate_content_length)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	               "Content-Length: 3\r\n\r\nabc",
	    400);
}

Test(http_parse, rejects_content_length_list)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n"
	               "\r\nabc",
	    400);
}

Test(http_parse, rejects_signed_content_length)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n"
	               "\r\nabc",
	    400);
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n"
	               "\r\n",
	    400);
}

Test(http_parse, rejects_content_length_with_inner_space_or_hex)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n"
	               "\r\n",
	    400);
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n"
	               "\r\n",
	    400);
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
	    400);
}

Test(http_parse, content_length_overflow_is_400)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
	               "9223372036854775808\r\n\r\n",
	    400);
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
	               "18446744073709551617\r\n\r\n",
	    400);
}

Test(http_parse, content_length_with_ows_and_leading_zeros_is_accepted)
{
	assert_done("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  003 \r\n"
	            "\r\nabc");
	cr_assert(eq(i64, req.content_length, 3), "expected length 3");
}

Test(http_parse, rejects_cl_and_te_together)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	               "Transfer-Encoding: chunked\r\n\r\n",
	    400);
	assert_refused(
	    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
	    "\r\nContent-Length: 3\r\n\r\n",
	    400);
}

Test(http_parse, rejects_gzip_transfer_coding_with_501)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip"
	               "\r\n\r\n",
	    501);
}

Test(http_parse, rejects_gzip_before_chunked_with_501)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, "
	               "chunked\r\n\r\n",
	    501);
}

Test(http_parse, rejects_chunked_not_last_with_501)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	               "chunked, identity\r\n\r\n",
	    501);
}

Test(http_parse, rejects_chunked_twice_with_400)
{
	assert_refused(
	    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
	    "\r\nTransfer-Encoding: chunked\r\n\r\n",
	    400);
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	               "chunked,chunked\r\n\r\n",
	    400);
}

Test(http_parse, rejects_malformed_transfer_encoding_with_400)
{
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	               "\"chunked\"\r\n\r\n",
	    400);
	assert_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , \r\n"
	               "\r\n",
	    400);
}

Test(http_parse, transfer_encoding_is_case_insensitive)
{
	assert_done("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  ChUnKeD "
	            "\r\n\r\n0\r\n\r\n");
	cr_assert(req.chunked, "expected chunked recognised in any case");
}

Test(http_parse, rejects_te_in_http_1_0)
{
	assert_refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
	               "0\r\n\r\n",
	    400);
}

/* ----------------------------------------------------- chunk syntax */

static void assert_bad_chunks(const char *chunks)
{
	char store[1024];
	struct buf b;

	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_puts(&b,
	    "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	(void)buf_puts(&b, chunks);
	assert_refused(buf_str(&b), 400);
}

Test(http_parse, rejects_chunk_size_with_prefix_or_sign)
{
	assert_bad_chunks("0x5\r\nhello\r\n0\r\n\r\n");
	assert_bad_chunks("-5\r\nhello\r\n0\r\n\r\n");
	assert_bad_chunks("+5\r\nhello\r\n0\r\n\r\n");
	assert_bad_chunks(" 5\r\nhello\r\n0\r\n\r\n");
	assert_bad_chunks("\r\nhello\r\n0\r\n\r\n");
	assert_bad_chunks("g\r\n");
}

Test(http_parse, rejects_whitespace_after_chunk_size_without_extension)
{
	assert_bad_chunks("5 \r\nhello\r\n0\r\n\r\n");
}

Test(http_parse, rejects_bare_lf_in_chunked_body)
{
	assert_bad_chunks("5\nhello\r\n0\r\n\r\n");
	assert_bad_chunks("5\r\nhello\n0\r\n\r\n");
	assert_bad_chunks("5\r\nhello\r\n0\r\n\n");
	assert_bad_chunks("5\r\nhello\r\n0\r\nX-A: b\n\r\n");
}

Test(http_parse, rejects_chunk_data_without_crlf)
{
	assert_bad_chunks("5\r\nhelloX\r\n0\r\n\r\n");
}

Test(http_parse, rejects_control_char_in_chunk_extension)
{
	assert_bad_chunks("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n");
	assert_bad_chunks("5;a\rb\r\nhello\r\n0\r\n\r\n");
}

Test(http_parse, rejects_long_chunk_extension)
{
	char store[1024];
	struct buf b;

	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_puts(&b, "1;x=");
	for (int i = 0; i < HTTP_CHUNK_LINE_MAX; i++)
		(void)buf_putc(&b, 'a');
	(void)buf_puts(&b, "\r\nz\r\n0\r\n\r\n");
	assert_bad_chunks(buf_str(&b));
}

Test(http_parse, rejects_malformed_trailer)
{
	assert_bad_chunks("0\r\nX-A : b\r\n\r\n");
	assert_bad_chunks("0\r\nX-A: b\r\n c\r\n\r\n");
	assert_bad_chunks("0\r\nX-A: b\x01\r\n\r\n");
}

/* ------------------------------------------------- resumability */

/*
 * Parse text fed in two reads split at k into r (headers in h, decoded
 * body in out). The first read gets its own heap copy of exactly k bytes,
 * so ASan catches any read past len, and the buffer moves between calls
 * as a realloc would move it.
 */
static enum http_parse_result parse_split(const char *text, size_t n, size_t k,
    struct http_request *r, struct http_header *h, struct buf *out)
{
	enum http_parse_result rc;
	char *first = malloc(k > 0 ? k : 1);

	cr_assert(not(eq(ptr, first, NULL)), "expected memory");
	memcpy(first, text, k);
	http_request_init(r, &lim, h, NHDRS);
	rc = http_parse_head(r, first, k);
	if (rc == HTTP_PARSE_DONE)
		rc = http_parse_body(r, first, k, out);
	free(first);
	if (rc == HTTP_PARSE_NEED_MORE)
		rc = http_parse_head(r, text, n);
	if (rc == HTTP_PARSE_DONE)
		rc = http_parse_body(r, text, n, out);
	return rc;
}

static void assert_slice_eq(struct http_slice a, struct http_slice b,
    const char *what, size_t k)
{
	cr_assert(eq(sz, a.off, b.off),
	    "expected the same %s offset at split %zu", what, k);
	cr_assert(eq(sz, a.len, b.len),
	    "expected the same %s length at split %zu", what, k);
}

static void assert_same_parse(const struct http_request *a,
    const struct buf *abody, const struct http_request *b,
    const struct buf *bbody, size_t k)
{
	cr_assert(eq(int, a->status, b->status),
	    "expected status %d at split %zu, got %d", a->status, k, b->status);
	assert_slice_eq(a->method_text, b->method_text, "method", k);
	assert_slice_eq(a->target, b->target, "target", k);
	assert_slice_eq(a->path, b->path, "path", k);
	assert_slice_eq(a->query, b->query, "query", k);
	assert_slice_eq(a->host, b->host, "host", k);
	cr_assert(eq(sz, a->nheaders, b->nheaders),
	    "expected the same field count at split %zu", k);
	for (size_t i = 0; i < a->nheaders; i++) {
		assert_slice_eq(a->headers[i].name, b->headers[i].name, "name",
		    k);
		assert_slice_eq(a->headers[i].value, b->headers[i].value,
		    "value", k);
	}
	cr_assert(eq(i64, a->content_length, b->content_length),
	    "expected the same content length at split %zu", k);
	cr_assert(eq(int, a->method, b->method),
	    "expected the same method at split %zu", k);
	cr_assert(eq(int, a->version_minor, b->version_minor),
	    "expected the same version at split %zu", k);
	cr_assert(eq(int, a->chunked, b->chunked),
	    "expected the same chunked flag at split %zu", k);
	cr_assert(eq(int, a->keep_alive, b->keep_alive),
	    "expected the same keep-alive at split %zu", k);
	cr_assert(eq(int, a->expect_continue, b->expect_continue),
	    "expected the same expect_continue at split %zu", k);
	cr_assert(eq(sz, a->head_len, b->head_len),
	    "expected the same head length at split %zu", k);
	cr_assert(eq(sz, a->body_len, b->body_len),
	    "expected the same body length at split %zu", k);
	cr_assert(eq(sz, a->consumed, b->consumed),
	    "expected the same consumed count at split %zu", k);
	cr_assert(eq(str, (char *)buf_str(abody), (char *)buf_str(bbody)),
	    "expected the same decoded body at split %zu", k);
}

/* Every split of text parses like the whole; returns the whole result. */
static enum http_parse_result assert_every_split_same(const char *text)
{
	static struct http_header h[NHDRS];
	struct http_request r;
	struct buf out;
	size_t n = strlen(text);
	enum http_parse_result whole, rc;

	whole = parse_n(text, n);
	buf_init_dynamic(&out, lim.max_body_size + 1);
	for (size_t k = 0; k <= n; k++) {
		buf_reset(&out);
		rc = parse_split(text, n, k, &r, h, &out);
		cr_assert(eq(int, rc, whole),
		    "expected result %d at split %zu, got %d", whole, k, rc);
		assert_same_parse(&req, &body, &r, &out, k);
	}
	buf_free(&out);
	return whole;
}

Test(http_parse, every_split_of_a_head_gives_the_same_parse)
{
	enum http_parse_result rc =
	    assert_every_split_same("\r\nPOST /v1/runs?x=1 HTTP/1.1\r\n"
	                            "Host: api.example.com\r\n"
	                            "Connection: keep-alive, Upgrade\r\n"
	                            "Expect: 100-continue\r\n"
	                            "X-Spaces:   a  b   \r\n"
	                            "Content-Length: 7\r\n"
	                            "\r\n"
	                            "payload");

	cr_assert(eq(int, rc, HTTP_PARSE_DONE), "expected a complete request");
	cr_assert(eq(sz, req.nheaders, 5), "expected five fields");
}

Test(http_parse, every_split_of_a_chunked_body_gives_the_same_body)
{
	enum http_parse_result rc =
	    assert_every_split_same("PUT /f HTTP/1.1\r\n"
	                            "Host: a\r\n"
	                            "Transfer-Encoding: chunked\r\n"
	                            "\r\n"
	                            "4;ext=\"q\"\r\nWiki\r\n"
	                            "5 ;x\r\npedia\r\n"
	                            "E\r\n in\r\n\r\nchunks.\r\n"
	                            "0\r\n"
	                            "Expires: never\r\n"
	                            "\r\n");

	cr_assert(eq(int, rc, HTTP_PARSE_DONE), "expected a complete request");
	cr_assert(eq(str, (char *)buf_str(&body),
	              "Wikipedia in\r\n\r\nchunks."),
	    "expected the decoded body");
}

Test(http_parse, every_split_of_a_bad_request_gives_the_same_error)
{
	static const char *bad[] = {
	    "GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
	    "Content-Length: 1\r\n\r\n",
	    "GET / HTTP/3.0\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nab",
	    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabcX",
	    "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x01"
	    "aaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: a\r\nX-Long: "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x01"
	    "\r\n"
	    "\r\n",
	};

	lim.max_uri = 40;
	lim.max_header_size = 80;
	lim.max_body_size = 4;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(not(eq(int, assert_every_split_same(bad[i]),
		              HTTP_PARSE_DONE)),
		    "expected case %zu to be refused or incomplete", i);
}

Test(http_parse, slow_loris_one_byte_at_a_time_is_linear)
{
	static char store[16384];
	struct buf b;
	size_t n, calls = 0;
	enum http_parse_result rc = HTTP_PARSE_NEED_MORE;

	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_puts(&b, "GET /slow HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; b.len < 10 * 1024 - 200; i++)
		(void)buf_printf(&b, "X-Pad-%03d: %s\r\n", i,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaa");
	(void)buf_puts(&b, "\r\n");
	n = b.len;
	cr_assert(ge(sz, n, 10000), "expected a head of about 10 kB, got %zu",
	    n);
	cr_assert(not(b.overflow), "expected the head to fit the store");

	http_request_init(&req, &lim, hdrs, NHDRS);
	for (size_t len = 1; len <= n; len++) {
		rc = http_parse_head(&req, store, len);
		calls++;
		if (len < n)
			cr_assert(eq(int, rc, HTTP_PARSE_NEED_MORE),
			    "expected to need more at %zu of %zu bytes", len,
			    n);
	}
	cr_assert(eq(int, rc, HTTP_PARSE_DONE), "expected the head complete");
	cr_assert(eq(sz, calls, n), "expected one call per byte");
	cr_assert(eq(sz, req.head_len, n), "expected the whole head parsed");
	/* Each byte is searched once for LF and checked once in its line. */
	cr_assert(le(sz, req.st.work, 2 * n),
	    "expected at most %zu bytes examined for %zu calls, got %zu", 2 * n,
	    calls, req.st.work);
}

Test(http_parse, chunked_body_one_byte_at_a_time_is_linear)
{
	static char store[16384];
	struct buf b;
	size_t n, head;
	enum http_parse_result rc = HTTP_PARSE_NEED_MORE;

	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_puts(&b,
	    "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	head = b.len;
	for (int i = 0; i < 500; i++)
		(void)buf_puts(&b, "a\r\n0123456789\r\n");
	(void)buf_puts(&b, "0\r\n");
	for (int i = 0; i < 20; i++)
		(void)buf_printf(&b, "X-T%d: v\r\n", i);
	(void)buf_puts(&b, "\r\n");
	n = b.len;

	http_request_init(&req, &lim, hdrs, NHDRS);
	cr_assert(eq(int, http_parse_head(&req, store, head), HTTP_PARSE_DONE),
	    "expected the head");
	for (size_t len = head; len <= n; len++)
		rc = http_parse_body(&req, store, len, &body);
	cr_assert(eq(int, rc, HTTP_PARSE_DONE), "expected the body complete");
	cr_assert(eq(sz, req.body_len, 5000), "expected 5000 decoded bytes");
	cr_assert(le(sz, req.st.work, 2 * n),
	    "expected at most %zu bytes examined, got %zu", 2 * n, req.st.work);
}

/* ------------------------------------------------------------- misc */

Test(http_parse, status_reasons_are_known)
{
	cr_assert(eq(str, (char *)http_status_reason(400), "Bad Request"),
	    "expected 400 Bad Request");
	cr_assert(eq(str, (char *)http_status_reason(431),
	              "Request Header Fields Too Large"),
	    "expected 431's phrase");
	cr_assert(eq(str, (char *)http_status_reason(505),
	              "HTTP Version Not Supported"),
	    "expected 505's phrase");
	cr_assert(eq(str, (char *)http_status_reason(799), ""),
	    "expected an empty phrase for an unknown status");
}

Test(http_parse, body_before_head_is_refused)
{
	http_request_init(&req, &lim, hdrs, NHDRS);
	cr_assert(eq(int, http_parse_body(&req, "", 0, NULL), HTTP_PARSE_ERROR),
	    "expected http_parse_body before the head to be an error");
	cr_assert(eq(int, req.status, 500), "expected a 500 for misuse");
}

Test(http_parse, max_request_size_covers_every_part)
{
	lim.max_header_size = 100;
	lim.max_body_size = 1000;
	cr_assert(eq(sz, http_max_request_size(&lim),
	              100 + 100 + 1000 + 1000 + HTTP_CHUNK_SLACK),
	    "expected head + trailers + body + framing");
}

/* ------------------------------------------------------------ forms */

Test(http_parse, form_values_are_decoded)
{
	static const char f[] =
	    "grant_type=password&username=ann%40example.org&password=a+b%2Bc"
	    "&empty=&scope=x";
	static const struct {
		size_t len; /* of f given; 0: all of it */
		const char *name;
		long n; /* -1: absent */
		const char *want;
	} rows[] = {
	    {0, "grant_type", 8, "password"},
	    {0, "username", 15, "ann@example.org"},
	    {0, "password", 5, "a b+c"},
	    {0, "empty", 0, ""},
	    /* A name is matched whole: "pass" is not "password". */
	    {0, "pass", -1, NULL},
	    /* The value ends at the slice's end, not at a NUL after it. */
	    {22, "grant_type", 8, "password"},
	    {17, "grant_type", 6, "passwo"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[64];
		size_t len = rows[i].len != 0 ? rows[i].len : sizeof(f) - 1;

		cr_expect(eq(long,
		              (long)http_form_get(f, len, rows[i].name, out,
		                  sizeof(out)),
		              rows[i].n),
		    "row %zu: %s", i, rows[i].name);
		if (rows[i].want != NULL)
			cr_expect(eq(str, out, (char *)rows[i].want),
			    "row %zu: %s", i, rows[i].name);
	}
}

Test(http_parse, form_refuses_what_is_malformed)
{
	char out[8];
	static const struct {
		const char *text;
	} bad[] = {
	    {"a=1&a=2"},    /* given twice */
	    {"a=%4"},       /* a cut escape */
	    {"a=%zz"},      /* not hex */
	    {"a=%00"},      /* a NUL inside */
	    {"a=12345678"}, /* does not fit (7 bytes and the NUL) */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(eq(long,
		              (long)http_form_get(bad[i].text,
		                  strlen(bad[i].text), "a", out, sizeof(out)),
		              -2L),
		    "%s", bad[i].text);
	cr_assert(eq(long,
	    (long)http_form_get("a=1234567", 9, "a", out, sizeof(out)), 7L));
	cr_assert(
	    eq(long, (long)http_form_get("", 0, "a", out, sizeof(out)), -1L));
}
