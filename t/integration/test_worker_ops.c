/*
 * test_worker_ops.c - worker processes without the master (harness:
 * wtest.h), the operational side: recycling requests (count and RSS),
 * header and body timeouts (408), keep-alive limits, a parked slow reader
 * that does not hold the worker, send_timeout, running out of
 * descriptors, the scoreboard state, SIGTERM graceful stop, the getppid
 * watch, the access log and its reopening on SIGUSR1, and a new client
 * answered within a second beside 500 slow-loris and 256 idle keep-alive
 * connections.
 *
 * Timing assertions are only the ones the behaviour is about, with
 * generous bounds (the CI machine has two loaded cores).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sb.h"
#include "testutil.h"
#include "worker.h"
#include "wtest.h"

TestSuite(worker_ops, .init = wt_setup, .fini = wt_teardown, .timeout = 90);

/* Wait up to 3 s for slot 0 to ask for recycling with why, having served
 * requests requests. */
static bool wait_recycle(uint32_t why, uint64_t requests)
{
	uint64_t end = wt_now_ms() + 3000;
	struct sb_slot_view v;

	do {
		if (wt_slot_view(0, &v) && v.want_recycle == why &&
		    v.requests == requests)
			return true;
		wt_sleep_ms(10);
	} while (wt_now_ms() < end);
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

Test(worker_ops, debug_alloc_asks_for_an_rss_recycle)
{
	struct wt_rep r;

	char conf[128];

	/* 48 MB above what the worker starts with, whatever the build. */
	(void)snprintf(conf, sizeof(conf),
	    "max_worker_rss = %llukB\nmax_requests_per_worker = 0\n",
	    rss_kb() + 48 * 1024);
	wt_start(conf, 1);
	wt_exchange("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n", &r, false);
	wt_rep_free(&r);
	cr_assert(wait_recycle(0, 1));
	wt_exchange("GET /debug/alloc?mb=96 HTTP/1.1\r\nHost: t\r\n\r\n", &r,
	    false);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, r.body, "{\"allocated_mb\":96}"));
	wt_rep_free(&r);
	cr_assert(wait_recycle(SB_RECYCLE_RSS, 2));
	/* It keeps serving. */
	wt_exchange("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n", &r, false);
	cr_assert(eq(int, r.status, 200));
	wt_rep_free(&r);
}

Test(worker_ops, request_limit_asks_for_a_recycle)
{
	struct wt_rep r;

	int i;

	wt_start(NULL, 0);
	wt_ctx.request_limit = 3;
	(void)wt_spawn(0);
	cr_assert(wt_wait_state(0, SB_STATE_WAITING, 5000));
	for (i = 0; i < 3; i++) {
		cr_assert(wait_recycle(0, (uint64_t)i));
		wt_exchange("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n", &r,
		    false);
		wt_rep_free(&r);
	}
	cr_assert(wait_recycle(SB_RECYCLE_REQUESTS, 3));
}

/* ---- timeouts and keep-alive limits ------------------------------------- */

Test(worker_ops, slow_loris_is_cut_at_header_timeout_with_408)
{
	struct wt_cl c;
	struct wt_rep r;
	uint64_t t0, took;
	int i;

	wt_start(NULL, 1); /* header_timeout = 1s */
	wt_open(&c);
	t0 = wt_now_ms();
	wt_send(&c, "GET /health/live HTTP/1.1\r\n");
	/* Dribble a header byte every 100 ms: progress does not extend the
	 * header deadline. */
	for (i = 0; i < 40; i++) {
		struct pollfd p = {.fd = c.fd, .events = POLLIN};

		if (poll(&p, 1, 100) > 0)
			break;
		if (send(c.fd, "X", 1, MSG_NOSIGNAL) != 1)
			break;
	}
	cr_assert(eq(int, wt_reply(&c, &r, false), 0));
	took = wt_now_ms() - t0;
	cr_assert(eq(int, r.status, 408));
	cr_assert(wt_rep_closes(&r));
	cr_assert(not(
	    eq(ptr, strstr(r.body, "\"error\": \"request_timeout\""), NULL)));
	cr_assert(took >= 900 && took < 3500, "cut after %llu ms",
	    (unsigned long long)took);
	cr_assert(wt_eof(&c, 4000));
	wt_rep_free(&r);
	wt_close(&c);
}

Test(worker_ops, stalled_body_gets_408_at_body_timeout)
{
	struct wt_cl c;
	struct wt_rep r;
	uint64_t t0, took;

	wt_start(NULL, 1); /* body_timeout = 1s */
	wt_open(&c);
	wt_send(&c,
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
	    "10\r\n\r\nabc");
	t0 = wt_now_ms();
	cr_assert(eq(int, wt_reply(&c, &r, false), 0));
	took = wt_now_ms() - t0;
	cr_assert(eq(int, r.status, 408));
	cr_assert(wt_rep_closes(&r));
	cr_assert(took >= 800 && took < 3500, "cut after %llu ms",
	    (unsigned long long)took);
	wt_rep_free(&r);
	wt_close(&c);
}

Test(worker_ops, idle_keep_alive_closes_silently_at_keepalive_timeout)
{
	struct wt_cl c;
	struct wt_rep r;
	uint64_t t0, took;

	wt_start("keepalive_timeout = 1s\n", 1);
	wt_open(&c);
	wt_get(&c, "/health/live", NULL, &r);
	wt_rep_free(&r);
	t0 = wt_now_ms();
	cr_assert(wt_eof(&c, 5000), "idle connection not closed");
	took = wt_now_ms() - t0;
	cr_assert(took >= 800, "closed after %llu ms",
	    (unsigned long long)took);
	wt_close(&c);
}

/* Assert that reply r says Connection: close and that the server then
 * closes c; free both. */
static void expect_close(struct wt_cl *c, struct wt_rep *r)
{
	cr_assert(wt_rep_closes(r), "no Connection: close in %s", r->head);
	wt_rep_free(r);
	cr_assert(wt_eof(c, 4000), "the server kept the connection open");
	wt_close(c);
}

Test(worker_ops, keepalive_requests_and_keepalive_off)
{
	struct wt_cl c;
	struct wt_rep r;

	wt_start("keepalive_requests = 2\n", 1);
	wt_open(&c);
	wt_get(&c, "/health/live", NULL, &r);
	cr_assert(not(wt_rep_closes(&r)));
	wt_rep_free(&r);
	wt_get(&c, "/health/live", NULL, &r);
	expect_close(&c, &r);
	wt_teardown();

	wt_start("keepalive_timeout = 0\n", 1);
	wt_open(&c);
	wt_get(&c, "/health/live", NULL, &r);
	expect_close(&c, &r);
}

Test(worker_ops, http10_keeps_alive_only_when_asked)
{
	struct wt_cl c;
	struct wt_rep r;

	wt_start(NULL, 1);
	wt_open(&c);
	wt_send(&c, "GET /health/live HTTP/1.0\r\n\r\n");
	cr_assert(eq(int, wt_reply(&c, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	expect_close(&c, &r);
	wt_open(&c);
	wt_send(&c,
	    "GET /health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	cr_assert(eq(int, wt_reply(&c, &r, false), 0));
	bool ka = wt_rep_has(&r, "Connection", "keep-alive");
	cr_assert(ka, "%s", r.head);
	wt_rep_free(&r);
	wt_send(&c,
	    "GET /health/live HTTP/1.1\r\nHost: t\r\nConnection: "
	    "close\r\n\r\n");
	cr_assert(eq(int, wt_reply(&c, &r, false), 0));
	expect_close(&c, &r);
}

/* Connect c and send body (n bytes) to /debug/echo, which sends it all
 * back. */
static void post_echo(struct wt_cl *c, const char *body, size_t n)
{
	char hdr[128];

	wt_open(c);
	(void)snprintf(hdr, sizeof(hdr),
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
	    "%zu\r\n\r\n",
	    n);
	wt_send(c, hdr);
	wt_sendn(c, body, n);
}

/* A client that does not read is parked, and the worker serves others
 * meanwhile; the reply arrives whole once the client reads. */
Test(worker_ops, slow_reader_is_parked_not_blocking_the_worker)
{
	struct wt_cl slow, other;
	struct wt_rep r;
	struct sb_slot_view v;
	size_t n = (size_t)12 << 20, i;
	char *body = malloc(n);
	bool parked = false;
	uint64_t end;

	cr_assert(not(eq(ptr, body, NULL)));
	for (i = 0; i < n; i++)
		body[i] = (char)('a' + i % 23);
	/* 12 MB: more than the server's send buffer (at most 4 MB) and
	 * the receive window of a client that reads nothing. */
	wt_start("max_body_size = 16MB\nsend_timeout = 30s\n", 1);
	post_echo(&slow, body, n);
	end = wt_now_ms() + 10000;
	while (!parked && wt_now_ms() < end) {
		parked = wt_slot_view(0, &v) && v.conn_writing == 1;
		if (!parked)
			wt_sleep_ms(20);
	}
	cr_assert(parked, "the reply was never parked");
	wt_open(&other);
	wt_get(&other, "/health/live", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	wt_rep_free(&r);
	wt_close(&other);
	cr_assert(eq(int, wt_reply(&slow, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(sz, r.body_len, n));
	cr_assert(eq(int, memcmp(r.body, body, n), 0));
	wt_rep_free(&r);
	wt_close(&slow);
	free(body);
}

Test(worker_ops, reader_that_never_reads_is_dropped_at_send_timeout)
{
	struct wt_cl slow;
	struct sb_slot_view v;
	size_t n = (size_t)12 << 20;
	char *body = calloc(1, n);
	uint64_t end;
	bool parked = false, dropped = false;

	cr_assert(not(eq(ptr, body, NULL)));
	wt_start("max_body_size = 16MB\n", 1); /* send_timeout = 1s */
	post_echo(&slow, body, n);
	end = wt_now_ms() + 15000;
	while (!dropped && wt_now_ms() < end) {
		if (wt_slot_view(0, &v)) {
			parked = parked || v.conn_writing == 1;
			dropped = parked && v.conn_writing == 0 &&
			    v.conn_reading == 0;
		}
		wt_sleep_ms(20);
	}
	cr_assert(parked && dropped, "parked %d dropped %d", parked, dropped);
	wt_close(&slow);
	free(body);
}

/* At worker_connections the worker stops taking connections (they wait
 * in the listen queue), keeps serving the ones it holds, and takes the
 * queued one as soon as one of them closes. */
Test(worker_ops, worker_connections_caps_what_a_worker_holds)
{
	struct wt_cl held[3], extra;
	struct wt_rep r;
	struct pollfd p;
	int i;

	wt_start("worker_connections = 3\n", 1);
	for (i = 0; i < 3; i++) {
		wt_open(&held[i]);
		wt_get(&held[i], "/health/live", NULL, &r);
		wt_rep_free(&r);
	}
	wt_open(&extra); /* the kernel completes it: it waits in the queue */
	wt_send(&extra, "GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n");
	p.fd = extra.fd;
	p.events = POLLIN;
	cr_assert(eq(int, poll(&p, 1, 500), 0),
	    "a fourth connection was served");
	wt_get(&held[0], "/health/live", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	wt_rep_free(&r);
	wt_close(&held[1]);
	cr_assert(eq(int, wt_reply(&extra, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	wt_rep_free(&r);
	wt_close(&extra);
	wt_close(&held[0]);
	wt_close(&held[2]);
}

/* CPU ticks (user + system) a process used so far. */
static unsigned long long cpu_ticks(pid_t pid)
{
	char path[64], *s, *p;
	unsigned long long ut = 0, st = 0;
	int i;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	s = tu_read(path, NULL);
	cr_assert(not(eq(ptr, s, NULL)));
	p = strrchr(s, ')');
	cr_assert(not(eq(ptr, p, NULL)));
	/* fields after the name: state is 3, utime 14, stime 15 */
	for (i = 3; i < 14 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	cr_assert(not(eq(ptr, p, NULL)));
	cr_assert(eq(int, sscanf(p + 1, "%llu %llu", &ut, &st), 2));
	free(s);
	return ut + st;
}

/* Out of descriptors, a worker stops accepting for a moment instead of
 * spinning on the readable listener, keeps serving what it holds, and
 * takes the queued connections once descriptors are free again. */
Test(worker_ops, out_of_descriptors_pauses_accepts_without_spinning)
{
	enum { NC = 12 };
	struct wt_cl c[NC];
	struct wt_rep r;
	bool done[NC] = {false};
	unsigned long long t0, used;
	long hz = sysconf(_SC_CLK_TCK);
	int i, held = -1, answered = 0;

	wt_spare_fds = 6; /* epoll, a few connections */
	wt_start(NULL, 1);
	for (i = 0; i < NC; i++) {
		wt_open(&c[i]);
		wt_send(&c[i], "GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	for (i = 0; i < NC; i++) {
		struct pollfd p = {.fd = c[i].fd, .events = POLLIN};

		if (poll(&p, 1, answered == 0 ? 3000 : 300) == 1 &&
		    wt_reply(&c[i], &r, false) == 0) {
			done[i] = true;
			held = i;
			answered++;
			wt_rep_free(&r);
		}
	}
	cr_assert(answered > 0 && answered < NC, "%d of %d answered", answered,
	    NC);
	t0 = cpu_ticks(wt_kids[0]);
	wt_sleep_ms(1000);
	used = cpu_ticks(wt_kids[0]) - t0;
	cr_assert(used * 4 < (unsigned long long)hz,
	    "the worker used %llu of %ld ticks in a second", used, hz);
	/* A held connection is still served. */
	wt_get(&c[held], "/health/live", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	wt_rep_free(&r);
	/* Free the descriptors: the queued clients get their replies. */
	for (i = 0; i < NC; i++)
		if (done[i])
			wt_close(&c[i]);
	for (i = 0; i < NC; i++) {
		if (done[i])
			continue;
		cr_assert(eq(int, wt_reply(&c[i], &r, false), 0),
		    "client %d never answered", i);
		cr_assert(eq(int, r.status, 200));
		wt_rep_free(&r);
		wt_close(&c[i]);
	}
}

/* ---- scoreboard --------------------------------------------------------- */

Test(worker_ops, scoreboard_shows_keepalive_reading_and_counts)
{
	struct wt_cl c;
	struct wt_rep r;
	struct sb_slot_view v;

	wt_start(NULL, 1);
	wt_open(&c);
	wt_get(&c, "/health/live", NULL, &r);
	wt_rep_free(&r);
	cr_assert(wt_wait_state(0, SB_STATE_KEEPALIVE, 3000));
	cr_assert(wt_slot_view(0, &v));
	cr_assert(eq(u32, v.conn_keepalive, 1));
	cr_assert(eq(u64, v.requests, 1));
	cr_assert(eq(u32, v.last_status, 200));
	cr_assert(eq(str, v.method, "GET"));
	cr_assert(eq(str, v.path, "/health/live"));
	cr_assert(eq(str, v.client, "127.0.0.1"));
	wt_send(&c, "GET /health/live HTTP/1.1\r\n");
	cr_assert(wt_wait_state(0, SB_STATE_READING, 3000));
	wt_send(&c, "Host: t\r\n\r\n");
	cr_assert(eq(int, wt_reply(&c, &r, false), 0));
	wt_rep_free(&r);
	wt_close(&c);
	cr_assert(wt_wait_state(0, SB_STATE_WAITING, 3000));
}

/* ---- signals and the master --------------------------------------------- */

static bool wait_exit(pid_t pid, int ms, int *status)
{
	uint64_t end = wt_now_ms() + (uint64_t)ms;

	do {
		pid_t got = waitpid(pid, status, WNOHANG);

		if (got == pid)
			return true;
		wt_sleep_ms(10);
	} while (wt_now_ms() < end);
	return false;
}

static bool exited_zero(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void forget_kid(pid_t pid)
{
	int i;

	for (i = 0; i < wt_nkids; i++)
		if (wt_kids[i] == pid)
			wt_kids[i] = 0;
}

Test(worker_ops, sigterm_is_graceful)
{
	struct wt_cl busy, half, idle;
	struct wt_rep r;
	int status = 0;

	wt_start("header_timeout = 10s\n", 1);
	wt_open(&idle);
	wt_get(&idle, "/health/live", NULL, &r);
	wt_rep_free(&r);
	wt_open(&half);
	wt_get(&half, "/health/live", NULL, &r);
	wt_rep_free(&r);
	wt_send(&half, "GET /health/live HTTP/1.1\r\n"); /* mid-request */
	wt_open(&busy);
	wt_send(&busy, "GET /debug/sleep?ms=700 HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(wt_wait_state(0, SB_STATE_HANDLING, 3000));

	cr_assert(eq(int, kill(wt_kids[0], SIGTERM), 0));
	/* The request in hand completes, and says it is the last. */
	cr_assert(eq(int, wt_reply(&busy, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	expect_close(&busy, &r);
	cr_assert(wt_wait_state(0, SB_STATE_FINISHING, 3000));
	/* The kept-alive connection's next reply carries Connection: close. */
	wt_send(&half, "Host: t\r\n\r\n");
	cr_assert(eq(int, wt_reply(&half, &r, false), 0));
	cr_assert(eq(int, r.status, 200));
	expect_close(&half, &r);
	/* The idle one is closed after the short grace. */
	cr_assert(wt_eof(&idle, 5000));
	cr_assert(wait_exit(wt_kids[0], 5000, &status), "worker did not exit");
	forget_kid(wt_kids[0]);
	cr_assert(exited_zero(status), "status 0x%x", status);
	wt_close(&busy);
	wt_close(&half);
	wt_close(&idle);
}

Test(worker_ops, exits_when_the_master_is_gone)
{
	int p[2], status = 0;
	pid_t mid, w = 0;

	wt_start(NULL, 0);
	cr_assert(eq(int, prctl(PR_SET_CHILD_SUBREAPER, 1), 0));
	cr_assert(eq(int, pipe(p), 0));
	mid = fork();
	cr_assert(mid >= 0);
	if (mid == 0) {
		/* A stand-in master: forks the worker, waits until it runs,
		 * tells the test its pid and dies. */
		pid_t pid = fork();

		if (pid == 0) {
			wt_ctx.master_pid = getppid();
			log_set_level(LOG_LEVEL_ERROR);
			worker_main(&wt_ctx);
		}
		if (pid < 0 || write(p[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		if (!wt_wait_state(0, SB_STATE_WAITING, 5000))
			_exit(1);
		_exit(0);
	}
	(void)close(p[1]);
	cr_assert(eq(long, (long)read(p[0], &w, sizeof(w)), (long)sizeof(w)));
	wt_kids[wt_nkids++] = w;
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

	(void)snprintf(path, sizeof(path), "%s/%s", wt_dir, name);
	s = tu_read(path, NULL);
	return s != NULL ? s : strdup("");
}

/* The log once it has lines lines containing needle (a line is written
 * just after its reply is sent), or as it is after 3 s. */
static char *wait_log(const char *name, const char *needle, size_t lines)
{
	uint64_t end = wt_now_ms() + 3000;
	char *s = read_log(name);

	while (tu_count_lines_with(s, needle) < lines && wt_now_ms() < end) {
		free(s);
		wt_sleep_ms(10);
		s = read_log(name);
	}
	return s;
}

Test(worker_ops, access_log_combined)
{
	struct wt_cl c;
	struct wt_rep r;
	char *log, want[256];

	wt_start("access_log = '@DIR@/access.log'\n", 1);
	wt_open(&c);
	wt_get(&c, "/health/live?x=1",
	    "User-Agent: t/1 \"q\"\r\n"
	    "X-Request-Id: log-1\r\n",
	    &r);
	wt_rep_free(&r);
	wt_get(&c, "/nope", "X-Request-Id: log-2\r\nReferer: http://r/\r\n",
	    &r);
	wt_rep_free(&r);
	wt_close(&c);
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
	    (long)wt_kids[0]);
	cr_assert(not(eq(ptr, strstr(log, want), NULL)), "%s", log);
	cr_assert(not(eq(ptr, strstr(log, "\"GET /nope HTTP/1.1\" 404 "),
	              NULL)),
	    "%s", log);
	cr_assert(not(eq(ptr, strstr(log, "\"http://r/\" \"-\" log-2 "), NULL)),
	    "%s", log);
	free(log);
}

Test(worker_ops, access_log_json_and_reopen_on_sigusr1)
{
	struct wt_cl c;
	struct wt_rep r;
	char *log, old[600], cur[600];
	json_object *o, *v;

	wt_start("access_log = '@DIR@/access.log'\naccess_log_format = json\n",
	    1);
	wt_open(&c);
	wt_get(&c, "/health/live", "User-Agent: t/2\r\nX-Request-Id: j-1\r\n",
	    &r);
	wt_rep_free(&r);
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
	cr_assert(eq(long, (long)json_object_get_int64(v), (long)wt_kids[0]));
	cr_assert(json_object_object_get_ex(o, "duration_us", &v));
	json_object_put(o);
	free(log);

	/* logrotate: move the file, SIGUSR1, and the next line goes to a new
	 * file at the configured path. */
	(void)snprintf(cur, sizeof(cur), "%s/access.log", wt_dir);
	(void)snprintf(old, sizeof(old), "%s/access.log.1", wt_dir);
	cr_assert(eq(int, rename(cur, old), 0));
	cr_assert(eq(int, kill(wt_kids[0], SIGUSR1), 0));
	wt_get(&c, "/health/live", "X-Request-Id: j-2\r\n", &r);
	wt_rep_free(&r);
	wt_close(&c);
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

Test(worker_ops,
    new_client_answered_promptly_beside_500_slow_loris_and_256_idle)
{
	static const char loris_head[] =
	    "GET /health/live HTTP/1.1\r\nHost: t\r\nX-";
	static int loris[NLORIS];
	static struct wt_cl idle[NIDLE];
	struct wt_rep r;
	uint64_t worst = 0;
	size_t i;
	int k;

	raise_nofile(4096);
	wt_start("header_timeout = 60s\nkeepalive_timeout = 60s\n"
	         "worker_connections = 1000\n",
	    4);
	for (i = 0; i < NLORIS; i++) {
		loris[i] = wt_connect_fd();
		cr_assert(loris[i] >= 0, "slow-loris %zu: %s", i,
		    strerror(errno));
		(void)send(loris[i], loris_head, strlen(loris_head),
		    MSG_NOSIGNAL);
	}
	for (i = 0; i < NIDLE; i++) {
		struct wt_rep ir;

		wt_open(&idle[i]);
		wt_get(&idle[i], "/health/live", NULL, &ir);
		cr_assert(eq(int, ir.status, 200));
		wt_rep_free(&ir);
	}
	dribble(loris, NLORIS);
	for (k = 0; k < 5; k++) {
		struct wt_cl c;
		uint64_t t0 = wt_now_ms(), took;
		struct pollfd p;

		wt_open(&c);
		wt_send(&c, "GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n");
		p.fd = c.fd;
		p.events = POLLIN;
		/* Keep the slow-loris clients dribbling while we wait. */
		while (poll(&p, 1, 50) == 0 && wt_now_ms() - t0 < 5000)
			dribble(loris, NLORIS);
		cr_assert(eq(int, wt_reply(&c, &r, false), 0));
		took = wt_now_ms() - t0;
		cr_assert(eq(int, r.status, 200));
		wt_rep_free(&r);
		wt_close(&c);
		if (took > worst)
			worst = took;
		dribble(loris, NLORIS);
		wt_sleep_ms(100);
	}
	cr_log_info("worst of 5 answers beside %d slow-loris and %d idle "
	            "connections: %llu ms",
	    NLORIS, NIDLE, (unsigned long long)worst);
	cr_assert(worst < 1000, "a new client waited %llu ms",
	    (unsigned long long)worst);
	/* The idle keep-alive connections still work. */
	for (i = 0; i < NIDLE; i += 51) {
		wt_get(&idle[i], "/health/live", NULL, &r);
		cr_assert(eq(int, r.status, 200));
		wt_rep_free(&r);
	}
	for (i = 0; i < NIDLE; i++)
		wt_close(&idle[i]);
	for (i = 0; i < NLORIS; i++)
		(void)close(loris[i]);
}
