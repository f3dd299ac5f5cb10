/*
 * conn.c - the connections of one worker; see conn.h.
 *
 * Runs in worker processes only. A connection moves through these states:
 *
 *	HEAD  --head parsed--> BODY --body complete--> (serve) --> reply
 *	reply --all written--> IDLE (keep-alive), or HEAD (pipelined bytes
 *	      are already buffered), or LINGER (closing)
 *	reply --would block--> WRITE --written--> as above
 *	LINGER --EOF or CONN_LINGER_MS--> closed
 *
 * A request is served synchronously the moment it is complete: the
 * handler runs, the response is built and written at once, and only when
 * the client reads too slowly is the rest parked (WRITE, EPOLLOUT). A
 * parked connection reads nothing: its next pipelined request waits until
 * the reply is out, so replies stay in request order and one client's
 * pipeline cannot grow our buffers. Reading and writing never block, so a
 * slow or idle client costs a descriptor and a few kilobytes, never the
 * worker.
 *
 * Why conns are freed late: one epoll_wait() batch may hold events for a
 * connection that an earlier event of the same batch closed. A closed
 * connection is therefore only marked (CLOSED, its descriptor closed) and
 * put on the zombie list; its memory is freed by conn_reap() after the
 * batch, so a stale event finds a CLOSED conn, never freed memory.
 *
 * TLS connections (listeners marked tls) take the same path: the
 * handshake runs first, in the HEAD state under the header timer, its
 * WANT_READ/WANT_WRITE turned into the epoll interest; then SSL_read and
 * SSL_write stand in for recv and send (io_recv, io_send). OpenSSL may
 * hold decrypted bytes epoll cannot see (SSL_pending): such a connection
 * is queued with tls_kick set, so the loop's next turn reads them. Before
 * a lingering close it sends close_notify (best effort, never waited
 * for), then drains the socket below TLS.
 *
 * Every byte count and every length here comes from the network; the
 * parser checks them against the configured limits before we act, and
 * the read buffer never grows past the largest valid request plus one
 * read.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "access_log.h"
#include "auth.h"
#include "cors.h"
#include "log.h"
#include "sb.h"

#define CONN_RBUF_INIT 2048u              /* first read buffer */
#define CONN_READ_MIN 512u                /* grow when less room is left */
#define CONN_READ_MAX ((size_t)16 * 1024) /* the one read past a request */
#define CONN_LINGER_READS 16             /* recv calls per wake-up, lingering */
#define CONN_RESP_MAX ((size_t)32 << 20) /* largest response body */
#define CONN_LOGLINE_MAX ((size_t)16 * 1024) /* longest access log line */

static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

enum conn_state {
	CS_HEAD,   /* reading a request head (or waiting for the first) */
	CS_BODY,   /* head parsed, reading the body */
	CS_WRITE,  /* reply parked until the client reads */
	CS_IDLE,   /* keep-alive, between requests */
	CS_LINGER, /* write side shut, discarding input */
	CS_CLOSED, /* closed, waiting for conn_reap */
};

struct conn {
	struct conn_src src;
	int fd;
	enum conn_state state;
	uint32_t events; /* the epoll interest set */

	int tkind; /* enum conn_timer, or -1 */
	uint64_t deadline_ms;
	struct conn *tprev, *tnext;
	bool pending;
	struct conn *pprev, *pnext;
	struct conn *znext;

	char *rbuf; /* every byte of the requests not yet served */
	size_t rlen, rcap;
	struct http_header *hdrs;
	struct http_request req;
	struct buf chunked; /* a decoded chunked body */

	char *wpend; /* reply bytes the client has not taken yet */
	size_t wlen, woff;

	bool head_ok;      /* req's head parsed */
	bool close_after;  /* close once the reply is written */
	int early;         /* a status decided at the head, 0: none */
	uint32_t requests; /* replies completed on this connection */
	uint64_t start_us; /* when the request began (sb_clock_us) */
	uint64_t head_us;  /* when its head was complete */
	struct timespec start_wall;
	char rid[HTTP_RESP_ID_MAX + 1];
	char client[SB_CLIENT_MAX];
	bool loopback;

	SSL *ssl;          /* a TLS connection's; NULL: plain */
	uint32_t tls_want; /* what a blocked SSL call waits for */
	bool tls_ready;    /* handshake done */
	bool tls_failed;   /* a fatal TLS error: no close_notify */
	bool tls_bye;      /* close_notify sent */
	bool tls_kick;     /* queued to read bytes OpenSSL holds */
};

static void conn_process(struct conn_loop *l, struct conn *c);

static bool would_block(int e)
{
#if EWOULDBLOCK != EAGAIN
	if (e == EWOULDBLOCK)
		return true;
#endif
	return e == EAGAIN;
}
static void conn_refuse(struct conn_loop *l, struct conn *c, int status,
    const char *reason);

/* ---- bookkeeping ------------------------------------------------------- */

void conn_loop_now(struct conn_loop *l)
{
	l->now_ms = sb_clock_us() / 1000;
}

/* What the scoreboard counts a connection in this state as: 0 reading,
 * 1 keep-alive, 2 writing (lingering included), -1 nothing. */
static int category(enum conn_state st)
{
	switch (st) {
	case CS_HEAD:
	case CS_BODY: return 0;
	case CS_IDLE: return 1;
	case CS_WRITE:
	case CS_LINGER: return 2;
	case CS_CLOSED: break;
	}
	return -1;
}

static uint32_t *counter(struct conn_loop *l, int category)
{
	switch (category) {
	case 0: return &l->nreading;
	case 1: return &l->nkeepalive;
	default: return &l->nwriting;
	}
}

static void set_state(struct conn_loop *l, struct conn *c, enum conn_state st)
{
	int from = category(c->state), to = category(st);

	if (from != to) {
		if (from >= 0)
			(*counter(l, from))--;
		if (to >= 0)
			(*counter(l, to))++;
		l->conns_dirty = true;
	}
	c->state = st;
}

static void timer_stop(struct conn_loop *l, struct conn *c)
{
	struct conn_tlist *t;

	if (c->tkind < 0)
		return;
	t = &l->timers[c->tkind];
	if (c->tprev != NULL)
		c->tprev->tnext = c->tnext;
	else
		t->head = c->tnext;
	if (c->tnext != NULL)
		c->tnext->tprev = c->tprev;
	else
		t->tail = c->tprev;
	c->tprev = c->tnext = NULL;
	c->tkind = -1;
}

/* (Re)arm c's one timer. Appending keeps each list sorted: every entry of
 * a kind has the same duration and now_ms never goes back. */
static void timer_start(struct conn_loop *l, struct conn *c,
    enum conn_timer kind)
{
	struct conn_tlist *t = &l->timers[kind];

	timer_stop(l, c);
	c->tkind = (int)kind;
	c->deadline_ms = l->now_ms + t->dur_ms;
	c->tprev = t->tail;
	c->tnext = NULL;
	if (t->tail != NULL)
		t->tail->tnext = c;
	else
		t->head = c;
	t->tail = c;
}

static void pend_add(struct conn_loop *l, struct conn *c)
{
	if (c->pending)
		return;
	c->pending = true;
	c->pprev = l->pend_tail;
	c->pnext = NULL;
	if (l->pend_tail != NULL)
		l->pend_tail->pnext = c;
	else
		l->pend_head = c;
	l->pend_tail = c;
}

static void pend_del(struct conn_loop *l, struct conn *c)
{
	if (!c->pending)
		return;
	if (c->pprev != NULL)
		c->pprev->pnext = c->pnext;
	else
		l->pend_head = c->pnext;
	if (c->pnext != NULL)
		c->pnext->pprev = c->pprev;
	else
		l->pend_tail = c->pprev;
	c->pprev = c->pnext = NULL;
	c->pending = false;
	c->tls_kick = false;
}

static int set_events(struct conn_loop *l, struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (c->events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		log_err("epoll_ctl(MOD) of a connection from %s", c->client);
		return -1;
	}
	c->events = events;
	return 0;
}

/* ---- TLS ---------------------------------------------------------------- */

/* After an SSL call that returned rc <= 0, say it as recv or send would:
 * 0 at the peer's close_notify, -1 with errno (EAGAIN when the call must
 * wait for c->tls_want). saved is errno right after the call. */
static ssize_t tls_result(struct conn *c, int rc, int saved)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		c->tls_want = EPOLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		c->tls_want = EPOLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN: return 0;
	case SSL_ERROR_SYSCALL:
		c->tls_failed = true;
		errno = saved != 0 ? saved : ECONNRESET;
		return -1;
	default:
		c->tls_failed = true;
		errno = EPROTO;
		return -1;
	}
}

/* Why the last TLS call failed, for a debug line: OpenSSL's reason or the
 * system's. Never anything of the key or the traffic. */
static const char *tls_why(int saved)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (r != NULL)
		return r;
	return saved != 0 ? strerror(saved) : "connection closed";
}

/* Go on with the handshake. Returns 1 when it is done, 0 when it waits
 * (the interest set says for what), -1 when it failed (close c). */
static int tls_handshake(struct conn_loop *l, struct conn *c)
{
	int rc, saved;

	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(c->ssl);
	saved = errno;
	if (rc == 1) {
		c->tls_ready = true;
		return set_events(l, c, EPOLLIN) == 0 ? 1 : -1;
	}
	if (tls_result(c, rc, saved) < 0 && would_block(errno))
		return set_events(l, c, c->tls_want) == 0 ? 0 : -1;
	/* Debug only: scanners and plain HTTP on this port are noise. */
	log_debug("TLS handshake with %s failed: %s", c->client,
	    tls_why(saved));
	ERR_clear_error();
	return -1;
}

/* Send close_notify once, without waiting for the peer's. */
static void tls_bye(struct conn *c)
{
	if (c->ssl == NULL || !c->tls_ready || c->tls_failed || c->tls_bye)
		return;
	c->tls_bye = true;
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
}

/* recv, or SSL_read on a TLS connection. */
static ssize_t io_recv(struct conn *c, char *p, size_t n)
{
	ssize_t r;
	int rc, saved;

	if (c->ssl == NULL) {
		do {
			r = recv(c->fd, p, n, 0);
		} while (r < 0 && errno == EINTR);
		return r;
	}
	ERR_clear_error();
	errno = 0;
	rc = SSL_read(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	saved = errno;
	if (rc > 0)
		return rc;
	r = tls_result(c, rc, saved);
	if (r < 0 && !would_block(errno))
		log_debug("TLS read from %s: %s", c->client, tls_why(saved));
	ERR_clear_error();
	return r;
}

/* send, or SSL_write on a TLS connection (n > 0). */
static ssize_t io_send(struct conn *c, const char *p, size_t n)
{
	ssize_t r;
	int rc, saved;

	if (c->ssl == NULL)
		return send(c->fd, p, n, MSG_NOSIGNAL);
	ERR_clear_error();
	errno = 0;
	rc = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	saved = errno;
	if (rc > 0)
		return rc;
	r = tls_result(c, rc, saved);
	ERR_clear_error();
	return r;
}

/* The interest of a parked reply: EPOLLOUT, unless TLS must read first. */
static uint32_t write_events(const struct conn *c)
{
	return c->ssl != NULL && c->tls_want == EPOLLIN ? EPOLLIN : EPOLLOUT;
}

/* Decrypted bytes wait inside OpenSSL, where epoll cannot see them, and
 * c waits for input: read them on the loop's next turn. */
static void tls_check_pending(struct conn_loop *l, struct conn *c)
{
	if (c->ssl == NULL || !c->tls_ready || c->tls_failed || c->tls_bye ||
	    c->pending ||
	    (c->state != CS_HEAD && c->state != CS_BODY &&
	        c->state != CS_IDLE) ||
	    SSL_pending(c->ssl) <= 0)
		return;
	c->tls_kick = true;
	pend_add(l, c);
}

static void free_wpend(struct conn *c)
{
	free(c->wpend);
	c->wpend = NULL;
	c->wlen = c->woff = 0;
}

/* Drop the read side's memory (an idle or closing connection). */
static void free_rbufs(struct conn *c)
{
	free(c->rbuf);
	c->rbuf = NULL;
	c->rlen = c->rcap = 0;
	free(c->hdrs);
	c->hdrs = NULL;
	buf_free(&c->chunked);
}

static void conn_close(struct conn_loop *l, struct conn *c)
{
	if (c->state == CS_CLOSED)
		return;
	timer_stop(l, c);
	pend_del(l, c);
	if (c->ssl != NULL) {
		tls_bye(c);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	/* close() also removes fd from the epoll set: we never dup it. */
	if (close(c->fd) != 0 && errno != EINTR)
		log_debug("close of a connection from %s: %s", c->client,
		    strerror(errno));
	c->fd = -1;
	set_state(l, c, CS_CLOSED);
	l->nconns--;
	free_rbufs(c);
	free_wpend(c);
	c->znext = l->zombies;
	l->zombies = c;
}

void conn_reap(struct conn_loop *l)
{
	while (l->zombies != NULL) {
		struct conn *c = l->zombies;

		l->zombies = c->znext;
		free(c);
	}
}

/* ---- requests ----------------------------------------------------------- */

/* A request begins (accept, the first byte after keep-alive, or pipelined
 * bytes already here). Returns 0, or -1 when out of memory. */
static int req_begin(struct conn_loop *l, struct conn *c)
{
	size_t nh = l->limits.max_headers;

	if (c->hdrs == NULL &&
	    (c->hdrs = calloc(nh, sizeof(*c->hdrs))) == NULL) {
		log_err("could not allocate %zu header slots", nh);
		return -1;
	}
	http_request_init(&c->req, &l->limits, c->hdrs, nh);
	buf_free(&c->chunked);
	c->head_ok = false;
	c->early = 0;
	c->rid[0] = '\0';
	c->start_us = sb_clock_us();
	if (clock_gettime(CLOCK_REALTIME, &c->start_wall) != 0)
		c->start_wall = (struct timespec){0, 0};
	return 0;
}

/* Read once. Returns the bytes read, 0 at EOF, -1 on an error, -2 when
 * nothing is there now, -3 when the buffer is full. */
static ssize_t conn_recv(struct conn_loop *l, struct conn *c)
{
	ssize_t n;

	if (c->rcap - c->rlen < CONN_READ_MIN && c->rcap < l->rbuf_max) {
		size_t cap = c->rcap == 0 ? CONN_RBUF_INIT : c->rcap * 2;
		char *p;

		if (cap > l->rbuf_max)
			cap = l->rbuf_max;
		if ((p = realloc(c->rbuf, cap)) == NULL) {
			log_err("could not grow a read buffer to %zu bytes",
			    cap);
			return -1;
		}
		c->rbuf = p;
		c->rcap = cap;
	}
	if (c->rlen == c->rcap)
		return -3;
	n = io_recv(c, c->rbuf + c->rlen, c->rcap - c->rlen);
	if (n < 0 && would_block(errno)) {
		/* TLS may have to write before it can read (EPOLLOUT). */
		if (c->ssl != NULL && set_events(l, c, c->tls_want) != 0)
			return -1;
		return -2;
	}
	if (n > 0 && c->ssl != NULL && set_events(l, c, EPOLLIN) != 0)
		return -1;
	if (n > 0)
		c->rlen += (size_t)n;
	return n;
}

/* Send from p; *sent says how much went. Returns 0 (all sent, or the
 * socket is full), -1 on an error. */
static int send_some(struct conn *c, const char *p, size_t len, size_t *sent)
{
	*sent = 0;
	while (*sent < len) {
		ssize_t n = io_send(c, p + *sent, len - *sent);

		if (n > 0) {
			*sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && would_block(errno))
			return 0;
		return -1;
	}
	return 0;
}

/* Keep p[0..len) for later, after what is already kept. */
static int queue_bytes(struct conn *c, const char *p, size_t len)
{
	size_t keep = c->wlen - c->woff;
	char *q;

	if ((q = malloc(keep + len)) == NULL) {
		log_err("could not keep %zu reply bytes", keep + len);
		return -1;
	}
	if (keep > 0)
		memcpy(q, c->wpend + c->woff, keep);
	memcpy(q + keep, p, len);
	free(c->wpend);
	c->wpend = q;
	c->wlen = keep + len;
	c->woff = 0;
	return 0;
}

/* Write what is queued. Returns 1 when nothing is left, 0 when the
 * socket is full, -1 on an error. */
static int flush_queue(struct conn *c)
{
	size_t sent;

	if (c->woff == c->wlen)
		return 1;
	if (send_some(c, c->wpend + c->woff, c->wlen - c->woff, &sent) != 0)
		return -1;
	c->woff += sent;
	if (c->woff < c->wlen)
		return 0;
	free_wpend(c);
	return 1;
}

/* Write p[0..len) after anything queued; keep what does not fit. Returns
 * 1 when all is out, 0 when some is queued, -1 on an error. */
static int send_or_queue(struct conn *c, const char *p, size_t len)
{
	size_t sent = 0;
	int rc;

	if (c->woff == c->wlen) {
		if (send_some(c, p, len, &sent) != 0)
			return -1;
		if (sent == len)
			return 1;
		return queue_bytes(c, p + sent, len - sent) == 0 ? 0 : -1;
	}
	if (queue_bytes(c, p, len) != 0)
		return -1;
	rc = flush_queue(c);
	return rc;
}

/* ---- closing ------------------------------------------------------------ */

static void linger_read(struct conn_loop *l, struct conn *c)
{
	char scratch[4096];
	int i;

	for (i = 0; i < CONN_LINGER_READS; i++) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), 0);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && would_block(errno))
			return;
		conn_close(l, c); /* EOF, or the client reset */
		return;
	}
}

/* Close gently: our side is done, the client's bytes are read and
 * dropped until it closes too (or CONN_LINGER_MS), so our last reply is
 * not destroyed by a reset when unread data arrives. */
static void conn_linger(struct conn_loop *l, struct conn *c)
{
	pend_del(l, c);
	free_rbufs(c);
	free_wpend(c);
	tls_bye(c); /* then the socket is drained below TLS */
	if (shutdown(c->fd, SHUT_WR) != 0 || set_events(l, c, EPOLLIN) != 0) {
		conn_close(l, c);
		return;
	}
	set_state(l, c, CS_LINGER);
	timer_start(l, c, CONN_T_LINGER);
	linger_read(l, c);
}

/* ---- after a reply ------------------------------------------------------ */

static void conn_after_reply(struct conn_loop *l, struct conn *c)
{
	size_t left;

	if (c->close_after) {
		conn_linger(l, c);
		return;
	}
	c->requests++;
	left = c->rlen - c->req.consumed;
	if (left > 0)
		memmove(c->rbuf, c->rbuf + c->req.consumed, left);
	c->rlen = left;
	if (left > 0) {
		/* The next pipelined request: parse it on the next turn of
		 * the loop, after the other connections had theirs. */
		if (req_begin(l, c) != 0) {
			conn_close(l, c);
			return;
		}
		set_state(l, c, CS_HEAD);
		timer_start(l, c, CONN_T_HEADER);
		pend_add(l, c);
		return;
	}
	free_rbufs(c);
	set_state(l, c, CS_IDLE);
	timer_start(l, c, l->graceful ? CONN_T_GRACE : CONN_T_KEEPALIVE);
	tls_check_pending(l, c);
}

/* What became of the first attempt to write a reply (send_or_queue). */
static void conn_sent(struct conn_loop *l, struct conn *c, int rc)
{
	if (rc < 0) {
		log_debug("request %s: could not write the reply to %s: %s",
		    c->rid, c->client, strerror(errno));
		conn_close(l, c);
		return;
	}
	if (rc == 1) {
		conn_after_reply(l, c);
		return;
	}
	if (set_events(l, c, write_events(c)) != 0) {
		conn_close(l, c);
		return;
	}
	set_state(l, c, CS_WRITE);
	timer_start(l, c, CONN_T_SEND);
}

static void conn_writable(struct conn_loop *l, struct conn *c)
{
	size_t before = c->woff;
	int rc = flush_queue(c);

	if (rc < 0) {
		conn_close(l, c);
		return;
	}
	if (rc == 0) {
		if (c->woff != before)
			timer_start(l, c, CONN_T_SEND);
		if (set_events(l, c, write_events(c)) != 0)
			conn_close(l, c);
		return;
	}
	timer_stop(l, c);
	if (set_events(l, c, EPOLLIN) != 0) {
		conn_close(l, c);
		return;
	}
	conn_after_reply(l, c);
}

/* ---- accounting --------------------------------------------------------- */

static struct access_log_str slice_str(const struct conn *c,
    struct http_slice s)
{
	struct access_log_str v = {c->rbuf + s.off, s.len};

	return v;
}

static struct access_log_str header_str(const struct conn *c, const char *name)
{
	struct access_log_str v = {NULL, 0};
	struct http_slice s;

	if (c->head_ok && http_header_get(&c->req, c->rbuf, name, &s))
		v = slice_str(c, s);
	return v;
}

static void access_log(struct conn_loop *l, struct conn *c, int status,
    uint64_t body_bytes, uint64_t duration_us)
{
	struct access_log_entry e;

	memset(&e, 0, sizeof(e));
	e.time_s = (int64_t)c->start_wall.tv_sec;
	e.time_ms = (int)(c->start_wall.tv_nsec / 1000000);
	e.client = c->client;
	e.version_minor = -1;
	if (c->head_ok) {
		e.method = slice_str(c, c->req.method_text);
		e.target = slice_str(c, c->req.target);
		e.path = slice_str(c, c->req.path);
		e.query = slice_str(c, c->req.query);
		e.version_minor = c->req.version_minor;
	}
	e.status = status;
	e.bytes = body_bytes;
	e.referer = header_str(c, "Referer");
	e.user_agent = header_str(c, "User-Agent");
	e.request_id = c->rid;
	e.pid = (long)getpid();
	e.duration_us = duration_us;
	buf_reset(&l->logline);
	if (access_log_format(&l->logline, l->cfg->access_log_format, &e) !=
	        0 ||
	    access_log_write(l->ctx->access_log_fd, &l->logline) != 0) {
		if (!l->log_failed)
			log_warn("request %s: could not write the access log",
			    c->rid);
		l->log_failed = true;
		return;
	}
	l->log_failed = false;
}

/* Resident size in bytes from /proc/self/statm (one pread, no stdio), or
 * 0 when unknown. */
static uint64_t rss_bytes(const struct conn_loop *l)
{
	char text[128];
	ssize_t n;
	uint64_t pages = 0;
	char *p;

	if (l->statm_fd < 0)
		return 0;
	n = pread(l->statm_fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	p = strchr(text, ' '); /* size, then resident */
	if (p == NULL)
		return 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		pages = pages * 10 + (uint64_t)(*p - '0');
	return pages * (uint64_t)l->page_size;
}

static void check_recycle(struct conn_loop *l)
{
	const struct worker_ctx *ctx = l->ctx;
	uint64_t rss;

	if (ctx->request_limit > 0 && l->served >= ctx->request_limit &&
	    (l->recycle_asked & SB_RECYCLE_REQUESTS) == 0) {
		log_info("served %llu requests (limit %llu), asking to be "
		         "recycled",
		    (unsigned long long)l->served,
		    (unsigned long long)ctx->request_limit);
		(void)sb_slot_want_recycle(ctx->sb, ctx->slot,
		    SB_RECYCLE_REQUESTS);
		l->recycle_asked |= SB_RECYCLE_REQUESTS;
	}
	if (l->cfg->max_worker_rss <= 0 ||
	    (l->recycle_asked & SB_RECYCLE_RSS) != 0)
		return;
	rss = rss_bytes(l);
	if (rss > (uint64_t)l->cfg->max_worker_rss) {
		log_info("resident size %llu bytes passed max_worker_rss %lld, "
		         "asking to be recycled",
		    (unsigned long long)rss, (long long)l->cfg->max_worker_rss);
		(void)sb_slot_want_recycle(ctx->sb, ctx->slot, SB_RECYCLE_RSS);
		l->recycle_asked |= SB_RECYCLE_RSS;
	}
}

/* The scoreboard's "handling" mark for the request in hand. */
static void account_begin(struct conn_loop *l, struct conn *c)
{
	const char *m = "", *p = "";
	size_t mlen = 0, plen = 0;

	if (c->head_ok) {
		m = c->rbuf + c->req.method_text.off;
		mlen = c->req.method_text.len;
		p = c->rbuf + c->req.path.off;
		plen = c->req.path.len;
	}
	(void)sb_slot_begin_request(l->ctx->sb, l->ctx->slot, m, mlen, p, plen,
	    c->client, sb_clock_us());
}

/* A reply was built: counters, access log, recycling. */
static void account_end(struct conn_loop *l, struct conn *c, size_t route,
    uint64_t body_bytes)
{
	const struct worker_ctx *ctx = l->ctx;
	int status = l->resp.status;
	uint64_t now = sb_clock_us();
	uint64_t from = c->head_ok ? c->head_us : c->start_us;
	uint64_t lat = now > from ? now - from : 0;
	uint64_t in =
	    c->head_ok && c->req.consumed > 0 ? c->req.consumed : c->rlen;

	(void)sb_slot_end_request(ctx->sb, ctx->slot, status, in, l->wbuf.len,
	    lat);
	(void)sb_route_count(ctx->sb, (uint32_t)route, status, lat);
	l->shown_state = SB_STATE_WAITING;
	if (ctx->access_log_fd >= 0)
		access_log(l, c, status, body_bytes, lat);
	if (status >= 500 && status != 501 && status != 505)
		log_warnx("request %s from %s: answered %d", c->rid, c->client,
		    status);
	l->served++;
	check_recycle(l);
	conn_loop_now(l); /* a handler may have taken long */
}

/* ---- replies ------------------------------------------------------------ */

/* How the reply to c goes out; decides keep-alive (c->close_after). */
static void reply_meta(struct conn_loop *l, struct conn *c,
    struct http_resp_meta *m)
{
	const struct cfg *cfg = l->cfg;
	bool stopping =
	    l->graceful || (l->stop_requested != NULL && l->stop_requested());

	memset(m, 0, sizeof(*m));
	m->request_id = c->rid;
	m->http10 = c->head_ok && c->req.version_minor == 0;
	m->head = c->head_ok && c->req.method == HTTP_METHOD_HEAD;
	m->now = time(NULL);
	m->tls = c->ssl != NULL;
	m->keep_alive = !c->close_after && c->head_ok && c->req.keep_alive &&
	    !l->resp.close && !stopping && cfg->keepalive_timeout > 0 &&
	    (cfg->keepalive_requests <= 0 ||
	        (int64_t)c->requests + 1 < cfg->keepalive_requests);
	c->close_after = !m->keep_alive;
}

/* Serialize l->resp for c, account for it and send it. */
static void conn_reply(struct conn_loop *l, struct conn *c, size_t route)
{
	struct http_resp *r = &l->resp;
	struct http_resp_meta m;
	int rc, saved;

	reply_meta(l, c, &m);
	buf_reset(&l->wbuf);
	if (http_resp_write(r, &m, &l->wbuf) != 0) {
		log_errx("request %s: reply of %zu bytes does not fit", c->rid,
		    r->body.len);
		http_resp_reset(r);
		http_resp_error(r, 500, NULL, c->rid);
		buf_reset(&l->wbuf);
		(void)http_resp_write(r, &m, &l->wbuf);
	}
	rc = send_or_queue(c, l->wbuf.data, l->wbuf.len);
	saved = errno;
	account_end(l, c, route, http_resp_body_sent(r, &m));
	errno = saved;
	conn_sent(l, c, rc);
}

/* ---- streamed bodies ---------------------------------------------------- */

/* A handler's streamed body (struct router_stream): the head goes out at
 * begin, each piece at write, waiting for a slow client with poll() up
 * to send_timeout; the worker is in the handler, so nothing else of the
 * loop runs meanwhile. */
struct conn_stream {
	struct router_stream pub; /* first: what the handler sees */
	struct conn_loop *l;
	struct conn *c;
	bool begun, failed, chunked;
	uint64_t bytes;
};

/* Send p[0..n) whole, waiting while the socket is full; -1 on an error or
 * when the client took nothing for send_timeout. */
static int stream_send(struct conn_stream *st, const char *p, size_t n)
{
	struct conn *c = st->c;
	uint64_t wait_ms = st->l->timers[CONN_T_SEND].dur_ms;

	while (n > 0) {
		ssize_t k = io_send(c, p, n);
		struct pollfd pfd;
		int rc;

		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0 || !would_block(errno))
			return -1;
		pfd.fd = c->fd;
		pfd.events =
		    c->ssl != NULL && c->tls_want == EPOLLIN ? POLLIN : POLLOUT;
		pfd.revents = 0;
		do {
			rc = poll(&pfd, 1, (int)wait_ms);
		} while (rc < 0 && errno == EINTR);
		if (rc <= 0 || (pfd.revents & (POLLERR | POLLNVAL)) != 0)
			return -1;
	}
	return 0;
}

static int stream_fail(struct conn_stream *st)
{
	if (!st->failed)
		log_debug("request %s: the client %s stopped reading the "
		          "stream",
		    st->c->rid, st->c->client);
	st->failed = true;
	return -1;
}

static int stream_begin(struct router_stream *pub, struct http_resp *r)
{
	struct conn_stream *st = (struct conn_stream *)pub;
	struct conn_loop *l = st->l;
	struct conn *c = st->c;
	struct http_resp_meta m;

	if (st->begun || st->failed)
		return st->failed ? -1 : 0;
	st->begun = true;
	reply_meta(l, c, &m);
	m.stream = true;
	m.head = false;
	if (m.http10) {
		m.keep_alive = false; /* the close ends the body */
		c->close_after = true;
	}
	st->chunked = !m.http10;
	buf_reset(&l->wbuf);
	if (http_resp_write(r, &m, &l->wbuf) != 0)
		return stream_fail(st);
	if ((c->woff != c->wlen &&
	        stream_send(st, c->wpend + c->woff, c->wlen - c->woff) != 0) ||
	    stream_send(st, l->wbuf.data, l->wbuf.len) != 0)
		return stream_fail(st);
	free_wpend(c);
	return 0;
}

static int stream_write(struct router_stream *pub, const char *p, size_t n)
{
	struct conn_stream *st = (struct conn_stream *)pub;
	char size[24];
	int len;

	if (!st->begun || st->failed)
		return -1;
	if (n == 0)
		return 0;
	if (st->chunked) {
		len = snprintf(size, sizeof(size), "%zx\r\n", n);
		if (stream_send(st, size, (size_t)len) != 0 ||
		    stream_send(st, p, n) != 0 ||
		    stream_send(st, "\r\n", 2) != 0)
			return stream_fail(st);
	} else if (stream_send(st, p, n) != 0) {
		return stream_fail(st);
	}
	st->bytes += n;
	return 0;
}

static bool stream_gone(struct router_stream *pub)
{
	struct conn_stream *st = (struct conn_stream *)pub;
	struct pollfd pfd = {st->c->fd, POLLRDHUP, 0};

	if (st->failed)
		return true;
	if (poll(&pfd, 1, 0) <= 0)
		return false;
	return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static void stream_release_idle(struct router_stream *pub)
{
	struct conn_stream *st = (struct conn_stream *)pub;
	struct conn_loop *l = st->l;
	struct conn *c = l->timers[CONN_T_KEEPALIVE].head, *next;

	for (; c != NULL; c = next) {
		next = c->tnext;
		if (c != st->c && c->state == CS_IDLE && c->rlen == 0)
			conn_close(l, c);
	}
}

static void stream_init(struct conn_stream *st, struct conn_loop *l,
    struct conn *c)
{
	memset(st, 0, sizeof(*st));
	st->pub.begin = stream_begin;
	st->pub.write = stream_write;
	st->pub.gone = stream_gone;
	st->pub.release_idle = stream_release_idle;
	st->pub.fd = c->fd;
	st->l = l;
	st->c = c;
}

/* The handler streamed its body: end it, account, go on. */
static void stream_end(struct conn_loop *l, struct conn *c,
    struct conn_stream *st, size_t route)
{
	if (!st->failed && st->chunked && stream_send(st, "0\r\n\r\n", 5) != 0)
		st->failed = true;
	account_end(l, c, route, st->bytes);
	if (st->failed) {
		conn_close(l, c);
		return;
	}
	conn_after_reply(l, c);
}

/* "The request is malformed: invalid host field." */
static void error_message(struct buf *b, int status, const char *reason)
{
	const char *generic = http_resp_error_message(status);
	size_t n = strlen(generic);

	if (reason == NULL || reason[0] == '\0') {
		(void)buf_puts(b, generic);
		return;
	}
	if (n > 0 && generic[n - 1] == '.')
		n--;
	(void)buf_append(b, generic, n);
	(void)buf_printf(b, ": %s.", reason);
}

/* Answer status with a JSON error and close (lingering). */
static void conn_refuse(struct conn_loop *l, struct conn *c, int status,
    const char *reason)
{
	char store[256];
	struct buf msg;

	timer_stop(l, c);
	pend_del(l, c);
	if (c->rid[0] == '\0')
		http_resp_id_next(c->rid);
	if (status != 408)
		log_debug("request %s from %s: %d %s", c->rid, c->client,
		    status, reason != NULL ? reason : "");
	buf_init_fixed(&msg, store, sizeof(store));
	error_message(&msg, status, reason);
	account_begin(l, c);
	http_resp_reset(&l->resp);
	http_resp_error(&l->resp, status, buf_str(&msg), c->rid);
	c->close_after = true;
	conn_reply(l, c, l->unmatched);
}

static bool hide_debug(const struct conn_loop *l, const struct conn *c)
{
	return !(l->cfg->debug_routes && c->loopback);
}

/* The request is complete: run its handler (or its early error). */
static void conn_serve(struct conn_loop *l, struct conn *c)
{
	struct http_resp *r = &l->resp;
	struct router_match m;
	struct router_call call;
	struct auth_principal who;
	struct conn_stream st;
	int rc;

	stream_init(&st, l, c);
	timer_stop(l, c);
	account_begin(l, c);
	http_resp_reset(r);
	rc = router_match(l->router, c->req.method, c->rbuf + c->req.path.off,
	    c->req.path.len, hide_debug(l, c) ? ROUTER_F_DEBUG : 0, &m);
	if (cors_apply(l->cfg->cors_allowed_origins, &c->req, c->rbuf,
	        l->router, hide_debug(l, c) ? ROUTER_F_DEBUG : 0, c->rid, r)) {
		/* a preflight, answered before authentication */
	} else if (rc == 0 && c->early == 0) {
		call.req = &c->req;
		call.buf = c->rbuf;
		call.body = http_body(&c->req, c->rbuf, &c->chunked);
		call.body_len = c->req.body_len;
		call.match = &m;
		call.request_id = c->rid;
		call.client = c->client;
		call.tls = c->ssl != NULL;
		call.who = NULL;
		call.stream = &st.pub;
		if (auth_gate(&call, r, &who))
			m.route->handler(&call, r);
		if (st.begun) {
			stream_end(l, c, &st, m.index);
			return;
		}
	} else {
		if (rc == 405 && http_resp_header(r, "Allow", m.allow) != 0)
			log_errx("request %s: could not add Allow", c->rid);
		http_resp_error(r, c->early != 0 ? c->early : rc, NULL, c->rid);
	}
	conn_reply(l, c, rc == 0 ? m.index : l->unmatched);
}

/* ---- reading ------------------------------------------------------------ */

static void take_request_id(struct conn *c)
{
	struct http_slice v;

	if (http_header_get(&c->req, c->rbuf, "X-Request-Id", &v) &&
	    http_resp_id_sane(c->rbuf + v.off, v.len)) {
		memcpy(c->rid, c->rbuf + v.off, v.len);
		c->rid[v.len] = '\0';
		return;
	}
	http_resp_id_next(c->rid);
}

static void send_continue(struct conn_loop *l, struct conn *c)
{
	int rc = send_or_queue(c, continue_100, sizeof(continue_100) - 1);

	/* A reply that did not fit stays queued before the final reply; the
	 * client sends its body after its own wait anyway (RFC 9110). */
	if (rc < 0)
		conn_close(l, c);
}

/* The head parsed: decide what can be decided before the body. Returns 0
 * to go on reading the body, -1 when c was answered or closed. */
static int conn_head_done(struct conn_loop *l, struct conn *c)
{
	struct http_request *q = &c->req;
	struct router_match m;
	bool has_body = q->content_length > 0 || q->chunked;
	bool body_here = c->rlen > q->head_len;

	c->head_ok = true;
	c->head_us = sb_clock_us();
	take_request_id(c);
	c->early = router_match(l->router, q->method, c->rbuf + q->path.off,
	    q->path.len, hide_debug(l, c) ? ROUTER_F_DEBUG : 0, &m);
	if (c->early == 0 && (m.route->flags & ROUTER_F_BODY) != 0 &&
	    q->content_length < 0 && !q->chunked)
		c->early = 411;
	if (c->early != 0 && q->expect_continue && has_body && !body_here) {
		/* Refused before the client sent its body: it may never send
		 * it, so answer now and close. */
		c->close_after = true;
		conn_serve(l, c);
		return -1;
	}
	if (q->chunked)
		buf_init_dynamic(&c->chunked, l->limits.max_body_size + 1);
	set_state(l, c, CS_BODY);
	timer_start(l, c, CONN_T_BODY);
	if (c->early == 0 && q->expect_continue && has_body && !body_here) {
		send_continue(l, c);
		if (c->state == CS_CLOSED)
			return -1;
	}
	return 0;
}

static void conn_process(struct conn_loop *l, struct conn *c)
{
	enum http_parse_result rc;

	if (c->state == CS_HEAD) {
		rc = http_parse_head(&c->req, c->rbuf, c->rlen);
		if (rc == HTTP_PARSE_NEED_MORE)
			return;
		if (rc == HTTP_PARSE_ERROR) {
			conn_refuse(l, c, c->req.status, c->req.reason);
			return;
		}
		if (conn_head_done(l, c) != 0)
			return;
	}
	if (c->state != CS_BODY)
		return;
	rc = http_parse_body(&c->req, c->rbuf, c->rlen,
	    c->req.chunked ? &c->chunked : NULL);
	if (rc == HTTP_PARSE_NEED_MORE)
		return;
	if (rc == HTTP_PARSE_ERROR) {
		conn_refuse(l, c, c->req.status, c->req.reason);
		return;
	}
	conn_serve(l, c);
}

static void conn_readable(struct conn_loop *l, struct conn *c)
{
	ssize_t n;

	if (c->state == CS_LINGER) {
		linger_read(l, c);
		return;
	}
	if (c->pending ||
	    (c->state != CS_HEAD && c->state != CS_BODY && c->state != CS_IDLE))
		return;
	if (c->ssl != NULL && !c->tls_ready) {
		int hs = tls_handshake(l, c);

		if (hs < 0)
			conn_close(l, c);
		if (hs <= 0)
			return;
	}
	n = conn_recv(l, c);
	if (n == -2)
		return;
	if (n == -3) {
		conn_refuse(l, c, 400, "request does not fit the buffer");
		return;
	}
	if (n <= 0) {
		if (n < 0 || (c->state != CS_IDLE && c->rlen > 0))
			log_debug("request %s from %s: connection ended "
			          "mid-request: %s",
			    c->head_ok ? c->rid : "-", c->client,
			    n < 0 ? strerror(errno) : "eof");
		conn_close(l, c);
		return;
	}
	if (c->state == CS_IDLE) {
		if (req_begin(l, c) != 0) {
			conn_close(l, c);
			return;
		}
		set_state(l, c, CS_HEAD);
		timer_start(l, c, CONN_T_HEADER);
	} else if (c->state == CS_BODY) {
		timer_start(l, c, CONN_T_BODY); /* a pause ended */
	} else if (c->rlen == (size_t)n) {
		/* The first bytes since accept: the request starts now. */
		c->start_us = sb_clock_us();
		if (clock_gettime(CLOCK_REALTIME, &c->start_wall) != 0)
			c->start_wall = (struct timespec){0, 0};
		if (c->tkind == CONN_T_GRACE)
			timer_start(l, c, CONN_T_HEADER);
	}
	conn_process(l, c);
	tls_check_pending(l, c);
}

/* ---- the loop's entry points -------------------------------------------- */

void conn_event(struct conn_loop *l, struct conn_src *src, uint32_t events)
{
	struct conn *c = (struct conn *)src;

	(void)events; /* errors and hang-ups surface in recv and send */
	switch (c->state) {
	case CS_WRITE: conn_writable(l, c); break;
	case CS_CLOSED: break;
	default: conn_readable(l, c); break;
	}
}

static void client_name(struct conn *c, const struct sockaddr *sa,
    socklen_t salen)
{
	const void *a = NULL;

	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in))
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6 &&
	    salen >= sizeof(struct sockaddr_in6))
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (a == NULL ||
	    inet_ntop(sa->sa_family, a, c->client, sizeof(c->client)) == NULL)
		memcpy(c->client, "-", 2);
}

/* A server-side SSL on fd, or NULL. */
static SSL *tls_new(const struct conn_loop *l, int fd)
{
	SSL *ssl;

	ERR_clear_error();
	if (l->ctx->tls == NULL || (ssl = SSL_new(l->ctx->tls)) == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

void conn_accepted(struct conn_loop *l, int fd, const struct sockaddr *sa,
    socklen_t salen, bool loopback, bool tls)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (c == NULL) {
		log_err("could not allocate a connection");
		(void)close(fd);
		return;
	}
	c->src.kind = CONN_SRC_CONN;
	c->fd = fd;
	c->tkind = -1;
	c->state = CS_CLOSED;
	c->loopback = loopback;
	client_name(c, sa, salen);
	/* Replies go out in one send; Nagle would only delay a parked tail. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_debug("TCP_NODELAY on a connection from %s: %s", c->client,
		    strerror(errno));
	if (tls && (c->ssl = tls_new(l, fd)) == NULL) {
		log_errx("could not set up TLS for a connection from %s",
		    c->client);
		(void)close(fd);
		free(c);
		return;
	}
	ev.data.ptr = c;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 ||
	    req_begin(l, c) != 0) {
		log_err("could not watch a connection from %s", c->client);
		(void)close(fd);
		SSL_free(c->ssl);
		free(c->hdrs);
		free(c);
		return;
	}
	c->events = EPOLLIN;
	l->nconns++;
	set_state(l, c, CS_HEAD);
	timer_start(l, c, CONN_T_HEADER);
	conn_readable(l, c); /* the request often came with the handshake */
}

void conn_run_pending(struct conn_loop *l)
{
	struct conn *c;
	size_t n = 0;

	/* Only those queued before this call: a conn re-queued while being
	 * served waits for the next turn. */
	for (c = l->pend_head; c != NULL; c = c->pnext)
		n++;
	while (n-- > 0 && (c = l->pend_head) != NULL) {
		bool kick = c->tls_kick;

		pend_del(l, c);
		if (kick) {
			conn_readable(l, c);
			continue;
		}
		if (c->state == CS_HEAD || c->state == CS_BODY)
			conn_process(l, c);
		tls_check_pending(l, c);
	}
}

static void on_timeout(struct conn_loop *l, struct conn *c,
    enum conn_timer kind)
{
	switch (kind) {
	case CONN_T_HEADER:
		if (c->rlen == 0) {
			conn_close(l, c); /* never said a word */
			return;
		}
		/* Debug only: a slow-loris attack would flood the log; the
		 * access log has every 408 anyway. */
		http_resp_id_next(c->rid);
		log_debug("request %s from %s: head not received in %lld ms, "
		          "answering 408",
		    c->rid, c->client, (long long)l->cfg->header_timeout);
		conn_refuse(l, c, 408, NULL);
		return;
	case CONN_T_BODY:
		log_info("request %s from %s: no body bytes for %lld ms, "
		         "answering 408",
		    c->rid, c->client, (long long)l->cfg->body_timeout);
		conn_refuse(l, c, 408, NULL);
		return;
	case CONN_T_SEND:
		log_info(
		    "request %s: %s read nothing of the reply for %lld ms, "
		    "closing",
		    c->rid, c->client, (long long)l->cfg->send_timeout);
		conn_close(l, c);
		return;
	case CONN_T_KEEPALIVE:
	case CONN_T_LINGER:
	case CONN_T_GRACE:
	case CONN_T_COUNT: break;
	}
	conn_close(l, c);
}

void conn_expire(struct conn_loop *l)
{
	int k;

	for (k = 0; k < CONN_T_COUNT; k++) {
		struct conn *c;

		while ((c = l->timers[k].head) != NULL &&
		    c->deadline_ms <= l->now_ms) {
			timer_stop(l, c);
			on_timeout(l, c, (enum conn_timer)k);
		}
	}
}

int conn_next_timeout(const struct conn_loop *l)
{
	uint64_t best = UINT64_MAX;
	int k;

	if (l->pend_head != NULL)
		return 0;
	for (k = 0; k < CONN_T_COUNT; k++)
		if (l->timers[k].head != NULL &&
		    l->timers[k].head->deadline_ms < best)
			best = l->timers[k].head->deadline_ms;
	if (best == UINT64_MAX)
		return -1;
	if (best <= l->now_ms)
		return 0;
	if (best - l->now_ms > INT32_MAX)
		return INT32_MAX;
	return (int)(best - l->now_ms);
}

/* Move the connections of list kind that hold no request bytes to the
 * grace list. */
static void to_grace(struct conn_loop *l, enum conn_timer kind)
{
	struct conn *c = l->timers[kind].head, *next;

	for (; c != NULL; c = next) {
		next = c->tnext;
		if (c->rlen == 0)
			timer_start(l, c, CONN_T_GRACE);
	}
}

void conn_graceful(struct conn_loop *l)
{
	l->graceful = true;
	to_grace(l, CONN_T_KEEPALIVE);
	to_grace(l, CONN_T_HEADER);
}

void conn_publish(struct conn_loop *l)
{
	const struct worker_ctx *ctx = l->ctx;
	char st;

	if (l->conns_dirty) {
		(void)sb_slot_set_conns(ctx->sb, ctx->slot, l->nreading,
		    l->nkeepalive, l->nwriting);
		l->conns_dirty = false;
	}
	if (l->graceful)
		st = SB_STATE_FINISHING;
	else if (l->nreading > 0)
		st = SB_STATE_READING;
	else if (l->nkeepalive > 0)
		st = SB_STATE_KEEPALIVE;
	else
		st = SB_STATE_WAITING;
	if (st != l->shown_state) {
		(void)sb_slot_set_state(ctx->sb, ctx->slot, (enum sb_state)st);
		l->shown_state = st;
	}
}

int conn_loop_init(struct conn_loop *l, const struct worker_ctx *ctx, int epfd,
    const struct router *router, size_t unmatched, char *err, size_t errlen)
{
	const struct cfg *cfg = ctx->cfg;

	memset(l, 0, sizeof(*l));
	l->ctx = ctx;
	l->cfg = cfg;
	l->epfd = epfd;
	l->router = router;
	l->unmatched = unmatched;
	l->limits.max_header_size = (size_t)cfg->max_header_size;
	l->limits.max_headers = (size_t)cfg->max_headers;
	l->limits.max_body_size = (size_t)cfg->max_body_size;
	l->limits.max_uri = HTTP_DEFAULT_MAX_URI;
	l->rbuf_max = http_max_request_size(&l->limits) + CONN_READ_MAX;
	l->timers[CONN_T_HEADER].dur_ms = (uint64_t)cfg->header_timeout;
	l->timers[CONN_T_BODY].dur_ms = (uint64_t)cfg->body_timeout;
	l->timers[CONN_T_KEEPALIVE].dur_ms = (uint64_t)cfg->keepalive_timeout;
	l->timers[CONN_T_SEND].dur_ms = (uint64_t)cfg->send_timeout;
	l->timers[CONN_T_LINGER].dur_ms = CONN_LINGER_MS;
	l->timers[CONN_T_GRACE].dur_ms = CONN_GRACE_MS;
	l->shown_state = SB_STATE_WAITING;
	l->statm_fd = -1;
	http_resp_init(&l->resp, CONN_RESP_MAX);
	buf_init_dynamic(&l->wbuf, CONN_RESP_MAX + (size_t)64 * 1024);
	buf_init_dynamic(&l->logline, CONN_LOGLINE_MAX);
	if (cfg->max_worker_rss > 0) {
		l->page_size = sysconf(_SC_PAGESIZE);
		l->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
		if (l->statm_fd < 0 || l->page_size <= 0) {
			(void)snprintf(err, errlen,
			    "could not open /proc/self/statm for "
			    "max_worker_rss: "
			    "%s",
			    strerror(errno));
			return -1;
		}
	}
	conn_loop_now(l);
	return 0;
}
