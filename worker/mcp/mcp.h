/*
 * mcp.h - the MCP registry: the tools, resources and prompts pacer
 * serves to MCP clients, and what their handlers may do while they run.
 *
 * Each module (the core set, the conformance fixtures, later the fitness
 * tools) is a set of constant tables, listed in mcp_modules[] (registry.c).
 * The server checks every table and every schema once when the worker
 * starts (mcp_registry_init), so a broken schema stops the worker with a
 * clear message instead of failing the first call.
 *
 * Who sees what: a module's items are visible to a caller when the
 * module is switched on (the fixtures by mcp_fixtures) and, for items
 * marked MCP_USER, the caller is an authenticated user. Anonymous
 * callers exist only with mcp_fixtures on, and then see only items
 * without MCP_USER.
 *
 * Handlers run synchronously in the worker serving the request, and never
 * fail: a tool failure is mcp_tool_error() (isError in the result, not a
 * protocol error); a resource or prompt that cannot be served sets a
 * JSON-RPC error with mcp_fail(). Arguments arrive validated against the
 * input schema (tools) or the declared arguments (prompts).
 *
 * Callers: worker processes only.
 */
#ifndef PACER_MCP_H
#define PACER_MCP_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct auth_principal;
struct mcp_call;

/* JSON-RPC error codes. */
#define MCP_PARSE_ERROR (-32700)
#define MCP_INVALID_REQUEST (-32600)
#define MCP_METHOD_NOT_FOUND (-32601)
#define MCP_INVALID_PARAMS (-32602)
#define MCP_INTERNAL_ERROR (-32603)
#define MCP_RESOURCE_NOT_FOUND (-32002)

/* Item flags. */
#define MCP_USER 0x1u /* only for an authenticated user */

/* Tool annotations (the hints of the MCP specification). */
#define MCP_HINT_READ_ONLY 0x1u
#define MCP_HINT_DESTRUCTIVE 0x2u
#define MCP_HINT_IDEMPOTENT 0x4u
#define MCP_HINT_OPEN_WORLD 0x8u

struct mcp_tool {
	const char *name; /* [A-Za-z0-9_.-], 1..128 */
	const char *title;
	const char *description;
	const char *input_schema;  /* JSON text: a JSON Schema object */
	const char *output_schema; /* JSON text, or NULL for none; when set,
	                              a success must give structuredContent
	                              that conforms to it */
	unsigned hints;            /* MCP_HINT_* */
	unsigned flags;            /* MCP_USER */
	/* Fill the result with mcp_tool_* calls; args conforms to
	 * input_schema (an object, possibly empty). */
	void (*run)(struct mcp_call *call, json_object *args);
};

struct mcp_resource {
	/* A URI ("pacer://server/status"), or for a template an RFC 6570
	 * level-1 template ("test://template/{id}/data": each {var}
	 * matches one or more characters other than '/'). */
	const char *uri;
	bool templated;
	const char *name;
	const char *title;
	const char *description;
	const char *mime_type;
	unsigned flags; /* MCP_USER */
	/* Add the contents of uri with mcp_resource_text/blob. vars holds
	 * the template's variables by name (strings); NULL for a static
	 * resource. A URI the handler cannot serve: mcp_fail() with
	 * MCP_RESOURCE_NOT_FOUND. */
	void (*read)(struct mcp_call *call, const char *uri, json_object *vars);
};

struct mcp_prompt_arg {
	const char *name;
	const char *description;
	bool required;
	/* Values completion/complete offers for this argument (those that
	 * start with what the user typed), NULL-terminated; NULL: none. */
	const char *const *completions;
};

struct mcp_prompt {
	const char *name;
	const char *title;
	const char *description;
	const struct mcp_prompt_arg *args;
	size_t nargs;
	unsigned flags; /* MCP_USER */
	/* Add messages with mcp_prompt_message. args is an object holding
	 * each given argument as a string; required ones are present. */
	void (*get)(struct mcp_call *call, json_object *args);
};

/* A module: its tables and whether the running config switches it on. */
struct mcp_module {
	const char *name;
	const struct mcp_tool *tools;
	size_t ntools;
	const struct mcp_resource *resources;
	size_t nresources;
	const struct mcp_prompt *prompts;
	size_t nprompts;
	bool anonymous_ok; /* a module anonymous callers may see (the
	                      fixtures); its MCP_USER items still need a
	                      user */
};

/* The item tables of a module, in its initialiser:
 * { .name = "core", MCP_MODULE_TABLES(tools, resources, prompts) }. */
#define MCP_MODULE_TABLES(t, r, p)                                             \
	.tools = (t), .ntools = sizeof(t) / sizeof((t)[0]), .resources = (r),  \
	.nresources = sizeof(r) / sizeof((r)[0]), .prompts = (p),              \
	.nprompts = sizeof(p) / sizeof((p)[0])

/* The modules, each defined next to its handlers. */
extern const struct mcp_module mcp_core_module;     /* tools_core.c */
extern const struct mcp_module mcp_fixtures_module; /* fixtures.c */

/* ---- what a handler may ask ---------------------------------------- */

/* The caller: NULL for an anonymous fixture client. */
const struct auth_principal *mcp_who(const struct mcp_call *call);

/* The request id of the HTTP request (for logs). */
const char *mcp_request_id(const struct mcp_call *call);

/* The protocol version the session negotiated ("2025-11-25" ...). */
const char *mcp_protocol_version(const struct mcp_call *call);

/* Whether the client declared a capability at initialize: "sampling",
 * "elicitation", "roots". */
bool mcp_client_can(const struct mcp_call *call, const char *capability);

/* ---- results ---------------------------------------------------------- */

/* The result being built (the "result" member of the answer) is filled
 * through these helpers. */

/* Tools: add a content item to "content". text is copied. */
void mcp_tool_text(struct mcp_call *call, const char *text);
/* An image or audio item: data[0..len) is base64-encoded here. */
void mcp_tool_image(struct mcp_call *call, const void *data, size_t len,
    const char *mime_type);
void mcp_tool_audio(struct mcp_call *call, const void *data, size_t len,
    const char *mime_type);
/* A content item built by the caller (an embedded resource, a
 * resource_link); ownership passes to the call. */
void mcp_tool_content(struct mcp_call *call, json_object *item);
/* structuredContent (ownership passes); its JSON text is also added as a
 * text item, as the specification recommends for older clients. */
void mcp_tool_structured(struct mcp_call *call, json_object *obj);
/* A tool failure: isError true and the message as text (printf-style). */
void mcp_tool_error(struct mcp_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resources: add one item to "contents". */
void mcp_resource_text(struct mcp_call *call, const char *uri,
    const char *mime_type, const char *text);
void mcp_resource_blob(struct mcp_call *call, const char *uri,
    const char *mime_type, const void *data, size_t len);

/* Prompts: set "description" (copied). */
void mcp_prompt_description(struct mcp_call *call, const char *text);
/* Add a message: role "user" or "assistant", content an item such as
 * mcp_text_item() makes (ownership passes). */
void mcp_prompt_message(struct mcp_call *call, const char *role,
    json_object *content);

/* Content items, new objects owned by the caller. */
json_object *mcp_text_item(const char *text);
json_object *mcp_blob_item(const char *type, const void *data, size_t len,
    const char *mime_type); /* type "image" or "audio" */
json_object *mcp_resource_item(const char *uri, const char *mime_type,
    const char *text); /* {"type":"resource","resource":{...}} */

/* A JSON-RPC error instead of a result (resources, prompts): code and a
 * message (printf-style). data, when not NULL, passes to the call. */
void mcp_fail(struct mcp_call *call, int code, json_object *data,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- talking to the client during a call ----------------------------
 *
 * These turn the answer into a text/event-stream: what they send goes
 * out at once, before the final result. They return 0, or -1 when the
 * client is gone or the stream could not be written (the handler should
 * then finish quickly; its result is not delivered).
 */

/* notifications/message, when level is at or above the session's
 * logging/setLevel ("debug" ... "emergency"; default "info"). data is
 * borrowed. Returns 0 also when the level filtered it out. */
int mcp_log(struct mcp_call *call, const char *level, const char *logger,
    json_object *data);

/* notifications/progress for the request's _meta.progressToken; total
 * < 0 means unknown, message may be NULL. Without a progress token it
 * does nothing and returns 0. */
int mcp_progress(struct mcp_call *call, double progress, double total,
    const char *message);

/*
 * Send a request to the client ("sampling/createMessage",
 * "elicitation/create", "roots/list"; params borrowed) and wait for its
 * answer, which arrives on another POST, perhaps at another worker or
 * node, and reaches this worker through PostgreSQL LISTEN/NOTIFY. Waits
 * at most mcp_wait_timeout. Returns 0 with *result (owned by the
 * caller); or -1 with a sentence in err: the client lacks the
 * capability, answered with an error (its message), did not answer in
 * time, went away, or too many workers already wait (max_stream_workers).
 */
int mcp_client_request(struct mcp_call *call, const char *method,
    json_object *params, json_object **result, char *err, size_t errlen);

/* ---- the endpoint (transport.c), for the worker ---------------------- */

struct worker_ctx;
struct db;
struct cache;
struct router_call;
struct http_resp;

/* Set up for the worker of ctx: check the registry. Returns 0, or -1
 * with the reason in err. */
int mcp_init(const struct worker_ctx *ctx, char *err, size_t errlen);

/* Hand over the worker's database and cache once they are open. */
void mcp_attach(struct db *db, struct cache *cache);

/* POST /mcp and DELETE /mcp (GET /mcp is 405: no route). */
void mcp_http_post(const struct router_call *call, struct http_resp *r);
void mcp_http_delete(const struct router_call *call, struct http_resp *r);

#endif /* PACER_MCP_H */
