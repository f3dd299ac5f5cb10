/*
 * test_master.c - the real master, started as an operator starts it, and
 * driven with the signals of pacerd(8): start-up and its failures, the
 * pool's size, crashes, reload under traffic, graceful and fast stop, log
 * reopening, the watchdog and recycling.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "sb.h"
#include "testutil.h"
#include "tserver.h"

static struct ts srv;

static void fini(void)
{
	ts_fini(&srv);
}

TestSuite(master, .fini = fini, .timeout = 90);

static bool exited_with(const struct ts *s, int code)
{
	return WIFEXITED(s->status) && WEXITSTATUS(s->status) == code;
}

/* Poll the scoreboard until pred holds or ms pass. */
static bool pool_until(bool (*pred)(const struct ts_pool *, void *), void *arg,
    int ms, struct ts_pool *last)
{
	int waited;

	for (waited = 0;; waited += 100) {
		if (ts_pool(&srv, last) == 0 && pred(last, arg))
			return true;
		if (waited >= ms)
			return false;
		ts_sleep_ms(100);
	}
}

/* ------------------------------------------------------------ start-up */

Test(master, detached_start_returns_once_serving)
{
	char path[512];

	ts_init(&srv, NULL);
	ts_start_detached(&srv);
	/* Serving before the starting process returned. */
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200));
	cr_assert(eq(int, kill(srv.pid, 0), 0), "pidfile names pid %d",
	    (int)srv.pid);
	ts_signal(&srv, SIGTERM);
	cr_assert(ts_wait_exit(&srv, 15000), "master did not stop");
	cr_expect(exited_with(&srv, 0), "status %d", srv.status);
	(void)snprintf(path, sizeof(path), "%s/pacerd.pid", srv.dir);
	cr_expect(eq(int, access(path, F_OK), -1), "pidfile left behind");
}

Test(master, detached_start_fails_with_the_real_error_on_a_taken_port)
{
	char *argv[5] = {NULL, "-f", NULL, NULL};
	struct tu_run r;
	char want[128];
	int fd;

	ts_init(&srv, NULL);
	fd = ts_occupy_port(srv.port);
	argv[0] = tu_buildpath("master/pacerd");
	argv[2] = srv.conf;
	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_expect(eq(int, r.status, 1));
	(void)snprintf(want, sizeof(want), "could not bind 127.0.0.1:%d",
	    srv.port);
	TU_EXPECT_IN(r.err, want);
	(void)close(fd);
	free(argv[0]);
	tu_run_free(&r);
}

Test(master, a_second_master_is_refused_and_a_stale_pidfile_replaced)
{
	char *argv[6] = {NULL, "-D", "-f", NULL, NULL};
	char path[512], want[128], buf[32];
	struct tu_run r;
	pid_t dead;
	char *p;

	ts_init(&srv, NULL);
	/* A pidfile left by a master that died: a pid that is gone. */
	dead = fork();
	cr_assert(dead >= 0);
	if (dead == 0)
		_exit(0);
	cr_assert(eq(int, waitpid(dead, NULL, 0), dead));
	(void)snprintf(buf, sizeof(buf), "%d\n", (int)dead);
	p = tu_write(srv.dir, "pacerd.pid", buf);
	free(p);
	ts_start(&srv);
	(void)snprintf(want, sizeof(want), "replaced the stale pidfile");
	cr_expect(ts_log_wait(&srv, want, 2000));

	argv[0] = tu_buildpath("master/pacerd");
	argv[3] = srv.conf;
	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_expect(eq(int, r.status, 1));
	(void)snprintf(want, sizeof(want), "already running as pid %d",
	    (int)srv.pid);
	cr_expect(not(eq(ptr, strstr(r.err, want), NULL)), "stderr: %s", r.err);
	/* The first one is unharmed. */
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200));
	(void)snprintf(path, sizeof(path), "%s/pacerd.pid", srv.dir);
	p = tu_read(path, NULL);
	cr_assert(not(eq(ptr, p, NULL)));
	cr_expect(eq(int, atoi(p), (int)srv.pid));
	free(p);
	free(argv[0]);
	tu_run_free(&r);
}

/* ------------------------------------------------------------ the pool */

static bool between_spares(const struct ts_pool *p, void *arg)
{
	(void)arg;
	return p->finishing == 0 && p->idle >= 1 && p->idle <= 3;
}

Test(master, idle_pool_converges_between_the_spare_bounds)
{
	struct ts_pool p;
	int i;

	ts_init(&srv,
	    "start_workers = 7\nmin_spare_workers = 1\n"
	    "max_spare_workers = 3\n");
	ts_start(&srv);
	/* One retired a second: 7 -> 3 takes about 4 s. */
	cr_assert(pool_until(between_spares, NULL, 12000, &p),
	    "idle %u total %u finishing %u", p.idle, p.total, p.finishing);
	/* And it stays there. */
	for (i = 0; i < 3; i++) {
		ts_sleep_ms(1000);
		cr_assert(eq(int, ts_pool(&srv, &p), 0));
		cr_expect(p.idle >= 1 && p.idle <= 3 + p.finishing, "idle %u",
		    p.idle);
	}
}

/* Open n connections each holding a worker in /debug/sleep. */
static int hold_workers(int *fds, int n, int ms)
{
	char req[256];
	int i, opened = 0;

	(void)snprintf(req, sizeof(req),
	    "GET /debug/sleep?ms=%d HTTP/1.1\r\nHost: x\r\n\r\n", ms);
	for (i = 0; i < n; i++) {
		fds[i] = ts_connect(srv.port);
		if (fds[i] == -1)
			continue;
		if (send(fds[i], req, strlen(req), MSG_NOSIGNAL) > 0)
			opened++;
		ts_sleep_ms(20);
	}
	return opened;
}

static bool at_cap(const struct ts_pool *p, void *arg)
{
	return p->total >= *(unsigned *)arg;
}

Test(master, pool_grows_under_load_up_to_max_workers_and_no_further)
{
	unsigned cap = 6, most = 0;
	struct ts_pool p;
	int fds[10], i;

	ts_init(&srv,
	    "start_workers = 2\nmin_spare_workers = 1\n"
	    "max_spare_workers = 2\nmax_workers = 6\n"
	    "debug_routes = on\nrequest_timeout = 60s\n");
	ts_start(&srv);
	cr_assert(eq(int, hold_workers(fds, 10, 8000), 10));
	cr_assert(pool_until(at_cap, &cap, 8000, &p), "total %u", p.total);
	for (i = 0; i < 10; i++) {
		cr_assert(eq(int, ts_pool(&srv, &p), 0));
		if (p.total > most)
			most = p.total;
		ts_sleep_ms(100);
	}
	cr_expect(eq(u32, most, cap));
	cr_expect(ts_log_wait(&srv, "max_workers (6) reached", 2000));
	for (i = 0; i < 10; i++)
		if (fds[i] != -1)
			(void)close(fds[i]);
}

Test(master, ttin_and_ttou_add_and_remove_a_worker)
{
	pid_t pids[64];
	size_t before, n;
	int i;

	ts_init(&srv,
	    "start_workers = 2\nmin_spare_workers = 1\n"
	    "max_spare_workers = 2\n");
	ts_start(&srv);
	ts_sleep_ms(1500);
	before = ts_workers(&srv, pids, 64);
	/* Signals of one kind do not queue: one at a time. */
	ts_signal(&srv, SIGTTIN);
	cr_expect(ts_log_wait(&srv, "SIGTTIN: spare workers now 2 to 3", 2000));
	ts_signal(&srv, SIGTTIN);
	cr_expect(ts_log_wait(&srv, "SIGTTIN: spare workers now 3 to 4", 2000));
	for (i = 0; i < 40 && ts_workers(&srv, pids, 64) < before + 2; i++)
		ts_sleep_ms(100);
	n = ts_workers(&srv, pids, 64);
	if (n != before + 2) {
		char *log = ts_log(&srv);

		cr_expect(eq(sz, n, before + 2),
		    "before %zu after %zu; log:\n%s", before, n, log);
		free(log);
	}
	/* The raised bounds hold across ticks. */
	ts_sleep_ms(2500);
	cr_expect(eq(sz, ts_workers(&srv, pids, 64), before + 2));
	ts_signal(&srv, SIGTTOU);
	for (i = 0; i < 40 && ts_workers(&srv, pids, 64) > before + 1; i++)
		ts_sleep_ms(100);
	cr_expect(eq(sz, ts_workers(&srv, pids, 64), before + 1));
	cr_expect(ts_log_wait(&srv, "SIGTTOU: spare workers now 2 to 3", 1000));
}

/* ------------------------------------------------------------ crashes */

Test(master, a_killed_worker_is_replaced_and_clients_barely_notice)
{
	pid_t pids[64];
	size_t n, i;
	int failures = 0, ok = 0, round;

	ts_init(&srv,
	    "start_workers = 3\nmin_spare_workers = 2\n"
	    "max_spare_workers = 4\n");
	ts_start(&srv);
	n = ts_workers(&srv, pids, 64);
	cr_assert(n >= 3);
	for (round = 0; round < 300; round++) {
		if (round == 100)
			cr_assert(eq(int, kill(pids[0], SIGKILL), 0));
		if (ts_get(srv.port, "/health/live") == 200)
			ok++;
		else
			failures++;
	}
	/* At most the request in flight on the killed worker. */
	cr_expect(failures <= 1, "%d of 300 failed", failures);
	cr_expect(ts_log_wait(&srv, "killed by SIGKILL (no core dump)", 2000));
	for (i = 0; i < 30; i++) {
		pid_t now[64];
		size_t m = ts_workers(&srv, now, 64), j;
		bool gone = true;

		for (j = 0; j < m; j++)
			gone = gone && now[j] != pids[0];
		if (gone && m >= n)
			break;
		ts_sleep_ms(100);
	}
	cr_expect(ts_workers(&srv, pids, 64) >= n);
	(void)ok;
}

/* ------------------------------------------------------------ reload */

static const char *big_header_request(void)
{
	static char req[4096];
	struct buf b;

	buf_init_fixed(&b, req, sizeof(req));
	(void)buf_puts(&b,
	    "GET /health/live HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nX-Pad: ");
	while (b.len < 2500)
		(void)buf_putc(&b, 'p');
	(void)buf_puts(&b, "\r\n\r\n");
	return buf_str(&b);
}

Test(master, reload_every_second_under_traffic_loses_nothing)
{
	struct ts_pool p;
	int failures = 0, requests = 0, hups = 0;
	long long i;

	ts_init(&srv, "max_header_size = 16kB\n");
	ts_start(&srv);
	cr_expect(
	    eq(int, ts_http(srv.port, big_header_request(), NULL, 5000), 200));
	for (i = 0; hups < 5; i++) {
		if (ts_get(srv.port, "/health/live") != 200)
			failures++;
		requests++;
		if (i % 40 == 39) {
			if (hups == 4)
				ts_rewrite(&srv, "max_header_size = 1kB\n");
			ts_signal(&srv, SIGHUP);
			hups++;
		}
		ts_sleep_ms(25);
	}
	for (i = 0; i < 80; i++) {
		if (ts_get(srv.port, "/health/live") != 200)
			failures++;
		requests++;
		ts_sleep_ms(25);
	}
	cr_expect(eq(int, failures, 0), "%d of %d requests failed", failures,
	    requests);
	cr_assert(eq(int, ts_pool(&srv, &p), 0));
	cr_expect(eq(u64, p.generation, 6));
	cr_expect(eq(int, p.reload_outcome, SB_RELOAD_OK));
	/* The changed limit is in force. */
	cr_expect(
	    eq(int, ts_http(srv.port, big_header_request(), NULL, 5000), 431));
}

Test(master, a_broken_config_on_reload_keeps_the_old_one_serving)
{
	struct ts_pool p;
	char *argv[6] = {NULL, "-s", NULL, "status", NULL};
	char sbpath[512];
	struct tu_run r;
	int i;

	ts_init(&srv, NULL);
	ts_start(&srv);
	ts_rewrite(&srv, "start_workers = many\n");
	ts_signal(&srv, SIGHUP);
	cr_expect(ts_log_wait(&srv, "start_workers: \"many\" is not an integer",
	    3000));
	for (i = 0; i < 30; i++) {
		if (ts_pool(&srv, &p) == 0 &&
		    p.reload_outcome == SB_RELOAD_FAILED)
			break;
		ts_sleep_ms(100);
	}
	cr_expect(eq(int, p.reload_outcome, SB_RELOAD_FAILED));
	cr_expect(not(eq(ptr, strstr(p.reload_error, "is not an integer"),
	              NULL)),
	    "reload_error: %s", p.reload_error);
	cr_expect(eq(u64, p.generation, 1));
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200));
	/* pacerctl status shows it. */
	argv[0] = tu_buildpath("master/pacerctl");
	(void)snprintf(sbpath, sizeof(sbpath), "%s/%s", srv.dir, SB_FILE_NAME);
	argv[2] = sbpath;
	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_expect(not(eq(ptr, strstr(r.out, "FAILED: "), NULL)), "status: %s",
	    r.out);
	free(argv[0]);
	tu_run_free(&r);
}

/* ------------------------------------------------------------ stopping */

Test(master, term_lets_the_request_in_hand_finish_then_exits)
{
	int status;
	bool completed;
	pid_t c;

	ts_init(&srv, "debug_routes = on\n");
	ts_start(&srv);
	c = fork();
	cr_assert(c >= 0);
	if (c == 0) {
		int st = ts_http(srv.port,
		    "GET /debug/sleep?ms=2000 HTTP/1.1\r\nHost: x\r\n\r\n",
		    NULL, 10000);

		_exit(st == 200 ? 0 : 1);
	}
	ts_sleep_ms(500);
	ts_signal(&srv, SIGTERM);
	cr_assert(eq(int, waitpid(c, &status, 0), c));
	completed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	cr_expect(completed, "the slow request did not complete");
	cr_assert(ts_wait_exit(&srv, 10000), "master did not exit");
	cr_expect(exited_with(&srv, 0), "status %d", srv.status);
}

Test(master, int_stops_at_once)
{
	int fds[1];

	ts_init(&srv, "debug_routes = on\n");
	ts_start(&srv);
	cr_assert(eq(int, hold_workers(fds, 1, 20000), 1));
	ts_sleep_ms(300);
	ts_signal(&srv, SIGINT);
	cr_assert(ts_wait_exit(&srv, 3000), "master still running");
	cr_expect(exited_with(&srv, 0), "status %d", srv.status);
	(void)close(fds[0]);
}

/* ------------------------------------------------------------ logs */

Test(master, usr1_reopens_the_log_and_the_access_log)
{
	char extra[2048], log[400], alog[400], moved[512], amoved[512];
	char *text;
	bool has;

	ts_init(&srv, NULL);
	(void)snprintf(log, sizeof(log), "%s/main.log", srv.dir);
	(void)snprintf(alog, sizeof(alog), "%s/access.log", srv.dir);
	(void)snprintf(extra, sizeof(extra),
	    "log_destination = file\nlog_file = '%s'\naccess_log = '%s'\n", log,
	    alog);
	ts_rewrite(&srv, extra);
	/* Detached: in the foreground the log is always stderr. */
	ts_start_detached(&srv);
	cr_assert(eq(int, ts_get(srv.port, "/health/live"), 200));
	(void)snprintf(moved, sizeof(moved), "%s.1", log);
	(void)snprintf(amoved, sizeof(amoved), "%s.1", alog);
	cr_assert(eq(int, rename(log, moved), 0));
	cr_assert(eq(int, rename(alog, amoved), 0));
	ts_signal(&srv, SIGUSR1);
	ts_sleep_ms(500);
	cr_assert(eq(int, ts_get(srv.port, "/health/live?after"), 200));
	ts_sleep_ms(200);
	text = tu_read(log, NULL);
	cr_assert(not(eq(ptr, text, NULL)), "no new log file");
	has = strstr(text, "log files reopened") != NULL;
	cr_expect(has, "log: %s", text);
	free(text);
	text = tu_read(alog, NULL);
	cr_assert(not(eq(ptr, text, NULL)), "no new access log");
	has = strstr(text, "/health/live?after") != NULL;
	cr_expect(has, "access log: %s", text);
	free(text);
}

/* ------------------------------------------------------------ watchdog */

static bool watchdog_exit(const struct ts_pool *p, void *arg)
{
	(void)arg;
	return p->exits[SB_EXIT_WATCHDOG] == 1;
}

Test(master, the_watchdog_logs_then_stops_a_stuck_request)
{
	struct ts_pool p;
	int st;
	char *log;
	const char *a, *b;
	bool has;

	ts_init(&srv,
	    "debug_routes = on\nrequest_timeout = 1s\n"
	    "watchdog_grace = 500ms\n");
	ts_start(&srv);
	st = ts_http(srv.port,
	    "GET /debug/sleep?ms=30000 HTTP/1.1\r\nHost: x\r\n\r\n", NULL,
	    8000);
	cr_expect(eq(int, st, -1), "a stuck request answered %d", st);
	cr_assert(ts_log_wait(&srv, "sending SIGKILL", 3000));
	log = ts_log(&srv);
	a = strstr(log, "stuck for");
	b = strstr(log, "sending SIGKILL");
	cr_assert(not(eq(ptr, (void *)a, NULL)), "log: %s", log);
	cr_expect(a < b, "logged after the kill");
	has = strstr(a, "GET /debug/sleep from 127.0.0.1") != NULL;
	cr_expect(has, "log: %s", a);
	free(log);
	cr_expect(pool_until(watchdog_exit, NULL, 3000, &p), "exits %llu",
	    p.exits[SB_EXIT_WATCHDOG]);
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200));
}

Test(master, debug_routes_are_off_by_default)
{
	ts_init(&srv, NULL);
	ts_start(&srv);
	cr_expect(eq(int, ts_get(srv.port, "/debug/sleep?ms=1"), 404));
}

/* ------------------------------------------------------------ recycling */

Test(master, workers_are_recycled_one_at_a_time_without_failures)
{
	struct ts_pool p;
	int i, failures = 0;

	ts_init(&srv,
	    "start_workers = 2\nmin_spare_workers = 1\n"
	    "max_spare_workers = 3\nmax_requests_per_worker = 20\n");
	ts_start(&srv);
	for (i = 0; i < 400; i++) {
		if (ts_get(srv.port, "/health/live") != 200)
			failures++;
		if (i % 50 == 0) {
			cr_assert(eq(int, ts_pool(&srv, &p), 0));
			cr_expect(p.finishing <= 1, "%u finishing at once",
			    p.finishing);
		}
		ts_sleep_ms(5);
	}
	cr_expect(eq(int, failures, 0));
	cr_assert(eq(int, ts_pool(&srv, &p), 0));
	cr_expect(p.exits[SB_EXIT_RECYCLED] >= 2, "recycled %llu",
	    p.exits[SB_EXIT_RECYCLED]);
	cr_expect(eq(u64, p.exits[SB_EXIT_CRASH], 0));
}

/* ------------------------------------------------------------ privileges */

static uid_t uid_of(pid_t pid)
{
	char path[64], *text, *line;
	uid_t uid = (uid_t)-1;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((text = tu_read(path, NULL)) == NULL)
		return uid;
	if ((line = strstr(text, "\nUid:")) != NULL)
		uid = (uid_t)strtoul(line + 5, NULL, 10);
	free(text);
	return uid;
}

Test(master, workers_drop_to_the_configured_user_and_the_master_does_not)
{
	pid_t pids[16];
	size_t n, i;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	ts_init(&srv, "user = nobody\ngroup = nogroup\n");
	/* The master (root) must reach its folder; nobody need not. */
	ts_start(&srv);
	n = ts_workers(&srv, pids, 16);
	cr_assert(n >= 2);
	for (i = 0; i < n; i++)
		cr_expect(eq(u32, (uint32_t)uid_of(pids[i]), 65534u),
		    "worker %d", (int)pids[i]);
	cr_expect(eq(u32, (uint32_t)uid_of(srv.pid), 0u));
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200));
}

static bool reload_failed(const struct ts_pool *p, void *arg)
{
	(void)arg;
	return p->reload_outcome == SB_RELOAD_FAILED;
}

Test(master, a_reload_that_cannot_bind_keeps_the_old_sockets_serving)
{
	char extra[128], want[128];
	struct ts_pool p;
	int other, fd;

	ts_init(&srv, NULL);
	ts_start(&srv);
	other = ts_free_port();
	fd = ts_occupy_port(other);
	(void)snprintf(extra, sizeof(extra), "listen = 127.0.0.1:%d\n", other);
	ts_rewrite(&srv, extra);
	ts_signal(&srv, SIGHUP);
	cr_assert(pool_until(reload_failed, NULL, 3000, &p));
	(void)snprintf(want, sizeof(want), "could not bind 127.0.0.1:%d",
	    other);
	TU_EXPECT_IN(p.reload_error, want);
	cr_expect(eq(u64, p.generation, 1));
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200));
	(void)close(fd);
}
