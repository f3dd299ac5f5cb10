/*
 * jsonrpc.c - reading one JSON-RPC 2.0 message from untrusted bytes:
 * exactly one JSON value (nothing after it), and what kind of message
 * it is. No state and no I/O, so the fuzz target (t/fuzz/fuzz_mcp.c)
 * runs it on arbitrary input.
 */
#include "mcp_int.h"

#include <stdint.h>
#include <string.h>

int mcp_jsonrpc_parse(const char *p, size_t n, json_object **doc)
{
	struct json_tokener *tok;
	enum json_tokener_error e;
	int rc = -1;

	*doc = NULL;
	if (n == 0 || n > INT32_MAX - 1 || (tok = json_tokener_new()) == NULL)
		return -1;
	/* RFC 8259 only: no single quotes, no trailing commas. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	*doc = json_tokener_parse_ex(tok, p, (int)n);
	e = json_tokener_get_error(tok);
	if (e == json_tokener_continue && *doc == NULL) {
		/* A bare number or literal at the end of the bytes: json-c
		 * waits for more; the end of the body ends it. */
		*doc = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
		if (e == json_tokener_success)
			rc = 0;
	} else if (e == json_tokener_success &&
	    (size_t)json_tokener_get_parse_end(tok) == n) {
		rc = 0;
	}
	if (rc != 0) {
		json_object_put(*doc);
		*doc = NULL;
	}
	json_tokener_free(tok);
	return rc;
}

static bool id_ok(json_object *id)
{
	return json_object_is_type(id, json_type_string) ||
	    json_object_is_type(id, json_type_int) ||
	    json_object_is_type(id, json_type_double);
}

enum mcp_msg_kind mcp_jsonrpc_classify(json_object *msg, const char **why)
{
	json_object *v, *id = NULL, *method = NULL;
	bool has_id;

	*why = "not a JSON-RPC 2.0 message (an object was expected)";
	if (!json_object_is_type(msg, json_type_object))
		return MCP_MSG_INVALID;
	has_id = json_object_object_get_ex(msg, "id", &id);
	if (!json_object_object_get_ex(msg, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "2.0") != 0) {
		*why = "jsonrpc must be \"2.0\"";
		return MCP_MSG_INVALID;
	}
	if (json_object_object_get_ex(msg, "method", &method)) {
		if (!json_object_is_type(method, json_type_string)) {
			*why = "method must be a string";
			return MCP_MSG_INVALID;
		}
		if (!has_id)
			return MCP_MSG_NOTIFICATION;
	} else if (!json_object_object_get_ex(msg, "result", NULL) &&
	    !json_object_object_get_ex(msg, "error", NULL)) {
		*why = "a message needs a method, a result or an error";
		return MCP_MSG_INVALID;
	}
	if (!id_ok(id)) {
		*why = "id must be a string or a number";
		return MCP_MSG_INVALID;
	}
	return method != NULL ? MCP_MSG_REQUEST : MCP_MSG_RESPONSE;
}
