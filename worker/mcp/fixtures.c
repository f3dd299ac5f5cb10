/*
 * fixtures.c - the tools, resources and prompts the official MCP
 * conformance suite (npm @modelcontextprotocol/conformance, its server
 * scenarios) calls by name; see mcp.h.
 *
 * Runs in worker processes, only while mcp_fixtures is on; anonymous
 * callers may use every item here. Each item gives exactly what its
 * scenario checks (names, arguments, texts, MIME types), so a change here
 * is a change of conformance: read the scenario first. Nothing in this
 * file touches the database, the cache or a user's data.
 *
 * The delays of the logging and progress tools (about 50 ms between
 * notifications) are part of their scenarios: the client must see several
 * notifications arrive during one call. They hold the worker, which is
 * acceptable for a test fixture and never happens with mcp_fixtures off.
 */
#include "mcp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"

/* Longest text a fixture builds from a client's input. */
#define FIX_TEXT_MAX ((size_t)256 * 1024)

/* A 1x1 red pixel, 8-bit RGB PNG. */
static const unsigned char png_red_1x1[] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a,
    0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90,
    0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
    0xda, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0xf7,
    0x03, 0x41, 0x43, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82};

/* 1 ms of silence: a PCM WAV, 8 kHz, mono, 16-bit, 8 samples. */
static const unsigned char wav_silence[] = {0x52, 0x49, 0x46, 0x46, 0x34, 0x00,
    0x00, 0x00, 0x57, 0x41, 0x56, 0x45, 0x66, 0x6d, 0x74, 0x20, 0x10, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x40, 0x1f, 0x00, 0x00, 0x80, 0x3e,
    0x00, 0x00, 0x02, 0x00, 0x10, 0x00, 0x64, 0x61, 0x74, 0x61, 0x10, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

#define NO_ARGS "{\"type\":\"object\",\"properties\":{}}"

/* ---- helpers ---------------------------------------------------------- */

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A string member of o, or "" when absent or not a string. */
static const char *str_member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static const char *json_text(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return s != NULL ? s : "null";
}

/* ---- tools: content ------------------------------------------------- */

/* tools-call-simple-text */
static void t_simple_text(struct mcp_call *call, json_object *args)
{
	(void)args;
	mcp_tool_text(call, "This is a simple text response for testing.");
}

/* tools-call-image */
static void t_image_content(struct mcp_call *call, json_object *args)
{
	(void)args;
	mcp_tool_image(call, png_red_1x1, sizeof(png_red_1x1), "image/png");
}

/* tools-call-audio: the scenario wants mimeType exactly "audio/wav". */
static void t_audio_content(struct mcp_call *call, json_object *args)
{
	(void)args;
	mcp_tool_audio(call, wav_silence, sizeof(wav_silence), "audio/wav");
}

/* tools-call-embedded-resource */
static void t_embedded_resource(struct mcp_call *call, json_object *args)
{
	(void)args;
	mcp_tool_content(call,
	    mcp_resource_item("test://embedded-resource", "text/plain",
	        "This is an embedded resource content."));
}

/* tools-call-mixed-content: text, image and resource, in that order. */
static void t_multiple_content_types(struct mcp_call *call, json_object *args)
{
	(void)args;
	mcp_tool_text(call, "Multiple content types test:");
	mcp_tool_image(call, png_red_1x1, sizeof(png_red_1x1), "image/png");
	mcp_tool_content(call,
	    mcp_resource_item("test://mixed-content-resource",
	        "application/json", "{\"test\":\"data\",\"value\":123}"));
}

/* tools-call-error: a tool failure (isError), not a protocol error. */
static void t_error_handling(struct mcp_call *call, json_object *args)
{
	(void)args;
	mcp_tool_error(call,
	    "This tool intentionally returns an error for testing");
}

/* json-schema-2020-12: what matters is the listing, which must keep
 * $schema, $defs and additionalProperties as written below. */
static void t_json_schema_2020_12(struct mcp_call *call, json_object *args)
{
	struct buf b;

	buf_init_dynamic(&b, FIX_TEXT_MAX);
	if (buf_printf(&b, "JSON Schema 2020-12 tool called with: %s",
	        json_text(args)) != 0)
		mcp_tool_error(call, "the arguments are too long to echo");
	else
		mcp_tool_text(call, buf_str(&b));
	buf_free(&b);
}

/* ---- tools: notifications during a call ----------------------------- */

/* tools-call-with-logging: three info messages, ~50 ms apart. */
static void t_tool_with_logging(struct mcp_call *call, json_object *args)
{
	static const char *const steps[] = {"Tool execution started",
	    "Tool processing data", "Tool execution completed"};

	(void)args;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		json_object *data = json_object_new_string(steps[i]);
		int rc;

		if (i > 0)
			pause_ms(50);
		rc = mcp_log(call, "info", "conformance-fixtures", data);
		json_object_put(data);
		if (rc != 0)
			return; /* the client is gone */
	}
	mcp_tool_text(call, "Tool with logging executed successfully");
}

/* tools-call-with-progress: 0, 50, 100 of 100, ~50 ms apart. Without a
 * progress token mcp_progress sends nothing and the delays remain. */
static void t_tool_with_progress(struct mcp_call *call, json_object *args)
{
	static const double steps[] = {0, 50, 100};

	(void)args;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char msg[64];

		if (i > 0)
			pause_ms(50);
		(void)snprintf(msg, sizeof(msg), "Completed step %.0f of 100",
		    steps[i]);
		if (mcp_progress(call, steps[i], 100, msg) != 0)
			return;
	}
	mcp_tool_text(call, "Tool with progress executed successfully");
}

/*
 * server-sse-polling (SEP-1699) calls this tool and expects the server to
 * close the POST's SSE stream before the result, then deliver the result
 * on a GET that carries Last-Event-ID. mcp.h has no way for a handler to
 * close its stream, so this answers on the open stream after the same
 * 100 ms pause; the scenario then reports (as INFO, not a failure) that
 * the stream was not closed mid-call.
 */
static void t_reconnection(struct mcp_call *call, json_object *args)
{
	(void)args;
	pause_ms(100);
	mcp_tool_text(call,
	    "Reconnection test completed successfully. If you received this, "
	    "the client properly reconnected after stream closure.");
}

/* ---- tools: requests to the client ---------------------------------- */

/* The text of a sampling result's content: an item or (2025-11-25) an
 * array of items; the first text item wins. */
static const char *sampling_text(json_object *result)
{
	json_object *content = NULL;

	if (!json_object_object_get_ex(result, "content", &content))
		return NULL;
	if (json_object_is_type(content, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(content); i++) {
			json_object *it = json_object_array_get_idx(content, i);

			if (strcmp(str_member(it, "type"), "text") == 0)
				return str_member(it, "text");
		}
		return NULL;
	}
	if (strcmp(str_member(content, "type"), "text") == 0)
		return str_member(content, "text");
	return NULL;
}

/* tools-call-sampling: the prompt as one user message, maxTokens 100;
 * the answer comes back as "LLM response: <text>". */
static void t_sampling(struct mcp_call *call, json_object *args)
{
	json_object *params = json_object_new_object();
	json_object *msgs = json_object_new_array();
	json_object *msg = json_object_new_object();
	json_object *result = NULL;
	const char *text;
	char err[256];
	struct buf b;

	buf_init_dynamic(&b, FIX_TEXT_MAX);
	if (params == NULL || msgs == NULL || msg == NULL) {
		json_object_put(msgs);
		json_object_put(msg);
		mcp_tool_error(call, "out of memory");
		goto out;
	}
	(void)json_object_object_add(msg, "role",
	    json_object_new_string("user"));
	(void)json_object_object_add(msg, "content",
	    mcp_text_item(str_member(args, "prompt")));
	(void)json_object_array_add(msgs, msg);
	(void)json_object_object_add(params, "messages", msgs);
	(void)json_object_object_add(params, "maxTokens",
	    json_object_new_int(100));
	if (mcp_client_request(call, "sampling/createMessage", params, &result,
	        err, sizeof(err)) != 0) {
		mcp_tool_error(call, "Sampling failed: %s", err);
		goto out;
	}
	text = sampling_text(result);
	if (buf_printf(&b, "LLM response: %s",
	        text != NULL ? text : "No response") != 0)
		mcp_tool_error(call, "the client's answer is too long");
	else
		mcp_tool_text(call, buf_str(&b));
out:
	buf_free(&b);
	json_object_put(result);
	json_object_put(params);
}

/*
 * Send elicitation/create with message and the schema (JSON text), and
 * answer "<lead> action=<action>, content=<content as JSON>".
 */
static void elicit(struct mcp_call *call, const char *message,
    const char *schema_text, const char *lead)
{
	json_object *params = json_object_new_object();
	json_object *schema = json_tokener_parse(schema_text);
	json_object *result = NULL, *content = NULL;
	char err[256];
	struct buf b;

	buf_init_dynamic(&b, FIX_TEXT_MAX);
	if (params == NULL || schema == NULL) {
		json_object_put(schema);
		mcp_tool_error(call,
		    "the elicitation request could not be "
		    "built");
		goto out;
	}
	(void)json_object_object_add(params, "message",
	    json_object_new_string(message));
	(void)json_object_object_add(params, "requestedSchema", schema);
	if (mcp_client_request(call, "elicitation/create", params, &result, err,
	        sizeof(err)) != 0) {
		mcp_tool_error(call, "Elicitation failed: %s", err);
		goto out;
	}
	(void)json_object_object_get_ex(result, "content", &content);
	if (buf_printf(&b, "%s action=%s, content=%s", lead,
	        str_member(result, "action"),
	        content != NULL ? json_text(content) : "{}") != 0)
		mcp_tool_error(call, "the client's answer is too long");
	else
		mcp_tool_text(call, buf_str(&b));
out:
	buf_free(&b);
	json_object_put(result);
	json_object_put(params);
}

/* tools-call-elicitation: the schema of the scenario's description (the
 * client answers with username and email). */
static void t_elicitation(struct mcp_call *call, json_object *args)
{
	elicit(call, str_member(args, "message"),
	    "{\"type\":\"object\",\"properties\":{"
	    "\"username\":{\"type\":\"string\","
	    "\"description\":\"User's response\"},"
	    "\"email\":{\"type\":\"string\","
	    "\"description\":\"User's email address\"}},"
	    "\"required\":[\"username\",\"email\"]}",
	    "User response:");
}

/* elicitation-sep1034-defaults: a default for every primitive type. */
static void t_elicitation_sep1034(struct mcp_call *call, json_object *args)
{
	(void)args;
	elicit(call, "Please review and update the form fields with defaults",
	    "{\"type\":\"object\",\"properties\":{"
	    "\"name\":{\"type\":\"string\",\"description\":\"User name\","
	    "\"default\":\"John Doe\"},"
	    "\"age\":{\"type\":\"integer\",\"description\":\"User age\","
	    "\"default\":30},"
	    "\"score\":{\"type\":\"number\",\"description\":\"User score\","
	    "\"default\":95.5},"
	    "\"status\":{\"type\":\"string\",\"description\":\"User status\","
	    "\"enum\":[\"active\",\"inactive\",\"pending\"],"
	    "\"default\":\"active\"},"
	    "\"verified\":{\"type\":\"boolean\","
	    "\"description\":\"Verification status\",\"default\":true}},"
	    "\"required\":[]}",
	    "Elicitation completed:");
}

/* elicitation-sep1330-enums: the five enum shapes of SEP-1330. */
static void t_elicitation_sep1330(struct mcp_call *call, json_object *args)
{
	(void)args;
	elicit(call, "Please select options from the enum fields",
	    "{\"type\":\"object\",\"properties\":{"
	    "\"untitledSingle\":{\"type\":\"string\","
	    "\"description\":\"Select one option\","
	    "\"enum\":[\"option1\",\"option2\",\"option3\"]},"
	    "\"titledSingle\":{\"type\":\"string\","
	    "\"description\":\"Select one option with titles\",\"oneOf\":["
	    "{\"const\":\"value1\",\"title\":\"First Option\"},"
	    "{\"const\":\"value2\",\"title\":\"Second Option\"},"
	    "{\"const\":\"value3\",\"title\":\"Third Option\"}]},"
	    "\"legacyEnum\":{\"type\":\"string\","
	    "\"description\":\"Select one option (legacy)\","
	    "\"enum\":[\"opt1\",\"opt2\",\"opt3\"],"
	    "\"enumNames\":[\"Option One\",\"Option Two\","
	    "\"Option Three\"]},"
	    "\"untitledMulti\":{\"type\":\"array\","
	    "\"description\":\"Select multiple options\","
	    "\"minItems\":1,\"maxItems\":3,\"items\":{\"type\":\"string\","
	    "\"enum\":[\"option1\",\"option2\",\"option3\"]}},"
	    "\"titledMulti\":{\"type\":\"array\","
	    "\"description\":\"Select multiple options with titles\","
	    "\"minItems\":1,\"maxItems\":3,\"items\":{\"anyOf\":["
	    "{\"const\":\"value1\",\"title\":\"First Choice\"},"
	    "{\"const\":\"value2\",\"title\":\"Second Choice\"},"
	    "{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}},"
	    "\"required\":[]}",
	    "Elicitation completed:");
}

static const struct mcp_tool tools[] = {
    {"test_simple_text", "Simple text", "Tests simple text content response",
        NO_ARGS, NULL, MCP_HINT_READ_ONLY | MCP_HINT_IDEMPOTENT, 0,
        t_simple_text},
    {"test_image_content", "Image content", "Tests image content response",
        NO_ARGS, NULL, MCP_HINT_READ_ONLY | MCP_HINT_IDEMPOTENT, 0,
        t_image_content},
    {"test_audio_content", "Audio content", "Tests audio content response",
        NO_ARGS, NULL, MCP_HINT_READ_ONLY | MCP_HINT_IDEMPOTENT, 0,
        t_audio_content},
    {"test_embedded_resource", "Embedded resource",
        "Tests embedded resource content response", NO_ARGS, NULL,
        MCP_HINT_READ_ONLY | MCP_HINT_IDEMPOTENT, 0, t_embedded_resource},
    {"test_multiple_content_types", "Multiple content types",
        "Tests response with multiple content types (text, image, "
        "resource)",
        NO_ARGS, NULL, MCP_HINT_READ_ONLY | MCP_HINT_IDEMPOTENT, 0,
        t_multiple_content_types},
    {"test_tool_with_logging", "Logging during a call",
        "Tests tool that emits log messages during execution", NO_ARGS, NULL,
        MCP_HINT_READ_ONLY, 0, t_tool_with_logging},
    {"test_tool_with_progress", "Progress during a call",
        "Tests tool that reports progress notifications", NO_ARGS, NULL,
        MCP_HINT_READ_ONLY, 0, t_tool_with_progress},
    {"test_error_handling", "Error result", "Tests error response handling",
        NO_ARGS, NULL, MCP_HINT_READ_ONLY | MCP_HINT_IDEMPOTENT, 0,
        t_error_handling},
    {"test_reconnection", "SSE reconnection",
        "Tests SSE stream disconnection and client reconnection "
        "(SEP-1699); answers after 100 ms",
        NO_ARGS, NULL, MCP_HINT_READ_ONLY, 0, t_reconnection},
    {"test_sampling", "Sampling",
        "Tests server-initiated sampling (LLM completion request)",
        "{\"type\":\"object\",\"properties\":{\"prompt\":{\"type\":"
        "\"string\",\"description\":\"The prompt to send to the LLM\"}},"
        "\"required\":[\"prompt\"]}",
        NULL, MCP_HINT_READ_ONLY | MCP_HINT_OPEN_WORLD, 0, t_sampling},
    {"test_elicitation", "Elicitation",
        "Tests server-initiated elicitation (user input request)",
        "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":"
        "\"string\",\"description\":\"The message to show the user\"}},"
        "\"required\":[\"message\"]}",
        NULL, MCP_HINT_READ_ONLY | MCP_HINT_OPEN_WORLD, 0, t_elicitation},
    {"test_elicitation_sep1034_defaults", "Elicitation defaults",
        "Tests elicitation with default values per SEP-1034", NO_ARGS, NULL,
        MCP_HINT_READ_ONLY | MCP_HINT_OPEN_WORLD, 0, t_elicitation_sep1034},
    {"test_elicitation_sep1330_enums", "Elicitation enums",
        "Tests elicitation with enum schema improvements per SEP-1330", NO_ARGS,
        NULL, MCP_HINT_READ_ONLY | MCP_HINT_OPEN_WORLD, 0,
        t_elicitation_sep1330},
    {"json_schema_2020_12_tool", "JSON Schema 2020-12",
        "Tool with JSON Schema 2020-12 features for conformance testing "
        "(SEP-1613)",
        "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
        "\"type\":\"object\",\"$defs\":{\"address\":{\"type\":\"object\","
        "\"properties\":{\"street\":{\"type\":\"string\"},"
        "\"city\":{\"type\":\"string\"}}}},"
        "\"properties\":{\"name\":{\"type\":\"string\"},"
        "\"address\":{\"$ref\":\"#/$defs/address\"}},"
        "\"additionalProperties\":false}",
        NULL, MCP_HINT_READ_ONLY | MCP_HINT_IDEMPOTENT, 0,
        t_json_schema_2020_12},
};

/* ---- resources ------------------------------------------------------ */

/* resources-read-text */
static void r_static_text(struct mcp_call *call, const char *uri,
    json_object *vars)
{
	(void)vars;
	mcp_resource_text(call, uri, "text/plain",
	    "This is the content of the static text resource.");
}

/* resources-read-binary: a blob. */
static void r_static_binary(struct mcp_call *call, const char *uri,
    json_object *vars)
{
	(void)vars;
	mcp_resource_blob(call, uri, "image/png", png_red_1x1,
	    sizeof(png_red_1x1));
}

/* resources-templates-read: the id must show in the content. */
static void r_template(struct mcp_call *call, const char *uri,
    json_object *vars)
{
	const char *id = str_member(vars, "id");
	json_object *doc = json_object_new_object();
	struct buf data;

	buf_init_dynamic(&data, FIX_TEXT_MAX);
	if (doc == NULL || buf_printf(&data, "Data for ID: %s", id) != 0) {
		mcp_fail(call, MCP_INTERNAL_ERROR, NULL,
		    "the resource could not be built");
		goto out;
	}
	(void)json_object_object_add(doc, "id", json_object_new_string(id));
	(void)json_object_object_add(doc, "templateTest",
	    json_object_new_boolean(1));
	(void)json_object_object_add(doc, "data",
	    json_object_new_string(buf_str(&data)));
	mcp_resource_text(call, uri, "application/json", json_text(doc));
out:
	buf_free(&data);
	json_object_put(doc);
}

/* resources-subscribe and -unsubscribe name this URI; the content never
 * changes, so no update is ever due. */
static void r_watched(struct mcp_call *call, const char *uri, json_object *vars)
{
	(void)vars;
	mcp_resource_text(call, uri, "text/plain", "Watched resource content");
}

static const struct mcp_resource resources[] = {
    {"test://static-text", false, "static-text", "Static Text Resource",
        "A static text resource for testing", "text/plain", 0, r_static_text},
    {"test://static-binary", false, "static-binary", "Static Binary Resource",
        "A static binary resource (image) for testing", "image/png", 0,
        r_static_binary},
    {"test://template/{id}/data", true, "template", "Resource Template",
        "A resource template with parameter substitution", "application/json",
        0, r_template},
    {"test://watched-resource", false, "watched-resource", "Watched Resource",
        "A resource clients may subscribe to", "text/plain", 0, r_watched},
};

/* ---- prompts -------------------------------------------------------- */

/* prompts-get-simple */
static void p_simple(struct mcp_call *call, json_object *args)
{
	(void)args;
	mcp_prompt_message(call, "user",
	    mcp_text_item("This is a simple prompt for testing."));
}

/* prompts-get-with-args: both values must show in the messages. */
static void p_with_arguments(struct mcp_call *call, json_object *args)
{
	struct buf b;

	buf_init_dynamic(&b, FIX_TEXT_MAX);
	if (buf_printf(&b, "Prompt with arguments: arg1='%s', arg2='%s'",
	        str_member(args, "arg1"), str_member(args, "arg2")) != 0)
		mcp_fail(call, MCP_INVALID_PARAMS, NULL,
		    "the arguments are too long");
	else
		mcp_prompt_message(call, "user", mcp_text_item(buf_str(&b)));
	buf_free(&b);
}

/* prompts-get-embedded-resource: the resource under the caller's URI. */
static void p_embedded_resource(struct mcp_call *call, json_object *args)
{
	mcp_prompt_message(call, "user",
	    mcp_resource_item(str_member(args, "resourceUri"), "text/plain",
	        "Embedded resource content for testing."));
	mcp_prompt_message(call, "user",
	    mcp_text_item("Please process the embedded resource above."));
}

/* prompts-get-with-image */
static void p_with_image(struct mcp_call *call, json_object *args)
{
	(void)args;
	mcp_prompt_message(call, "user",
	    mcp_blob_item("image", png_red_1x1, sizeof(png_red_1x1),
	        "image/png"));
	mcp_prompt_message(call, "user",
	    mcp_text_item("Please analyze the image above."));
}

/* completion-complete asks for arg1 starting with "test"; the values of
 * the specification's example, and the one prompts-get-with-args
 * sends, so both an empty and a non-empty answer can be seen. */
static const char *const arg1_values[] = {"paris", "park", "party",
    "testValue1", NULL};

static const struct mcp_prompt_arg with_arguments_args[] = {
    {"arg1", "First test argument", true, arg1_values},
    {"arg2", "Second test argument", true, NULL},
};

static const struct mcp_prompt_arg embedded_resource_args[] = {
    {"resourceUri", "URI of the resource to embed", true, NULL},
};

static const struct mcp_prompt prompts[] = {
    {"test_simple_prompt", "Simple Test Prompt",
        "A simple prompt without arguments", NULL, 0, 0, p_simple},
    {"test_prompt_with_arguments", "Prompt With Arguments",
        "A prompt with required arguments", with_arguments_args,
        sizeof(with_arguments_args) / sizeof(with_arguments_args[0]), 0,
        p_with_arguments},
    {"test_prompt_with_embedded_resource", "Prompt With Embedded Resource",
        "A prompt that includes an embedded resource", embedded_resource_args,
        sizeof(embedded_resource_args) / sizeof(embedded_resource_args[0]), 0,
        p_embedded_resource},
    {"test_prompt_with_image", "Prompt With Image",
        "A prompt that includes image content", NULL, 0, 0, p_with_image},
};

const struct mcp_module mcp_fixtures_module = {
    .name = "fixtures",
    MCP_MODULE_TABLES(tools, resources, prompts),
    .anonymous_ok = true,
};
