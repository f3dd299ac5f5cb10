/*
 * call.c - a request being answered: its result, the event stream that
 * carries notifications before it, and the requests a tool sends to its
 * client with the wait for their answers.
 *
 * The answer to a request is a single application/json body unless the
 * handler says something first (a log message, progress, a request to
 * the client): the first such message turns the answer into a
 * text/event-stream, sent at once through the connection's stream
 * (router_stream), and the final response becomes its last event.
 *
 * Waiting for the client. A tool that sends sampling/createMessage or
 * elicitation/create cannot answer until the client does, and the
 * client answers with another POST that any worker of any node may
 * receive. The waiting worker records the request in mcp_waits, LISTENs
 * on pacer_mcp, closes its idle keep-alive connections (so the answer
 * cannot land on a connection this busy worker holds), sends the request
 * as an event and polls two descriptors: its database connection and
 * the client's socket. The worker that receives the answer writes it to
 * the row and NOTIFYs with the request id; the waiting worker then takes
 * the row. It also looks at the row once a second, so a notification
 * lost to a reconnect costs a second, not the call. The wait ends at
 * mcp_wait_timeout (never past request_timeout less a second, so the
 * master's watchdog does not kill a patient worker), when the client
 * hangs up, or when the database goes away. At most max_stream_workers
 * workers wait at once (counted in the scoreboard): a call past the cap
 * fails at once with a tool error instead of tying up the pool.
 */
#include "mcp_int.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "http_resp.h"
#include "log.h"
#include "router.h"
#include "sb.h"
#include "secret.h"
#include "worker.h"

/* ---- results ----------------------------------------------------------- */

const struct auth_principal *mcp_who(const struct mcp_call *call)
{
	return call->http->who;
}

const char *mcp_request_id(const struct mcp_call *call)
{
	return call->http->request_id;
}

const char *mcp_protocol_version(const struct mcp_call *call)
{
	return call->version;
}

bool mcp_client_can(const struct mcp_call *call, const char *capability)
{
	int caps = call->session != NULL ? call->session->caps : 0;

	if (strcmp(capability, "sampling") == 0)
		return (caps & MCP_CAP_SAMPLING) != 0;
	if (strcmp(capability, "elicitation") == 0)
		return (caps & MCP_CAP_ELICITATION) != 0;
	if (strcmp(capability, "roots") == 0)
		return (caps & MCP_CAP_ROOTS) != 0;
	return false;
}

/* The result's array member name ("content", "contents"), made when
 * absent. */
static json_object *result_array(struct mcp_call *call, const char *name)
{
	json_object *a;

	if (json_object_object_get_ex(call->result, name, &a))
		return a;
	a = json_object_new_array();
	json_object_object_add(call->result, name, a);
	return a;
}

void mcp_tool_content(struct mcp_call *call, json_object *item)
{
	if (item != NULL)
		json_object_array_add(result_array(call, "content"), item);
}

json_object *mcp_text_item(const char *text)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("text"));
	json_object_object_add(o, "text", json_object_new_string(text));
	return o;
}

/* data[0..len) in base64, a new string object (NULL on failure). */
static json_object *b64_string(const void *data, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *out = malloc(cap);
	json_object *s = NULL;

	if (out != NULL && secret_b64_encode(data, len, out, cap) >= 0)
		s = json_object_new_string(out);
	free(out);
	return s;
}

json_object *mcp_blob_item(const char *type, const void *data, size_t len,
    const char *mime_type)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "data", b64_string(data, len));
	json_object_object_add(o, "mimeType",
	    json_object_new_string(mime_type));
	return o;
}

json_object *mcp_resource_item(const char *uri, const char *mime_type,
    const char *text)
{
	json_object *o = json_object_new_object(),
	            *r = json_object_new_object();

	json_object_object_add(r, "uri", json_object_new_string(uri));
	if (mime_type != NULL)
		json_object_object_add(r, "mimeType",
		    json_object_new_string(mime_type));
	json_object_object_add(r, "text", json_object_new_string(text));
	json_object_object_add(o, "type", json_object_new_string("resource"));
	json_object_object_add(o, "resource", r);
	return o;
}

void mcp_tool_text(struct mcp_call *call, const char *text)
{
	mcp_tool_content(call, mcp_text_item(text));
}

void mcp_tool_image(struct mcp_call *call, const void *data, size_t len,
    const char *mime_type)
{
	mcp_tool_content(call, mcp_blob_item("image", data, len, mime_type));
}

void mcp_tool_audio(struct mcp_call *call, const void *data, size_t len,
    const char *mime_type)
{
	mcp_tool_content(call, mcp_blob_item("audio", data, len, mime_type));
}

void mcp_tool_structured(struct mcp_call *call, json_object *obj)
{
	if (obj == NULL)
		return;
	mcp_tool_text(call,
	    json_object_to_json_string_ext(obj,
	        JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_object_add(call->result, "structuredContent", obj);
}

void mcp_tool_error(struct mcp_call *call, const char *fmt, ...)
{
	char msg[1024];
	struct buf b;
	va_list ap;

	buf_init_fixed(&b, msg, sizeof(msg));
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
	mcp_tool_text(call, msg);
	json_object_object_add(call->result, "isError",
	    json_object_new_boolean(1));
}

void mcp_resource_text(struct mcp_call *call, const char *uri,
    const char *mime_type, const char *text)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "uri", json_object_new_string(uri));
	if (mime_type != NULL)
		json_object_object_add(o, "mimeType",
		    json_object_new_string(mime_type));
	json_object_object_add(o, "text", json_object_new_string(text));
	json_object_array_add(result_array(call, "contents"), o);
}

void mcp_resource_blob(struct mcp_call *call, const char *uri,
    const char *mime_type, const void *data, size_t len)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "uri", json_object_new_string(uri));
	if (mime_type != NULL)
		json_object_object_add(o, "mimeType",
		    json_object_new_string(mime_type));
	json_object_object_add(o, "blob", b64_string(data, len));
	json_object_array_add(result_array(call, "contents"), o);
}

void mcp_prompt_description(struct mcp_call *call, const char *text)
{
	json_object_object_add(call->result, "description",
	    json_object_new_string(text));
}

void mcp_prompt_message(struct mcp_call *call, const char *role,
    json_object *content)
{
	json_object *a, *m;

	if (!json_object_object_get_ex(call->result, "messages", &a)) {
		a = json_object_new_array();
		json_object_object_add(call->result, "messages", a);
	}
	m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string(role));
	json_object_object_add(m, "content", content);
	json_object_array_add(a, m);
}

json_object *mcp_error_object(int code, const char *message, json_object *data)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	if (data != NULL)
		json_object_object_add(e, "data", data);
	return e;
}

void mcp_fail(struct mcp_call *call, int code, json_object *data,
    const char *fmt, ...)
{
	char msg[512];
	struct buf b;
	va_list ap;

	buf_init_fixed(&b, msg, sizeof(msg));
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
	json_object_put(call->error);
	call->error = mcp_error_object(code, msg, data);
}

/* ---- the event stream -------------------------------------------------- */

/* The largest event sent (a tool result is one event). */
#define MCP_EVENT_MAX ((size_t)64 * 1024 * 1024)

static int stream_begin(struct mcp_call *call)
{
	struct router_stream *s = call->http->stream;
	struct http_resp *r = call->resp;

	if (call->streaming)
		return 0;
	if (s == NULL || call->gone)
		return -1;
	r->status = 200;
	r->content_type = "text/event-stream";
	if (http_resp_header(r, "Cache-Control", "no-cache") != 0 ||
	    s->begin(s, r) != 0) {
		call->gone = true;
		return -1;
	}
	call->streaming = true;
	return 0;
}

int mcp_stream_send(struct mcp_call *call, json_object *msg)
{
	struct router_stream *s = call->http->stream;
	const char *text;
	struct buf b;
	int rc = -1;

	if (stream_begin(call) != 0)
		return -1;
	text = json_object_to_json_string_ext(msg,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_init_dynamic(&b, MCP_EVENT_MAX);
	if (buf_puts(&b, "event: message\ndata: ") == 0 &&
	    buf_puts(&b, text) == 0 && buf_puts(&b, "\n\n") == 0)
		rc = s->write(s, b.data, b.len);
	buf_free(&b);
	if (rc != 0)
		call->gone = true;
	return rc;
}

static const char *const levels[] = {"debug", "info", "notice", "warning",
    "error", "critical", "alert", "emergency"};

int mcp_level_rank(const char *level)
{
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(levels[i], level) == 0)
			return (int)i;
	return -1;
}

static int notify(struct mcp_call *call, const char *method,
    json_object *params)
{
	json_object *msg = json_object_new_object();
	int rc;

	json_object_object_add(msg, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(msg, "method", json_object_new_string(method));
	json_object_object_add(msg, "params", params);
	rc = mcp_stream_send(call, msg);
	json_object_put(msg);
	return rc;
}

int mcp_log(struct mcp_call *call, const char *level, const char *logger,
    json_object *data)
{
	const char *floor = call->session != NULL && call->session->level[0]
	    ? call->session->level
	    : "info";
	json_object *p;

	if (mcp_level_rank(level) < 0)
		return -1;
	if (mcp_level_rank(level) < mcp_level_rank(floor))
		return 0;
	p = json_object_new_object();
	json_object_object_add(p, "level", json_object_new_string(level));
	if (logger != NULL)
		json_object_object_add(p, "logger",
		    json_object_new_string(logger));
	json_object_object_add(p, "data",
	    data != NULL ? json_object_get(data) : json_object_new_null());
	return notify(call, "notifications/message", p);
}

int mcp_progress(struct mcp_call *call, double progress, double total,
    const char *message)
{
	json_object *p;

	if (call->progress_token == NULL)
		return 0;
	p = json_object_new_object();
	json_object_object_add(p, "progressToken",
	    json_object_get(call->progress_token));
	json_object_object_add(p, "progress", json_object_new_double(progress));
	if (total >= 0)
		json_object_object_add(p, "total",
		    json_object_new_double(total));
	if (message != NULL)
		json_object_object_add(p, "message",
		    json_object_new_string(message));
	return notify(call, "notifications/progress", p);
}

/* ---- requests to the client ------------------------------------------ */

/* How many workers are in SB_STATE_STREAMING now (this one included). */
static unsigned streaming_workers(void)
{
	struct sb *sb = mcp_g.ctx->sb;
	struct sb_slot_view v;
	uint32_t i;
	unsigned n = 0;

	for (i = 0; i < sb_nslots(sb); i++)
		if (sb_slot_read(sb, i, &v) == 0 &&
		    v.state == SB_STATE_STREAMING)
			n++;
	return n;
}

/* Enter the streaming state unless max_stream_workers already wait.
 * The state is set before counting, so of two workers racing for the
 * last place both may refuse, but never both get in. */
static int stream_slot_take(void)
{
	struct sb *sb = mcp_g.ctx->sb;

	if (sb_slot_set_state(sb, mcp_g.ctx->slot, SB_STATE_STREAMING) != 0)
		return 0; /* no scoreboard (tests): no cap */
	if (streaming_workers() > (unsigned)mcp_g.cfg->max_stream_workers) {
		(void)sb_slot_set_state(sb, mcp_g.ctx->slot, SB_STATE_HANDLING);
		return -1;
	}
	return 0;
}

static void stream_slot_give(void)
{
	(void)sb_slot_set_state(mcp_g.ctx->sb, mcp_g.ctx->slot,
	    SB_STATE_HANDLING);
}

/* Milliseconds a wait may last. */
static int64_t wait_budget_ms(void)
{
	int64_t ms = mcp_g.cfg->mcp_wait_timeout;
	int64_t cap = mcp_g.cfg->request_timeout - 1000;

	if (cap < 1000)
		cap = 1000;
	return ms < cap ? ms : cap;
}

/* The answer, if the row has one: 1 with *answer, 0 not yet, -1 db. */
static int wait_take(const char *hash, const char *rid, json_object **answer)
{
	const char *params[2] = {hash, rid};
	PGresult *res = NULL;
	enum db_rc rc = db_exec(mcp_g.db, Q_MCP_WAIT_TAKE, params, &res);
	int found = 0;

	if (rc != DB_OK) {
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 1) {
		*answer = json_tokener_parse(PQgetvalue(res, 0, 0));
		found = *answer != NULL ? 1 : -1;
	}
	PQclear(res);
	return found;
}

void mcp_cancel_key(const char *hash, const char *id_json, char *dst, size_t n)
{
	/* 16 hex digits of the session's hash tell sessions apart; the id
	 * is cut to keep the payload far below NOTIFY's 8000 bytes. */
	(void)snprintf(dst, n, "cancel:%.16s:%.64s", hash + 2, id_json);
}

/* Poll the database connection and the client's socket until the
 * answer to rid comes, the client leaves, or the time is up. Returns 1
 * with *answer, 0 on time out, -1 (why in err). */
static int wait_answer(struct mcp_call *call, const char *rid,
    json_object **answer, char *err, size_t errlen)
{
	struct router_stream *s = call->http->stream;
	uint64_t end = sb_clock_us() + (uint64_t)wait_budget_ms() * 1000;
	uint64_t next_look = 0;
	char payload[128], cancel[128];

	mcp_cancel_key(call->session->hash,
	    json_object_to_json_string_ext(call->id, JSON_C_TO_STRING_PLAIN),
	    cancel, sizeof(cancel));

	for (;;) {
		uint64_t now = sb_clock_us();
		struct pollfd pfd[2];
		int n = 0, rc;

		if (now >= next_look) {
			if ((rc = wait_take(call->session->hash, rid,
			         answer)) != 0) {
				if (rc < 0)
					(void)snprintf(err, errlen,
					    "the database went away while "
					    "waiting for the client");
				return rc;
			}
			next_look = now + 1000000;
		}
		if (now >= end)
			return 0;
		if (s->gone(s)) {
			call->gone = true;
			(void)snprintf(err, errlen, "the client went away");
			return -1;
		}
		pfd[n++] = (struct pollfd){s->fd, POLLRDHUP, 0};
		if (db_notify_fd(mcp_g.db) >= 0)
			pfd[n++] =
			    (struct pollfd){db_notify_fd(mcp_g.db), POLLIN, 0};
		rc = poll(pfd, (nfds_t)n,
		    (int)((next_look < end ? next_look : end) - now + 999) /
		        1000);
		if (rc < 0 && errno != EINTR) {
			(void)snprintf(err, errlen, "poll: %s",
			    strerror(errno));
			return -1;
		}
		while (db_notify_next(mcp_g.db, "pacer_mcp", payload,
		           sizeof(payload)) == 1) {
			if (strcmp(payload, rid) == 0)
				next_look = 0; /* look now */
			if (strcmp(payload, cancel) == 0) {
				call->cancelled = true;
				(void)snprintf(err, errlen,
				    "the client cancelled the request");
				return -1;
			}
		}
	}
}

/* What the client answered: its result, or its error as a sentence. */
static int answer_result(json_object *answer, json_object **result, char *err,
    size_t errlen)
{
	json_object *r, *e, *m;

	if (json_object_object_get_ex(answer, "result", &r)) {
		*result = json_object_get(r);
		return 0;
	}
	if (json_object_object_get_ex(answer, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m))
		(void)snprintf(err, errlen, "the client refused: %s",
		    json_object_get_string(m));
	else
		(void)snprintf(err, errlen,
		    "the client's answer had neither "
		    "a result nor an error");
	return -1;
}

/* The request as the client sees it. */
static json_object *request_message(const char *rid, const char *method,
    json_object *params)
{
	json_object *msg = json_object_new_object();

	json_object_object_add(msg, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(msg, "id", json_object_new_string(rid));
	json_object_object_add(msg, "method", json_object_new_string(method));
	if (params != NULL)
		json_object_object_add(msg, "params", json_object_get(params));
	return msg;
}

/* Checks before anything is sent: -1 with the reason in err. */
static int request_allowed(struct mcp_call *call, const char *method, char *err,
    size_t errlen)
{
	const char *need = strncmp(method, "sampling/", 9) == 0 ? "sampling"
	    : strncmp(method, "elicitation/", 12) == 0          ? "elicitation"
	    : strncmp(method, "roots/", 6) == 0                 ? "roots"
	                                                        : NULL;

	if (call->session == NULL || call->session->hash[0] == '\0' ||
	    call->http->stream == NULL || call->in_batch) {
		(void)snprintf(err, errlen,
		    "this request cannot ask the client anything (no "
		    "session or stream)");
		return -1;
	}
	if (need != NULL && !mcp_client_can(call, need)) {
		(void)snprintf(err, errlen,
		    "the client did not declare the %s capability", need);
		return -1;
	}
	return 0;
}

int mcp_client_request(struct mcp_call *call, const char *method,
    json_object *params, json_object **result, char *err, size_t errlen)
{
	char rid[40] = "pacer-";
	const char *p[3];
	PGresult *res = NULL;
	json_object *msg = NULL, *answer = NULL;
	int rc = -1, got;

	*result = NULL;
	if (request_allowed(call, method, err, errlen) != 0)
		return -1;
	if (stream_slot_take() != 0) {
		(void)snprintf(err, errlen,
		    "the server is busy: %lld calls already wait for their "
		    "clients (max_stream_workers); try again shortly",
		    (long long)mcp_g.cfg->max_stream_workers);
		return -1;
	}
	(void)secret_random_base62(rid + 6, 24);
	p[0] = call->session->hash;
	p[1] = rid;
	p[2] = method;
	if (db_exec(mcp_g.db, Q_MCP_WAIT_ADD, p, &res) != DB_OK ||
	    (PQclear(res), res = NULL,
	        db_exec(mcp_g.db, Q_MCP_LISTEN, NULL, &res)) != DB_OK) {
		(void)snprintf(err, errlen, "the database is not available");
		goto out;
	}
	PQclear(res);
	res = NULL;
	call->http->stream->release_idle(call->http->stream);
	msg = request_message(rid, method, params);
	if (mcp_stream_send(call, msg) != 0) {
		(void)snprintf(err, errlen, "the client went away");
		goto out;
	}
	got = wait_answer(call, rid, &answer, err, errlen);
	if (got == 0)
		(void)snprintf(err, errlen,
		    "the client did not answer %s within %lld ms", method,
		    (long long)wait_budget_ms());
	if (got == 1)
		rc = answer_result(answer, result, err, errlen);
out:
	PQclear(res);
	res = NULL;
	if (db_exec(mcp_g.db, Q_MCP_UNLISTEN, NULL, &res) == DB_OK) {
		char drain[8];

		while (db_notify_next(mcp_g.db, "pacer_mcp", drain,
		           sizeof(drain)) == 1)
			;
	}
	PQclear(res);
	res = NULL;
	if (rc != 0 &&
	    db_exec(mcp_g.db, Q_MCP_WAIT_DROP, p, &res) != DB_UNAVAILABLE)
		PQclear(res);
	stream_slot_give();
	json_object_put(msg);
	json_object_put(answer);
	return rc;
}

int mcp_answer_deliver(const char *hash, const char *request_id,
    json_object *msg)
{
	const char *p[3] = {hash, request_id,
	    json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN)};
	PGresult *res = NULL;
	enum db_rc rc = db_exec(mcp_g.db, Q_MCP_WAIT_ANSWER, p, &res);
	int n;

	if (rc == DB_UNAVAILABLE)
		return -1;
	if (rc != DB_OK) {
		log_errx("MCP: could not record a client's answer: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	PQclear(res);
	return n > 0 ? 1 : 0;
}
