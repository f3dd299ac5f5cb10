/*
 * wtest.c - the harness of the worker tests; see wtest.h.
 *
 * Test-only code, run in the Criterion test process (which plays the
 * master) and in the workers it forks.
 */
#include "wtest.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "testutil.h"

char *wt_dir;
static char wt_sbpath[512];
struct sb *wt_sb;
struct cfg *wt_cfg;
struct listeners wt_ls;
struct worker_ctx wt_ctx;
int wt_port;
pid_t wt_kids[WT_MAXKIDS];
int wt_nkids;
/* When > 0: a spawned worker may open only this many descriptors more
 * than it inherited. */
int wt_spare_fds;
/* The master key, loaded from the configuration as the master does. */
static struct secret_key wt_master_key;

/* Short timeouts (the smallest the keys allow) and the debug routes. */
static const char base_conf[] = "header_timeout = 1s\n"
                                "body_timeout = 1s\n"
                                "send_timeout = 1s\n"
                                "keepalive_timeout = 5s\n"
                                "debug_routes = on\n" TU_MASTER_KEY_CONF;

uint64_t wt_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void wt_sleep_ms(int ms)
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

void wt_teardown(void)
{
	int i;

	for (i = 0; i < wt_nkids; i++) {
		if (wt_kids[i] <= 0)
			continue;
		(void)kill(wt_kids[i], SIGKILL);
		(void)waitpid(wt_kids[i], NULL, 0);
		wt_kids[i] = 0;
	}
	wt_nkids = 0;
	wt_spare_fds = 0;
	if (wt_ctx.access_log_fd >= 0)
		(void)close(wt_ctx.access_log_fd);
	wt_ctx.access_log_fd = -1;
	listeners_close(&wt_ls);
	sb_close(&wt_sb);
	cfg_free(&wt_cfg);
	if (wt_dir != NULL)
		(void)nftw(wt_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(wt_dir);
	wt_dir = NULL;
}

void wt_setup(void)
{
	wt_ctx.access_log_fd = -1;
}

/* extra with every "@DIR@" replaced by the test's folder. */
static void expand(struct buf *out, const char *extra)
{
	const char *p;

	while ((p = strstr(extra, "@DIR@")) != NULL) {
		(void)buf_append(out, extra, (size_t)(p - extra));
		(void)buf_puts(out, wt_dir);
		extra = p + 5;
	}
	(void)buf_puts(out, extra);
}

static void limit_fds(int spare)
{
	struct rlimit rl;
	int fd, open_fds = 0;

	for (fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			open_fds = fd + 1;
	rl.rlim_cur = rl.rlim_max = (rlim_t)(open_fds + spare);
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		_exit(3);
}

pid_t wt_spawn(uint32_t slot)
{
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct worker_ctx c = wt_ctx;

		if (wt_spare_fds > 0)
			limit_fds(wt_spare_fds);
		c.slot = slot;
		log_set_level(
		    getenv("TW_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
		worker_main(&c);
	}
	wt_kids[wt_nkids++] = pid;
	return pid;
}

bool wt_slot_view(uint32_t slot, struct sb_slot_view *v)
{
	return sb_slot_read(wt_sb, slot, v) == 0;
}

/* Wait up to ms for slot to show state (and pid, when not 0). */
bool wt_wait_state(uint32_t slot, char state, int ms)
{
	uint64_t end = wt_now_ms() + (uint64_t)ms;
	struct sb_slot_view v;

	do {
		if (wt_slot_view(slot, &v) && v.pid != 0 && v.state == state)
			return true;
		wt_sleep_ms(10);
	} while (wt_now_ms() < end);
	return false;
}

/* Configuration (base_conf then extra), listener, scoreboard, access log,
 * and n workers in slots 0 .. n-1, each ready (slot claimed). */
void wt_start(const char *extra, int n)
{
	struct cfg_errs errs = {0};
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct buf text;
	char err[256];
	int i, rc;

	tu_clear_pacer_env();
	wt_dir = tu_tmpdir();
	wt_cfg = cfg_new();
	cr_assert(not(eq(ptr, wt_cfg, NULL)));
	buf_init_dynamic(&text, 1 << 16);
	(void)buf_puts(&text, base_conf);
	if (extra != NULL)
		expand(&text, extra);
	rc = cfg_load_buffer(wt_cfg, "test.conf", buf_str(&text), text.len,
	    CFG_NO_ENV, &errs);
	cr_assert(eq(int, rc, 0), "config: %s", errs.n > 0 ? errs.msg[0] : "?");
	cfg_errs_free(&errs);
	buf_free(&text);
	cr_assert(eq(int,
	              listeners_open("127.0.0.1:0", 1024, NULL, &wt_ls, err,
	                  sizeof(err)),
	              0),
	    "%s", err);
	cr_assert(eq(int,
	    getsockname(wt_ls.v[0].fd, (struct sockaddr *)&sa, &len), 0));
	wt_port = ntohs(sa.sin_port);
	(void)snprintf(wt_sbpath, sizeof(wt_sbpath), "%s/%s", wt_dir,
	    SB_FILE_NAME);
	wt_sb = sb_create(wt_sbpath, WT_NSLOTS, getpid(), err, sizeof(err));
	cr_assert(not(eq(ptr, wt_sb, NULL)), "sb_create: %s", err);
	memset(&wt_ctx, 0, sizeof(wt_ctx));
	wt_ctx.cfg = wt_cfg;
	wt_ctx.ls = &wt_ls;
	wt_ctx.sb = wt_sb;
	wt_ctx.generation = 1;
	wt_ctx.master_pid = getpid();
	wt_ctx.access_log_fd = -1;
	cr_assert(eq(int,
	              secret_key_load(wt_cfg, &wt_master_key, err, sizeof(err)),
	              0),
	    "%s", err);
	wt_ctx.master_key = &wt_master_key;
	if (wt_cfg->access_log[0] != '\0') {
		wt_ctx.access_log_fd = open(wt_cfg->access_log,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		cr_assert(wt_ctx.access_log_fd >= 0);
	}
	for (i = 0; i < n; i++)
		(void)wt_spawn((uint32_t)i);
	for (i = 0; i < n; i++)
		cr_assert(wt_wait_state((uint32_t)i, SB_STATE_WAITING, 5000),
		    "worker %d never became ready", i);
}

/* ---- a small HTTP client ------------------------------------------------ */

int wt_connect_fd(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_port = htons((uint16_t)wt_port)};
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

void wt_open(struct wt_cl *c)
{
	struct timeval tv = {WT_IO_MS / 1000, 0};

	memset(c, 0, sizeof(*c));
	c->fd = wt_connect_fd();
	cr_assert(c->fd >= 0, "connect to port %d: %s", wt_port,
	    strerror(errno));
	cr_assert(eq(int,
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0));
	cr_assert(eq(int,
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0));
}

void wt_close(struct wt_cl *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

void wt_sendn(struct wt_cl *c, const char *s, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t k = send(c->fd, s + off, n - off, MSG_NOSIGNAL);

		cr_assert(k > 0, "send: %s", strerror(errno));
		off += (size_t)k;
	}
}

void wt_send(struct wt_cl *c, const char *s)
{
	wt_sendn(c, s, strlen(s));
}

/* One recv into the client buffer: bytes read, 0 at EOF, -1 on error. */
ssize_t wt_fill(struct wt_cl *c)
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

bool wt_head_field(const char *head, const char *name, char *val, size_t n)
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
int wt_reply(struct wt_cl *c, struct wt_rep *r, bool head_req)
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
		if (wt_fill(c) <= 0)
			return -1;
	}
	hlen = (size_t)(end - c->buf) + 4;
	r->head = strndup(c->buf, hlen);
	cr_assert(eq(int, strncmp(r->head, "HTTP/1.1 ", 9), 0), "%s", r->head);
	r->status = atoi(r->head + 9);
	if (!head_req && r->status >= 200 && r->status != 204 &&
	    r->status != 304 &&
	    wt_head_field(r->head, "Content-Length", val, sizeof(val)))
		blen = (size_t)strtoull(val, NULL, 10);
	while (c->len < hlen + blen)
		if (wt_fill(c) <= 0)
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

void wt_rep_free(struct wt_rep *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

bool wt_rep_has(const struct wt_rep *r, const char *name, const char *want)
{
	char val[256];

	return wt_head_field(r->head, name, val, sizeof(val)) &&
	    strcmp(val, want) == 0;
}

bool wt_rep_closes(const struct wt_rep *r)
{
	return wt_rep_has(r, "Connection", "close");
}

/* Whether the server closes the connection (EOF, nothing more sent)
 * within ms. */
bool wt_eof(struct wt_cl *c, int ms)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	uint64_t end = wt_now_ms() + (uint64_t)ms;

	if (c->len > 0)
		return false;
	for (;;) {
		int left = (int)(end > wt_now_ms() ? end - wt_now_ms() : 0);
		ssize_t n;

		if (poll(&p, 1, left) <= 0)
			return false;
		n = wt_fill(c);
		if (n == 0)
			return true;
		return false; /* a reset, or bytes we did not expect */
	}
}

/* GET path (with extra header lines) and read the reply. */
void wt_get(struct wt_cl *c, const char *path, const char *extra,
    struct wt_rep *r)
{
	char req[1024];

	(void)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n",
	    path, extra != NULL ? extra : "");
	wt_send(c, req);
	cr_assert(eq(int, wt_reply(c, r, false), 0), "no reply to GET %s",
	    path);
}

/* One request on a new connection; the reply in r. */
void wt_exchange(const char *req, struct wt_rep *r, bool head_req)
{
	struct wt_cl c;

	wt_open(&c);
	wt_send(&c, req);
	cr_assert(eq(int, wt_reply(&c, r, head_req), 0), "no reply to %.60s",
	    req);
	wt_close(&c);
}

bool wt_is_hex_id(const char *s)
{
	return strlen(s) == 16 && strspn(s, "0123456789abcdef") == 16;
}
