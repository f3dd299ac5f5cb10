/*
 * conn.h - the connections of one worker: reading and parsing requests
 * without blocking, serving one complete request at a time, writing the
 * response (parking slow readers), keep-alive, pipelining, timeouts,
 * lingering close, and what the scoreboard shows about them.
 *
 * worker.c owns the process (signals, the epoll set, the listening
 * sockets, accepting) and drives a struct conn_loop with the calls below,
 * in this order on every wake-up:
 *
 *	conn_loop_now();  conn_accepted() / conn_event() for each event;
 *	conn_run_pending();  conn_expire();  conn_reap();  conn_publish();
 *
 * and sleeps at most conn_next_timeout() milliseconds.
 *
 * Timers: each connection waits on at most one timer, of one kind
 * (header, body, keep-alive, send, linger, grace). A kind has one
 * constant duration, so appending to the kind's FIFO list keeps it
 * sorted by deadline (nginx's trick): arming, re-arming and cancelling
 * are O(1), and finding the nearest deadline looks at six list heads.
 *
 * Callers: worker processes only (worker.c) and nothing else.
 */
#ifndef PACER_CONN_H
#define PACER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "http_parse.h"
#include "http_resp.h"
#include "router.h"
#include "worker.h"

/* An idle keep-alive connection gets this long to send one more request
 * once a graceful stop began. */
#define CONN_GRACE_MS 1000
/* A connection closed after an error (or a "Connection: close" reply)
 * discards what the client still sends for at most this long, so the
 * client reads our answer instead of a reset. */
#define CONN_LINGER_MS 2000

/* What epoll's data.ptr points to: the first member of a listener or a
 * connection says which it is. */
enum conn_src_kind {
	CONN_SRC_LISTENER = 1,
	CONN_SRC_CONN = 2,
};

struct conn_src {
	int kind;
};

enum conn_timer {
	CONN_T_HEADER,    /* the head must be complete: 408 */
	CONN_T_BODY,      /* the next body bytes must come: 408 */
	CONN_T_KEEPALIVE, /* idle between requests: close */
	CONN_T_SEND,      /* the client must read some of the reply: close */
	CONN_T_LINGER,    /* lingering close: close */
	CONN_T_GRACE,     /* idle during a graceful stop: close */
	CONN_T_COUNT,
};

struct conn;

struct conn_tlist {
	struct conn *head, *tail;
	uint64_t dur_ms;
};

struct conn_loop {
	const struct worker_ctx *ctx;
	const struct cfg *cfg;
	int epfd;
	const struct router *router;
	size_t unmatched; /* route counter index of requests with no route */
	struct http_limits limits;
	size_t rbuf_max; /* largest request plus one read */
	uint64_t now_ms; /* CLOCK_MONOTONIC, refreshed by conn_loop_now */

	struct conn_tlist timers[CONN_T_COUNT];
	struct conn *pend_head, *pend_tail; /* buffered requests to parse */
	struct conn *zombies;               /* closed, freed by conn_reap */

	size_t nconns;
	uint32_t nreading, nkeepalive, nwriting;
	bool conns_dirty;
	char shown_state; /* the state last written to the slot */
	bool graceful;
	/* Whether a graceful stop was asked for but not begun yet (SIGTERM
	 * is pending while a handler runs), so the reply in hand already
	 * says "Connection: close". NULL: never. Set by the caller. */
	bool (*stop_requested)(void);

	/* the request in hand (one at a time) */
	struct http_resp resp;
	struct buf wbuf;    /* the serialized response */
	struct buf logline; /* the access log line */
	bool log_failed;    /* an access log write failed; warned once */

	/* recycling */
	uint64_t served;
	unsigned recycle_asked; /* SB_RECYCLE_* already sent */
	int statm_fd;           /* /proc/self/statm, or -1 */
	long page_size;
};

/* Set up l for ctx (limits, timer durations, buffers) with the epoll set
 * epfd and the route table router (borrowed); unmatched is the route
 * counter index for requests no route took. Returns 0, or -1 with the
 * reason in err. */
int conn_loop_init(struct conn_loop *l, const struct worker_ctx *ctx, int epfd,
    const struct router *router, size_t unmatched, char *err, size_t errlen);

/* Refresh l->now_ms (after every sleep, and after every handler). */
void conn_loop_now(struct conn_loop *l);

/* A connection was accepted on fd (non-blocking, close-on-exec) from sa;
 * loopback says whether its listener is a loopback address (debug routes
 * are served only there), tls whether it is marked tls (the connection
 * then speaks TLS with an SSL of ctx->tls; the handshake must be done
 * within header_timeout). Takes fd in every case. */
void conn_accepted(struct conn_loop *l, int fd, const struct sockaddr *sa,
    socklen_t salen, bool loopback, bool tls);

/* epoll reported events for a connection (src->kind CONN_SRC_CONN). */
void conn_event(struct conn_loop *l, struct conn_src *src, uint32_t events);

/* Parse and serve requests that were already buffered (pipelining):
 * one request per connection per call, so one client cannot hog the
 * worker. */
void conn_run_pending(struct conn_loop *l);

/* Act on every deadline that passed: 408, or close. */
void conn_expire(struct conn_loop *l);

/* Milliseconds until the nearest deadline (0 when requests are pending),
 * or -1 when nothing waits on a timer. */
int conn_next_timeout(const struct conn_loop *l);

/* Free the connections closed since the last call. Call only when no
 * epoll event of this wake-up is left to dispatch. */
void conn_reap(struct conn_loop *l);

/* A graceful stop begins: every later reply says "Connection: close" and
 * idle connections get CONN_GRACE_MS to send one more request. */
void conn_graceful(struct conn_loop *l);

/* Write the connection counts and the worker's state to the scoreboard
 * slot when they changed. */
void conn_publish(struct conn_loop *l);

#endif /* PACER_CONN_H */
