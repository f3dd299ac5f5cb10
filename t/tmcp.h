/*
 * tmcp.h - an MCP client for the tests of /mcp (Streamable HTTP): the
 * POST with its fields, initialize and the session it makes, requests
 * with their answers (a JSON body or an event stream), JSON-RPC errors
 * and refusals checked, and a response stream read event by event on a
 * raw socket for a test that must answer in the middle of a call.
 *
 * Callers: the MCP integration tests. Failures to connect, answers that
 * are not JSON and the like fail the test.
 */
#ifndef PACER_TMCP_H
#define PACER_TMCP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "thttp.h"

#define TMCP_CT_JSON "Content-Type: application/json"
#define TMCP_ACCEPT "Accept: application/json, text/event-stream"
#define TMCP_PING "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"
#define TMCP_INITIALIZED                                                       \
	"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"

/* The capabilities of a client that answers sampling requests. */
#define TMCP_SAMPLING_CAPS "{\"sampling\":{}}"

/* What the MCP suites' servers share (ts_start_conf's base): no auth rate
 * limit to trip over, and the conformance fixtures on. */
#define TMCP_SERVER_CONF "rate_limit_auth = 1000\nmcp_fixtures = on\n"

/* ---- JSON ---------------------------------------------------------------- */

/* The value at a dotted path ("result.content.0.text"; a number indexes
 * an array), or NULL; borrowed from o. */
json_object *tmcp_at(json_object *o, const char *path);

/* The string at path, or "(absent)". */
const char *tmcp_str(json_object *o, const char *path);

/* o as compact JSON text for a message (borrowed from o), "(null)". */
const char *tmcp_text(json_object *o);

/* msg is a JSON-RPC error: code, a message containing frag, no result.
 * The _of form names what (the request, a table's row) in a failure. */
void tmcp_expect_error(json_object *msg, int code, const char *frag);
void tmcp_expect_error_of(const char *what, json_object *msg, int code,
    const char *frag);

/* r is a transport refusal: status, application/json, a JSON-RPC error
 * with code and frag in its message, id null. The _of form names what in
 * a failure. */
void tmcp_expect_refusal(const struct th_resp *r, int status, int code,
    const char *frag);
void tmcp_expect_refusal_of(const char *what, const struct th_resp *r,
    int status, int code, const char *frag);

/* Whether a tools/list response names the tool name (prefix: whether
 * some name starts with name). */
bool tmcp_lists_tool(json_object *msg, const char *name, bool prefix);

/* ---- requests ------------------------------------------------------------ */

/* Whether the answer is an event stream. */
bool tmcp_is_stream(const struct th_resp *r);

/* The messages of an answer in order: the events of a stream, or the JSON
 * body as an array of one (a batch's array as it is). Caller puts. */
json_object *tmcp_messages(const struct th_resp *r);

struct tmcp_client {
	int port;
	char sid[160];   /* Mcp-Session-Id, "" before initialize */
	char auth[4300]; /* a whole Authorization field, or "" */
	int next_id;
};

/* A client of 127.0.0.1:port without a session or credential. */
void tmcp_client_init(struct tmcp_client *c, int port);

/* POST /mcp with Content-Type, Accept, c's session (when it has one),
 * c's credential (when set), and one more field (may be NULL). Returns
 * the status; *r holds the answer (th_free). */
int tmcp_post(const struct tmcp_client *c, const char *extra, const char *body,
    struct th_resp *r);

/* POST initialize asking for version, with the capabilities caps (JSON
 * text, NULL: none); asserts 200 and c->sid gets the new session. Returns
 * the answer (caller puts). */
json_object *tmcp_initialize(struct tmcp_client *c, const char *version,
    const char *caps);

/* A new session for a client of port at version (asserted to be what the
 * server agreed to), with notifications/initialized sent; auth a whole
 * Authorization field or NULL. */
void tmcp_open(struct tmcp_client *c, int port, const char *auth,
    const char *version, const char *caps);

/* Send the request method with params (JSON text, or NULL) on c's
 * session; asserts 200 and that the last message answers it. Returns
 * that response (caller puts); *all (may be NULL) gets every message of
 * the answer in order (caller puts), *streamed (may be NULL) whether it
 * came as an event stream. */
json_object *tmcp_rpc_ex(struct tmcp_client *c, const char *method,
    const char *params, json_object **all, bool *streamed);

json_object *tmcp_rpc(struct tmcp_client *c, const char *method,
    const char *params);

/* tools/call name with args (JSON text, NULL: none). */
json_object *tmcp_call_tool(struct tmcp_client *c, const char *name,
    const char *args);

/* tmcp_rpc that expects the JSON-RPC error code with frag in its
 * message (tmcp_expect_error); a failure names method and params. */
void tmcp_expect_rpc_error(struct tmcp_client *c, const char *method,
    const char *params, int code, const char *frag);

/* tmcp_post of body with extra (may be NULL) that expects a transport
 * refusal (tmcp_expect_refusal); a failure names the field and body. */
void tmcp_expect_refused(const struct tmcp_client *c, const char *extra,
    const char *body, int status, int code, const char *frag);

/* tmcp_post of body with extra (may be NULL) that expects status; a
 * failure names the field and body. */
void tmcp_expect_status(const struct tmcp_client *c, const char *extra,
    const char *body, int status);

/* POST body (a batch) on c's session; asserts a 200 whose body is a
 * JSON array, which it returns (caller puts). */
json_object *tmcp_post_batch(const struct tmcp_client *c, const char *body);

/* DELETE /mcp for c's session (with c's credential). */
int tmcp_delete(const struct tmcp_client *c, struct th_resp *r);

/* ---- a response read event by event ------------------------------------- */

struct tmcp_stream {
	int fd;
	int status;
	char head[4096];
	char *raw; /* bytes after the head */
	size_t rlen, roff;
	char *data; /* the decoded body not yet taken */
	size_t dlen;
	bool ended; /* the last chunk came */
};

/* POST body on a new connection (HTTP/1.1, Connection: close) as c, with
 * X-Request-Id rid, and read the head; asserts a 200 chunked event
 * stream within 30 s. */
void tmcp_stream_open(struct tmcp_stream *s, const struct tmcp_client *c,
    const char *rid, const char *body);

/* The next message of the stream (caller puts), or NULL at its end or
 * after ms. */
json_object *tmcp_stream_next(struct tmcp_stream *s, int ms);

/* Close the connection and free the buffers. */
void tmcp_stream_close(struct tmcp_stream *s);

#endif /* PACER_TMCP_H */
