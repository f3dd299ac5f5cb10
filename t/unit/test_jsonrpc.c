/*
 * test_jsonrpc.c - the JSON-RPC reader of /mcp: what parses as one JSON
 * value (whitespace around it allowed, a bare number or literal too, so
 * that the transport can answer -32600 rather than -32700), what does not
 * (bytes after the value, a cut value), and how each message is
 * classified, with the reason an invalid one is refused.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "mcp_int.h"

/* Parse text: the return code, with *doc set. */
static int parse(const char *text, json_object **doc)
{
	return mcp_jsonrpc_parse(text, strlen(text), doc);
}

Test(jsonrpc, one_value_with_whitespace_around_it_parses)
{
	static const struct {
		const char *text;
		json_type type;
	} ok[] = {
	    {"{\"jsonrpc\":\"2.0\"}", json_type_object},
	    {" \r\n{}\n", json_type_object},
	    {"[{}, {}]", json_type_array},
	    {"42", json_type_int},
	    {"-1.5e3", json_type_double},
	    {"42 ", json_type_int},
	    {"true", json_type_boolean},
	    {"\"ping\"", json_type_string},
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		json_object *doc = NULL;

		cr_expect(eq(int, parse(ok[i].text, &doc), 0), "%s",
		    ok[i].text);
		cr_expect(eq(int, (int)json_object_get_type(doc),
		              (int)ok[i].type),
		    "%s", ok[i].text);
		json_object_put(doc);
	}
}

Test(jsonrpc, null_parses_to_nothing)
{
	json_object *doc = (json_object *)&doc;

	cr_expect(eq(int, parse("null", &doc), 0));
	cr_expect(eq(ptr, doc, NULL));
}

Test(jsonrpc, what_is_not_one_value_is_refused_leaving_nothing)
{
	/* Strict RFC 8259: no single-quoted strings, no trailing commas.
	 * (json-c still takes a single-quoted object key, {'a':1}, even in
	 * strict mode; such a body reads as if double-quoted.) */
	static const char *const bad[] = {"", " ", "{", "{\"a\":", "[1,",
	    "{} x", "{}{}", "12 34", "tru", "nul", "\"open", "['a']", "'x'",
	    "[1,]", "{\"a\":1,}", "[1,]x"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *doc = (json_object *)&doc;

		cr_expect(eq(int, parse(bad[i], &doc), -1), "'%s'", bad[i]);
		cr_expect(eq(ptr, doc, NULL), "'%s' left a value", bad[i]);
	}
}

Test(jsonrpc, bytes_after_a_nul_are_refused)
{
	static const char text[] = "{}\0{}";
	json_object *doc = NULL;

	cr_expect(eq(int, mcp_jsonrpc_parse(text, sizeof(text) - 1, &doc), -1));
	cr_expect(eq(ptr, doc, NULL));
}

Test(jsonrpc, messages_are_classified_by_their_members)
{
	static const struct {
		const char *text;
		enum mcp_msg_kind kind;
		const char *why; /* for MCP_MSG_INVALID */
	} cases[] = {
	    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
	        MCP_MSG_REQUEST, NULL},
	    {"{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\"}",
	        MCP_MSG_REQUEST, NULL},
	    {"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
	        MCP_MSG_NOTIFICATION, NULL},
	    {"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}", MCP_MSG_RESPONSE,
	        NULL},
	    {"{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":1}}",
	        MCP_MSG_RESPONSE, NULL},
	    {"[]", MCP_MSG_INVALID,
	        "not a JSON-RPC 2.0 message (an object was expected)"},
	    {"42", MCP_MSG_INVALID,
	        "not a JSON-RPC 2.0 message (an object was expected)"},
	    {"{\"id\":1,\"method\":\"ping\"}", MCP_MSG_INVALID,
	        "jsonrpc must be \"2.0\""},
	    {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
	        MCP_MSG_INVALID, "jsonrpc must be \"2.0\""},
	    {"{\"jsonrpc\":2,\"id\":1,\"method\":\"ping\"}", MCP_MSG_INVALID,
	        "jsonrpc must be \"2.0\""},
	    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", MCP_MSG_INVALID,
	        "method must be a string"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":1}", MCP_MSG_INVALID,
	        "a message needs a method, a result or an error"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
	        MCP_MSG_INVALID, "id must be a string or a number"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
	        MCP_MSG_INVALID, "id must be a string or a number"},
	    {"{\"jsonrpc\":\"2.0\",\"result\":{}}", MCP_MSG_INVALID,
	        "id must be a string or a number"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *doc = NULL;
		const char *why = NULL;

		cr_assert(eq(int, parse(cases[i].text, &doc), 0), "%s",
		    cases[i].text);
		cr_expect(eq(int, (int)mcp_jsonrpc_classify(doc, &why),
		              (int)cases[i].kind),
		    "%s", cases[i].text);
		if (cases[i].why != NULL)
			cr_expect(eq(str, (char *)why, (char *)cases[i].why),
			    "%s", cases[i].text);
		json_object_put(doc);
	}
}

Test(jsonrpc, null_is_no_message)
{
	const char *why = NULL;

	cr_expect(eq(int, (int)mcp_jsonrpc_classify(NULL, &why),
	    (int)MCP_MSG_INVALID));
	cr_expect(not(eq(ptr, (void *)why, NULL)));
}
