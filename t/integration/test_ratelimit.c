/*
 * test_ratelimit.c - the rate limiter end to end: cache_incr() against
 * the harness's Redis (counts, ttl, seed, a flushed script cache, a key
 * that is no counter, Redis away), and the real pacerd through
 * /debug/ratelimit: one limit shared by every worker (concurrent clients,
 * exactly limit hits allowed), the headers on allowed and refused
 * answers, Retry-After, the window resetting, a seed, the denial counter
 * in /metrics, and a private redis-server killed under it (the
 * shared-memory fallback still limits, across workers, and says local;
 * once Redis is back it counts again, and the outage's hits are its
 * starting count).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "tredis.h"
#include "tserver.h"

static long long now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An id no other test, run or process uses. */
static const char *uid(char *dst, size_t n, const char *stem)
{
	static unsigned seq;

	(void)snprintf(dst, n, "%s-%ld-%u-%ld", stem, (long)getpid(), seq++,
	    (long)time(NULL));
	return dst;
}

/* ------------------------------------------------------------ cache_incr */

static unsigned ev[CACHE_EV_NEVENTS];

static void count_event(void *arg, enum cache_event e)
{
	(void)arg;
	ev[e]++;
}

static struct cache *open_cache(const char *url)
{
	struct cache_opts o;
	char err[256] = "";
	struct cache *c;

	memset(&o, 0, sizeof(o));
	o.redis_url = url;
	o.connect_timeout_ms = 500;
	o.command_timeout_ms = 300;
	o.retry_max_ms = 400;
	o.on_event = count_event;
	c = cache_open(&o, err, sizeof(err));
	cr_assert(not(eq(ptr, c, NULL)), "cache_open: %s", err);
	return c;
}

static redisContext *own_redis(void)
{
	const char *url = ts_env("PACER_TEST_REDIS_URL");
	const char *p = strrchr(url, ':');
	struct timeval tv = {2, 0};
	redisContext *r;

	cr_assert(p != NULL, "a host:port in %s", url);
	r = redisConnectWithTimeout("127.0.0.1", atoi(p + 1), tv);
	cr_assert(r != NULL && r->err == 0, "connect to the harness redis");
	return r;
}

static void cache_init(void)
{
	signal(SIGPIPE, SIG_IGN);
	memset(ev, 0, sizeof(ev));
}

TestSuite(ratelimit_cache, .init = cache_init);

Test(ratelimit_cache, counts_atomically_with_ttl_and_seed)
{
	struct cache *c = open_cache(ts_env("PACER_TEST_REDIS_URL"));
	redisContext *r = own_redis();
	redisReply *rep;
	char k[96], rk[160];
	int64_t n = 0, left = 0;

	uid(k, sizeof(k), "incr");
	cr_assert(
	    eq(int, cache_incr(c, "rl_test", k, 1, 5000, 0, &n, &left), 1));
	cr_assert(eq(i64, n, 1));
	cr_assert(left > 4000 && left <= 5000,
	    "expected ~5000 ms left, got %lld", (long long)left);
	cr_assert(
	    eq(int, cache_incr(c, "rl_test", k, 2, 60000, 9, &n, &left), 1));
	cr_assert(eq(i64, n, 3),
	    "expected a seed to be ignored for a live key");
	cr_assert(left <= 5000,
	    "expected the first hit's ttl to stay, got %lld ms",
	    (long long)left);
	/* The key is where cache.h says. */
	(void)snprintf(rk, sizeof(rk), "pacer:v1:rl_test:%s", k);
	rep = redisCommand(r, "GET %s", rk);
	cr_assert(rep != NULL && rep->type == REDIS_REPLY_STRING &&
	        strcmp(rep->str, "3") == 0,
	    "expected %s = 3", rk);
	freeReplyObject(rep);
	/* A seed starts an absent key. */
	uid(k, sizeof(k), "seed");
	cr_assert(
	    eq(int, cache_incr(c, "rl_test", k, 1, 5000, 41, &n, &left), 1));
	cr_assert(eq(i64, n, 42), "expected seed 41 plus this hit");
	cr_assert(left > 0 && left <= 5000);
	/* A server that forgot the script (SCRIPT FLUSH, a restart) gets it
	 * again. */
	freeReplyObject(redisCommand(r, "SCRIPT FLUSH"));
	cr_assert(
	    eq(int, cache_incr(c, "rl_test", k, 1, 5000, 0, &n, &left), 1));
	cr_assert(eq(i64, n, 43));
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_ERROR], 0));
	redisFree(r);
	cache_close(&c);
}

Test(ratelimit_cache, refusals_and_an_absent_redis_are_not_counted)
{
	struct cache *c = open_cache(ts_env("PACER_TEST_REDIS_URL"));
	redisContext *r = own_redis();
	char k[96], rk[160];
	int64_t n = 0, left = 0;

	uid(k, sizeof(k), "text");
	(void)snprintf(rk, sizeof(rk), "pacer:v1:rl_test:%s", k);
	freeReplyObject(redisCommand(r, "SET %s hello EX 60", rk));
	cr_assert(eq(int, cache_incr(c, "rl_test", k, 1, 5000, 0, &n, &left),
	              0),
	    "expected a key holding text to refuse counting");
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_ERROR], 1));
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_UP),
	    "expected an error reply to keep the connection");
	/* Caller bugs. */
	cr_assert(eq(int, cache_incr(c, "RL", k, 1, 5000, 0, &n, &left), -1));
	cr_assert(eq(int,
	    cache_incr(c, "rl_test", "a b", 1, 5000, 0, &n, &left), -1));
	cr_assert(
	    eq(int, cache_incr(c, "rl_test", k, 0, 5000, 0, &n, &left), -1));
	cr_assert(eq(int, cache_incr(c, "rl_test", k, 1, 0, 0, &n, &left), -1));
	cr_assert(
	    eq(int, cache_incr(c, "rl_test", k, 1, 5000, -1, &n, &left), -1));
	cr_assert(
	    eq(int, cache_incr(c, "rl_test", k, 1, 5000, 0, NULL, &left), -1));
	redisFree(r);
	cache_close(&c);
	/* Nobody listens there: down, nothing counted, no error for it. */
	c = open_cache("redis://127.0.0.1:1/0");
	cr_assert(
	    eq(int, cache_incr(c, "rl_test", "x", 1, 5000, 0, &n, &left), 0));
	cache_close(&c);
}

/* ------------------------------------------------------------ pacerd */

static struct ts srv; /* static: the suite's fini stops it */
static struct ts *running;
static struct tredis pr;

static void stop_all(void)
{
	if (running != NULL)
		ts_fini(running);
	running = NULL;
	tredis_fini(&pr);
}

TestSuite(ratelimit, .init = cache_init, .fini = stop_all);

static int status_of(const char *resp)
{
	int st = -1;

	if (resp == NULL || sscanf(resp, "HTTP/1.1 %d", &st) != 1)
		return -1;
	return st;
}

/* A header's value as a number; -1 when absent. */
static long long header(const char *resp, const char *name)
{
	const char *p = resp, *end = strstr(resp, "\r\n\r\n");
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL && p < end) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return atoll(p + n + 1);
	}
	return -1;
}

static struct json_object *body_json(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");
	struct json_object *o;

	cr_assert(b != NULL, "no body in %s", resp);
	o = json_tokener_parse(b + 4);
	cr_assert(o != NULL, "not JSON: %s", b + 4);
	return o;
}

static long long jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no %s", k);
	return (long long)json_object_get_int64(v);
}

static bool jbool(struct json_object *o, const char *k)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no %s", k);
	return json_object_get_boolean(v);
}

/* GET /debug/ratelimit for (id, limit, window[, seed]); the response. */
static char *rl_get(int port, const char *id, int limit, int window, int seed)
{
	char path[256];
	char *resp;

	(void)snprintf(path, sizeof(path),
	    "/debug/ratelimit?id=%s&limit=%d&window=%d&seed=%d", id, limit,
	    window, seed);
	resp = ts_raw_get(port, path);
	cr_assert(resp != NULL, "no answer to %s", path);
	return resp;
}

static void start(struct ts *s, const char *redis_extra)
{
	char extra[1024];

	(void)snprintf(extra, sizeof(extra),
	    "debug_routes = on\nstart_workers = 4\nmin_spare_workers = 4\n"
	    "max_spare_workers = 8\nmax_requests_per_worker = 0\n%s",
	    redis_extra != NULL ? redis_extra : "");
	ts_init(s, extra);
	running = s;
	ts_start(s);
}

/* What concurrent clients saw. */
struct tally {
	int ok, denied, other;
	int local; /* allowed answers that said local */
	pid_t pids[64];
	int npids; /* distinct workers among the allowed answers */
};

/* nclients processes each send per requests for (id, limit, window) at
 * once; one line per answer comes back through a pipe: "status pid
 * local". */
static void hammer(int port, const char *id, int limit, int window,
    int nclients, int per, struct tally *t)
{
	int fds[2], i, k;
	pid_t kids[32];
	FILE *in;
	char line[128];

	memset(t, 0, sizeof(*t));
	cr_assert(nclients <= 32);
	cr_assert(eq(int, pipe(fds), 0));
	for (i = 0; i < nclients; i++) {
		kids[i] = fork();
		cr_assert(kids[i] >= 0);
		if (kids[i] > 0)
			continue;
		(void)close(fds[0]);
		for (k = 0; k < per; k++) {
			char *resp = rl_get(port, id, limit, window, 0);
			int st = status_of(resp);
			long long pid = 0, local = 0;

			if (st == 200) {
				struct json_object *o = body_json(resp);

				pid = jint(o, "pid");
				local = jbool(o, "local");
				json_object_put(o);
			}
			(void)snprintf(line, sizeof(line), "%d %lld %lld\n", st,
			    pid, local);
			if (write(fds[1], line, strlen(line)) < 0)
				_exit(1);
			free(resp);
		}
		_exit(0);
	}
	(void)close(fds[1]);
	in = fdopen(fds[0], "r");
	cr_assert(in != NULL);
	while (fgets(line, sizeof(line), in) != NULL) {
		int st;
		long long pid, local;

		cr_assert(eq(int,
		    sscanf(line, "%d %lld %lld", &st, &pid, &local), 3));
		if (st == 429) {
			t->denied++;
			continue;
		}
		if (st != 200) {
			t->other++;
			continue;
		}
		t->ok++;
		t->local += local != 0;
		for (k = 0; k < t->npids && t->pids[k] != (pid_t)pid; k++)
			;
		if (k == t->npids && t->npids < 64)
			t->pids[t->npids++] = (pid_t)pid;
	}
	(void)fclose(in);
	for (i = 0; i < nclients; i++) {
		bool exited0;
		int st;

		cr_assert(eq(int, waitpid(kids[i], &st, 0), kids[i]));
		exited0 = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		cr_assert(exited0, "client %d failed", i);
	}
}

Test(ratelimit, one_limit_shared_by_every_worker, .timeout = 90)
{
	struct tally t;
	char id[96];
	double denied0, denied1;

	start(&srv, NULL);
	denied0 = ts_metric(srv.port, "pacer_ratelimit_denied_total");
	cr_assert(denied0 >= 0, "expected pacer_ratelimit_denied_total");
	/* 8 clients at once, 64 requests, a limit of 40 per 10 minutes. */
	uid(id, sizeof(id), "shared");
	hammer(srv.port, id, 40, 600, 8, 8, &t);
	cr_assert(eq(int, t.other, 0), "unexpected statuses");
	cr_assert(eq(int, t.ok + t.denied, 64));
	cr_assert(eq(int, t.ok, 40), "expected exactly 40 allowed, got %d",
	    t.ok);
	cr_assert(eq(int, t.denied, 24));
	cr_assert(eq(int, t.local, 0), "expected Redis to count");
	cr_assert(t.npids >= 2,
	    "expected several workers to answer (got %d): the limit is "
	    "shared only if more than one counted",
	    t.npids);
	cr_log_info("rate limit: 40 of 64 allowed by %d workers", t.npids);
	denied1 = ts_metric(srv.port, "pacer_ratelimit_denied_total");
	cr_assert(denied1 - denied0 >= 24,
	    "expected the denials in /metrics (%.0f -> %.0f)", denied0,
	    denied1);
}

Test(ratelimit, headers_on_allowed_and_refused_answers, .timeout = 60)
{
	struct json_object *o;
	char id[96], *resp;
	long long reset;

	start(&srv, NULL);
	uid(id, sizeof(id), "hdr");
	resp = rl_get(srv.port, id, 2, 600, 0);
	cr_assert(eq(int, status_of(resp), 200), "%s", resp);
	cr_assert(eq(i64, header(resp, "X-RateLimit-Limit"), 2), "%s", resp);
	cr_assert(eq(i64, header(resp, "X-RateLimit-Remaining"), 1), "%s",
	    resp);
	reset = header(resp, "X-RateLimit-Reset");
	cr_assert(reset >= 1 && reset <= 600,
	    "expected the seconds to the window's end, got %lld", reset);
	cr_assert(eq(i64, header(resp, "Retry-After"), -1),
	    "expected no Retry-After on an allowed answer");
	o = body_json(resp);
	cr_assert(eq(i64, jint(o, "count"), 1));
	cr_assert(not(jbool(o, "local")));
	json_object_put(o);
	free(resp);

	resp = rl_get(srv.port, id, 2, 600, 0);
	cr_assert(eq(int, status_of(resp), 200));
	cr_assert(eq(i64, header(resp, "X-RateLimit-Remaining"), 0));
	free(resp);

	resp = rl_get(srv.port, id, 2, 600, 0);
	cr_assert(eq(int, status_of(resp), 429), "%s", resp);
	cr_assert(eq(i64, header(resp, "X-RateLimit-Limit"), 2));
	cr_assert(eq(i64, header(resp, "X-RateLimit-Remaining"), 0));
	reset = header(resp, "X-RateLimit-Reset");
	cr_assert(reset >= 1 && reset <= 600, "reset %lld", reset);
	cr_assert(eq(i64, header(resp, "Retry-After"), reset),
	    "expected Retry-After to equal the reset: %s", resp);
	cr_assert(not(eq(ptr, strstr(resp, "\"too_many_requests\""), NULL)),
	    "expected the JSON error code: %s", resp);
	free(resp);

	/* Bad parameters are a 400, not a hit. */
	resp =
	    ts_raw_get(srv.port, "/debug/ratelimit?id=a%20b&limit=1&window=9");
	cr_assert(eq(int, status_of(resp), 400), "%s", resp);
	free(resp);
	resp = ts_raw_get(srv.port, "/debug/ratelimit?id=x&limit=0&window=9");
	cr_assert(eq(int, status_of(resp), 400), "%s", resp);
	free(resp);
}

Test(ratelimit, the_window_resets_and_retry_after_is_right, .timeout = 60)
{
	char id[96], *resp;
	long long retry, t0;

	start(&srv, NULL);
	uid(id, sizeof(id), "reset");
	/* A 3-second window: fill it, then wait as Retry-After says. */
	for (;;) {
		resp = rl_get(srv.port, id, 2, 3, 0);
		if (status_of(resp) == 429)
			break;
		cr_assert(eq(int, status_of(resp), 200), "%s", resp);
		free(resp);
	}
	retry = header(resp, "Retry-After");
	cr_assert(retry >= 1 && retry <= 3, "expected 1 to 3 s, got %lld",
	    retry);
	free(resp);
	t0 = now_ms();
	ts_sleep_ms((int)retry * 1000 + 50);
	resp = rl_get(srv.port, id, 2, 3, 0);
	cr_assert(eq(int, status_of(resp), 200),
	    "expected a new window %lld ms after the refusal: %s",
	    now_ms() - t0, resp);
	cr_assert(eq(i64, header(resp, "X-RateLimit-Remaining"), 1),
	    "expected the count to start again: %s", resp);
	free(resp);
}

Test(ratelimit, a_seed_is_the_starting_count, .timeout = 60)
{
	struct json_object *o;
	char id[96], *resp;

	start(&srv, NULL);
	uid(id, sizeof(id), "seed");
	resp = rl_get(srv.port, id, 10, 600, 7);
	cr_assert(eq(int, status_of(resp), 200), "%s", resp);
	o = body_json(resp);
	cr_assert(eq(i64, jint(o, "count"), 8), "expected 7 used + this one");
	cr_assert(eq(i64, jint(o, "remaining"), 2));
	json_object_put(o);
	free(resp);
	resp = rl_get(srv.port, id, 10, 600, 7);
	o = body_json(resp);
	cr_assert(eq(i64, jint(o, "count"), 9),
	    "expected the seed to count once per window");
	json_object_put(o);
	free(resp);
	resp = rl_get(srv.port, id, 9, 600, 7);
	cr_assert(eq(int, status_of(resp), 429),
	    "expected the 10th hit over a limit of 9: %s", resp);
	free(resp);
}

/* Requests for fresh ids until one is counted by Redis (local false),
 * for up to ms. */
static bool redis_counts_again(int port, int ms)
{
	long long t0 = now_ms();
	char id[96];

	while (now_ms() - t0 < ms) {
		char *resp =
		    rl_get(port, uid(id, sizeof(id), "probe"), 100, 60, 0);
		struct json_object *o = body_json(resp);
		bool local = jbool(o, "local");

		json_object_put(o);
		free(resp);
		if (!local)
			return true;
		ts_sleep_ms(20);
	}
	return false;
}

Test(ratelimit, redis_killed_the_shared_memory_limits_then_redis_again,
    .timeout = 120)
{
	struct tally t;
	struct json_object *o;
	char extra[512], id[96], id2[96], *resp;
	int i;

	tredis_start(&pr, NULL);
	(void)snprintf(extra, sizeof(extra),
	    "redis_url = 'redis://127.0.0.1:%d/0'\n"
	    "redis_timeout = 200ms\nredis_retry_max = 200ms\n",
	    pr.port);
	start(&srv, extra);
	uid(id, sizeof(id), "outage");
	resp = rl_get(srv.port, id, 5, 600, 0);
	o = body_json(resp);
	cr_assert(not(jbool(o, "local")), "expected Redis to count: %s", resp);
	json_object_put(o);
	free(resp);

	tredis_kill(&pr, SIGKILL);
	/* Redis is gone: every worker counts in the shared table, which
	 * still holds 20 per window across all of them. */
	/* The 20 allowed answers may all come from one worker on a busy
	 * machine; that proves nothing about sharing, so a round like that
	 * is run again with a fresh id (each round must be exact). */
	for (i = 0; i < 5; i++) {
		uid(id2, sizeof(id2), "local");
		hammer(srv.port, id2, 20, 600, 8, 8, &t);
		cr_assert(eq(int, t.other, 0));
		cr_assert(eq(int, t.ok, 20),
		    "expected exactly 20 of 64 allowed without Redis, got %d",
		    t.ok);
		cr_assert(eq(int, t.local, 20), "expected every verdict local");
		if (t.npids >= 2)
			break;
	}
	cr_assert(t.npids >= 2, "expected several workers in 5 rounds (got %d)",
	    t.npids);
	/* A seed works in the table too. */
	resp = rl_get(srv.port, uid(id, sizeof(id), "lseed"), 10, 600, 4);
	o = body_json(resp);
	cr_assert(eq(i64, jint(o, "count"), 5), "%s", resp);
	cr_assert(jbool(o, "local"));
	json_object_put(o);
	free(resp);

	/* Redis back (empty: it kept nothing): counting moves back to it,
	 * and the outage's count is the window's starting value there. */
	tredis_start(&pr, NULL);
	cr_assert(redis_counts_again(srv.port, 5000),
	    "expected Redis to count again within 5 s of its restart");
	for (i = 0; i < 8; i++) {
		resp = rl_get(srv.port, id2, 20, 600, 0);
		cr_assert(eq(int, status_of(resp), 429),
		    "expected the bucket filled during the outage to stay "
		    "refused: %s",
		    resp);
		free(resp);
	}
	resp = rl_get(srv.port, uid(id, sizeof(id), "after"), 5, 600, 0);
	cr_assert(eq(int, status_of(resp), 200), "%s", resp);
	free(resp);
}
