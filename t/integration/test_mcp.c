/*
 * test_mcp.c - the MCP server at /mcp through a real pacerd with
 * PostgreSQL and Redis: every refusal of the transport with its status
 * and its JSON-RPC error; initialize (version negotiation, a session id
 * of visible ASCII stored as a SHA-256 only); ids returned exactly as
 * sent; the methods' errors and paging; sessions ending, expiring and
 * belonging to one caller; batches by protocol version; and who may see
 * which tools (a user without the fixtures, an anonymous caller with
 * them). Tools that talk to their client mid-call: test_mcp_stream.c.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdb.h"
#include "thttp.h"
#include "tmcp.h"
#include "tserver.h"
#include "tuser.h"

static struct ts srv;
static struct tmcp_client bare; /* no session, no credential */

static void fini(void)
{
	ts_fini(&srv);
}

TestSuite(mcp, .fini = fini, .timeout = 120);

/* Start pacerd with the conformance fixtures on (extra's lines win). */
static void start(const char *extra)
{
	ts_start_conf(&srv, TMCP_SERVER_CONF, extra);
	tmcp_client_init(&bare, srv.port);
}

/* ---- users ---------------------------------------------------------------- */

/* Register, activate and log in a new account. */
static void active_user(struct tuser *u, const char *tag)
{
	tuser_active(srv.port, tdb_url(), u, tag, NULL);
}

/* A new API key of u, as an Authorization field. */
static void api_key_field(const struct tuser *u, char *field, size_t n)
{
	struct th_resp r;
	json_object *o;

	cr_assert(eq(int,
	              th_json_req(srv.port, "POST", "/api/keys", u->access,
	                  "{\"name\":\"mcp tests\"}", &r),
	              201),
	    "%s", r.body);
	o = th_body(&r);
	(void)snprintf(field, n, "Authorization: Bearer %s", th_str(o, "key"));
	json_object_put(o);
	th_free(&r);
}

static void token_field(const struct tuser *u, char *field, size_t n)
{
	(void)snprintf(field, n, "Authorization: Bearer %s", u->access);
}

/* ---- transport refusals ---------------------------------------------------- */

/* POST /mcp with exactly the fields h (NULL-terminated). */
static int post_fields(const char *const *h, const char *body,
    struct th_resp *r)
{
	return th_req(srv.port, "POST", "/mcp", h, body, r);
}

Test(mcp, accept_and_content_type_are_checked)
{
	static const struct {
		const char *fields[3];
		int status;
		const char *frag;
	} cases[] = {
	    {{TMCP_CT_JSON, "Accept: application/json", NULL}, 406,
	        "Not Acceptable"},
	    {{TMCP_CT_JSON, "Accept: text/event-stream", NULL}, 406,
	        "text/event-stream"},
	    {{TMCP_CT_JSON, "Accept:", NULL}, 406, "Not Acceptable"},
	    {{"Content-Type: text/plain", TMCP_ACCEPT, NULL}, 415,
	        "Content-Type must be application/json"},
	    /* A longer type that begins the same is another type. */
	    {{"Content-Type: application/jsonl", TMCP_ACCEPT, NULL}, 415,
	        "Content-Type must be application/json"},
	    /* Parameters of the media type are fine: this one gets as far
	     * as the session check. */
	    {{"Content-Type: application/json; charset=utf-8", TMCP_ACCEPT,
	         NULL},
	        400, "Mcp-Session-Id header is required"},
	};
	char what[256];
	struct th_resp r;

	start(NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		(void)snprintf(what, sizeof(what), "%s, %s", cases[i].fields[0],
		    cases[i].fields[1]);
		(void)post_fields(cases[i].fields, TMCP_PING, &r);
		tmcp_expect_refusal_of(what, &r, cases[i].status, -32000,
		    cases[i].frag);
		th_free(&r);
	}
}

Test(mcp, bodies_that_do_not_parse_are_32700)
{
	static const char *const bad[] = {
	    "{\"jsonrpc\":\"2.0\",\"id\":1,",
	    "not json",
	    TMCP_PING " x",
	    TMCP_PING "{}",
	    TMCP_PING TMCP_PING,
	};

	start(NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tmcp_expect_refused(&bare, NULL, bad[i], 400, -32700,
		    "Parse error");
}

/* RFC 8259: JSON-text = ws value ws. A body ending in a newline (what
 * many clients and curl -d @file send) is one JSON value. */
Test(mcp, whitespace_around_the_json_is_accepted)
{
	struct th_resp r;
	json_object *o;

	start(NULL);
	(void)tmcp_post(&bare, NULL,
	    " {\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-11-25\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
	    "\"version\":\"1\"}}}\r\n",
	    &r);
	cr_expect(eq(int, r.status, 200), "%d %s", r.status, r.body);
	if (r.status == 200) {
		o = th_body(&r);
		cr_expect(eq(str, (char *)tmcp_str(o, "result.protocolVersion"),
		    "2025-11-25"));
		json_object_put(o);
	}
	th_free(&r);
}

Test(mcp, body_over_max_body_size_is_413)
{
	char *body = malloc(8192);
	struct th_resp r;
	json_object *o;

	cr_assert(body != NULL);
	start("max_body_size = 1kB\n");
	(void)snprintf(body, 8192,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
	    "\"params\":{\"pad\":\"%04000d\"}}",
	    0);
	(void)tmcp_post(&bare, NULL, body, &r);
	free(body);
	cr_expect(eq(int, r.status, 413), "%d %s", r.status, r.body);
	/* The HTTP layer answers before the body is read, so the error is
	 * the server's own (transport.c says so), not a JSON-RPC one. */
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "error"), "content_too_large"),
	    "%s", r.body);
	json_object_put(o);
	th_free(&r);
}

Test(mcp, messages_that_are_not_jsonrpc_are_32600)
{
	static const struct {
		const char *body, *why;
	} bad[] = {
	    {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
	        "jsonrpc must be \"2.0\""},
	    {"{\"id\":1,\"method\":\"ping\"}", "jsonrpc must be \"2.0\""},
	    {"{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}",
	        "id must be a string or a number"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
	        "id must be a string or a number"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
	        "id must be a string or a number"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":1}",
	        "a message needs a method, a result or an error"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
	        "method must be a string"},
	    {"\"ping\"", "an object was expected"},
	    {"42", "an object was expected"},
	    {"null", "an object was expected"},
	    {"true", "an object was expected"},
	    {"[]", "an empty batch"},
	};

	start(NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tmcp_expect_refused(&bare, NULL, bad[i].body, 400, -32600,
		    bad[i].why);
}

Test(mcp, session_header_is_required_and_must_be_known)
{
	struct tmcp_client c, ghost;

	start(NULL);
	tmcp_expect_refused(&bare, NULL, TMCP_PING, 400, -32000,
	    "Mcp-Session-Id header is required");
	/* A notification needs a session too. */
	tmcp_expect_refused(&bare, NULL, TMCP_INITIALIZED, 400, -32000,
	    "Mcp-Session-Id header is required");
	tmcp_client_init(&ghost, srv.port);
	(void)snprintf(ghost.sid, sizeof(ghost.sid), "%s",
	    "NoSuchSession0123456789abcdefghijklmnopqrs");
	tmcp_expect_refused(&ghost, NULL, TMCP_PING, 404, -32001,
	    "Session not found");
	/* An id no server could have made (a space in it). */
	tmcp_expect_refused(&bare, "Mcp-Session-Id: a b", TMCP_PING, 404,
	    -32001, "Session not found");
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	tmcp_expect_status(&c, NULL, TMCP_PING, 200);
}

Test(mcp, protocol_version_header_is_checked)
{
	struct tmcp_client c;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	tmcp_expect_refused(&c, "MCP-Protocol-Version: 2099-01-01", TMCP_PING,
	    400, -32600, "unsupported MCP-Protocol-Version");
	/* Checked before a session is made, too. */
	tmcp_expect_refused(&bare, "MCP-Protocol-Version: 1.0", TMCP_PING, 400,
	    -32600, "unsupported MCP-Protocol-Version");
	tmcp_expect_status(&c, "MCP-Protocol-Version: 2025-11-25", TMCP_PING,
	    200);
	tmcp_expect_status(&c, "MCP-Protocol-Version: 2025-06-18", TMCP_PING,
	    200);
	tmcp_expect_status(&c, NULL, TMCP_PING, 200);
}

Test(mcp, foreign_host_or_origin_is_403)
{
	static const char *const foreign[][2] = {
	    {"Host: evil.example.com", "Host"},
	    {"Host: evil.example.com:80", "Host"},
	    {"Origin: http://evil.example.com", "Origin"},
	    {"Origin: http://localhost.evil.example.com", "Origin"},
	};
	char host[64], v6[64];
	struct tmcp_client c;
	struct th_resp r;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		tmcp_expect_refused(&c, foreign[i][0], TMCP_PING, 403, -32000,
		    foreign[i][1]);
	/* Loopback names pass, with or without a port. */
	(void)snprintf(host, sizeof(host), "Host: localhost:%d", srv.port);
	tmcp_expect_status(&c, host, TMCP_PING, 200);
	(void)snprintf(v6, sizeof(v6), "Host: [::1]:%d", srv.port);
	tmcp_expect_status(&c, v6, TMCP_PING, 200);
	tmcp_expect_status(&c, "Origin: http://localhost:3000", TMCP_PING, 200);
	tmcp_expect_status(&c, "Origin: http://127.0.0.1", TMCP_PING, 200);
	/* DELETE is guarded the same way. */
	{
		const char *h[] = {"Host: evil.example.com", NULL, NULL};
		char sid[200];

		(void)snprintf(sid, sizeof(sid), "Mcp-Session-Id: %s", c.sid);
		h[1] = sid;
		(void)th_req(srv.port, "DELETE", "/mcp", h, NULL, &r);
		tmcp_expect_refusal(&r, 403, -32000, "Host");
		th_free(&r);
	}
	/* The session survived. */
	tmcp_expect_status(&c, NULL, TMCP_PING, 200);
}

Test(mcp, get_is_405_with_allow)
{
	struct th_resp r;
	char allow[128];
	const char *h[] = {"Accept: text/event-stream", NULL};

	start(NULL);
	cr_expect(eq(int, th_req(srv.port, "GET", "/mcp", h, NULL, &r), 405),
	    "%d %s", r.status, r.body);
	cr_assert(th_header(&r, "Allow", allow, sizeof(allow)) != NULL, "%s",
	    r.head);
	cr_expect(strstr(allow, "POST") != NULL && strstr(allow, "DELETE"),
	    "Allow: %s", allow);
	th_free(&r);
}

Test(mcp, notification_is_202_and_a_stray_response_400)
{
	struct tmcp_client c;
	struct th_resp r;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	cr_expect(eq(int, tmcp_post(&c, NULL, TMCP_INITIALIZED, &r), 202));
	cr_expect(eq(sz, r.body_len, 0), "%s", r.body);
	th_free(&r);
	cr_expect(eq(int,
	    tmcp_post(&c, NULL,
	        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	        "\"params\":{\"requestId\":99}}",
	        &r),
	    202));
	th_free(&r);
	tmcp_expect_refused(&c, NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":\"pacer-nobody\",\"result\":{}}", 400,
	    -32600, "no request of this session waits");
	tmcp_expect_refused(&c, NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-1,"
	    "\"message\":\"no\"}}",
	    400, -32600, "no request of this session waits");
}

/* ---- initialize ------------------------------------------------------------ */

Test(mcp, initialize_negotiates_the_version)
{
	static const struct {
		const char *asked, *got;
	} cases[] = {
	    {"2025-11-25", "2025-11-25"},
	    {"2025-06-18", "2025-06-18"},
	    {"2025-03-26", "2025-03-26"},
	    {"2024-11-05", "2024-11-05"},
	    {"1999-01-01", "2025-11-25"},
	};
	struct tmcp_client c;
	json_object *o;

	start(NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tmcp_client_init(&c, srv.port);
		o = tmcp_initialize(&c, cases[i].asked, NULL);
		cr_expect(eq(str, (char *)tmcp_str(o, "result.protocolVersion"),
		              (char *)cases[i].got),
		    "asked %s: %s", cases[i].asked, tmcp_text(o));
		cr_expect(eq(str, (char *)tmcp_str(o, "result.serverInfo.name"),
		    "pacer"));
		cr_expect(tmcp_at(o, "result.capabilities.tools") != NULL &&
		        tmcp_at(o, "result.capabilities.logging") != NULL,
		    "%s", tmcp_text(o));
		cr_expect(json_object_get_int(tmcp_at(o, "id")) == 0);
		json_object_put(o);
	}
}

Test(mcp, session_id_is_visible_ascii_and_stored_hashed)
{
	struct tmcp_client c;
	json_object *o;
	size_t n;

	start(NULL);
	tmcp_client_init(&c, srv.port);
	o = tmcp_initialize(&c, "2025-06-18", TMCP_SAMPLING_CAPS);
	json_object_put(o);
	n = strlen(c.sid);
	cr_expect(n >= 16, "a short session id: %s", c.sid);
	for (size_t i = 0; i < n; i++)
		cr_expect(c.sid[i] >= 0x21 && c.sid[i] <= 0x7e,
		    "byte %zu of the session id is 0x%02x", i,
		    (unsigned)(unsigned char)c.sid[i]);
	/* The row is keyed by the id's SHA-256 ... */
	cr_expect(eq(i64,
	    tdb_int(tdb_url(),
	        "SELECT count(*) FROM mcp_sessions WHERE id_hash = "
	        "sha256(convert_to($1, 'UTF8')) AND user_id IS NULL AND "
	        "protocol_version = '2025-06-18' AND client_name = "
	        "'pacer-tests' AND client_caps = 1",
	        c.sid, NULL),
	    1));
	/* ... and no row of either table holds the id itself. */
	cr_expect(eq(i64,
	    tdb_int(tdb_url(),
	        "SELECT count(*) FROM mcp_sessions s WHERE "
	        "strpos(s::text, $1) > 0 OR "
	        "position(convert_to($1, 'UTF8') IN s.id_hash) > 0",
	        c.sid, NULL),
	    0));
	cr_expect(eq(i64,
	    tdb_int(tdb_url(),
	        "SELECT count(*) FROM mcp_waits w WHERE strpos(w::text, $1) > "
	        "0",
	        c.sid, NULL),
	    0));
	/* The log does not show it either. */
	{
		char *log = ts_log(&srv);

		cr_expect(strstr(log, c.sid) == NULL,
		    "the log holds the session id");
		free(log);
	}
}

/* ---- ids ------------------------------------------------------------------- */

/* The raw text of a ping's answer with the id written as id. */
static void expect_id_echoed(const struct tmcp_client *c, const char *id)
{
	char body[256], want[128];
	struct th_resp r;

	(void)snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}", id);
	cr_expect(eq(int, tmcp_post(c, NULL, body, &r), 200), "id %s: %s", id,
	    r.body);
	(void)snprintf(want, sizeof(want), "\"id\":%s,", id);
	cr_expect(strstr(r.body, want) != NULL, "id %s came back as: %s", id,
	    r.body);
	th_free(&r);
	/* An error answer keeps it too. */
	(void)snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"no/such\"}", id);
	cr_expect(eq(int, tmcp_post(c, NULL, body, &r), 200), "id %s: %s", id,
	    r.body);
	cr_expect(strstr(r.body, want) != NULL, "id %s came back as: %s", id,
	    r.body);
	th_free(&r);
}

Test(mcp, ids_come_back_exactly_as_sent)
{
	static const char *const ids[] = {"\"abc\"", "7", "0",
	    "9007199254740993", "-12", "1.5", "\"\"", "\"7\""};
	struct tmcp_client c;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		expect_id_echoed(&c, ids[i]);
}

/* ---- methods --------------------------------------------------------------- */

/* A request and the JSON-RPC error it must get. */
struct rpc_case {
	const char *method, *params;
	int code;
	const char *frag;
};

/* Each of the n cases, sent on c's session, gets its error. */
static void expect_rpc_errors(struct tmcp_client *c,
    const struct rpc_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tmcp_expect_rpc_error(c, cases[i].method, cases[i].params,
		    cases[i].code, cases[i].frag);
}

Test(mcp, method_and_tool_errors)
{
	static const struct rpc_case cases[] = {
	    {"no/such/method", NULL, -32601,
	        "method not found: no/such/method"},
	    {"tools/call", "{\"name\":\"no_such_tool\"}", -32602,
	        "unknown tool: no_such_tool"},
	    {"tools/call", "{}", -32602, "params.name: missing"},
	    {"tools/call", "[1]", -32602, "params must be an object"},
	    {"tools/call", "{\"name\":\"test_sampling\"}", -32602,
	        "arguments: missing required property \"prompt\""},
	    {"tools/call",
	        "{\"name\":\"test_sampling\",\"arguments\":{\"prompt\":5}}",
	        -32602, "arguments.prompt: expected string, got"},
	    {"tools/call", "{\"name\":\"test_sampling\",\"arguments\":[\"x\"]}",
	        -32602, "params.arguments: must be an object"},
	    {"tools/call",
	        "{\"name\":\"json_schema_2020_12_tool\",\"arguments\":"
	        "{\"extra\":1}}",
	        -32602, "arguments.extra: property not allowed"},
	};
	struct tmcp_client c;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	expect_rpc_errors(&c, cases, sizeof(cases) / sizeof(cases[0]));
}

Test(mcp, tool_failure_is_a_result_not_an_error)
{
	struct tmcp_client c;
	json_object *o, *e;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	o = tmcp_call_tool(&c, "test_error_handling", NULL);
	cr_expect(tmcp_at(o, "error") == NULL, "%s", tmcp_text(o));
	e = tmcp_at(o, "result.isError");
	cr_expect(e != NULL && json_object_is_type(e, json_type_boolean) &&
	        json_object_get_boolean(e),
	    "%s", tmcp_text(o));
	cr_expect(strstr(tmcp_str(o, "result.content.0.text"),
	              "intentionally returns an error") != NULL,
	    "%s", tmcp_text(o));
	json_object_put(o);
	o = tmcp_call_tool(&c, "test_simple_text", NULL);
	cr_expect(eq(str, (char *)tmcp_str(o, "result.content.0.text"),
	              "This is a simple text response for testing."),
	    "%s", tmcp_text(o));
	cr_expect(tmcp_at(o, "result.isError") == NULL ||
	        !json_object_get_boolean(tmcp_at(o, "result.isError")),
	    "%s", tmcp_text(o));
	json_object_put(o);
}

/* Follow tools/list's cursors to the end: every name once, pages of at
 * most page items. Returns the number of tools. */
static size_t list_all_tools(struct tmcp_client *c, size_t page,
    char names[][64], size_t max)
{
	char params[256] = "";
	size_t count = 0, pages = 0;

	for (;;) {
		json_object *o =
		    tmcp_rpc(c, "tools/list", params[0] ? params : NULL);
		json_object *tools = tmcp_at(o, "result.tools"), *next;
		size_t n;

		cr_assert(tools != NULL, "%s", tmcp_text(o));
		n = json_object_array_length(tools);
		cr_expect(n <= page, "a page of %zu", n);
		for (size_t i = 0; i < n && count < max; i++) {
			const char *name =
			    tmcp_str(json_object_array_get_idx(tools, i),
			        "name");

			for (size_t j = 0; j < count; j++)
				cr_expect(strcmp(names[j], name) != 0,
				    "%s listed twice", name);
			(void)snprintf(names[count++], 64, "%s", name);
		}
		next = tmcp_at(o, "result.nextCursor");
		pages++;
		cr_assert(pages < 100, "the cursors never end");
		if (next == NULL) {
			json_object_put(o);
			return count;
		}
		cr_expect(eq(sz, n, page), "a page before the last is full");
		(void)snprintf(params, sizeof(params), "{\"cursor\":\"%s\"}",
		    json_object_get_string(next));
		json_object_put(o);
	}
}

Test(mcp, tools_list_pages_through_cursors)
{
	static const char *const fixtures[] = {"test_simple_text",
	    "test_image_content", "test_audio_content",
	    "test_embedded_resource", "test_multiple_content_types",
	    "test_tool_with_logging", "test_tool_with_progress",
	    "test_error_handling", "test_reconnection", "test_sampling",
	    "test_elicitation", "test_elicitation_sep1034_defaults",
	    "test_elicitation_sep1330_enums", "json_schema_2020_12_tool"};
	/* Forged cursors: garbage, another list's, not a number. */
	static const struct rpc_case forged[] = {
	    {"tools/list", "{\"cursor\":\"!!not-base64!!\"}", -32602, "cursor"},
	    /* base64url("prompts:2") */
	    {"tools/list", "{\"cursor\":\"cHJvbXB0czoy\"}", -32602, "cursor"},
	    /* base64url("tools:x") */
	    {"tools/list", "{\"cursor\":\"dG9vbHM6eA\"}", -32602, "cursor"},
	    {"tools/list", "{\"cursor\":5}", -32602,
	        "params.cursor: must be a string"},
	};
	char names[64][64];
	struct tmcp_client c;
	size_t n;

	start("mcp_page_size = 2\n");
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	n = list_all_tools(&c, 2, names, 64);
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		bool seen = false;

		for (size_t j = 0; j < n; j++)
			seen = seen || strcmp(names[j], fixtures[i]) == 0;
		cr_expect(seen, "%s was not listed", fixtures[i]);
	}
	cr_expect(eq(sz, n, sizeof(fixtures) / sizeof(fixtures[0])));
	expect_rpc_errors(&c, forged, sizeof(forged) / sizeof(forged[0]));
}

Test(mcp, resources_and_prompts_errors)
{
	static const struct rpc_case cases[] = {
	    {"prompts/get",
	        "{\"name\":\"test_prompt_with_arguments\","
	        "\"arguments\":{\"arg1\":\"a\"}}",
	        -32602, "params.arguments.arg2: missing"},
	    {"prompts/get",
	        "{\"name\":\"test_prompt_with_arguments\","
	        "\"arguments\":{\"arg1\":\"a\",\"arg2\":2}}",
	        -32602, "params.arguments.arg2: must be a string"},
	    {"prompts/get", "{\"name\":\"no_such_prompt\"}", -32602,
	        "unknown prompt: no_such_prompt"},
	    {"logging/setLevel", "{\"level\":\"loud\"}", -32602,
	        "params.level: must be one of"},
	};
	struct tmcp_client c;
	json_object *o;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	o = tmcp_rpc(&c, "resources/read",
	    "{\"uri\":\"test://no-such-resource\"}");
	tmcp_expect_error(o, -32002,
	    "resource not found: test://no-such-resource");
	cr_expect(eq(str, (char *)tmcp_str(o, "error.data.uri"),
	    "test://no-such-resource"));
	json_object_put(o);
	o = tmcp_rpc(&c, "resources/read", "{\"uri\":\"test://static-text\"}");
	cr_expect(eq(str, (char *)tmcp_str(o, "result.contents.0.text"),
	              "This is the content of the static text resource."),
	    "%s", tmcp_text(o));
	json_object_put(o);
	expect_rpc_errors(&c, cases, sizeof(cases) / sizeof(cases[0]));
}

/* ---- sessions -------------------------------------------------------------- */

/* DELETE of c's session is refused as not found; what names the case. */
static void expect_delete_unknown(const struct tmcp_client *c, const char *what)
{
	struct th_resp r;

	(void)tmcp_delete(c, &r);
	tmcp_expect_refusal_of(what, &r, 404, -32001, "Session not found");
	th_free(&r);
}

Test(mcp, delete_ends_the_session)
{
	struct tmcp_client c;
	struct th_resp r;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	cr_expect(eq(int, tmcp_delete(&c, &r), 204), "%d %s", r.status, r.body);
	cr_expect(eq(sz, r.body_len, 0));
	th_free(&r);
	tmcp_expect_refused(&c, NULL, TMCP_PING, 404, -32001,
	    "Session not found");
	tmcp_expect_refused(&c, NULL, TMCP_INITIALIZED, 404, -32001,
	    "Session not found");
	expect_delete_unknown(&c, "a second DELETE");
	(void)th_req(srv.port, "DELETE", "/mcp", NULL, NULL, &r);
	tmcp_expect_refusal_of("DELETE without the header", &r, 400, -32000,
	    "Mcp-Session-Id header is required");
	th_free(&r);
}

Test(mcp, idle_session_expires)
{
	struct tmcp_client c;

	start("mcp_session_idle_timeout = 1s\n");
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	tmcp_expect_status(&c, NULL, TMCP_PING, 200);
	ts_sleep_ms(2000);
	tmcp_expect_refused(&c, NULL, TMCP_PING, 404, -32001, "expired");
}

/* A use moves last_seen only once it is a tenth of the idle timeout old
 * (here 1 s of 10 s): most requests write nothing. last_seen is set back
 * by hand, so no test time is spent sleeping. */
Test(mcp, last_seen_is_written_only_when_stale)
{
	static const char set_back[] =
	    "UPDATE mcp_sessions SET last_seen = now() - make_interval(secs "
	    "=> $2::float8) WHERE id_hash = sha256(convert_to($1, 'UTF8')) "
	    "RETURNING last_seen";
	static const char seen[] =
	    "SELECT last_seen FROM mcp_sessions WHERE id_hash = "
	    "sha256(convert_to($1, 'UTF8'))";
	static const char fresh[] =
	    "SELECT count(*) FROM mcp_sessions WHERE id_hash = "
	    "sha256(convert_to($1, 'UTF8')) AND last_seen > now() - "
	    "interval '1 second'";
	struct tmcp_client c;
	char *before, *after;

	start("mcp_session_idle_timeout = 10s\n");
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);

	/* Half a second old: a ping leaves it alone. */
	before = tdb_value(tdb_url(), set_back, c.sid, "0.5");
	cr_assert(strlen(before) > 0, "no session row");
	tmcp_expect_status(&c, NULL, TMCP_PING, 200);
	after = tdb_value(tdb_url(), seen, c.sid, NULL);
	cr_expect(eq(str, after, before), "a fresh last_seen was written");
	free(before);
	free(after);

	/* Five seconds old (stale, not idle): the ping moves it to now. */
	free(tdb_value(tdb_url(), set_back, c.sid, "5"));
	tmcp_expect_status(&c, NULL, TMCP_PING, 200);
	cr_expect(eq(i64, tdb_int(tdb_url(), fresh, c.sid, NULL), 1),
	    "a stale last_seen was not moved");

	/* Past the idle timeout: the session has ended. */
	free(tdb_value(tdb_url(), set_back, c.sid, "11"));
	tmcp_expect_refused(&c, NULL, TMCP_PING, 404, -32001, "expired");
}

Test(mcp, a_session_belongs_to_its_user)
{
	struct tuser a, b;
	struct tmcp_client ca, cb, ca_key;
	char field[4300];

	start("mcp_fixtures = off\n");
	active_user(&a, "mcp-a");
	active_user(&b, "mcp-b");
	token_field(&a, field, sizeof(field));
	tmcp_open(&ca, srv.port, field, "2025-11-25", NULL);
	/* B with A's session id: as if it did not exist. */
	cb = ca;
	token_field(&b, cb.auth, sizeof(cb.auth));
	tmcp_expect_refused(&cb, NULL, TMCP_PING, 404, -32001,
	    "Session not found");
	expect_delete_unknown(&cb, "DELETE by another user");
	/* A, with a token or an API key, is the same user. */
	tmcp_expect_status(&ca, NULL, TMCP_PING, 200);
	ca_key = ca;
	api_key_field(&a, ca_key.auth, sizeof(ca_key.auth));
	tmcp_expect_status(&ca_key, NULL, TMCP_PING, 200);
	cr_expect(eq(i64,
	    tdb_int(tdb_url(),
	        "SELECT count(*) FROM mcp_sessions WHERE id_hash = "
	        "sha256(convert_to($1, 'UTF8')) AND user_id = $2::uuid",
	        ca.sid, a.id),
	    1));
}

Test(mcp, anonymous_and_user_sessions_do_not_mix)
{
	struct tuser a;
	struct tmcp_client anon, user, x;
	char field[4300];

	start(NULL);
	active_user(&a, "mcp-mix");
	token_field(&a, field, sizeof(field));
	tmcp_open(&anon, srv.port, NULL, "2025-11-25", NULL);
	tmcp_open(&user, srv.port, field, "2025-11-25", NULL);
	x = anon;
	(void)snprintf(x.auth, sizeof(x.auth), "%s", field);
	tmcp_expect_refused(&x, NULL, TMCP_PING, 404, -32001,
	    "Session not found");
	x = user;
	x.auth[0] = '\0';
	tmcp_expect_refused(&x, NULL, TMCP_PING, 404, -32001,
	    "Session not found");
	tmcp_expect_status(&anon, NULL, TMCP_PING, 200);
	tmcp_expect_status(&user, NULL, TMCP_PING, 200);
}

/* ---- batches --------------------------------------------------------------- */

Test(mcp, batches_are_refused_from_2025_06_18_on)
{
	static const char *const versions[] = {"2025-06-18", "2025-11-25"};
	struct tmcp_client c;
	struct th_resp r;

	start(NULL);
	for (size_t i = 0; i < 2; i++) {
		tmcp_open(&c, srv.port, NULL, versions[i], NULL);
		(void)tmcp_post(&c, NULL, "[" TMCP_PING "]", &r);
		tmcp_expect_refusal_of(versions[i], &r, 400, -32600,
		    "batches are not supported");
		th_free(&r);
	}
	/* Without a session a batch is 400 as well. */
	tmcp_expect_refused(&bare, NULL, "[" TMCP_PING "]", 400, -32000,
	    "Mcp-Session-Id header is required");
}

Test(mcp, batches_work_for_2025_03_26)
{
	struct tmcp_client c;
	struct th_resp r;
	json_object *a, *e;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-03-26", NULL);
	a = tmcp_post_batch(&c,
	    "[{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/"
	    "list\"}," TMCP_INITIALIZED "]");
	cr_assert(eq(sz, json_object_array_length(a), 2), "%s", tmcp_text(a));
	e = json_object_array_get_idx(a, 0);
	cr_expect(eq(str, (char *)tmcp_str(e, "id"), "p"), "%s", tmcp_text(a));
	cr_expect(tmcp_at(e, "result") != NULL, "%s", tmcp_text(a));
	e = json_object_array_get_idx(a, 1);
	cr_expect(json_object_is_type(tmcp_at(e, "id"), json_type_int) &&
	        json_object_get_int(tmcp_at(e, "id")) == 9,
	    "%s", tmcp_text(a));
	cr_expect(tmcp_lists_tool(e, "test_simple_text", false), "%s",
	    tmcp_text(a));
	json_object_put(a);
	/* initialize inside a batch: an error entry; the rest is answered. */
	a = tmcp_post_batch(&c,
	    "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{}"
	    ","
	    "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}," TMCP_PING
	    "]");
	cr_assert(eq(sz, json_object_array_length(a), 2), "%s", tmcp_text(a));
	tmcp_expect_error(json_object_array_get_idx(a, 0), -32600,
	    "initialize must not be part of a batch");
	/* JSON-RPC 2.0: the id is null only when it could not be read. */
	cr_expect(json_object_get_int(
	              tmcp_at(json_object_array_get_idx(a, 0), "id")) == 1,
	    "the error entry lost the request's id: %s", tmcp_text(a));
	cr_expect(tmcp_at(json_object_array_get_idx(a, 1), "result") != NULL,
	    "%s", tmcp_text(a));
	json_object_put(a);
	/* Only notifications: 202, no body. */
	cr_expect(eq(int, tmcp_post(&c, NULL, "[" TMCP_INITIALIZED "]", &r),
	              202),
	    "%s", r.body);
	cr_expect(eq(sz, r.body_len, 0), "%s", r.body);
	th_free(&r);
}

/* ---- who sees what ---------------------------------------------------------- */

Test(mcp, no_credential_is_401_with_resource_metadata)
{
	char want[256], www[512];
	struct th_resp r;

	start("mcp_fixtures = off\n");
	(void)tmcp_post(&bare, NULL, TMCP_PING, &r);
	cr_expect(eq(int, r.status, 401), "%d %s", r.status, r.body);
	cr_assert(th_header(&r, "WWW-Authenticate", www, sizeof(www)) != NULL,
	    "%s", r.head);
	(void)snprintf(want, sizeof(want),
	    "Bearer resource_metadata=\"http://127.0.0.1:%d"
	    "/.well-known/oauth-protected-resource/mcp\", scope=\"mcp\"",
	    srv.port);
	cr_expect(eq(str, www, want));
	th_free(&r);
	/* A bad credential says so. */
	(void)tmcp_post(&bare, "Authorization: Bearer not-a-token", TMCP_PING,
	    &r);
	cr_expect(eq(int, r.status, 401), "%d %s", r.status, r.body);
	cr_expect(th_header(&r, "WWW-Authenticate", www, sizeof(www)) != NULL &&
	        strstr(www, "error=\"invalid_token\"") != NULL &&
	        strstr(www, "resource_metadata=") != NULL,
	    "%s", r.head);
	th_free(&r);
}

/* tools/list and whoami through c: the user's tools, no fixture. */
static void expect_user_view(struct tmcp_client *c, const struct tuser *u,
    const char *via)
{
	json_object *o = tmcp_rpc(c, "tools/list", NULL);

	cr_expect(tmcp_lists_tool(o, "whoami", false), "%s", tmcp_text(o));
	cr_expect(tmcp_lists_tool(o, "server_status", false), "%s",
	    tmcp_text(o));
	cr_expect(not(tmcp_lists_tool(o, "test_", true)), "%s", tmcp_text(o));
	json_object_put(o);
	o = tmcp_call_tool(c, "whoami", NULL);
	cr_expect(eq(str, (char *)tmcp_str(o, "result.structuredContent.email"),
	              (char *)u->email),
	    "%s", tmcp_text(o));
	cr_expect(eq(str,
	              (char *)tmcp_str(o, "result.structuredContent.user_id"),
	              (char *)u->id),
	    "%s", tmcp_text(o));
	cr_expect(eq(str,
	              (char *)tmcp_str(o,
	                  "result.structuredContent.authenticated_by"),
	              (char *)via),
	    "%s", tmcp_text(o));
	json_object_put(o);
	tmcp_expect_rpc_error(c, "tools/call",
	    "{\"name\":\"test_simple_text\"}", -32602,
	    "unknown tool: test_simple_text");
}

Test(mcp, users_see_their_tools_with_a_key_or_a_token)
{
	struct tuser u;
	char field[4300];
	struct tmcp_client c;

	start("mcp_fixtures = off\n");
	active_user(&u, "mcp-view");
	api_key_field(&u, field, sizeof(field));
	tmcp_open(&c, srv.port, field, "2025-11-25", NULL);
	expect_user_view(&c, &u, "api_key");
	token_field(&u, field, sizeof(field));
	tmcp_open(&c, srv.port, field, "2025-06-18", NULL);
	expect_user_view(&c, &u, "access_token");
}

Test(mcp, anonymous_sees_only_the_fixtures)
{
	struct tmcp_client c;
	json_object *o;

	start(NULL);
	tmcp_open(&c, srv.port, NULL, "2025-11-25", NULL);
	o = tmcp_rpc(&c, "tools/list", NULL);
	cr_expect(tmcp_lists_tool(o, "test_simple_text", false), "%s",
	    tmcp_text(o));
	cr_expect(tmcp_lists_tool(o, "test_sampling", false), "%s",
	    tmcp_text(o));
	cr_expect(not(tmcp_lists_tool(o, "whoami", false)), "%s", tmcp_text(o));
	cr_expect(not(tmcp_lists_tool(o, "server_status", false)), "%s",
	    tmcp_text(o));
	json_object_put(o);
	tmcp_expect_rpc_error(&c, "tools/call", "{\"name\":\"whoami\"}", -32602,
	    "unknown tool: whoami");
	tmcp_expect_rpc_error(&c, "tools/call", "{\"name\":\"server_status\"}",
	    -32602, "unknown tool: server_status");
}
