/*
 * transport.c - /mcp, the Streamable HTTP transport of MCP.
 *
 * POST /mcp carries one JSON-RPC message (or, for a session of a version
 * that still has them, a batch). In order, a POST is refused with:
 *   403  a Host or Origin naming a host not in mcp_allowed_hosts (DNS
 *        rebinding: a page of another site made the browser call us);
 *   406  an Accept that does not list application/json and
 *        text/event-stream;
 *   415  a Content-Type other than application/json;
 *   400  an MCP-Protocol-Version we do not serve; JSON that does not
 *        parse (-32700); a message that is not JSON-RPC 2.0 (-32600); a
 *        request other than initialize without Mcp-Session-Id;
 *   404  an Mcp-Session-Id that is unknown, ended, expired or another
 *        caller's.
 * (413 for a body over max_body_size comes from the HTTP layer, 401 from
 * the auth middleware with the MCP WWW-Authenticate.) Every refusal has
 * a JSON-RPC error body with id null.
 *
 * A notification or a response gets 202 and no body; a response is the
 * client's answer to a request a tool sent, handed to the waiting call
 * (call.c). A request gets 200 with its answer: application/json, or a
 * text/event-stream when the handler sent something first.
 *
 * Sessions live in PostgreSQL (mcp_sessions), keyed by the SHA-256 of
 * the id, so any worker of any node serves any request of a session,
 * and nothing is lost when a worker is recycled. initialize makes one
 * and returns its id in Mcp-Session-Id; DELETE /mcp ends it; a session
 * idle for mcp_session_idle_timeout is gone (404, and the client starts
 * again, as the specification says).
 *
 * GET /mcp is 405: the server offers no standalone stream. A stream held
 * open per session would pin a worker for the session's life (this is a
 * pre-forking server); what the server sends on its own comes on the
 * response stream of a request instead. max_stream_workers caps those.
 */
#include "mcp_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "db.h"
#include "health.h"
#include "http_parse.h"
#include "http_resp.h"
#include "log.h"
#include "router.h"
#include "secret.h"
#include "worker.h"

#include "auth.h"

struct mcp_state mcp_g;

int mcp_init(const struct worker_ctx *ctx, char *err, size_t errlen)
{
	mcp_g.ctx = ctx;
	mcp_g.cfg = ctx->cfg;
	return mcp_registry_init(err, errlen);
}

void mcp_attach(struct db *db, struct cache *cache)
{
	mcp_g.db = db;
	mcp_g.cache = cache;
}

/* ---- answers ------------------------------------------------------------ */

static json_object *response(json_object *id, json_object *result,
    json_object *error)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "id",
	    id != NULL ? json_object_get(id) : NULL);
	if (error != NULL)
		json_object_object_add(o, "error", error);
	else
		json_object_object_add(o, "result", result);
	return o;
}

/* A refusal: status with a JSON-RPC error (id null). */
static void refuse(const struct router_call *call, struct http_resp *r,
    int status, int code, const char *message)
{
	router_send_json(call, r, status,
	    response(NULL, NULL, mcp_error_object(code, message, NULL)));
}

/* ---- header checks ----------------------------------------------------- */

/* Whether host[0..n) is in mcp_allowed_hosts (case-insensitive). */
static bool host_allowed(const char *host, size_t n)
{
	const char *p = mcp_g.cfg->mcp_allowed_hosts;

	while (*p != '\0') {
		size_t len;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		len = strcspn(p, " ,\t");
		if (len > 0 && len == n && strncasecmp(p, host, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* The host part of "host[:port]" or "[v6][:port]". */
static bool authority_allowed(const char *a)
{
	size_t n;

	if (a[0] == '[') {
		const char *close = strchr(a, ']');

		if (close == NULL)
			return false;
		n = (size_t)(close - a) + 1;
	} else {
		n = strcspn(a, ":/");
	}
	return n > 0 && host_allowed(a, n);
}

static bool origin_allowed(const char *origin)
{
	const char *sep = strstr(origin, "://");

	return sep != NULL && authority_allowed(sep + 3);
}

/* 403 for a foreign Host or Origin. */
static bool rebinding_check(const struct router_call *call, struct http_resp *r)
{
	char v[512];

	if (router_header(call, "Host", v, sizeof(v)) != NULL &&
	    !authority_allowed(v)) {
		refuse(call, r, 403, -32000,
		    "Forbidden: this server does not answer to that Host "
		    "(mcp_allowed_hosts)");
		return false;
	}
	if (router_header(call, "Origin", v, sizeof(v)) != NULL &&
	    !origin_allowed(v)) {
		refuse(call, r, 403, -32000,
		    "Forbidden: requests from that Origin are not allowed "
		    "(mcp_allowed_hosts)");
		return false;
	}
	return true;
}

static bool lists(const char *accept, const char *type)
{
	const char *p = accept;
	size_t n = strlen(type);

	while ((p = strcasestr(p, type)) != NULL) {
		if ((p == accept || p[-1] == ' ' || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ';' || p[n] == ',' || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

static bool post_headers_ok(const struct router_call *call, struct http_resp *r)
{
	char v[512];

	if (router_header(call, "Accept", v, sizeof(v)) == NULL ||
	    (!lists(v, "*/*") &&
	        (!lists(v, "application/json") ||
	            !lists(v, "text/event-stream")))) {
		refuse(call, r, 406, -32000,
		    "Not Acceptable: Accept must list both application/json "
		    "and text/event-stream");
		return false;
	}
	if (!router_content_type_is(call, "application/json")) {
		refuse(call, r, 415, -32000,
		    "Unsupported Media Type: Content-Type must be "
		    "application/json");
		return false;
	}
	if (router_header(call, "MCP-Protocol-Version", v, sizeof(v)) != NULL &&
	    !mcp_version_known(v)) {
		char msg[160];

		(void)snprintf(msg, sizeof(msg),
		    "Bad Request: unsupported MCP-Protocol-Version %.40s "
		    "(supported: 2025-11-25, 2025-06-18, 2025-03-26, "
		    "2024-11-05)",
		    v);
		refuse(call, r, 400, -32600, msg);
		return false;
	}
	return true;
}

/* ---- sessions ---------------------------------------------------------- */

/* The session's key, the SHA-256 of its id; false after answering 500. */
static bool hash_id(const struct router_call *call, struct http_resp *r,
    const char *id, char out[MCP_HASH_PARAM_LEN])
{
	if (secret_sha256_bytea(id, strlen(id), out) == 0)
		return true;
	log_errx("MCP: could not hash a session id");
	http_resp_error(r, 500, NULL, call->request_id);
	return false;
}

static const char *user_of(const struct router_call *call)
{
	return call->who != NULL ? call->who->user_id : NULL;
}

static bool id_sane(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > 128)
		return false;
	for (i = 0; i < n; i++)
		if (id[i] < 0x21 || id[i] > 0x7e)
			return false;
	return true;
}

/* Load the request's session: 0 loaded, or -1 after answering (400 no
 * id, 404 unknown, 503 database away). */
static int session_load(const struct router_call *call, struct http_resp *r,
    struct mcp_session *s)
{
	char id[160], idle[32], stale[32];
	const char *p[4];
	PGresult *res = NULL;
	enum db_rc rc;

	if (router_header(call, "Mcp-Session-Id", id, sizeof(id)) == NULL ||
	    id[0] == '\0') {
		refuse(call, r, 400, -32000,
		    "Bad Request: Mcp-Session-Id header is required (send "
		    "initialize first)");
		return -1;
	}
	if (!id_sane(id)) {
		refuse(call, r, 404, -32001, "Session not found");
		return -1;
	}
	if (!hash_id(call, r, id, s->hash))
		return -1;
	(void)snprintf(idle, sizeof(idle), "%.3f",
	    (double)mcp_g.cfg->mcp_session_idle_timeout / 1000.0);
	/* last_seen is written when a tenth of the idle time old: a
	 * session ends between 0.9 and 1 idle timeout after its last use. */
	(void)snprintf(stale, sizeof(stale), "%.3f",
	    (double)mcp_g.cfg->mcp_session_idle_timeout / 10000.0);
	p[0] = s->hash;
	p[1] = user_of(call);
	p[2] = idle;
	p[3] = stale;
	rc = db_exec(mcp_g.db, Q_MCP_SESSION_USE, p, &res);
	if (rc == DB_UNAVAILABLE) {
		health_db_unavailable(call, r);
		return -1;
	}
	if (rc != DB_OK || PQntuples(res) != 1) {
		if (rc != DB_OK)
			log_errx("MCP: session lookup: %s",
			    PQresultErrorMessage(res));
		PQclear(res);
		refuse(call, r, 404, -32001,
		    "Session not found: it ended or expired; start a new one "
		    "with initialize");
		return -1;
	}
	(void)snprintf(s->version, sizeof(s->version), "%s",
	    PQgetvalue(res, 0, 0));
	s->caps = (int)strtol(PQgetvalue(res, 0, 1), NULL, 10);
	(void)snprintf(s->level, sizeof(s->level), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}

static int caps_of(json_object *params)
{
	json_object *caps, *x;
	int c = 0;

	if (params == NULL ||
	    !json_object_object_get_ex(params, "capabilities", &caps) ||
	    !json_object_is_type(caps, json_type_object))
		return 0;
	if (json_object_object_get_ex(caps, "sampling", &x))
		c |= MCP_CAP_SAMPLING;
	if (json_object_object_get_ex(caps, "elicitation", &x))
		c |= MCP_CAP_ELICITATION;
	if (json_object_object_get_ex(caps, "roots", &x))
		c |= MCP_CAP_ROOTS;
	return c;
}

static const char *client_field(json_object *params, const char *key)
{
	json_object *info, *v;

	if (params != NULL &&
	    json_object_object_get_ex(params, "clientInfo", &info) &&
	    json_object_object_get_ex(info, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

/* initialize: negotiate, store the session, name it in the answer.
 * Returns 0, or -1 after answering. */
static int session_new(const struct router_call *call, struct http_resp *r,
    json_object *params, struct mcp_session *s)
{
	char id[MCP_SESSION_ID_LEN + 1], caps[16], idle[32];
	json_object *v;
	const char *asked = NULL, *p[7];
	PGresult *res = NULL;
	enum db_rc rc;

	if (params != NULL &&
	    json_object_object_get_ex(params, "protocolVersion", &v) &&
	    json_object_is_type(v, json_type_string))
		asked = json_object_get_string(v);
	(void)snprintf(s->version, sizeof(s->version), "%s",
	    asked != NULL && mcp_version_known(asked) ? asked
	                                              : MCP_VERSION_LATEST);
	s->caps = caps_of(params);
	(void)snprintf(s->level, sizeof(s->level), "info");
	if (secret_random_base62(id, MCP_SESSION_ID_LEN) != 0) {
		refuse(call, r, 500, MCP_INTERNAL_ERROR,
		    "no randomness for a session");
		return -1;
	}
	if (!hash_id(call, r, id, s->hash))
		return -1;
	(void)snprintf(caps, sizeof(caps), "%d", s->caps);
	(void)snprintf(idle, sizeof(idle), "%.3f",
	    (double)mcp_g.cfg->mcp_session_idle_timeout / 1000.0);
	p[0] = s->hash;
	p[1] = user_of(call);
	p[2] = s->version;
	p[3] = client_field(params, "name");
	p[4] = client_field(params, "version");
	p[5] = caps;
	p[6] = idle;
	rc = db_exec(mcp_g.db, Q_MCP_SESSION_NEW, p, &res);
	if (rc != DB_OK) {
		if (rc == DB_ERROR)
			log_errx("MCP: could not store a session: %s",
			    PQresultErrorMessage(res));
		PQclear(res);
		health_db_unavailable(call, r);
		return -1;
	}
	PQclear(res);
	if (http_resp_header(r, "Mcp-Session-Id", id) != 0)
		return -1;
	return 0;
}

/* ---- messages ---------------------------------------------------------- */

static bool is_initialize(json_object *msg)
{
	json_object *m;

	return json_object_object_get_ex(msg, "method", &m) &&
	    json_object_is_type(m, json_type_string) &&
	    strcmp(json_object_get_string(m), "initialize") == 0;
}

/* Answer one request into a response object (new). */
static json_object *answer(struct mcp_call *call, json_object *msg)
{
	json_object *params = NULL, *meta, *tok, *m;

	json_object_object_get_ex(msg, "id", &call->id);
	json_object_object_get_ex(msg, "method", &m);
	if (json_object_object_get_ex(msg, "params", &params) &&
	    json_object_is_type(params, json_type_null))
		params = NULL;
	call->progress_token = NULL;
	if (params != NULL && json_object_is_type(params, json_type_object) &&
	    json_object_object_get_ex(params, "_meta", &meta) &&
	    json_object_object_get_ex(meta, "progressToken", &tok) &&
	    (json_object_is_type(tok, json_type_string) ||
	        json_object_is_type(tok, json_type_int)))
		call->progress_token = tok;
	call->result = json_object_new_object();
	call->error = NULL;
	mcp_dispatch(call, json_object_get_string(m), params);
	if (call->error != NULL) {
		json_object_put(call->result);
		call->result = NULL;
		return response(call->id, NULL, call->error);
	}
	return response(call->id, call->result, NULL);
}

/* notifications/cancelled: tell the worker running that request, if it
 * is waiting for this client, to stop (best effort, as the
 * specification allows: a request already finished is not affected). */
static void cancel_notify(json_object *msg, const struct mcp_session *s)
{
	json_object *m, *params, *id;
	char key[128];
	const char *p[1] = {key};
	PGresult *res = NULL;

	if (!json_object_object_get_ex(msg, "method", &m) ||
	    strcmp(json_object_get_string(m), "notifications/cancelled") != 0 ||
	    !json_object_object_get_ex(msg, "params", &params) ||
	    !json_object_object_get_ex(params, "requestId", &id))
		return;
	mcp_cancel_key(s->hash,
	    json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN), key,
	    sizeof(key));
	if (db_exec(mcp_g.db, Q_MCP_CANCEL, p, &res) != DB_UNAVAILABLE)
		PQclear(res);
}

/* A notification or the client's answer: 202, or a refusal. */
static void accept_message(const struct router_call *call, struct http_resp *r,
    json_object *msg, enum mcp_msg_kind kind, const struct mcp_session *s)
{
	json_object *id;
	int rc;

	if (kind == MCP_MSG_NOTIFICATION) {
		cancel_notify(msg, s);
		(void)http_resp_set(r, 202, NULL, "", 0);
		return;
	}
	json_object_object_get_ex(msg, "id", &id);
	rc = mcp_answer_deliver(s->hash, json_object_get_string(id), msg);
	if (rc < 0) {
		health_db_unavailable(call, r);
		return;
	}
	if (rc == 0) {
		refuse(call, r, 400, -32600,
		    "Bad Request: no request of this session waits for that "
		    "answer (unknown id, or it timed out)");
		return;
	}
	(void)http_resp_set(r, 202, NULL, "", 0);
}

/* Deliver a response: as the stream's last event, or the JSON body. A
 * cancelled request gets no response (the stream just ends). */
static void deliver(struct mcp_call *call, json_object *resp)
{
	if (call->cancelled && call->streaming)
		return;
	if (call->cancelled)
		(void)http_resp_set(call->resp, 202, NULL, "", 0);
	else if (call->streaming)
		(void)mcp_stream_send(call, resp);
	else
		router_send_json(call->http, call->resp, 200,
		    json_object_get(resp));
}

static void call_init(struct mcp_call *call, const struct router_call *http,
    struct http_resp *r, struct mcp_session *s)
{
	memset(call, 0, sizeof(*call));
	call->http = http;
	call->resp = r;
	call->session = s;
	call->version = s->version;
}

static void batch(const struct router_call *http, struct http_resp *r,
    json_object *arr, struct mcp_session *s)
{
	struct mcp_call call;
	json_object *out = json_object_new_array();
	size_t i, n = json_object_array_length(arr);

	call_init(&call, http, r, s);
	call.in_batch = true;
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(arr, i),
		            *resp = NULL;
		const char *why;
		enum mcp_msg_kind k = mcp_jsonrpc_classify(m, &why);

		if (k == MCP_MSG_INVALID)
			resp = response(NULL, NULL,
			    mcp_error_object(MCP_INVALID_REQUEST, why, NULL));
		else if (k == MCP_MSG_REQUEST && is_initialize(m))
			resp = response(json_object_object_get(m, "id"), NULL,
			    mcp_error_object(MCP_INVALID_REQUEST,
			        "initialize must not be part of a batch",
			        NULL));
		else if (k == MCP_MSG_REQUEST)
			resp = answer(&call, m);
		else if (k == MCP_MSG_NOTIFICATION)
			cancel_notify(m, s);
		else if (k == MCP_MSG_RESPONSE) {
			json_object *id;

			/* JSON-RPC gives a response no reply, so one that no
			 * request waits for is only logged. */
			json_object_object_get_ex(m, "id", &id);
			if (mcp_answer_deliver(s->hash,
			        json_object_get_string(id), m) <= 0)
				log_info("MCP: a batch carried an answer "
				         "(id %.40s) that no request waits for",
				    json_object_get_string(id));
		}
		if (resp != NULL && call.streaming) {
			(void)mcp_stream_send(&call, resp);
			json_object_put(resp);
		} else if (resp != NULL) {
			json_object_array_add(out, resp);
		}
	}
	if (!call.streaming && json_object_array_length(out) > 0)
		router_send_json(http, r, 200, out);
	else {
		if (!call.streaming)
			(void)http_resp_set(r, 202, NULL, "", 0);
		json_object_put(out);
	}
}

/* Whether a session of version v may send a batch: 2025-06-18 removed
 * them. */
static bool batches_allowed(const char *v)
{
	return strcmp(v, "2025-03-26") == 0 || strcmp(v, "2024-11-05") == 0;
}

/* The body as a message or a batch; NULL after answering 400 (-32700 for
 * what is not JSON, -32600 for JSON that is no message: null, a number, a
 * string). */
static json_object *parse_body(const struct router_call *call,
    struct http_resp *r)
{
	json_object *doc;

	if (mcp_jsonrpc_parse(call->body, call->body_len, &doc) != 0) {
		refuse(call, r, 400, MCP_PARSE_ERROR,
		    "Parse error: the body is not one JSON value");
		return NULL;
	}
	if (!json_object_is_type(doc, json_type_object) &&
	    !json_object_is_type(doc, json_type_array)) {
		refuse(call, r, 400, MCP_INVALID_REQUEST,
		    "Invalid Request: not a JSON-RPC 2.0 message (an object "
		    "was expected, or an array for a batch)");
		json_object_put(doc);
		return NULL;
	}
	return doc;
}

static void post_one(const struct router_call *http, struct http_resp *r,
    json_object *msg)
{
	struct mcp_session s;
	struct mcp_call call;
	json_object *resp;
	const char *why;
	enum mcp_msg_kind kind = mcp_jsonrpc_classify(msg, &why);

	memset(&s, 0, sizeof(s));
	if (kind == MCP_MSG_INVALID) {
		refuse(http, r, 400, MCP_INVALID_REQUEST, why);
		return;
	}
	if (kind == MCP_MSG_REQUEST && is_initialize(msg)) {
		json_object *params = NULL;

		json_object_object_get_ex(msg, "params", &params);
		if (session_new(http, r, params, &s) != 0)
			return;
	} else if (session_load(http, r, &s) != 0) {
		return;
	}
	if (kind != MCP_MSG_REQUEST) {
		accept_message(http, r, msg, kind, &s);
		return;
	}
	call_init(&call, http, r, &s);
	resp = answer(&call, msg);
	deliver(&call, resp);
	json_object_put(resp);
}

void mcp_http_post(const struct router_call *call, struct http_resp *r)
{
	json_object *doc;
	struct mcp_session s;

	if (!rebinding_check(call, r) || !post_headers_ok(call, r) ||
	    (doc = parse_body(call, r)) == NULL)
		return;
	if (!json_object_is_type(doc, json_type_array)) {
		post_one(call, r, doc);
		json_object_put(doc);
		return;
	}
	memset(&s, 0, sizeof(s));
	if (json_object_array_length(doc) == 0)
		refuse(call, r, 400, MCP_INVALID_REQUEST, "an empty batch");
	else if (session_load(call, r, &s) != 0)
		; /* answered */
	else if (!batches_allowed(s.version))
		refuse(call, r, 400, MCP_INVALID_REQUEST,
		    "JSON-RPC batches are not supported in protocol version "
		    "2025-06-18 and later; send one message per POST");
	else
		batch(call, r, doc, &s);
	json_object_put(doc);
}

void mcp_http_delete(const struct router_call *call, struct http_resp *r)
{
	char id[160];
	struct mcp_session s;
	const char *p[2];
	PGresult *res = NULL;
	enum db_rc rc;

	if (!rebinding_check(call, r))
		return;
	if (router_header(call, "Mcp-Session-Id", id, sizeof(id)) == NULL ||
	    id[0] == '\0') {
		refuse(call, r, 400, -32000,
		    "Bad Request: Mcp-Session-Id header is required");
		return;
	}
	if (!id_sane(id)) {
		refuse(call, r, 404, -32001, "Session not found");
		return;
	}
	if (!hash_id(call, r, id, s.hash))
		return;
	p[0] = s.hash;
	p[1] = user_of(call);
	rc = db_exec(mcp_g.db, Q_MCP_SESSION_END, p, &res);
	if (rc == DB_UNAVAILABLE) {
		health_db_unavailable(call, r);
		return;
	}
	if (rc != DB_OK || PQntuples(res) != 1) {
		PQclear(res);
		refuse(call, r, 404, -32001, "Session not found");
		return;
	}
	PQclear(res);
	(void)http_resp_set(r, 204, NULL, "", 0);
}
