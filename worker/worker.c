/*
 * worker.c - a worker process: signals, the epoll loop, the listening
 * sockets, accepting, graceful stop, log reopening; see worker.h.
 *
 * Runs in a worker only, from the moment the master's fork site calls
 * worker_main() in the child. Assumes the master already reset signal
 * dispositions, dropped privileges and armed PR_SET_PDEATHSIG; checks
 * again that the master is alive (getppid) because PDEATHSIG fires on
 * the death of the forking thread, and a reparented worker must not
 * serve on alone.
 *
 * Signals: SIGTERM and SIGUSR1 only set flags, and both stay blocked
 * except inside epoll_pwait(), which unblocks them and sleeps in one
 * step. So a signal arrives either before the flags are checked (seen at
 * once) or during the sleep (which it ends): never in between, where it
 * would wait for the next timeout. The same blocking makes a handler
 * deaf to SIGTERM until it returns, which is what /debug/sleep relies on
 * to be truly stuck for the master's watchdog.
 *
 * Accepting: every listening socket is in the epoll set with
 * EPOLLEXCLUSIVE, so a new connection wakes one idle worker rather than
 * the whole pool, and a worker busy in a handler is not waiting, so the
 * kernel hands connections to the others. A worker holding
 * worker_connections connections takes its listeners out of the set
 * (EPOLLEXCLUSIVE entries cannot be modified, only deleted and re-added)
 * and puts them back when it is below the cap again. When accept fails
 * for lack of descriptors or memory, accepting pauses briefly instead of
 * spinning on a socket that stays readable.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "buf.h"
#include "auth.h"
#include "cache.h"
#include "conn.h"
#include "db.h"
#include "handlers.h"
#include "http_resp.h"
#include "log.h"
#include "ratelimit.h"

#define WORKER_MAX_EVENTS 256
#define WORKER_ACCEPT_BATCH 32     /* connections taken per wake-up */
#define WORKER_ACCEPT_PAUSE_MS 100 /* after EMFILE, ENFILE, ENOMEM */
#define WORKER_TICK_MS 1000        /* longest sleep: the getppid check */

static volatile sig_atomic_t got_term, got_usr1;

struct wlistener {
	struct conn_src src; /* first: epoll's data.ptr */
	int fd;
	bool loopback;
	bool tls;
	const char *name;
};

struct worker {
	const struct worker_ctx *ctx;
	int epfd;
	struct wlistener *ls;
	size_t nls;
	bool accepting; /* the listeners are in the epoll set */
	bool closed;    /* graceful: the listeners are closed */
	uint64_t pause_until_ms;
	uint64_t warned_ms;  /* last accept failure logged */
	sigset_t sleep_mask; /* what epoll_pwait runs with: nothing blocked */
	sigset_t ours;       /* SIGTERM, SIGUSR1: blocked outside the sleep */
	struct router router;
	struct conn_loop loop;
	struct db *db;
	struct cache *cache;
	uint64_t data_tick_us; /* next db_tick without a due attempt */
};

static void worker_exit(int code)
{
	_exit(code);
}

static void on_signal(int signo)
{
	if (signo == SIGTERM)
		got_term = 1;
	else if (signo == SIGUSR1)
		got_usr1 = 1;
}

/* Handlers, dispositions and the mask. */
static int signals_setup(sigset_t *sleep_mask, sigset_t *ours)
{
	struct sigaction sa;

	if (sigemptyset(ours) != 0 || sigaddset(ours, SIGTERM) != 0 ||
	    sigaddset(ours, SIGUSR1) != 0 ||
	    sigprocmask(SIG_SETMASK, ours, NULL) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_mask = *ours;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGUSR1, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	if (sigaction(SIGHUP, &sa, NULL) != 0 ||
	    sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_DFL;
	if (sigaction(SIGINT, &sa, NULL) != 0)
		return -1;
	return sigemptyset(sleep_mask);
}

/*
 * When epoll_pwait() returns ready events, the kernel puts the old mask
 * back without delivering a signal that is pending, so under steady
 * traffic a signal could wait for the first idle moment. Take pending
 * ones here instead (one syscall per busy wake-up).
 */
static void take_pending(const sigset_t *ours)
{
	struct timespec zero = {0, 0};
	int signo;

	while ((signo = sigtimedwait(ours, NULL, &zero)) > 0)
		on_signal(signo);
}

/* SIGTERM arrived, or is pending: it stays blocked while a handler runs,
 * and the reply in hand should already say "Connection: close". */
static bool stop_requested(void)
{
	sigset_t pending;

	if (got_term)
		return true;
	return sigpending(&pending) == 0 && sigismember(&pending, SIGTERM) == 1;
}

static bool addr_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		        in6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

static int listeners_set(struct worker *w, bool on)
{
	size_t i;

	for (i = 0; i < w->nls; i++) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
		    .data.ptr = &w->ls[i]};

		if (epoll_ctl(w->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
		        w->ls[i].fd, &ev) != 0) {
			log_err("epoll_ctl(%s) of listener %s",
			    on ? "ADD" : "DEL", w->ls[i].name);
			return -1;
		}
	}
	w->accepting = on;
	return 0;
}

/* Accept while below the cap, unless paused or stopping. */
static void update_accepting(struct worker *w)
{
	bool want = !w->closed &&
	    w->loop.nconns < (size_t)w->ctx->cfg->worker_connections &&
	    w->loop.now_ms >= w->pause_until_ms;

	if (want != w->accepting && listeners_set(w, want) != 0)
		worker_exit(1);
}

static void accept_pause(struct worker *w, const struct wlistener *ls)
{
	/* Out of descriptors tends to last: say so every 10 s, not 10 times
	 * a second. */
	if (w->warned_ms == 0 || w->loop.now_ms - w->warned_ms >= 10000) {
		log_warn("accept on %s failed, pausing accepts for %d ms",
		    ls->name, WORKER_ACCEPT_PAUSE_MS);
		w->warned_ms = w->loop.now_ms;
	}
	w->pause_until_ms = w->loop.now_ms + WORKER_ACCEPT_PAUSE_MS;
}

static void accept_some(struct worker *w, struct wlistener *ls)
{
	int i;

	for (i = 0; i < WORKER_ACCEPT_BATCH; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd;

		if (w->closed ||
		    w->loop.nconns >= (size_t)w->ctx->cfg->worker_connections)
			return;
		fd = accept4(ls->fd, (struct sockaddr *)&sa, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
				return; /* another worker took it */
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
			case EPERM: continue;
			default: accept_pause(w, ls); return;
			}
		}
		(void)sb_count_accept(w->ctx->sb);
		conn_accepted(&w->loop, fd, (struct sockaddr *)&sa, len,
		    ls->loopback, ls->tls);
	}
}

/* SIGTERM: stop accepting, finish what was read, then leave. */
static void start_graceful(struct worker *w)
{
	size_t i;

	if (w->accepting && listeners_set(w, false) != 0)
		worker_exit(1);
	for (i = 0; i < w->nls; i++)
		if (close(w->ls[i].fd) != 0 && errno != EINTR)
			log_warn("close of listener %s", w->ls[i].name);
	w->closed = true;
	conn_graceful(&w->loop);
	log_info("graceful stop: finishing %zu connections", w->loop.nconns);
}

/* SIGUSR1: reopen the log file and the access log. */
static void reopen_logs(const struct worker *w)
{
	const struct worker_ctx *ctx = w->ctx;
	const char *path = ctx->cfg->access_log;
	char err[512];
	int fd;

	if (log_reopen(err, sizeof(err)) != 0)
		log_warnx("%s", err);
	if (ctx->access_log_fd < 0 || path[0] == '\0')
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_warn("could not reopen access log \"%s\"; still writing "
		         "to the old file",
		    path);
		return;
	}
	/* dup3 swaps the file under the same number in one step. */
	if (dup3(fd, ctx->access_log_fd, O_CLOEXEC) < 0)
		log_warn("could not reopen access log \"%s\": dup3; still "
		         "writing to the old file",
		    path);
	(void)close(fd);
}

static void check_master(const struct worker *w)
{
	if (getppid() != w->ctx->master_pid) {
		log_warnx("master %ld is gone, exiting",
		    (long)w->ctx->master_pid);
		worker_exit(0);
	}
}

static int sleep_ms(const struct worker *w)
{
	int t = conn_next_timeout(&w->loop);
	int d = db_next_timeout_ms(w->db, sb_clock_us());

	if (t < 0 || t > WORKER_TICK_MS)
		t = WORKER_TICK_MS;
	if (d >= 0 && d < t)
		t = d;
	if (!w->closed && !w->accepting && w->pause_until_ms > w->loop.now_ms &&
	    w->pause_until_ms - w->loop.now_ms < (uint64_t)t)
		t = (int)(w->pause_until_ms - w->loop.now_ms);
	return t;
}

/* The data layer's periodic work: reconnects when due, and a look at idle
 * connections a few times a second. */
#define WORKER_DATA_TICK_US 250000ULL

static void data_tick(struct worker *w)
{
	uint64_t now_us = sb_clock_us();

	if (now_us < w->data_tick_us && db_next_timeout_ms(w->db, now_us) != 0)
		return;
	db_tick(w->db, now_us);
	cache_tick(w->cache);
	auth_tick();
	w->data_tick_us = now_us + WORKER_DATA_TICK_US;
}

static void dispatch(struct worker *w, const struct epoll_event *ev, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct conn_src *src = ev[i].data.ptr;

		if (src->kind == CONN_SRC_LISTENER) {
			if (!w->closed)
				accept_some(w, (struct wlistener *)src);
		} else {
			conn_event(&w->loop, src, ev[i].events);
		}
	}
}

static _Noreturn void run(struct worker *w)
{
	struct epoll_event ev[WORKER_MAX_EVENTS];

	for (;;) {
		int n = epoll_pwait(w->epfd, ev, WORKER_MAX_EVENTS, sleep_ms(w),
		    &w->sleep_mask);

		if (n < 0 && errno != EINTR) {
			log_err("epoll_pwait");
			worker_exit(1);
		}
		if (n > 0)
			take_pending(&w->ours);
		conn_loop_now(&w->loop);
		check_master(w);
		if (got_term && !w->closed)
			start_graceful(w);
		if (got_usr1) {
			got_usr1 = 0;
			reopen_logs(w);
		}
		if (n > 0)
			dispatch(w, ev, n);
		conn_run_pending(&w->loop);
		data_tick(w);
		conn_expire(&w->loop);
		conn_reap(&w->loop);
		update_accepting(w);
		conn_publish(&w->loop);
		if (w->closed && w->loop.nconns == 0) {
			log_info("graceful stop done after %llu requests",
			    (unsigned long long)w->loop.served);
			worker_exit(0);
		}
	}
}

/* Cache events become the scoreboard's data-layer counters. */
static void count_cache_event(void *arg, enum cache_event ev)
{
	static const int map[CACHE_EV_NEVENTS] = {
	    [CACHE_EV_LOCAL_HIT] = SB_DATA_CACHE_LOCAL_HITS,
	    [CACHE_EV_LOCAL_MISS] = SB_DATA_CACHE_LOCAL_MISSES,
	    [CACHE_EV_REDIS_HIT] = SB_DATA_CACHE_REDIS_HITS,
	    [CACHE_EV_REDIS_MISS] = SB_DATA_CACHE_REDIS_MISSES,
	    [CACHE_EV_REDIS_ERROR] = SB_DATA_REDIS_ERRORS,
	    [CACHE_EV_REDIS_RECONNECT] = SB_DATA_REDIS_RECONNECTS,
	};
	const struct worker *w = arg;

	if ((unsigned)ev < CACHE_EV_NEVENTS)
		(void)sb_data_count(w->ctx->sb, (enum sb_data_counter)map[ev]);
}

/* The worker's own database connections and Redis handle, opened after
 * the fork and before the first client: a down database or Redis is no
 * reason to exit (the requests that need the database get 503 until it
 * is back; the cache is bypassed). */
static void open_data(struct worker *w, const struct worker_ctx *ctx)
{
	struct cache_opts co = {
	    .redis_url = ctx->cfg->redis_url,
	    .connect_timeout_ms = ctx->cfg->redis_connect_timeout,
	    .command_timeout_ms = ctx->cfg->redis_timeout,
	    .retry_max_ms = ctx->cfg->redis_retry_max,
	    .local_entries = ctx->cfg->cache_local_entries,
	    .local_ttl_ms = ctx->cfg->cache_local_ttl,
	    .on_event = count_cache_event,
	    .arg = w,
	};
	char name[64], err[512];
	struct buf b;
	struct db_opts o = {
	    .url = ctx->cfg->database_url,
	    .read_url = ctx->cfg->database_read_url,
	    .connect_timeout_ms = ctx->cfg->database_connect_timeout,
	    .statement_timeout_ms = ctx->cfg->statement_timeout,
	    .retry_max_ms = ctx->cfg->database_retry_max,
	    .app_name = name,
	    .sb = ctx->sb,
	    .slot = ctx->slot,
	};

	buf_init_fixed(&b, name, sizeof(name));
	(void)buf_printf(&b, "pacerd worker %u gen %llu", ctx->slot,
	    (unsigned long long)ctx->generation);
	if ((w->db = db_open(&o)) == NULL) {
		log_errx("could not set up the database connection: out of "
		         "memory");
		worker_exit(1);
	}
	db_connect(w->db);
	if ((w->cache = cache_open(&co, err, sizeof(err))) == NULL) {
		log_errx("redis: %s", err);
		worker_exit(2);
	}
	handlers_attach(w->db, w->cache);
	ratelimit_attach(w->cache, ctx->rlshm, ctx->sb);
}

/* Everything before the loop. Exits 2 on a broken invariant, 1 on a
 * failure that a fresh worker may not meet. */
static void setup(struct worker *w, const struct worker_ctx *ctx)
{
	char err[512];
	size_t i, unmatched = 0;

	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->epfd = -1;
	if (signals_setup(&w->sleep_mask, &w->ours) != 0)
		fatal("could not set up the worker's signals");
	if (sb_slot_claim(ctx->sb, ctx->slot, getpid(), ctx->generation) != 0)
		fatalx("could not claim scoreboard slot %u", ctx->slot);
	check_master(w);
	if (http_resp_id_seed() != 0)
		log_warnx("no random seed for request ids; using pid and time");
	if (handlers_init(ctx, &w->router, &unmatched, err, sizeof(err)) != 0)
		fatalx("route table: %s", err);
	open_data(w, ctx);
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		log_err("epoll_create1");
		worker_exit(1);
	}
	if (conn_loop_init(&w->loop, ctx, w->epfd, &w->router, unmatched, err,
	        sizeof(err)) != 0) {
		log_errx("%s", err);
		worker_exit(1);
	}
	w->loop.stop_requested = stop_requested;
	w->nls = ctx->ls->n;
	if ((w->ls = calloc(w->nls > 0 ? w->nls : 1, sizeof(*w->ls))) == NULL) {
		log_err("could not allocate the listener table");
		worker_exit(1);
	}
	for (i = 0; i < w->nls; i++) {
		w->ls[i].src.kind = CONN_SRC_LISTENER;
		w->ls[i].fd = ctx->ls->v[i].fd;
		w->ls[i].loopback = addr_loopback(&ctx->ls->v[i].addr);
		w->ls[i].name = ctx->ls->v[i].name;
		w->ls[i].tls = ctx->ls->v[i].tls;
		if (w->ls[i].tls && ctx->tls == NULL)
			fatalx("listener %s is marked tls but has no TLS "
			       "context",
			    w->ls[i].name);
	}
}

_Noreturn void worker_main(const struct worker_ctx *ctx)
{
	static struct worker w;

	log_set_role("worker");
	log_set_exit(worker_exit);
	setup(&w, ctx);
	update_accepting(&w);
	conn_publish(&w.loop);
	log_debug("worker ready in slot %u, generation %llu", ctx->slot,
	    (unsigned long long)ctx->generation);
	run(&w);
}
