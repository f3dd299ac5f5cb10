/*
 * test_worker.c - worker processes without the master, over real
 * sockets: the test binds a loopback listener, creates a scoreboard,
 * loads a configuration with short timeouts, forks workers that call
 * worker_main() (the test process plays the master: its pid is
 * master_pid), and talks HTTP/1.1 to them.
 *
 * What is proven: keep-alive, pipelining in order, HEAD, 404, 405 with
 * Allow, every refusal status (400, 411, 413, 414, 417, 431, 501, 505,
 * request smuggling) with a JSON body and a lingering close, 100-continue,
 * chunked bodies, X-Request-Id kept or generated, /metrics, header and
 * body timeouts (408), keep-alive limits, a parked slow reader that does
 * not hold the worker, SIGTERM graceful stop, the getppid watch, the
 * access log and its reopening, the scoreboard state, and that 500
 * slow-loris clients plus 256 idle keep-alive connections do not keep a
 * new client from being answered within a second.
 *
 * Every child is killed and reaped in the teardown. Timing assertions are
 * only the ones the behaviour is about, with generous bounds (the CI
 * machine has two loaded cores).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "listener.h"
#include "log.h"
#include "sb.h"
#include "testutil.h"
#include "worker.h"

#define MAXKIDS 8
#define IO_MS 5000 /* the longest any single read may wait */
#define NSLOTS 8

static char *dir;
static char sbpath[512];
static struct sb *sb;
static struct cfg *cfg;
static struct listeners ls;
static struct worker_ctx ctx;
static int port;
static pid_t kids[MAXKIDS];
static int nkids;

/* Short timeouts (the smallest the keys allow) and the debug routes. */
static const char base_conf[] = "header_timeout = 1s\n"
                                "body_timeout = 1s\n"
                                "send_timeout = 1s\n"
                                "keepalive_timeout = 5s\n"
                                "debug_routes = on\n";

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	int i;

	for (i = 0; i < nkids; i++) {
		if (kids[i] <= 0)
			continue;
		(void)kill(kids[i], SIGKILL);
		(void)waitpid(kids[i], NULL, 0);
		kids[i] = 0;
	}
	nkids = 0;
	if (ctx.access_log_fd >= 0)
		(void)close(ctx.access_log_fd);
	ctx.access_log_fd = -1;
	listeners_close(&ls);
	sb_close(&sb);
	cfg_free(&cfg);
	if (dir != NULL)
		(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	dir = NULL;
}

static void setup(void)
{
	ctx.access_log_fd = -1;
}

TestSuite(worker, .init = setup, .fini = teardown, .timeout = 90);

/* extra with every "@DIR@" replaced by the test's folder. */
static void expand(struct buf *out, const char *extra)
{
	const char *p;

	while ((p = strstr(extra, "@DIR@")) != NULL) {
		(void)buf_append(out, extra, (size_t)(p - extra));
		(void)buf_puts(out, dir);
		extra = p + 5;
	}
	(void)buf_puts(out, extra);
}

static pid_t spawn(uint32_t slot)
{
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct worker_ctx c = ctx;

		c.slot = slot;
		log_set_level(
		    getenv("TW_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
		worker_main(&c);
	}
	kids[nkids++] = pid;
	return pid;
}

static bool slot_view(uint32_t slot, struct sb_slot_view *v)
{
	return sb_slot_read(sb, slot, v) == 0;
}

/* Wait up to ms for slot to show state (and pid, when not 0). */
static bool wait_state(uint32_t slot, char state, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	struct sb_slot_view v;

	do {
		if (slot_view(slot, &v) && v.pid != 0 && v.state == state)
			return true;
		sleep_ms(10);
	} while (now_ms() < end);
	return false;
}

/* Configuration (base_conf then extra), listener, scoreboard, access log,
 * and n workers in slots 0 .. n-1, each ready (slot claimed). */
static void start(const char *extra, int n)
{
	struct cfg_errs errs = {0};
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct buf text;
	char err[256];
	int i, rc;

	tu_clear_pacer_env();
	dir = tu_tmpdir();
	cfg = cfg_new();
	cr_assert(not(eq(ptr, cfg, NULL)));
	buf_init_dynamic(&text, 1 << 16);
	(void)buf_puts(&text, base_conf);
	if (extra != NULL)
		expand(&text, extra);
	rc = cfg_load_buffer(cfg, "test.conf", buf_str(&text), text.len,
	    CFG_NO_ENV, &errs);
	cr_assert(eq(int, rc, 0), "config: %s", errs.n > 0 ? errs.msg[0] : "?");
	cfg_errs_free(&errs);
	buf_free(&text);
	cr_assert(eq(int,
	              listeners_open("127.0.0.1:0", 1024, NULL, &ls, err,
	                  sizeof(err)),
	              0),
	    "%s", err);
	cr_assert(
	    eq(int, getsockname(ls.v[0].fd, (struct sockaddr *)&sa, &len), 0));
	port = ntohs(sa.sin_port);
	(void)snprintf(sbpath, sizeof(sbpath), "%s/%s", dir, SB_FILE_NAME);
	sb = sb_create(sbpath, NSLOTS, getpid(), err, sizeof(err));
	cr_assert(not(eq(ptr, sb, NULL)), "sb_create: %s", err);
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.ls = &ls;
	ctx.sb = sb;
	ctx.generation = 1;
	ctx.master_pid = getpid();
	ctx.access_log_fd = -1;
	if (cfg->access_log[0] != '\0') {
		ctx.access_log_fd = open(cfg->access_log,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		cr_assert(ctx.access_log_fd >= 0);
	}
	for (i = 0; i < n; i++)
		(void)spawn((uint32_t)i);
	for (i = 0; i < n; i++)
		cr_assert(wait_state((uint32_t)i, SB_STATE_WAITING, 5000),
		    "worker %d never became ready", i);
}

/* ---- a small HTTP client ------------------------------------------------ */

struct cl {
	int fd;
	char *buf;
	size_t len, cap;
};

struct rep {
	int status;
	char *head; /* NUL-terminated, CRLFs included */
	char *body; /* NUL-terminated copy of body_len bytes */
	size_t body_len;
};

static int connect_fd(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

static void cl_open(struct cl *c)
{
	struct timeval tv = {IO_MS / 1000, 0};

	memset(c, 0, sizeof(*c));
	c->fd = connect_fd();
	cr_assert(c->fd >= 0, "connect to port %d: %s", port, strerror(errno));
	cr_assert(eq(int,
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0));
	cr_assert(eq(int,
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0));
}

static void cl_close(struct cl *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static void cl_sendn(struct cl *c, const char *s, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t k = send(c->fd, s + off, n - off, MSG_NOSIGNAL);

		cr_assert(k > 0, "send: %s", strerror(errno));
		off += (size_t)k;
	}
}

static void cl_send(struct cl *c, const char *s)
{
	cl_sendn(c, s, strlen(s));
}

/* One recv into the client buffer: bytes read, 0 at EOF, -1 on error. */
static ssize_t cl_fill(struct cl *c)
{
	ssize_t n;

	if (c->cap - c->len < 65536) {
		c->cap = c->cap == 0 ? 131072 : c->cap * 2;
		c->buf = realloc(c->buf, c->cap);
		cr_assert(not(eq(ptr, c->buf, NULL)));
	}
	do {
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

static bool head_field(const char *head, const char *name, char *val, size_t n)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p != NULL && p[2] != '\r') {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (end != NULL && strncasecmp(line, name, nl) == 0 &&
		    line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t k;

			while (*v == ' ')
				v++;
			k = (size_t)(end - v);
			if (k >= n)
				k = n - 1;
			memcpy(val, v, k);
			val[k] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}

/* Read one reply. head_req: the request was HEAD (no body follows).
 * Returns 0, or -1 when the connection ended or timed out first. */
static int cl_reply(struct cl *c, struct rep *r, bool head_req)
{
	char *end;
	size_t hlen, blen = 0;
	char val[64];

	memset(r, 0, sizeof(*r));
	for (;;) {
		if (c->len > 0) {
			c->buf[c->len] = '\0';
			if ((end = strstr(c->buf, "\r\n\r\n")) != NULL)
				break;
		}
		if (cl_fill(c) <= 0)
			return -1;
	}
	hlen = (size_t)(end - c->buf) + 4;
	r->head = strndup(c->buf, hlen);
	cr_assert(eq(int, strncmp(r->head, "HTTP/1.1 ", 9), 0), "%s", r->head);
	r->status = atoi(r->head + 9);
	if (!head_req && r->status >= 200 && r->status != 204 &&
	    r->status != 304 &&
	    head_field(r->head, "Content-Length", val, sizeof(val)))
		blen = (size_t)strtoull(val, NULL, 10);
	while (c->len < hlen + blen)
		if (cl_fill(c) <= 0)
			return -1;
	r->body = malloc(blen + 1);
	cr_assert(not(eq(ptr, r->body, NULL)));
	memcpy(r->body, c->buf + hlen, blen);
	r->body[blen] = '\0';
	r->body_len = blen;
	memmove(c->buf, c->buf + hlen + blen, c->len - hlen - blen);
	c->len -= hlen + blen;
	return 0;
}

static void rep_free(struct rep *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static bool rep_has(const struct rep *r, const char *name, const char *want)
{
	char val[256];

	return head_field(r->head, name, val, sizeof(val)) &&
	    strcmp(val, want) == 0;
}

static bool rep_closes(const struct rep *r)
{
	return rep_has(r, "Connection", "close");
}

/* Whether the server closes the connection (EOF, nothing more sent)
 * within ms. */
static bool cl_eof(struct cl *c, int ms)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	uint64_t end = now_ms() + (uint64_t)ms;

	if (c->len > 0)
		return false;
	for (;;) {
		int left = (int)(end > now_ms() ? end - now_ms() : 0);
		ssize_t n;

		if (poll(&p, 1, left) <= 0)
			return false;
		n = cl_fill(c);
		if (n == 0)
			return true;
		return false; /* a reset, or bytes we did not expect */
	}
}

/* GET path (with extra header lines) and read the reply. */
static void cl_get(struct cl *c, const char *path, const char *extra,
    struct rep *r)
{
	char req[1024];

	(void)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n",
	    path, extra != NULL ? extra : "");
	cl_send(c, req);
	cr_assert(eq(int, cl_reply(c, r, false), 0), "no reply to GET %s",
	    path);
}

/* One request on a new connection; the reply in r. */
static void exchange(const char *req, struct rep *r, bool head_req)
{
	struct cl c;

	cl_open(&c);
	cl_send(&c, req);
	cr_assert(eq(int, cl_reply(&c, r, head_req), 0), "no reply to %.60s",
	    req);
	cl_close(&c);
}

static bool is_hex_id(const char *s)
{
	return strlen(s) == 16 && strspn(s, "0123456789abcdef") == 16;
}

/* ---- keep-alive, pipelining, routes ------------------------------------- */

Test(worker, health_live_keep_alive_on_one_connection)
{
	struct cl c;
	struct rep r;
	char pid[32], want[128], id[64], prev[64] = "";
	int i;

	start(NULL, 1);
	(void)snprintf(pid, sizeof(pid), "%ld", (long)kids[0]);
	(void)snprintf(want, sizeof(want),
	    "{\"status\":\"ok\",\"pid\":%s,\"generation\":1}", pid);
	cl_open(&c);
	for (i = 0; i < 5; i++) {
		cl_get(&c, "/health/live", NULL, &r);
		cr_assert(eq(int, r.status, 200));
		cr_assert(eq(str, r.body, want));
		bool json = rep_has(&r, "Content-Type", "application/json");
		bool server = rep_has(&r, "Server", "pacer");
		bool dated = head_field(r.head, "Date", id, sizeof(id));
		cr_assert(json && server && dated, "%s", r.head);
		cr_assert(not(rep_closes(&r)), "%s", r.head);
		cr_assert(head_field(r.head, "X-Request-Id", id, sizeof(id)));
		cr_assert(is_hex_id(id), "generated id \"%s\"", id);
		cr_assert(ne(str, id, prev));
		(void)snprintf(prev, sizeof(prev), "%s", id);
		rep_free(&r);
	}
	cl_close(&c);
}

Test(worker, pipelined_requests_are_answered_in_order)
{
	struct cl c;
	struct rep r;
	static const char *const ids[] = {"p-1", "p-2", "p-3", "p-4"};
	static const int want[] = {200, 404, 200, 405};
	char id[64];
	int i;

	start(NULL, 1);
	cl_open(&c);
	cl_send(&c,
	    "GET /health/live HTTP/1.1\r\nHost: t\r\nX-Request-Id: p-1\r\n\r\n"
	    "GET /nope HTTP/1.1\r\nHost: t\r\nX-Request-Id: p-2\r\n\r\n"
	    "GET /health/live HTTP/1.1\r\nHost: t\r\nX-Request-Id: p-3\r\n\r\n"
	    "DELETE /metrics HTTP/1.1\r\nHost: t\r\nX-Request-Id: p-4\r\n\r\n");
	for (i = 0; i < 4; i++) {
		cr_assert(eq(int, cl_reply(&c, &r, false), 0), "reply %d", i);
		cr_assert(eq(int, r.status, want[i]), "reply %d: %s", i,
		    r.head);
		cr_assert(head_field(r.head, "X-Request-Id", id, sizeof(id)));
		cr_assert(eq(str, id, (char *)ids[i]));
		rep_free(&r);
	}
	/* The connection is still good. */
	cl_get(&c, "/health/live", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	rep_free(&r);
	cl_close(&c);
}

Test(worker, unknown_path_404_and_wrong_method_405_keep_the_connection)
{
	struct cl c;
	struct rep r;
	char id[64], want[256];

	start(NULL, 1);
	cl_open(&c);
	cl_get(&c, "/nope", "X-Request-Id: nf-1\r\n", &r);
	cr_assert(eq(int, r.status, 404));
	cr_assert(eq(str, r.body,
	    "{\"error\": \"not_found\", \"message\": \"No resource lives at "
	    "this path.\", \"request_id\": \"nf-1\"}"));
	cr_assert(not(rep_closes(&r)));
	rep_free(&r);
	cl_send(&c, "DELETE /health/live HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 405));
	bool allow = rep_has(&r, "Allow", "GET, HEAD");
	cr_assert(allow, "%s", r.head);
	cr_assert(head_field(r.head, "X-Request-Id", id, sizeof(id)));
	(void)snprintf(want, sizeof(want),
	    "{\"error\": \"method_not_allowed\", \"message\": \"This path does "
	    "not take that method.\", \"request_id\": \"%s\"}",
	    id);
	cr_assert(eq(str, r.body, want));
	rep_free(&r);
	/* A body sent to a 405 is read and dropped, and the next request on
	 * the connection still parses. */
	cl_send(&c,
	    "POST /health/live HTTP/1.1\r\nHost: t\r\nContent-Length: "
	    "5\r\n\r\nhello");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 405));
	rep_free(&r);
	cl_get(&c, "/health/live", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	rep_free(&r);
	cl_close(&c);
}

Test(worker, head_has_get_headers_and_no_body)
{
	struct cl c;
	struct rep get, head;
	char glen[32], hlen[32];

	start(NULL, 1);
	cl_open(&c);
	cl_get(&c, "/health/live", NULL, &get);
	cl_send(&c, "HEAD /health/live HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &head, true), 0));
	cr_assert(eq(int, head.status, 200));
	cr_assert(head_field(get.head, "Content-Length", glen, sizeof(glen)));
	cr_assert(head_field(head.head, "Content-Length", hlen, sizeof(hlen)));
	cr_assert(eq(str, hlen, glen));
	bool json = rep_has(&head, "Content-Type", "application/json");
	cr_assert(json);
	/* No body came: the next reply starts right away. */
	cl_get(&c, "/nope", NULL, &get);
	cr_assert(eq(int, get.status, 404));
	rep_free(&get);
	rep_free(&head);
	cl_close(&c);
}

/* ---- refusals ----------------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *req;
	int status;
	const char *code;
};

/* Send req, expect status with a JSON error body, Connection: close and
 * then a clean EOF (the lingering close lets the reply arrive). */
static void expect_refusal(const struct bad_case *bc)
{
	struct cl c;
	struct rep r;
	json_object *o, *v;
	char id[200];

	cl_open(&c);
	cl_send(&c, bc->req);
	cr_assert(eq(int, cl_reply(&c, &r, false), 0), "%s: no reply",
	    bc->name);
	cr_assert(eq(int, r.status, bc->status), "%s: %s", bc->name, r.head);
	cr_assert(rep_closes(&r), "%s: no Connection: close", bc->name);
	cr_assert(head_field(r.head, "X-Request-Id", id, sizeof(id)));
	o = json_tokener_parse(r.body);
	bool parsed = o != NULL;
	cr_assert(parsed, "%s: body %s", bc->name, r.body);
	cr_assert(json_object_object_get_ex(o, "error", &v));
	cr_assert(eq(str, (char *)json_object_get_string(v), (char *)bc->code),
	    "%s", bc->name);
	cr_assert(json_object_object_get_ex(o, "request_id", &v));
	cr_assert(eq(str, (char *)json_object_get_string(v), id));
	cr_assert(json_object_object_get_ex(o, "message", &v));
	json_object_put(o);
	cr_assert(cl_eof(&c, 4000), "%s: connection not closed", bc->name);
	rep_free(&r);
	cl_close(&c);
}

static char *repeat(const char *prefix, char ch, size_t n, const char *suffix)
{
	size_t a = strlen(prefix), b = strlen(suffix);
	char *s = malloc(a + n + b + 1);

	cr_assert(not(eq(ptr, s, NULL)));
	memcpy(s, prefix, a);
	memset(s + a, ch, n);
	memcpy(s + a + n, suffix, b + 1);
	return s;
}

Test(worker, malformed_requests_get_their_status_and_a_lingering_close)
{
	char *long_uri =
	    repeat("GET /", 'a', 9000, " HTTP/1.1\r\nHost: t\r\n\r\n");
	char *big_field = repeat("GET / HTTP/1.1\r\nHost: t\r\nX-Big: ", 'b',
	    20000, "\r\n\r\n");
	struct buf many;
	int i;

	buf_init_dynamic(&many, 1 << 16);
	(void)buf_puts(&many, "GET / HTTP/1.1\r\nHost: t\r\n");
	for (i = 0; i < 120; i++)
		(void)buf_printf(&many, "X-%d: v\r\n", i);
	(void)buf_puts(&many, "\r\n");
	const struct bad_case cases[] = {
	    {"missing host", "GET /health/live HTTP/1.1\r\n\r\n", 400,
	        "bad_request"},
	    {"bare lf", "GET /health/live HTTP/1.1\nHost: t\n\n", 400,
	        "bad_request"},
	    {"space before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400,
	        "bad_request"},
	    {"garbage", "\x16\x03\x01\x02\x01\xfc\x03\x03\r\n\r\n", 400,
	        "bad_request"},
	    {"uri too long", long_uri, 414, "uri_too_long"},
	    {"field too large", big_field, 431, "header_fields_too_large"},
	    {"too many fields", buf_str(&many), 431, "header_fields_too_large"},
	    {"expectation", "GET / HTTP/1.1\r\nHost: t\r\nExpect: tea\r\n\r\n",
	        417, "expectation_failed"},
	    {"version", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505,
	        "http_version_not_supported"},
	    {"transfer coding",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: gzip, chunked\r\n\r\n",
	        501, "not_implemented"},
	    {"smuggling cl+te",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Content-Length: 5\r\nTransfer-Encoding: "
	        "chunked\r\n\r\n0\r\n\r\n",
	        400, "bad_request"},
	    {"smuggling te+cl",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: chunked\r\nContent-Length: "
	        "5\r\n\r\n0\r\n\r\n",
	        400, "bad_request"},
	    {"two content-lengths",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Content-Length: 5\r\nContent-Length: 6\r\n"
	        "\r\nhello!",
	        400, "bad_request"},
	    {"content-length list",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Content-Length: 5, 5\r\n\r\nhello",
	        400, "bad_request"},
	    {"chunked twice",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: chunked, chunked\r\n\r\n",
	        400, "bad_request"},
	    {"bad chunk size",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
	        400, "bad_request"},
	    {"body too large",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Content-Length: 2000000\r\n\r\n",
	        413, "content_too_large"},
	    {"chunk too large",
	        "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	        "Transfer-Encoding: chunked\r\n\r\n"
	        "200000\r\n",
	        413, "content_too_large"},
	};

	start(NULL, 1);
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++)
		expect_refusal(&cases[i]);
	buf_free(&many);
	free(long_uri);
	free(big_field);
}

Test(worker, unknown_method_501_and_missing_length_411)
{
	struct rep r;

	start(NULL, 1);
	exchange("BREW /health/live HTTP/1.1\r\nHost: t\r\n\r\n", &r, false);
	cr_assert(eq(int, r.status, 501));
	cr_assert(not(
	    eq(ptr, strstr(r.body, "\"error\": \"not_implemented\""), NULL)));
	rep_free(&r);
	exchange("POST /debug/echo HTTP/1.1\r\nHost: t\r\n\r\n", &r, false);
	cr_assert(eq(int, r.status, 411));
	cr_assert(not(
	    eq(ptr, strstr(r.body, "\"error\": \"length_required\""), NULL)));
	rep_free(&r);
}

/* ---- bodies ------------------------------------------------------------- */

Test(worker, chunked_post_body_is_decoded)
{
	struct cl c;
	struct rep r;

	start(NULL, 1);
	cl_open(&c);
	cl_send(&c,
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, r.body, "hello world"));
	rep_free(&r);
	/* Content-Length body on the same connection. */
	cl_send(&c,
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 3\r\n\r\nabc");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(str, r.body, "abc"));
	rep_free(&r);
	/* POST where only GET is served. */
	cl_send(&c,
	    "POST /health/live HTTP/1.1\r\nHost: t\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 405));
	bool allow = rep_has(&r, "Allow", "GET, HEAD");
	cr_assert(allow);
	rep_free(&r);
	cl_close(&c);
}

Test(worker, expect_100_continue)
{
	struct cl c;
	struct rep r;

	start(NULL, 1);
	cl_open(&c);
	cl_send(&c,
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	    "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 100));
	cr_assert(eq(str, r.head, "HTTP/1.1 100 Continue\r\n\r\n"));
	rep_free(&r);
	cl_send(&c, "hello");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, r.body, "hello"));
	rep_free(&r);
	cl_close(&c);

	/* Refused anyway: no 100, the final status at once. */
	cl_open(&c);
	cl_send(&c,
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	    "Expect: 100-continue\r\nContent-Length: 5000000\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 413));
	rep_free(&r);
	cl_close(&c);
	cl_open(&c);
	cl_send(&c,
	    "POST /nope HTTP/1.1\r\nHost: t\r\n"
	    "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 404));
	cr_assert(rep_closes(&r));
	rep_free(&r);
	cl_close(&c);
}

/* ---- ids, metrics, debug routes ----------------------------------------- */

Test(worker, request_id_kept_when_sane_generated_otherwise)
{
	struct cl c;
	struct rep r;
	char id[200], long_id[129];

	start(NULL, 1);
	cl_open(&c);
	cl_get(&c, "/health/live", "X-Request-Id: abc-123_x.y:z\r\n", &r);
	cr_assert(head_field(r.head, "X-Request-Id", id, sizeof(id)));
	cr_assert(eq(str, id, "abc-123_x.y:z"));
	rep_free(&r);
	memset(long_id, 'q', 128);
	long_id[128] = '\0';
	char hdr[200];
	(void)snprintf(hdr, sizeof(hdr), "X-Request-Id: %s\r\n", long_id);
	cl_get(&c, "/health/live", hdr, &r);
	cr_assert(head_field(r.head, "X-Request-Id", id, sizeof(id)));
	cr_assert(eq(str, id, long_id));
	rep_free(&r);
	static const char *const insane[] = {"X-Request-Id: bad id\r\n",
	    "X-Request-Id: a\"b\r\n", "X-Request-Id: \r\n",
	    "X-Request-Id: "
	    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
	    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
	    "qq"
	    "qqqqqqqqqq\r\n"};
	for (size_t i = 0; i < sizeof(insane) / sizeof(insane[0]); i++) {
		cl_get(&c, "/nope", insane[i], &r);
		cr_assert(head_field(r.head, "X-Request-Id", id, sizeof(id)));
		cr_assert(is_hex_id(id), "%s -> %s", insane[i], id);
		cr_assert(not(eq(ptr, strstr(r.body, id), NULL)));
		rep_free(&r);
	}
	cl_close(&c);
}

Test(worker, metrics_serve_the_scoreboard)
{
	struct cl c;
	struct rep r;

	start(NULL, 2);
	cl_open(&c);
	cl_get(&c, "/health/live", NULL, &r);
	rep_free(&r);
	cl_get(&c, "/nope", NULL, &r);
	rep_free(&r);
	cl_get(&c, "/metrics", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	bool type = rep_has(&r, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	cr_assert(type, "%s", r.head);
	cr_assert(
	    not(eq(ptr, strstr(r.body, "pacer_http_requests_total"), NULL)));
	cr_assert(
	    not(eq(ptr,
	        strstr(r.body,
	            "pacer_http_requests_by_route_total{route=\"health_live\","
	            "class=\"2xx\"} 1"),
	        NULL)),
	    "%s", r.body);
	cr_assert(
	    not(eq(ptr,
	        strstr(r.body,
	            "pacer_http_requests_by_route_total{route=\"unmatched\","
	            "class=\"4xx\"} 1"),
	        NULL)),
	    "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "pacer_workers{state=\""), NULL)));
	cr_assert(not(eq(ptr, strstr(r.body, "route=\"debug_sleep\""), NULL)));
	rep_free(&r);
	cl_close(&c);
}

Test(worker, debug_routes_are_off_by_default)
{
	struct rep r;

	start("debug_routes = off\n", 1);
	exchange("GET /debug/sleep?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n", &r,
	    false);
	cr_assert(eq(int, r.status, 404));
	rep_free(&r);
	exchange("POST /debug/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
	         "\r\nx",
	    &r, false);
	cr_assert(eq(int, r.status, 404));
	rep_free(&r);
}

/* Wait up to 3 s for slot 0 to ask for recycling with why, having served
 * requests requests. */
static bool wait_recycle(uint32_t why, uint64_t requests)
{
	uint64_t end = now_ms() + 3000;
	struct sb_slot_view v;

	do {
		if (slot_view(0, &v) && v.want_recycle == why &&
		    v.requests == requests)
			return true;
		sleep_ms(10);
	} while (now_ms() < end);
	return false;
}

/* Resident size of this process in kB (the worker starts as a copy). */
static unsigned long long rss_kb(void)
{
	char *s = tu_read("/proc/self/statm", NULL);
	unsigned long long size = 0, res = 0;

	cr_assert(not(eq(ptr, s, NULL)));
	cr_assert(eq(int, sscanf(s, "%llu %llu", &size, &res), 2));
	free(s);
	return res * (unsigned long long)sysconf(_SC_PAGESIZE) / 1024;
}

Test(worker, debug_alloc_asks_for_an_rss_recycle)
{
	struct rep r;

	char conf[128];

	/* 48 MB above what the worker starts with, whatever the build. */
	(void)snprintf(conf, sizeof(conf),
	    "max_worker_rss = %llukB\nmax_requests_per_worker = 0\n",
	    rss_kb() + 48 * 1024);
	start(conf, 1);
	exchange("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n", &r, false);
	rep_free(&r);
	cr_assert(wait_recycle(0, 1));
	exchange("GET /debug/alloc?mb=96 HTTP/1.1\r\nHost: t\r\n\r\n", &r,
	    false);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, r.body, "{\"allocated_mb\":96}"));
	rep_free(&r);
	cr_assert(wait_recycle(SB_RECYCLE_RSS, 2));
	/* It keeps serving. */
	exchange("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n", &r, false);
	cr_assert(eq(int, r.status, 200));
	rep_free(&r);
}

Test(worker, request_limit_asks_for_a_recycle)
{
	struct rep r;

	int i;

	start(NULL, 0);
	ctx.request_limit = 3;
	(void)spawn(0);
	cr_assert(wait_state(0, SB_STATE_WAITING, 5000));
	for (i = 0; i < 3; i++) {
		cr_assert(wait_recycle(0, (uint64_t)i));
		exchange("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n", &r,
		    false);
		rep_free(&r);
	}
	cr_assert(wait_recycle(SB_RECYCLE_REQUESTS, 3));
}

/* ---- timeouts and keep-alive limits ------------------------------------- */

Test(worker, slow_loris_is_cut_at_header_timeout_with_408)
{
	struct cl c;
	struct rep r;
	uint64_t t0, took;
	int i;

	start(NULL, 1); /* header_timeout = 1s */
	cl_open(&c);
	t0 = now_ms();
	cl_send(&c, "GET /health/live HTTP/1.1\r\n");
	/* Dribble a header byte every 100 ms: progress does not extend the
	 * header deadline. */
	for (i = 0; i < 40; i++) {
		struct pollfd p = {.fd = c.fd, .events = POLLIN};

		if (poll(&p, 1, 100) > 0)
			break;
		if (send(c.fd, "X", 1, MSG_NOSIGNAL) != 1)
			break;
	}
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	took = now_ms() - t0;
	cr_assert(eq(int, r.status, 408));
	cr_assert(rep_closes(&r));
	cr_assert(not(
	    eq(ptr, strstr(r.body, "\"error\": \"request_timeout\""), NULL)));
	cr_assert(took >= 900 && took < 3500, "cut after %llu ms",
	    (unsigned long long)took);
	cr_assert(cl_eof(&c, 4000));
	rep_free(&r);
	cl_close(&c);
}

Test(worker, stalled_body_gets_408_at_body_timeout)
{
	struct cl c;
	struct rep r;
	uint64_t t0, took;

	start(NULL, 1); /* body_timeout = 1s */
	cl_open(&c);
	cl_send(&c,
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
	    "10\r\n\r\nabc");
	t0 = now_ms();
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	took = now_ms() - t0;
	cr_assert(eq(int, r.status, 408));
	cr_assert(rep_closes(&r));
	cr_assert(took >= 800 && took < 3500, "cut after %llu ms",
	    (unsigned long long)took);
	rep_free(&r);
	cl_close(&c);
}

Test(worker, idle_keep_alive_closes_silently_at_keepalive_timeout)
{
	struct cl c;
	struct rep r;
	uint64_t t0, took;

	start("keepalive_timeout = 1s\n", 1);
	cl_open(&c);
	cl_get(&c, "/health/live", NULL, &r);
	rep_free(&r);
	t0 = now_ms();
	cr_assert(cl_eof(&c, 5000), "idle connection not closed");
	took = now_ms() - t0;
	cr_assert(took >= 800, "closed after %llu ms",
	    (unsigned long long)took);
	cl_close(&c);
}

Test(worker, keepalive_requests_and_keepalive_off)
{
	struct cl c;
	struct rep r;

	start("keepalive_requests = 2\n", 1);
	cl_open(&c);
	cl_get(&c, "/health/live", NULL, &r);
	cr_assert(not(rep_closes(&r)));
	rep_free(&r);
	cl_get(&c, "/health/live", NULL, &r);
	cr_assert(rep_closes(&r));
	rep_free(&r);
	cr_assert(cl_eof(&c, 4000));
	cl_close(&c);
	teardown();

	start("keepalive_timeout = 0\n", 1);
	cl_open(&c);
	cl_get(&c, "/health/live", NULL, &r);
	cr_assert(rep_closes(&r));
	rep_free(&r);
	cr_assert(cl_eof(&c, 4000));
	cl_close(&c);
}

Test(worker, http10_keeps_alive_only_when_asked)
{
	struct cl c;
	struct rep r;

	start(NULL, 1);
	cl_open(&c);
	cl_send(&c, "GET /health/live HTTP/1.0\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(rep_closes(&r));
	rep_free(&r);
	cr_assert(cl_eof(&c, 4000));
	cl_close(&c);
	cl_open(&c);
	cl_send(&c,
	    "GET /health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	bool ka = rep_has(&r, "Connection", "keep-alive");
	cr_assert(ka, "%s", r.head);
	rep_free(&r);
	cl_send(&c,
	    "GET /health/live HTTP/1.1\r\nHost: t\r\nConnection: "
	    "close\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	cr_assert(rep_closes(&r));
	rep_free(&r);
	cr_assert(cl_eof(&c, 4000));
	cl_close(&c);
}

/* A client that does not read is parked, and the worker serves others
 * meanwhile; the reply arrives whole once the client reads. */
Test(worker, slow_reader_is_parked_not_blocking_the_worker)
{
	struct cl slow, other;
	struct rep r;
	struct sb_slot_view v;
	size_t n = (size_t)12 << 20, i;
	char *body = malloc(n), hdr[128];
	bool parked = false;
	uint64_t end;

	cr_assert(not(eq(ptr, body, NULL)));
	for (i = 0; i < n; i++)
		body[i] = (char)('a' + i % 23);
	/* 12 MB: more than the server's send buffer (at most 4 MB) and
	 * the receive window of a client that reads nothing. */
	start("max_body_size = 16MB\nsend_timeout = 30s\n", 1);
	cl_open(&slow);
	(void)snprintf(hdr, sizeof(hdr),
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
	    "%zu\r\n\r\n",
	    n);
	cl_send(&slow, hdr);
	cl_sendn(&slow, body, n);
	end = now_ms() + 10000;
	while (!parked && now_ms() < end) {
		parked = slot_view(0, &v) && v.conn_writing == 1;
		if (!parked)
			sleep_ms(20);
	}
	cr_assert(parked, "the reply was never parked");
	cl_open(&other);
	cl_get(&other, "/health/live", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	rep_free(&r);
	cl_close(&other);
	cr_assert(eq(int, cl_reply(&slow, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(sz, r.body_len, n));
	cr_assert(eq(int, memcmp(r.body, body, n), 0));
	rep_free(&r);
	cl_close(&slow);
	free(body);
}

Test(worker, reader_that_never_reads_is_dropped_at_send_timeout)
{
	struct cl slow;
	struct sb_slot_view v;
	size_t n = (size_t)12 << 20;
	char *body = calloc(1, n), hdr[128];
	uint64_t end;
	bool parked = false, dropped = false;

	cr_assert(not(eq(ptr, body, NULL)));
	start("max_body_size = 16MB\n", 1); /* send_timeout = 1s */
	cl_open(&slow);
	(void)snprintf(hdr, sizeof(hdr),
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
	    "%zu\r\n\r\n",
	    n);
	cl_send(&slow, hdr);
	cl_sendn(&slow, body, n);
	end = now_ms() + 15000;
	while (!dropped && now_ms() < end) {
		if (slot_view(0, &v)) {
			parked = parked || v.conn_writing == 1;
			dropped = parked && v.conn_writing == 0 &&
			    v.conn_reading == 0;
		}
		sleep_ms(20);
	}
	cr_assert(parked && dropped, "parked %d dropped %d", parked, dropped);
	cl_close(&slow);
	free(body);
}

/* ---- scoreboard --------------------------------------------------------- */

Test(worker, scoreboard_shows_keepalive_reading_and_counts)
{
	struct cl c;
	struct rep r;
	struct sb_slot_view v;

	start(NULL, 1);
	cl_open(&c);
	cl_get(&c, "/health/live", NULL, &r);
	rep_free(&r);
	cr_assert(wait_state(0, SB_STATE_KEEPALIVE, 3000));
	cr_assert(slot_view(0, &v));
	cr_assert(eq(u32, v.conn_keepalive, 1));
	cr_assert(eq(u64, v.requests, 1));
	cr_assert(eq(u32, v.last_status, 200));
	cr_assert(eq(str, v.method, "GET"));
	cr_assert(eq(str, v.path, "/health/live"));
	cr_assert(eq(str, v.client, "127.0.0.1"));
	cl_send(&c, "GET /health/live HTTP/1.1\r\n");
	cr_assert(wait_state(0, SB_STATE_READING, 3000));
	cl_send(&c, "Host: t\r\n\r\n");
	cr_assert(eq(int, cl_reply(&c, &r, false), 0));
	rep_free(&r);
	cl_close(&c);
	cr_assert(wait_state(0, SB_STATE_WAITING, 3000));
}

/* ---- signals and the master --------------------------------------------- */

static bool wait_exit(pid_t pid, int ms, int *status)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	do {
		pid_t got = waitpid(pid, status, WNOHANG);

		if (got == pid)
			return true;
		sleep_ms(10);
	} while (now_ms() < end);
	return false;
}

static bool exited_zero(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void forget_kid(pid_t pid)
{
	int i;

	for (i = 0; i < nkids; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

Test(worker, sigterm_is_graceful)
{
	struct cl busy, half, idle;
	struct rep r;
	int status = 0;

	start("header_timeout = 10s\n", 1);
	cl_open(&idle);
	cl_get(&idle, "/health/live", NULL, &r);
	rep_free(&r);
	cl_open(&half);
	cl_get(&half, "/health/live", NULL, &r);
	rep_free(&r);
	cl_send(&half, "GET /health/live HTTP/1.1\r\n"); /* mid-request */
	cl_open(&busy);
	cl_send(&busy, "GET /debug/sleep?ms=700 HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(wait_state(0, SB_STATE_HANDLING, 3000));

	cr_assert(eq(int, kill(kids[0], SIGTERM), 0));
	/* The request in hand completes, and says it is the last. */
	cr_assert(eq(int, cl_reply(&busy, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(rep_closes(&r), "%s", r.head);
	rep_free(&r);
	cr_assert(cl_eof(&busy, 4000));
	cl_close(&busy);
	cr_assert(wait_state(0, SB_STATE_FINISHING, 3000));
	/* The kept-alive connection's next reply carries Connection: close. */
	cl_send(&half, "Host: t\r\n\r\n");
	cr_assert(eq(int, cl_reply(&half, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(rep_closes(&r), "%s", r.head);
	rep_free(&r);
	cr_assert(cl_eof(&half, 4000));
	cl_close(&half);
	/* The idle one is closed after the short grace. */
	cr_assert(cl_eof(&idle, 5000));
	cr_assert(wait_exit(kids[0], 5000, &status), "worker did not exit");
	forget_kid(kids[0]);
	cr_assert(exited_zero(status), "status 0x%x", status);
	cl_close(&busy);
	cl_close(&half);
	cl_close(&idle);
}

Test(worker, exits_when_the_master_is_gone)
{
	int p[2], status = 0;
	pid_t mid, w = 0;

	start(NULL, 0);
	cr_assert(eq(int, prctl(PR_SET_CHILD_SUBREAPER, 1), 0));
	cr_assert(eq(int, pipe(p), 0));
	mid = fork();
	cr_assert(mid >= 0);
	if (mid == 0) {
		/* A stand-in master: forks the worker, waits until it runs,
		 * tells the test its pid and dies. */
		pid_t pid = fork();

		if (pid == 0) {
			ctx.master_pid = getppid();
			log_set_level(LOG_LEVEL_ERROR);
			worker_main(&ctx);
		}
		if (pid < 0 || write(p[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		if (!wait_state(0, SB_STATE_WAITING, 5000))
			_exit(1);
		_exit(0);
	}
	(void)close(p[1]);
	cr_assert(eq(long, (long)read(p[0], &w, sizeof(w)), (long)sizeof(w)));
	kids[nkids++] = w;
	cr_assert(eq(long, (long)waitpid(mid, &status, 0), (long)mid));
	cr_assert(exited_zero(status), "status 0x%x", status);
	/* Now the worker is ours (subreaper): it must notice and leave. */
	cr_assert(wait_exit(w, 5000, &status), "worker outlived its master");
	forget_kid(w);
	cr_assert(exited_zero(status), "status 0x%x", status);
	(void)close(p[0]);
}

/* ---- access log --------------------------------------------------------- */

static char *read_log(const char *name)
{
	char path[600];
	char *s;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	s = tu_read(path, NULL);
	return s != NULL ? s : strdup("");
}

/* The log once it has lines lines containing needle (a line is written
 * just after its reply is sent), or as it is after 3 s. */
static char *wait_log(const char *name, const char *needle, size_t lines)
{
	uint64_t end = now_ms() + 3000;
	char *s = read_log(name);

	while (tu_count_lines_with(s, needle) < lines && now_ms() < end) {
		free(s);
		sleep_ms(10);
		s = read_log(name);
	}
	return s;
}

Test(worker, access_log_combined)
{
	struct cl c;
	struct rep r;
	char *log, want[256];

	start("access_log = '@DIR@/access.log'\n", 1);
	cl_open(&c);
	cl_get(&c, "/health/live?x=1",
	    "User-Agent: t/1 \"q\"\r\n"
	    "X-Request-Id: log-1\r\n",
	    &r);
	rep_free(&r);
	cl_get(&c, "/nope", "X-Request-Id: log-2\r\nReferer: http://r/\r\n",
	    &r);
	rep_free(&r);
	cl_close(&c);
	log = wait_log("access.log", "127.0.0.1 - - [", 2);
	cr_assert(eq(sz, tu_count_lines_with(log, "127.0.0.1 - - ["), 2), "%s",
	    log);
	cr_assert(not(eq(ptr,
	              strstr(log,
	                  "+0000] \"GET /health/live?x=1 "
	                  "HTTP/1.1\" 200 "),
	              NULL)),
	    "%s", log);
	(void)snprintf(want, sizeof(want), "\"-\" \"t/1 \\\"q\\\"\" log-1 %ld ",
	    (long)kids[0]);
	cr_assert(not(eq(ptr, strstr(log, want), NULL)), "%s", log);
	cr_assert(not(eq(ptr, strstr(log, "\"GET /nope HTTP/1.1\" 404 "),
	              NULL)),
	    "%s", log);
	cr_assert(not(eq(ptr, strstr(log, "\"http://r/\" \"-\" log-2 "), NULL)),
	    "%s", log);
	free(log);
}

Test(worker, access_log_json_and_reopen_on_sigusr1)
{
	struct cl c;
	struct rep r;
	char *log, old[600], cur[600];
	json_object *o, *v;

	start("access_log = '@DIR@/access.log'\naccess_log_format = json\n", 1);
	cl_open(&c);
	cl_get(&c, "/health/live", "User-Agent: t/2\r\nX-Request-Id: j-1\r\n",
	    &r);
	rep_free(&r);
	log = wait_log("access.log", "\"request_id\"", 1);
	cr_assert(eq(sz, tu_count_lines_with(log, "\"request_id\""), 1), "%s",
	    log);
	o = json_tokener_parse(log);
	bool parsed = o != NULL;
	cr_assert(parsed, "%s", log);
	cr_assert(json_object_object_get_ex(o, "request_id", &v));
	cr_assert(eq(str, (char *)json_object_get_string(v), "j-1"));
	cr_assert(json_object_object_get_ex(o, "path", &v));
	cr_assert(eq(str, (char *)json_object_get_string(v), "/health/live"));
	cr_assert(json_object_object_get_ex(o, "user_agent", &v));
	cr_assert(eq(str, (char *)json_object_get_string(v), "t/2"));
	cr_assert(json_object_object_get_ex(o, "status", &v));
	cr_assert(eq(int, json_object_get_int(v), 200));
	cr_assert(json_object_object_get_ex(o, "pid", &v));
	cr_assert(eq(long, (long)json_object_get_int64(v), (long)kids[0]));
	cr_assert(json_object_object_get_ex(o, "duration_us", &v));
	json_object_put(o);
	free(log);

	/* logrotate: move the file, SIGUSR1, and the next line goes to a new
	 * file at the configured path. */
	(void)snprintf(cur, sizeof(cur), "%s/access.log", dir);
	(void)snprintf(old, sizeof(old), "%s/access.log.1", dir);
	cr_assert(eq(int, rename(cur, old), 0));
	cr_assert(eq(int, kill(kids[0], SIGUSR1), 0));
	cl_get(&c, "/health/live", "X-Request-Id: j-2\r\n", &r);
	rep_free(&r);
	cl_close(&c);
	log = wait_log("access.log", "\"request_id\":\"j-2\"", 1);
	cr_assert(not(eq(ptr, strstr(log, "\"request_id\":\"j-2\""), NULL)),
	    "new file: %s", log);
	free(log);
	log = read_log("access.log.1");
	cr_assert(eq(ptr, strstr(log, "j-2"), NULL), "old file: %s", log);
	free(log);
}

/* ---- many clients at once ----------------------------------------------- */

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	cr_assert(eq(int, getrlimit(RLIMIT_NOFILE, &rl), 0));
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want)
		cr_skip_test("RLIMIT_NOFILE hard limit %llu is below %llu",
		    (unsigned long long)rl.rlim_max, (unsigned long long)want);
	rl.rlim_cur = want;
	cr_assert(eq(int, setrlimit(RLIMIT_NOFILE, &rl), 0));
}

#define NLORIS 500
#define NIDLE 256

/* One more header byte on every slow-loris connection. */
static void dribble(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)send(fds[i], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

Test(worker, new_client_answered_promptly_beside_500_slow_loris_and_256_idle)
{
	static const char loris_head[] =
	    "GET /health/live HTTP/1.1\r\nHost: t\r\nX-";
	static int loris[NLORIS];
	static struct cl idle[NIDLE];
	struct rep r;
	uint64_t worst = 0;
	size_t i;
	int k;

	raise_nofile(4096);
	start("header_timeout = 60s\nkeepalive_timeout = 60s\n"
	      "worker_connections = 1000\n",
	    4);
	for (i = 0; i < NLORIS; i++) {
		loris[i] = connect_fd();
		cr_assert(loris[i] >= 0, "slow-loris %zu: %s", i,
		    strerror(errno));
		(void)send(loris[i], loris_head, strlen(loris_head),
		    MSG_NOSIGNAL);
	}
	for (i = 0; i < NIDLE; i++) {
		struct rep ir;

		cl_open(&idle[i]);
		cl_get(&idle[i], "/health/live", NULL, &ir);
		cr_assert(eq(int, ir.status, 200));
		rep_free(&ir);
	}
	dribble(loris, NLORIS);
	for (k = 0; k < 5; k++) {
		struct cl c;
		uint64_t t0 = now_ms(), took;
		struct pollfd p;

		cl_open(&c);
		cl_send(&c, "GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n");
		p.fd = c.fd;
		p.events = POLLIN;
		/* Keep the slow-loris clients dribbling while we wait. */
		while (poll(&p, 1, 50) == 0 && now_ms() - t0 < 5000)
			dribble(loris, NLORIS);
		cr_assert(eq(int, cl_reply(&c, &r, false), 0));
		took = now_ms() - t0;
		cr_assert(eq(int, r.status, 200));
		rep_free(&r);
		cl_close(&c);
		if (took > worst)
			worst = took;
		dribble(loris, NLORIS);
		sleep_ms(100);
	}
	cr_log_info("worst of 5 answers beside %d slow-loris and %d idle "
	            "connections: %llu ms",
	    NLORIS, NIDLE, (unsigned long long)worst);
	cr_assert(worst < 1000, "a new client waited %llu ms",
	    (unsigned long long)worst);
	/* The idle keep-alive connections still work. */
	for (i = 0; i < NIDLE; i += 51) {
		cl_get(&idle[i], "/health/live", NULL, &r);
		cr_assert(eq(int, r.status, 200));
		rep_free(&r);
	}
	for (i = 0; i < NIDLE; i++)
		cl_close(&idle[i]);
	for (i = 0; i < NLORIS; i++)
		(void)close(loris[i]);
}
