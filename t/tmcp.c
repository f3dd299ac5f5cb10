/*
 * tmcp.c - the tests' MCP client; see tmcp.h.
 */
#include "tmcp.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tserver.h"

/* ---- JSON ---------------------------------------------------------------- */

json_object *tmcp_at(json_object *o, const char *path)
{
	char key[64], *end;

	while (o != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		path += n + (path[n] == '.');
		if (json_object_is_type(o, json_type_array)) {
			long i = strtol(key, &end, 10);

			if (*end != '\0' || i < 0)
				return NULL;
			o = json_object_array_get_idx(o, (size_t)i);
		} else if (!json_object_object_get_ex(o, key, &o)) {
			return NULL;
		}
	}
	return o;
}

const char *tmcp_str(json_object *o, const char *path)
{
	json_object *v = tmcp_at(o, path);

	return v != NULL && json_object_is_type(v, json_type_string)
	    ? json_object_get_string(v)
	    : "(absent)";
}

const char *tmcp_text(json_object *o)
{
	return o != NULL
	    ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)
	    : "(null)";
}

void tmcp_expect_error_of(const char *what, json_object *msg, int code,
    const char *frag)
{
	json_object *c = tmcp_at(msg, "error.code");

	cr_expect(c != NULL && json_object_is_type(c, json_type_int) &&
	        json_object_get_int(c) == code,
	    "%s: want error %d, got %s", what, code, tmcp_text(msg));
	cr_expect(strstr(tmcp_str(msg, "error.message"), frag) != NULL,
	    "%s: want an error message with \"%s\", got %s", what, frag,
	    tmcp_text(msg));
	cr_expect(tmcp_at(msg, "result") == NULL, "%s: %s", what,
	    tmcp_text(msg));
}

void tmcp_expect_error(json_object *msg, int code, const char *frag)
{
	tmcp_expect_error_of("the answer", msg, code, frag);
}

void tmcp_expect_refusal_of(const char *what, const struct th_resp *r,
    int status, int code, const char *frag)
{
	json_object *o = json_tokener_parse(r->body), *id = NULL;
	char ct[128];

	cr_expect(eq(int, r->status, status), "%s: want %d, got %d: %s", what,
	    status, r->status, r->body);
	cr_assert(o != NULL, "%s: want a JSON-RPC error body, got: %s", what,
	    r->body);
	cr_expect(th_header(r, "Content-Type", ct, sizeof(ct)) != NULL &&
	        strncmp(ct, "application/json", 16) == 0,
	    "%s: %s", what, r->head);
	cr_expect(eq(str, (char *)tmcp_str(o, "jsonrpc"), "2.0"), "%s: %s",
	    what, r->body);
	cr_expect(json_object_object_get_ex(o, "id", &id) && id == NULL,
	    "%s: want id null: %s", what, r->body);
	tmcp_expect_error_of(what, o, code, frag);
	json_object_put(o);
}

void tmcp_expect_refusal(const struct th_resp *r, int status, int code,
    const char *frag)
{
	tmcp_expect_refusal_of("the answer", r, status, code, frag);
}

bool tmcp_lists_tool(json_object *msg, const char *name, bool prefix)
{
	json_object *tools = tmcp_at(msg, "result.tools");
	size_t n = strlen(name);

	for (size_t i = 0; tools != NULL && i < json_object_array_length(tools);
	     i++) {
		const char *t =
		    tmcp_str(json_object_array_get_idx(tools, i), "name");

		if (prefix ? strncmp(t, name, n) == 0 : strcmp(t, name) == 0)
			return true;
	}
	return false;
}

/* ---- event streams ------------------------------------------------------- */

/* The JSON of one event's data fields (joined by newlines), or NULL
 * when the event has none; block[0..n) holds the event's lines. */
static json_object *event_parse(const char *block, size_t n)
{
	char *data = NULL;
	size_t dlen = 0;
	json_object *o;

	while (n > 0) {
		size_t len = strcspn(block, "\n");

		if (len > n)
			len = n;
		if (len >= 5 && strncmp(block, "data:", 5) == 0) {
			const char *v =
			    block + 5 + (len > 5 && block[5] == ' ');
			size_t vl = len - (size_t)(v - block);
			char *q = realloc(data, dlen + vl + 2);

			cr_assert(q != NULL);
			data = q;
			if (dlen > 0)
				data[dlen++] = '\n';
			memcpy(data + dlen, v, vl);
			dlen += vl;
			data[dlen] = '\0';
		}
		block += len + (len < n);
		n -= len + (len < n);
	}
	if (data == NULL)
		return NULL;
	o = json_tokener_parse(data);
	cr_assert(o != NULL, "an event's data is not JSON: %s", data);
	free(data);
	return o;
}

/* The messages of a whole event stream, in order (caller puts). */
static json_object *sse_messages(const char *body)
{
	json_object *out = json_object_new_array();

	while (*body != '\0') {
		const char *sep = strstr(body, "\n\n");
		size_t n = sep != NULL ? (size_t)(sep - body) : strlen(body);
		json_object *o = event_parse(body, n);

		if (o != NULL)
			json_object_array_add(out, o);
		body += n + (sep != NULL ? 2 : 0);
	}
	return out;
}

bool tmcp_is_stream(const struct th_resp *r)
{
	char ct[128];

	return th_header(r, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strncmp(ct, "text/event-stream", 17) == 0;
}

json_object *tmcp_messages(const struct th_resp *r)
{
	json_object *o, *a;

	if (tmcp_is_stream(r))
		return sse_messages(r->body);
	o = th_body(r);
	if (json_object_is_type(o, json_type_array))
		return o;
	a = json_object_new_array();
	json_object_array_add(a, o);
	return a;
}

/* ---- requests ------------------------------------------------------------ */

void tmcp_client_init(struct tmcp_client *c, int port)
{
	memset(c, 0, sizeof(*c));
	c->port = port;
	c->next_id = 1;
}

int tmcp_post(const struct tmcp_client *c, const char *extra, const char *body,
    struct th_resp *r)
{
	char sid[200];
	const char *h[6];
	size_t n = 0;

	h[n++] = TMCP_CT_JSON;
	h[n++] = TMCP_ACCEPT;
	if (c->sid[0] != '\0') {
		(void)snprintf(sid, sizeof(sid), "Mcp-Session-Id: %s", c->sid);
		h[n++] = sid;
	}
	if (c->auth[0] != '\0')
		h[n++] = c->auth;
	if (extra != NULL)
		h[n++] = extra;
	h[n] = NULL;
	return th_req(c->port, "POST", "/mcp", h, body, r);
}

json_object *tmcp_initialize(struct tmcp_client *c, const char *version,
    const char *caps)
{
	char body[512];
	struct th_resp r;
	json_object *o;

	(void)snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"%s\",\"capabilities\":%s,"
	    "\"clientInfo\":{\"name\":\"pacer-tests\",\"version\":\"1\"}}}",
	    version, caps != NULL ? caps : "{}");
	c->sid[0] = '\0';
	cr_assert(eq(int, tmcp_post(c, NULL, body, &r), 200),
	    "initialize: %d %s", r.status, r.body);
	cr_assert(th_header(&r, "Mcp-Session-Id", c->sid, sizeof(c->sid)) !=
	        NULL,
	    "no Mcp-Session-Id: %s", r.head);
	o = th_body(&r);
	th_free(&r);
	return o;
}

void tmcp_open(struct tmcp_client *c, int port, const char *auth,
    const char *version, const char *caps)
{
	struct th_resp r;
	json_object *o;

	tmcp_client_init(c, port);
	if (auth != NULL)
		(void)snprintf(c->auth, sizeof(c->auth), "%s", auth);
	o = tmcp_initialize(c, version, caps);
	cr_assert(eq(str, (char *)tmcp_str(o, "result.protocolVersion"),
	              (char *)version),
	    "%s", tmcp_text(o));
	json_object_put(o);
	cr_assert(eq(int, tmcp_post(c, NULL, TMCP_INITIALIZED, &r), 202),
	    "%d %s", r.status, r.body);
	th_free(&r);
}

json_object *tmcp_rpc_ex(struct tmcp_client *c, const char *method,
    const char *params, json_object **all, bool *streamed)
{
	size_t need =
	    strlen(method) + (params != NULL ? strlen(params) : 0) + 128;
	char *body = malloc(need);
	int id = c->next_id++;
	struct th_resp r;
	json_object *msgs, *last;
	size_t n;

	cr_assert(body != NULL);
	(void)snprintf(body, need,
	    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"%s%s}", id, method,
	    params != NULL ? ",\"params\":" : "", params != NULL ? params : "");
	(void)tmcp_post(c, NULL, body, &r);
	free(body);
	cr_assert(eq(int, r.status, 200), "%s: %d %s", method, r.status,
	    r.body);
	msgs = tmcp_messages(&r);
	if (streamed != NULL)
		*streamed = tmcp_is_stream(&r);
	th_free(&r);
	n = json_object_array_length(msgs);
	cr_assert(n > 0, "%s: no message in the answer", method);
	last = json_object_get(json_object_array_get_idx(msgs, n - 1));
	cr_assert(tmcp_at(last, "id") != NULL &&
	        json_object_get_int(tmcp_at(last, "id")) == id,
	    "%s: the last message is not the response to id %d: %s", method, id,
	    tmcp_text(last));
	if (all != NULL)
		*all = msgs;
	else
		json_object_put(msgs);
	return last;
}

json_object *tmcp_rpc(struct tmcp_client *c, const char *method,
    const char *params)
{
	return tmcp_rpc_ex(c, method, params, NULL, NULL);
}

json_object *tmcp_call_tool(struct tmcp_client *c, const char *name,
    const char *args)
{
	char params[1024];

	(void)snprintf(params, sizeof(params), "{\"name\":\"%s\"%s%s}", name,
	    args != NULL ? ",\"arguments\":" : "", args != NULL ? args : "");
	return tmcp_rpc(c, "tools/call", params);
}

json_object *tmcp_post_batch(const struct tmcp_client *c, const char *body)
{
	struct th_resp r;
	json_object *a;

	cr_assert(eq(int, tmcp_post(c, NULL, body, &r), 200), "%s: %d %s", body,
	    r.status, r.body);
	a = th_body(&r);
	th_free(&r);
	cr_assert(json_object_is_type(a, json_type_array), "%s: %s", body,
	    tmcp_text(a));
	return a;
}

void tmcp_expect_rpc_error(struct tmcp_client *c, const char *method,
    const char *params, int code, const char *frag)
{
	char what[512];
	json_object *o = tmcp_rpc(c, method, params);

	(void)snprintf(what, sizeof(what), "%s %s", method,
	    params != NULL ? params : "(no params)");
	tmcp_expect_error_of(what, o, code, frag);
	json_object_put(o);
}

void tmcp_expect_refused(const struct tmcp_client *c, const char *extra,
    const char *body, int status, int code, const char *frag)
{
	char what[512];
	struct th_resp r;

	(void)snprintf(what, sizeof(what), "POST %s%s%s",
	    extra != NULL ? extra : "", extra != NULL ? " " : "", body);
	(void)tmcp_post(c, extra, body, &r);
	tmcp_expect_refusal_of(what, &r, status, code, frag);
	th_free(&r);
}

void tmcp_expect_status(const struct tmcp_client *c, const char *extra,
    const char *body, int status)
{
	struct th_resp r;

	cr_expect(eq(int, tmcp_post(c, extra, body, &r), status),
	    "POST %s%s%s: %s", extra != NULL ? extra : "",
	    extra != NULL ? " " : "", body, r.body);
	th_free(&r);
}

int tmcp_delete(const struct tmcp_client *c, struct th_resp *r)
{
	char sid[200];
	const char *h[3] = {sid, NULL, NULL};

	(void)snprintf(sid, sizeof(sid), "Mcp-Session-Id: %s", c->sid);
	if (c->auth[0] != '\0')
		h[1] = c->auth;
	return th_req(c->port, "DELETE", "/mcp", h, NULL, r);
}

/* ---- a response read event by event ------------------------------------- */

static long long mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void append(char **p, size_t *len, const char *src, size_t n)
{
	char *q = realloc(*p, *len + n + 1);

	cr_assert(q != NULL);
	memcpy(q + *len, src, n);
	*len += n;
	q[*len] = '\0';
	*p = q;
}

/* Wait up to ms for bytes; false at the end, on an error or at ms. */
static bool stream_fill(struct tmcp_stream *s, long long ms)
{
	struct pollfd pfd = {s->fd, POLLIN, 0};
	char tmp[16384];
	ssize_t n;
	int rc;

	do {
		rc = poll(&pfd, 1, (int)(ms > 0 ? ms : 0));
	} while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return false;
	do {
		n = recv(s->fd, tmp, sizeof(tmp), 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return false;
	append(&s->raw, &s->rlen, tmp, (size_t)n);
	return true;
}

/* Move the complete chunks received into data. */
static void stream_dechunk(struct tmcp_stream *s)
{
	while (!s->ended && s->raw != NULL) {
		char *line = s->raw + s->roff, *eol = strstr(line, "\r\n"),
		     *end;
		size_t avail = s->rlen - s->roff, hl;
		unsigned long size;

		if (eol == NULL)
			return;
		size = strtoul(line, &end, 16);
		cr_assert(end != line, "a bad chunk size: %.20s", line);
		hl = (size_t)(eol + 2 - line);
		if (hl + size + 2 > avail)
			return;
		if (size == 0) {
			s->ended = true;
			return;
		}
		append(&s->data, &s->dlen, eol + 2, size);
		s->roff += hl + size + 2;
	}
}

void tmcp_stream_open(struct tmcp_stream *s, const struct tmcp_client *c,
    const char *rid, const char *body)
{
	char req[8192], *eoh = NULL;
	long long end = mono_ms() + 30000;
	int n;

	memset(s, 0, sizeof(*s));
	n = snprintf(req, sizeof(req),
	    "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" TMCP_CT_JSON
	    "\r\n" TMCP_ACCEPT
	    "\r\nMcp-Session-Id: %s\r\nX-Request-Id: %s\r\n%s%s"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    c->port, c->sid, rid, c->auth, c->auth[0] != '\0' ? "\r\n" : "",
	    strlen(body), body);
	cr_assert(n > 0 && (size_t)n < sizeof(req));
	s->fd = ts_connect(c->port);
	cr_assert(s->fd >= 0);
	cr_assert(eq(sz, (size_t)send(s->fd, req, (size_t)n, MSG_NOSIGNAL),
	    (size_t)n));
	while ((s->raw == NULL || (eoh = strstr(s->raw, "\r\n\r\n")) == NULL))
		cr_assert(stream_fill(s, end - mono_ms()),
		    "no response head within 30 s: %s",
		    s->raw != NULL ? s->raw : "");
	(void)snprintf(s->head, sizeof(s->head), "%.*s", (int)(eoh - s->raw),
	    s->raw);
	s->roff = (size_t)(eoh + 4 - s->raw);
	s->status = (int)strtol(s->head + 9, NULL, 10);
	cr_assert(eq(int, s->status, 200), "%s", s->raw);
	cr_assert(strcasestr(s->head, "Content-Type: text/event-stream") &&
	        strcasestr(s->head, "Transfer-Encoding: chunked"),
	    "not a chunked event stream: %s", s->raw);
	stream_dechunk(s);
}

json_object *tmcp_stream_next(struct tmcp_stream *s, int ms)
{
	long long end = mono_ms() + ms;

	for (;;) {
		char *sep = s->data != NULL ? strstr(s->data, "\n\n") : NULL;

		if (sep != NULL) {
			size_t n = (size_t)(sep - s->data);
			json_object *o = event_parse(s->data, n);

			memmove(s->data, sep + 2, s->dlen - n - 2 + 1);
			s->dlen -= n + 2;
			if (o != NULL)
				return o;
			continue;
		}
		if (s->ended || !stream_fill(s, end - mono_ms()))
			return NULL;
		stream_dechunk(s);
	}
}

void tmcp_stream_close(struct tmcp_stream *s)
{
	if (s->fd >= 0)
		(void)close(s->fd);
	s->fd = -1;
	free(s->raw);
	free(s->data);
	s->raw = s->data = NULL;
}
