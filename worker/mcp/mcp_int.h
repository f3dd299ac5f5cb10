/*
 * mcp_int.h - what the files of the MCP server share and nothing else
 * sees: the worker's handles, the session a request runs in, a call in
 * progress, the registry's lookups, the method dispatch.
 *
 * Files: transport.c (the /mcp endpoint: HTTP checks, sessions, the
 * answer on the wire), server.c (JSON-RPC methods), registry.c (the
 * modules' tables, schemas, visibility, pagination), call.c (results,
 * the event stream, notifications, requests to the client and waiting
 * for their answers).
 *
 * Callers: worker/mcp/ only (and the unit tests and fuzz target).
 */
#ifndef PACER_MCP_INT_H
#define PACER_MCP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "mcp.h"
#include "secret.h"

struct cfg;
struct db;
struct cache;
struct http_resp;
struct router_call;
struct worker_ctx;

struct mcp_state {
	const struct worker_ctx *ctx;
	const struct cfg *cfg;
	struct db *db;
	struct cache *cache;
};

extern struct mcp_state mcp_g;

/* The protocol versions served, newest first. */
extern const char *const mcp_versions[];
#define MCP_VERSION_LATEST "2025-11-25"
/* What a request without MCP-Protocol-Version is taken to speak. */
#define MCP_VERSION_ASSUMED "2025-03-26"

/* Client capabilities, as stored with a session. */
#define MCP_CAP_SAMPLING 0x1
#define MCP_CAP_ELICITATION 0x2
#define MCP_CAP_ROOTS 0x4

/* Session ids: 43 base62 characters (256 bits). */
#define MCP_SESSION_ID_LEN 43
/* "\x" and the SHA-256 in hex: a bytea parameter. */
#define MCP_HASH_PARAM_LEN SECRET_BYTEA_HEX_LEN

struct mcp_session {
	char hash[MCP_HASH_PARAM_LEN]; /* "" for a request outside one */
	char version[16];
	int caps;       /* MCP_CAP_* */
	char level[16]; /* logging/setLevel */
};

/* One JSON-RPC request being answered. */
struct mcp_call {
	const struct router_call *http;
	struct http_resp *resp;
	struct mcp_session *session;
	const char *version;         /* negotiated, or being negotiated */
	json_object *id;             /* the request's id (borrowed) */
	json_object *progress_token; /* params._meta.progressToken */
	json_object *result;         /* being built (owned) */
	json_object *error;          /* set: the answer is this error */
	bool streaming;              /* the event stream began */
	bool gone;                   /* the client is gone */
	bool in_batch;               /* one message of a batch */
	bool cancelled;              /* notifications/cancelled came */
};

/* Whether v is a protocol version served. */
bool mcp_version_known(const char *v);

/* ---- JSON-RPC messages (jsonrpc.c) ------------------------------------ */

enum mcp_msg_kind {
	MCP_MSG_INVALID,
	MCP_MSG_REQUEST,      /* method and id */
	MCP_MSG_NOTIFICATION, /* method, no id */
	MCP_MSG_RESPONSE,     /* id and result or error, no method */
};

/* p[0..n) as exactly one JSON value: 0 with *doc a new object (NULL for
 * the JSON null), or -1 when it is not one (a parse error, or bytes after
 * the value). */
int mcp_jsonrpc_parse(const char *p, size_t n, json_object **doc);

/* What msg is by the JSON-RPC 2.0 rules; when invalid, *why says why
 * (a static sentence). */
enum mcp_msg_kind mcp_jsonrpc_classify(json_object *msg, const char **why);

/* ---- the registry ----------------------------------------------------- */

/* Check every module's tables and parse their schemas (once a worker).
 * Returns 0, or -1 with the reason in err. */
int mcp_registry_init(char *err, size_t errlen);

/* Which items the caller sees: a user (who != NULL) sees every module
 * switched on; an anonymous caller, only anonymous_ok modules' items
 * without MCP_USER. fixtures says whether mcp_fixtures is on. */
struct mcp_view {
	bool user;
	bool fixtures;
};

const struct mcp_tool *mcp_registry_tool(const struct mcp_view *v,
    const char *name, const json_object **input, const json_object **output);
const struct mcp_prompt *mcp_registry_prompt(const struct mcp_view *v,
    const char *name);
/* The resource for uri: a static one with that URI, else the first
 * template that matches, with its variables in *vars (a new object the
 * caller puts; NULL for a static one). */
const struct mcp_resource *mcp_registry_resource(const struct mcp_view *v,
    const char *uri, json_object **vars);
/* Whether a template matches uri, filling vars (an object) when it does. */
bool mcp_template_match(const char *tmpl, const char *uri, json_object *vars);

/* Fill a list result: key ("tools", "resources", "resourceTemplates",
 * "prompts") with the page of visible items after cursor (NULL: the
 * first page), and nextCursor when more follow. Returns 0, or -1 for a
 * cursor that is not one of ours (invalid params). */
int mcp_registry_list(const struct mcp_view *v, const char *key,
    const char *cursor, size_t page, json_object *result);

/* completion/complete values for a prompt's argument or a template's
 * variable, starting with prefix: a new array. */
json_object *mcp_registry_complete(const struct mcp_view *v,
    const char *ref_type, const char *ref, const char *arg, const char *prefix);

/* ---- methods (server.c) ----------------------------------------------- */

/* Answer one request (method, params) into call->result or call->error. */
void mcp_dispatch(struct mcp_call *call, const char *method,
    json_object *params);

/* ---- calls (call.c) ---------------------------------------------------- */

/* A JSON-RPC error object {code, message[, data]} (data taken). */
json_object *mcp_error_object(int code, const char *message, json_object *data);

/* Send msg (borrowed) as one event of the answer's stream, beginning the
 * stream first if needed. Returns 0, or -1 (client gone, no stream). */
int mcp_stream_send(struct mcp_call *call, json_object *msg);

/* The client's answer to a request this server sent: find the waiting
 * call (of session hash) and hand it over. Returns 1 delivered, 0 no
 * call waits for that id, -1 the database is away. */
int mcp_answer_deliver(const char *hash, const char *request_id,
    json_object *msg);

/* The payload that tells the worker running request id (JSON text) of
 * session hash that the client cancelled it, into dst (n bytes). */
void mcp_cancel_key(const char *hash, const char *id_json, char *dst, size_t n);

/* Level names in order and their rank (-1: not a level). */
int mcp_level_rank(const char *level);

#endif /* PACER_MCP_INT_H */
