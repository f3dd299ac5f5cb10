/*
 * test_mcp_stream.c - MCP tools that talk to their client while they
 * run, through a real pacerd with PostgreSQL and Redis.
 *
 * A sampling request goes out on the call's event stream and the answer
 * comes back in another POST, which another worker serves (the first is
 * busy waiting: the access log's pids show it) and hands over through
 * PostgreSQL; an error answer, an answer from another session, a
 * cancellation and a client that hangs up; the wait's time-out; the
 * max_stream_workers cap; elicitation; and the log level and progress
 * tokens of the notifications on a call's stream. The stream is read
 * event by event on a raw socket (tmcp.h), since the test must answer in
 * the middle of it.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb.h"
#include "tdb.h"
#include "testutil.h"
#include "thttp.h"
#include "tmcp.h"
#include "tserver.h"

static struct ts srv;

static void fini(void)
{
	ts_fini(&srv);
}

TestSuite(mcp_stream, .fini = fini, .timeout = 180);

/* Start pacerd with the conformance fixtures on (extra's lines win). */
static void start(const char *extra)
{
	ts_start_conf(&srv, TMCP_SERVER_CONF, extra);
}

/* The same with an access log (JSON lines, with the worker's pid) in
 * the server's folder. */
static void start_logged(const char *extra)
{
	char conf[2048];

	ts_init(&srv, NULL);
	(void)snprintf(conf, sizeof(conf),
	    TMCP_SERVER_CONF
	    "access_log = '%s/access.log'\naccess_log_format = json\n%s",
	    srv.dir, extra != NULL ? extra : "");
	ts_rewrite(&srv, conf);
	ts_start(&srv);
}

/* Rows of mcp_waits left for c's session. */
static long long waits_of(const struct tmcp_client *c)
{
	return tdb_int(tdb_url(),
	    "SELECT count(*) FROM mcp_waits WHERE session_hash = "
	    "sha256(convert_to($1, 'UTF8'))",
	    c->sid, NULL);
}

/* Workers the scoreboard shows waiting for their client ('S'), or -1
 * when it cannot be read. */
static int streaming_workers(void)
{
	char path[512], err[256];
	struct sb_slot_view v;
	struct sb *sb;
	int n = 0;

	(void)snprintf(path, sizeof(path), "%s/%s", srv.dir, SB_FILE_NAME);
	if ((sb = sb_attach(path, err, sizeof(err))) == NULL)
		return -1;
	for (uint32_t i = 0; i < sb_nslots(sb); i++)
		if (sb_slot_read(sb, i, &v) == 0 && v.pid != 0 &&
		    v.state == SB_STATE_STREAMING)
			n++;
	sb_close(&sb);
	return n;
}

/* Wait up to 10 s until n workers stream. */
static bool await_streaming(int n)
{
	for (int i = 0; i < 200; i++) {
		if (streaming_workers() == n)
			return true;
		ts_sleep_ms(50);
	}
	return false;
}

/* ---- sampling -------------------------------------------------------------- */

#define SAMPLE_CALL(id)                                                        \
	"{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"tools/call\","        \
	"\"params\":{\"name\":\"test_sampling\",\"arguments\":"                \
	"{\"prompt\":\"Say hi\"}}}"

/* Start a sampling call on a stream; returns its createMessage request
 * (caller puts). */
static json_object *sampling_begin(struct tmcp_stream *s,
    const struct tmcp_client *c, const char *rid, const char *body)
{
	json_object *req;

	tmcp_stream_open(s, c, rid, body);
	req = tmcp_stream_next(s, 30000);
	cr_assert(req != NULL, "no event on the stream");
	cr_assert(eq(str, (char *)tmcp_str(req, "method"),
	              "sampling/createMessage"),
	    "%s", tmcp_text(req));
	cr_expect(strncmp(tmcp_str(req, "id"), "pacer-", 6) == 0, "%s",
	    tmcp_text(req));
	cr_expect(eq(str,
	              (char *)tmcp_str(req, "params.messages.0.content.text"),
	              "Say hi"),
	    "%s", tmcp_text(req));
	cr_expect(json_object_get_int(tmcp_at(req, "params.maxTokens")) == 100,
	    "%s", tmcp_text(req));
	return req;
}

/* Answer the client request req with text, on a new connection with
 * X-Request-Id rid. Returns the status. */
static int sampling_answer(const struct tmcp_client *c, json_object *req,
    const char *text, const char *rid)
{
	char body[512], ridf[128];
	struct th_resp r;
	int st;

	(void)snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"role\":"
	    "\"assistant\",\"content\":{\"type\":\"text\",\"text\":\"%s\"},"
	    "\"model\":\"m\",\"stopReason\":\"endTurn\"}}",
	    tmcp_str(req, "id"), text);
	(void)snprintf(ridf, sizeof(ridf), "X-Request-Id: %s", rid);
	st = tmcp_post(c, ridf, body, &r);
	if (st == 202)
		cr_expect(eq(sz, r.body_len, 0), "%s", r.body);
	th_free(&r);
	return st;
}

/* The tool result that ends a sampling call: text, isError or not. */
static void expect_final(struct tmcp_stream *s, int id, bool is_error,
    const char *text)
{
	json_object *o = tmcp_stream_next(s, 30000), *e;

	cr_assert(o != NULL, "the stream ended without the result");
	cr_expect(json_object_get_int(tmcp_at(o, "id")) == id, "%s",
	    tmcp_text(o));
	e = tmcp_at(o, "result.isError");
	cr_expect(eq(int, e != NULL && json_object_get_boolean(e), is_error),
	    "%s", tmcp_text(o));
	cr_expect(strstr(tmcp_str(o, "result.content.0.text"), text) != NULL,
	    "want \"%s\" in %s", text, tmcp_text(o));
	json_object_put(o);
	cr_expect(tmcp_stream_next(s, 10000) == NULL, "more after the result");
	cr_expect(s->ended, "the stream did not end cleanly");
}

/* The pid in the access log line of request rid (waits up to 10 s). */
static long access_pid(const char *rid)
{
	char path[512], needle[160];

	(void)snprintf(path, sizeof(path), "%s/access.log", srv.dir);
	(void)snprintf(needle, sizeof(needle), "\"request_id\":\"%s\"", rid);
	for (int i = 0; i < 100; i++) {
		char *log = tu_read(path, NULL), *hit, *pid;
		long v = -1;

		if (log != NULL && (hit = strstr(log, needle)) != NULL &&
		    (pid = strstr(hit, "\"pid\":")) != NULL)
			v = strtol(pid + 6, NULL, 10);
		free(log);
		if (v > 0)
			return v;
		ts_sleep_ms(100);
	}
	return -1;
}

#define POOL_OF_4                                                              \
	"start_workers = 4\nmin_spare_workers = 3\nmax_spare_workers = 6\n"

Test(mcp_stream, sampling_answer_reaches_the_waiting_worker)
{
	struct tmcp_client c;
	struct tmcp_stream s;
	json_object *req;
	long p_stream, p_answer;

	start_logged(POOL_OF_4);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", TMCP_SAMPLING_CAPS);
	req = sampling_begin(&s, &c, "mcp-sampling-call", SAMPLE_CALL("41"));
	cr_expect(eq(i64,
	    tdb_int(tdb_url(),
	        "SELECT count(*) FROM mcp_waits WHERE request_id = $1 AND "
	        "method = 'sampling/createMessage' AND answer IS NULL",
	        tmcp_str(req, "id"), NULL),
	    1));
	cr_expect(await_streaming(1), "the scoreboard shows %d streaming",
	    streaming_workers());
	cr_expect(eq(int, sampling_answer(&c, req, "hi", "mcp-sampling-answer"),
	    202));
	expect_final(&s, 41, false, "LLM response: hi");
	tmcp_stream_close(&s);
	/* The row is taken, and the same answer a second time has no
	 * taker. */
	cr_expect(eq(i64,
	    tdb_int(tdb_url(),
	        "SELECT count(*) FROM mcp_waits WHERE request_id = $1",
	        tmcp_str(req, "id"), NULL),
	    0));
	cr_expect(eq(int, sampling_answer(&c, req, "again", "mcp-late"), 400));
	json_object_put(req);
	/* Another worker took the answer: the first was busy waiting. */
	p_stream = access_pid("mcp-sampling-call");
	p_answer = access_pid("mcp-sampling-answer");
	cr_expect(p_stream > 0 && p_answer > 0, "no access log lines");
	cr_expect(p_stream != p_answer, "one worker (%ld) served both",
	    p_stream);
}

Test(mcp_stream, client_error_answer_is_a_tool_error)
{
	struct tmcp_client c, other;
	struct tmcp_stream s;
	json_object *req;
	char body[256];
	struct th_resp r;

	start(POOL_OF_4);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", TMCP_SAMPLING_CAPS);
	req = sampling_begin(&s, &c, "mcp-refused", SAMPLE_CALL("\"x-1\""));
	/* Another session cannot answer for this one. */
	tmcp_open(&other, srv.port, NULL, "2025-11-25", TMCP_SAMPLING_CAPS);
	cr_expect(
	    eq(int, sampling_answer(&other, req, "hijack", "mcp-other"), 400));
	(void)snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"error\":{\"code\":-1,"
	    "\"message\":\"User rejected sampling\"}}",
	    tmcp_str(req, "id"));
	cr_expect(eq(int, tmcp_post(&c, NULL, body, &r), 202), "%s", r.body);
	th_free(&r);
	{
		json_object *o = tmcp_stream_next(&s, 30000);

		cr_assert(o != NULL);
		cr_expect(eq(str, (char *)tmcp_str(o, "id"), "x-1"), "%s",
		    tmcp_text(o));
		cr_expect(json_object_get_boolean(tmcp_at(o, "result.isError")),
		    "%s", tmcp_text(o));
		cr_expect(strstr(tmcp_str(o, "result.content.0.text"),
		              "User rejected sampling") != NULL,
		    "%s", tmcp_text(o));
		json_object_put(o);
	}
	tmcp_stream_close(&s);
	json_object_put(req);
}

Test(mcp_stream, unanswered_sampling_times_out)
{
	struct tmcp_client c;
	struct tmcp_stream s;
	json_object *req, *o;
	struct th_resp r;

	start(POOL_OF_4 "mcp_wait_timeout = 1s\n");
	tmcp_open(&c, srv.port, NULL, "2025-11-25", TMCP_SAMPLING_CAPS);
	req = sampling_begin(&s, &c, "mcp-timeout", SAMPLE_CALL("7"));
	expect_final(&s, 7, true, "did not answer sampling/createMessage");
	tmcp_stream_close(&s);
	/* Too late now. */
	cr_expect(eq(int, sampling_answer(&c, req, "hi", "mcp-too-late"), 400));
	json_object_put(req);
	cr_expect(eq(i64, waits_of(&c), 0));
	cr_expect(await_streaming(0), "a worker still streams");
	/* Every worker, the one that waited included, serves on. */
	for (int i = 0; i < 8; i++) {
		cr_expect(eq(int, tmcp_post(&c, NULL, TMCP_PING, &r), 200),
		    "%s", r.body);
		th_free(&r);
		o = tmcp_call_tool(&c, "test_simple_text", NULL);
		cr_expect(eq(str, (char *)tmcp_str(o, "result.content.0.text"),
		              "This is a simple text response for testing."),
		    "%s", tmcp_text(o));
		json_object_put(o);
	}
}

Test(mcp_stream, sampling_needs_the_capability)
{
	struct tmcp_client c;
	json_object *o;
	bool streamed = true;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", "{\"elicitation\":{}}");
	o = tmcp_rpc_ex(&c, "tools/call",
	    "{\"name\":\"test_sampling\",\"arguments\":{\"prompt\":\"p\"}}",
	    NULL, &streamed);
	cr_expect(json_object_get_boolean(tmcp_at(o, "result.isError")), "%s",
	    tmcp_text(o));
	cr_expect(strstr(tmcp_str(o, "result.content.0.text"),
	              "did not declare the sampling capability") != NULL,
	    "%s", tmcp_text(o));
	cr_expect(not(streamed), "nothing was sent, so no stream");
	json_object_put(o);
	/* And elicitation without its capability, the other way round. */
	tmcp_open(&c, srv.port, NULL, "2025-11-25", TMCP_SAMPLING_CAPS);
	o = tmcp_rpc(&c, "tools/call",
	    "{\"name\":\"test_elicitation\",\"arguments\":{\"message\":\"m\"}"
	    "}");
	cr_expect(strstr(tmcp_str(o, "result.content.0.text"),
	              "did not declare the elicitation capability") != NULL,
	    "%s", tmcp_text(o));
	json_object_put(o);
}

Test(mcp_stream, max_stream_workers_caps_the_waits)
{
	struct tmcp_client c;
	struct tmcp_stream s;
	json_object *req, *o;

	start(POOL_OF_4 "max_stream_workers = 1\n");
	tmcp_open(&c, srv.port, NULL, "2025-11-25", TMCP_SAMPLING_CAPS);
	req = sampling_begin(&s, &c, "mcp-first", SAMPLE_CALL("1"));
	/* The first waits: the second is refused at once. */
	o = tmcp_rpc(&c, "tools/call",
	    "{\"name\":\"test_sampling\",\"arguments\":{\"prompt\":\"p\"}}");
	cr_expect(json_object_get_boolean(tmcp_at(o, "result.isError")), "%s",
	    tmcp_text(o));
	cr_expect(strstr(tmcp_str(o, "result.content.0.text"),
	              "max_stream_workers") != NULL,
	    "%s", tmcp_text(o));
	json_object_put(o);
	cr_expect(
	    eq(int, sampling_answer(&c, req, "hi", "mcp-first-answer"), 202));
	expect_final(&s, 1, false, "LLM response: hi");
	tmcp_stream_close(&s);
	json_object_put(req);
	/* The place is free again. */
	req = sampling_begin(&s, &c, "mcp-third", SAMPLE_CALL("3"));
	cr_expect(eq(int, sampling_answer(&c, req, "again", "mcp-third-answer"),
	    202));
	expect_final(&s, 3, false, "LLM response: again");
	tmcp_stream_close(&s);
	json_object_put(req);
}

#define CANCEL_C1                                                              \
	"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","         \
	"\"params\":{\"requestId\":\"c-1\",\"reason\":\"no need\"}}"

/* Start a sampling call "c-1" in a session of version, send cancel (a
 * notification, or a batch holding it): 202, and the call's stream ends
 * without a result, its wait gone. */
static void cancel_ends_the_call(const char *version, const char *cancel)
{
	struct tmcp_client c;
	struct tmcp_stream s;
	struct th_resp r;
	json_object *req, *o;

	start(POOL_OF_4);
	tmcp_open(&c, srv.port, NULL, version, TMCP_SAMPLING_CAPS);
	req = sampling_begin(&s, &c, "mcp-cancelled", SAMPLE_CALL("\"c-1\""));
	cr_expect(eq(int, tmcp_post(&c, NULL, cancel, &r), 202), "%s", r.body);
	th_free(&r);
	/* A cancelled request gets no response: the stream just ends. */
	o = tmcp_stream_next(&s, 30000);
	cr_expect(o == NULL, "a message after the cancellation: %s",
	    tmcp_text(o));
	json_object_put(o);
	cr_expect(s.ended, "the stream did not end cleanly");
	tmcp_stream_close(&s);
	cr_expect(eq(i64, waits_of(&c), 0));
	cr_expect(await_streaming(0), "a worker still streams");
	cr_expect(
	    eq(int, sampling_answer(&c, req, "hi", "mcp-after-cancel"), 400));
	json_object_put(req);
}

Test(mcp_stream, cancelled_call_ends_without_a_result)
{
	cancel_ends_the_call("2025-11-25", CANCEL_C1);
}

/* The same notification inside a batch (versions that have them). */
Test(mcp_stream, cancellation_in_a_batch_ends_the_call)
{
	cancel_ends_the_call("2025-03-26", "[" CANCEL_C1 "]");
}

Test(mcp_stream, client_hanging_up_frees_its_wait)
{
	struct tmcp_client c;
	struct tmcp_stream s;
	json_object *req;

	start(POOL_OF_4 "max_stream_workers = 1\n");
	tmcp_open(&c, srv.port, NULL, "2025-11-25", TMCP_SAMPLING_CAPS);
	req = sampling_begin(&s, &c, "mcp-gone", SAMPLE_CALL("1"));
	json_object_put(req);
	cr_expect(await_streaming(1));
	tmcp_stream_close(&s);
	/* The waiting worker watches the socket: it gives up its row and
	 * its place under max_stream_workers. */
	cr_expect(await_streaming(0),
	    "the worker still waits for a client "
	    "that left");
	cr_expect(eq(i64, waits_of(&c), 0));
	req = sampling_begin(&s, &c, "mcp-next", SAMPLE_CALL("2"));
	cr_expect(
	    eq(int, sampling_answer(&c, req, "hi", "mcp-next-answer"), 202));
	expect_final(&s, 2, false, "LLM response: hi");
	tmcp_stream_close(&s);
	json_object_put(req);
}

/* A client's answer with an escaped NUL character (valid JSON that
 * PostgreSQL's jsonb refuses) is never a server error, and the call still
 * ends with a result. */
Test(mcp_stream, answer_with_a_nul_character_is_not_a_server_error)
{
	struct tmcp_client c;
	struct tmcp_stream s;
	struct th_resp r;
	json_object *req;
	char body[512];

	start(POOL_OF_4 "mcp_wait_timeout = 3s\n");
	tmcp_open(&c, srv.port, NULL, "2025-11-25", TMCP_SAMPLING_CAPS);
	req = sampling_begin(&s, &c, "mcp-nul", SAMPLE_CALL("5"));
	(void)snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"role\":"
	    "\"assistant\",\"content\":{\"type\":\"text\",\"text\":"
	    "\"a\\u0000b\"},\"model\":\"m\",\"stopReason\":\"endTurn\"}}",
	    tmcp_str(req, "id"));
	(void)tmcp_post(&c, NULL, body, &r);
	cr_expect(r.status == 202 || r.status == 400,
	    "want 202 or 400, got %d: %s", r.status, r.body);
	th_free(&r);
	/* Either way the call ends with a result, in time. */
	{
		json_object *o = tmcp_stream_next(&s, 30000);

		cr_expect(o != NULL && tmcp_at(o, "result") != NULL, "%s",
		    tmcp_text(o));
		json_object_put(o);
	}
	tmcp_stream_close(&s);
	json_object_put(req);
}

Test(mcp_stream, elicitation_round_trip)
{
	struct tmcp_client c;
	struct tmcp_stream s;
	json_object *req, *o;
	char body[512];
	struct th_resp r;
	const char *text;

	start(POOL_OF_4);
	tmcp_open(&c, srv.port, NULL, "2025-06-18", "{\"elicitation\":{}}");
	tmcp_stream_open(&s, &c, "mcp-elicit",
	    "{\"jsonrpc\":\"2.0\",\"id\":\"e\",\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"test_elicitation\",\"arguments\":"
	    "{\"message\":\"Who are you?\"}}}");
	req = tmcp_stream_next(&s, 30000);
	cr_assert(eq(str, (char *)tmcp_str(req, "method"),
	              "elicitation/create"),
	    "%s", tmcp_text(req));
	cr_expect(
	    eq(str, (char *)tmcp_str(req, "params.message"), "Who are you?"));
	cr_expect(
	    eq(str, (char *)tmcp_str(req, "params.requestedSchema.required.0"),
	        "username"),
	    "%s", tmcp_text(req));
	(void)snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"action\":"
	    "\"accept\",\"content\":{\"username\":\"ann\",\"email\":"
	    "\"ann@example.org\"}}}",
	    tmcp_str(req, "id"));
	cr_expect(eq(int, tmcp_post(&c, NULL, body, &r), 202), "%s", r.body);
	th_free(&r);
	o = tmcp_stream_next(&s, 30000);
	cr_assert(o != NULL, "the stream ended without the result");
	cr_expect(eq(str, (char *)tmcp_str(o, "id"), "e"), "%s", tmcp_text(o));
	text = tmcp_str(o, "result.content.0.text");
	cr_expect(strstr(text, "User response: action=accept") != NULL &&
	        strstr(text, "\"username\":\"ann\"") != NULL &&
	        strstr(text, "\"email\":\"ann@example.org\"") != NULL,
	    "%s", tmcp_text(o));
	json_object_put(o);
	tmcp_stream_close(&s);
	json_object_put(req);
}

Test(mcp_stream, a_batch_cannot_ask_the_client)
{
	struct tmcp_client c;
	json_object *a, *e;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-03-26", TMCP_SAMPLING_CAPS);
	a = tmcp_post_batch(&c, "[" SAMPLE_CALL("7") "," TMCP_PING "]");
	cr_assert(eq(sz, json_object_array_length(a), 2), "%s", tmcp_text(a));
	e = json_object_array_get_idx(a, 0);
	cr_expect(json_object_get_boolean(tmcp_at(e, "result.isError")), "%s",
	    tmcp_text(a));
	cr_expect(strstr(tmcp_str(e, "result.content.0.text"),
	              "cannot ask the client anything") != NULL,
	    "%s", tmcp_text(a));
	cr_expect(eq(i64, waits_of(&c), 0));
	json_object_put(a);
}

/* How many messages of an answer have method. */
static size_t count_method(json_object *msgs, const char *method)
{
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(msgs); i++)
		n += strcmp(tmcp_str(json_object_array_get_idx(msgs, i),
		                "method"),
		         method) == 0;
	return n;
}

Test(mcp_stream, log_level_filters_notifications)
{
	struct tmcp_client c;
	json_object *o, *all;
	bool streamed;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	o = tmcp_rpc(&c, "logging/setLevel", "{\"level\":\"error\"}");
	cr_expect(tmcp_at(o, "result") != NULL, "%s", tmcp_text(o));
	json_object_put(o);
	o = tmcp_rpc_ex(&c, "tools/call",
	    "{\"name\":\"test_tool_with_logging\"}", &all, &streamed);
	cr_expect(eq(sz, count_method(all, "notifications/message"), 0), "%s",
	    tmcp_text(all));
	cr_expect(not(streamed), "a stream without events");
	cr_expect(strstr(tmcp_str(o, "result.content.0.text"),
	              "executed successfully") != NULL,
	    "%s", tmcp_text(o));
	json_object_put(o);
	json_object_put(all);
	o = tmcp_rpc(&c, "logging/setLevel", "{\"level\":\"debug\"}");
	json_object_put(o);
	o = tmcp_rpc_ex(&c, "tools/call",
	    "{\"name\":\"test_tool_with_logging\"}", &all, &streamed);
	cr_expect(streamed);
	cr_expect(eq(sz, json_object_array_length(all), 4), "%s",
	    tmcp_text(all));
	cr_expect(eq(sz, count_method(all, "notifications/message"), 3), "%s",
	    tmcp_text(all));
	cr_expect(eq(str,
	    (char *)tmcp_str(json_object_array_get_idx(all, 0), "params.level"),
	    "info"));
	cr_expect(eq(str,
	    (char *)tmcp_str(json_object_array_get_idx(all, 0), "params.data"),
	    "Tool execution started"));
	json_object_put(o);
	json_object_put(all);
}

/* The progress notifications of test_tool_with_progress with meta (the
 * whole params._meta text); caller puts. */
static json_object *progress_events(struct tmcp_client *c, const char *meta)
{
	char params[256];
	json_object *o, *all;

	(void)snprintf(params, sizeof(params),
	    "{\"name\":\"test_tool_with_progress\"%s%s}",
	    meta ? ",\"_meta\":" : "", meta ? meta : "");
	o = tmcp_rpc_ex(c, "tools/call", params, &all, NULL);
	cr_expect(strstr(tmcp_str(o, "result.content.0.text"),
	              "executed successfully") != NULL,
	    "%s", tmcp_text(o));
	json_object_put(o);
	return all;
}

/* The answer to test_tool_with_progress with progressToken token (JSON
 * text): three progress notifications, each with the token as sent, of
 * the same JSON type; caller puts. */
static json_object *expect_progress_token(struct tmcp_client *c,
    const char *token)
{
	char meta[128];
	json_object *all, *want = json_tokener_parse(token), *tok, *e;

	cr_assert(want != NULL, "not JSON: %s", token);
	(void)snprintf(meta, sizeof(meta), "{\"progressToken\":%s}", token);
	all = progress_events(c, meta);
	cr_expect(eq(sz, count_method(all, "notifications/progress"), 3),
	    "token %s: %s", token, tmcp_text(all));
	for (size_t i = 0; i + 1 < json_object_array_length(all); i++) {
		e = json_object_array_get_idx(all, i);
		tok = tmcp_at(e, "params.progressToken");
		cr_expect(json_object_is_type(tok,
		              json_object_get_type(want)) &&
		        json_object_equal(tok, want),
		    "token %s: %s", token, tmcp_text(e));
	}
	json_object_put(want);
	return all;
}

Test(mcp_stream, progress_tokens_keep_their_type)
{
	struct tmcp_client c;
	json_object *all;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	all = expect_progress_token(&c, "\"tok-1\"");
	cr_expect(json_object_get_double(
	              tmcp_at(json_object_array_get_idx(all, 2),
	                  "params.progress")) == 100.0,
	    "%s", tmcp_text(all));
	json_object_put(all);
	json_object_put(expect_progress_token(&c, "42"));
	/* No token, no progress. */
	all = progress_events(&c, NULL);
	cr_expect(eq(sz, json_object_array_length(all), 1), "%s",
	    tmcp_text(all));
	json_object_put(all);
}
