/*
 * test_access_log.c - access log lines, byte for byte, in both formats:
 * a normal request, a request whose head never parsed, absent and empty
 * fields, and hostile bytes (quotes, backslashes, control characters,
 * non-ASCII) that must neither break a line nor inject a field; and the
 * single write(2) per line.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access_log.h"
#include "cfg.h"
#include "testutil.h"

#define S(lit) ((struct access_log_str){lit, sizeof(lit) - 1})

static struct buf out;

static void setup(void)
{
	buf_init_dynamic(&out, 1 << 16);
}

static void teardown(void)
{
	buf_free(&out);
}

TestSuite(access_log, .init = setup, .fini = teardown);

/* 784111777 is 1994-11-06 08:49:37 UTC. */
static struct access_log_entry sample(void)
{
	struct access_log_entry e;

	memset(&e, 0, sizeof(e));
	e.time_s = 784111777;
	e.time_ms = 123;
	e.client = "127.0.0.1";
	e.method = S("GET");
	e.target = S("/x?a=1");
	e.path = S("/x");
	e.query = S("a=1");
	e.version_minor = 1;
	e.status = 200;
	e.bytes = 15;
	e.referer = (struct access_log_str){NULL, 0};
	e.user_agent = S("curl/8.0");
	e.request_id = "3f2a9c0d1e4b5a69";
	e.pid = 4242;
	e.duration_us = 187;
	return e;
}

static const char *fmt(int format, const struct access_log_entry *e)
{
	buf_reset(&out);
	cr_assert(eq(int, access_log_format(&out, format, e), 0));
	return buf_str(&out);
}

/* e formats to exactly combined in the combined format and to json in the
 * JSON one; either may be NULL: not checked. */
static void expect_lines(const struct access_log_entry *e, const char *combined,
    const char *json)
{
	if (combined != NULL)
		cr_assert(eq(str, (char *)fmt(CFG_ACCESS_COMBINED, e),
		              (char *)combined),
		    "combined format");
	if (json != NULL)
		cr_assert(eq(str, (char *)fmt(CFG_ACCESS_JSON, e),
		              (char *)json),
		    "json format");
}

Test(access_log, combined_exact)
{
	struct access_log_entry e = sample();

	expect_lines(&e,
	    "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /x?a=1 "
	    "HTTP/1.1\" "
	    "200 15 \"-\" \"curl/8.0\" 3f2a9c0d1e4b5a69 4242 187\n",
	    NULL);
}

Test(access_log, json_exact)
{
	struct access_log_entry e = sample();

	expect_lines(&e, NULL,
	    "{\"time\":\"1994-11-06T08:49:37.123Z\",\"client\":\"127.0.0.1\","
	    "\"method\":\"GET\",\"path\":\"/x\",\"query\":\"a=1\","
	    "\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":15,"
	    "\"referer\":null,\"user_agent\":\"curl/8.0\","
	    "\"request_id\":\"3f2a9c0d1e4b5a69\",\"pid\":4242,"
	    "\"duration_us\":187}\n");
}

Test(access_log, no_query_no_bytes_http10)
{
	struct access_log_entry e = sample();

	e.target = S("/health/live");
	e.path = S("/health/live");
	e.query = S("");
	e.version_minor = 0;
	e.bytes = 0;
	e.status = 304;
	e.referer = S("http://a/");
	expect_lines(&e,
	    "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /health/live "
	    "HTTP/1.0\" 304 - \"http://a/\" \"curl/8.0\" 3f2a9c0d1e4b5a69 "
	    "4242 187\n",
	    "{\"time\":\"1994-11-06T08:49:37.123Z\",\"client\":\"127.0.0.1\","
	    "\"method\":\"GET\",\"path\":\"/health/live\","
	    "\"protocol\":\"HTTP/1.0\",\"status\":304,\"bytes\":0,"
	    "\"referer\":\"http://a/\",\"user_agent\":\"curl/8.0\","
	    "\"request_id\":\"3f2a9c0d1e4b5a69\",\"pid\":4242,"
	    "\"duration_us\":187}\n");
}

Test(access_log, unparsed_request)
{
	struct access_log_entry e;

	memset(&e, 0, sizeof(e));
	e.time_s = 784111777;
	e.client = "::1";
	e.version_minor = -1;
	e.status = 400;
	e.bytes = 113;
	e.request_id = "ffff000011112222";
	e.pid = 7;
	e.duration_us = 5;
	expect_lines(&e,
	    "::1 - - [06/Nov/1994:08:49:37 +0000] \"-\" 400 113 \"-\" \"-\" "
	    "ffff000011112222 7 5\n",
	    "{\"time\":\"1994-11-06T08:49:37.000Z\",\"client\":\"::1\","
	    "\"method\":null,\"path\":null,\"protocol\":null,\"status\":400,"
	    "\"bytes\":113,\"referer\":null,\"user_agent\":null,"
	    "\"request_id\":\"ffff000011112222\",\"pid\":7,\"duration_us\":5}"
	    "\n");
}

Test(access_log, hostile_bytes_combined)
{
	struct access_log_entry e = sample();

	e.target = S("/a\"b\\c");
	e.user_agent = S("x\" \"injected\n\x1b[31m\xc3\xa9\x7f");
	e.referer = S("\t");
	expect_lines(&e,
	    "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /a\\\"b\\\\c "
	    "HTTP/1.1\" 200 15 \"\\x09\" "
	    "\"x\\\" \\\"injected\\x0a\\x1b[31m\\xc3\\xa9\\x7f\" "
	    "3f2a9c0d1e4b5a69 4242 187\n",
	    NULL);
}

Test(access_log, hostile_bytes_json_stay_valid_json)
{
	static const char *const fields[] = {
	    "\"path\":\"/a\\\"b\\\\c\",\"query\":\"q=\\u0001\"",
	    "\"user_agent\":\"x\\\"}\\u000a\\u00c3\\u00a9\\u00ff\""};
	struct access_log_entry e = sample();
	json_object *o;
	const char *line;

	e.path = S("/a\"b\\c");
	e.query = S("q=\x01");
	e.user_agent = S("x\"}\n\xc3\xa9\xff");
	line = fmt(CFG_ACCESS_JSON, &e);
	cr_assert(eq(str, strchr(line, '\n'), "\n"));
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cr_assert(not(eq(ptr, strstr(line, fields[i]), NULL)),
		    "expected %s in %s", fields[i], line);
	o = json_tokener_parse(line);
	bool parsed = o != NULL;
	cr_assert(parsed, "not JSON: %s", line);
	cr_assert(eq(int,
	    json_object_get_int(json_object_object_get(o, "status")), 200));
	json_object_put(o);
}

Test(access_log, write_is_one_line)
{
	char *dir = tu_tmpdir(), path[512], *got;
	struct access_log_entry e = sample();
	int fd;

	(void)snprintf(path, sizeof(path), "%s/access.log", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	cr_assert(fd >= 0);
	(void)fmt(CFG_ACCESS_COMBINED, &e);
	cr_assert(eq(int, access_log_write(fd, &out), 0));
	cr_assert(eq(int, access_log_write(fd, &out), 0));
	(void)close(fd);
	got = tu_read(path, NULL);
	cr_assert(
	    eq(sz, tu_count_lines_with(got, "3f2a9c0d1e4b5a69 4242 187"), 2));
	free(got);
	free(dir);
}
