/*
 * test_cache.c - a worker's cache against real Redis servers: the one the
 * harness started (PACER_TEST_REDIS_URL) for keys, ttls, namespaces, the
 * local table's bound and the event counts; and private redis-servers
 * (t/tredis.h: a free port, killed at the end even when a test fails) for
 * an outage (kill -9, then a restart on the same port), a hung server
 * (SIGSTOP), a password with a database number, and one listening on a
 * unix socket only.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"
#include "testutil.h"
#include "tredis.h"
#include "tserver.h"

/* ------------------------------------------------------------ helpers */

static unsigned ev[CACHE_EV_NEVENTS];
static uint64_t fake_now; /* the injected clock, when a test uses it */

static void count_event(void *arg, enum cache_event e)
{
	(void)arg;
	ev[e]++;
}

static uint64_t fake_clock(void)
{
	return fake_now;
}

static uint64_t real_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void suite_init(void)
{
	signal(SIGPIPE, SIG_IGN); /* as in a worker */
	memset(ev, 0, sizeof(ev));
	fake_now = 1000000;
}

TestSuite(cache, .init = suite_init);

static struct cache_opts opts(const char *url, int64_t local_entries)
{
	struct cache_opts o;

	memset(&o, 0, sizeof(o));
	o.redis_url = url;
	o.connect_timeout_ms = 500;
	o.command_timeout_ms = 300;
	o.retry_max_ms = 400;
	o.local_entries = local_entries;
	o.local_ttl_ms = 5000;
	o.on_event = count_event;
	o.now_us = fake_clock;
	return o;
}

static struct cache *open_harness(int64_t local_entries)
{
	struct cache_opts o =
	    opts(ts_env("PACER_TEST_REDIS_URL"), local_entries);
	char err[256] = "";
	struct cache *c = cache_open(&o, err, sizeof(err));

	cr_assert(not(eq(ptr, c, NULL)), "cache_open: %s", err);
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_UP), "%s",
	    cache_last_error(c));
	return c;
}

/* Our own connection to the harness Redis, to look behind the cache. */
static redisContext *own_redis(int port)
{
	struct timeval tv = {2, 0};
	redisContext *r = redisConnectWithTimeout("127.0.0.1", port, tv);

	cr_assert(r != NULL && r->err == 0, "connect to 127.0.0.1:%d: %s", port,
	    (r != NULL) ? r->errstr : "no memory");
	return r;
}

static long long redis_int(redisContext *r, const char *cmd, const char *key)
{
	redisReply *rep = redisCommand(r, "%s %s", cmd, key);
	long long v;

	cr_assert(rep != NULL && rep->type == REDIS_REPLY_INTEGER, "%s %s", cmd,
	    key);
	v = rep->integer;
	freeReplyObject(rep);
	return v;
}

/* A key no other test (or parallel run) uses. */
static const char *ukey(char *dst, size_t n, const char *stem)
{
	(void)snprintf(dst, n, "%s-%ld", stem, (long)getpid());
	return dst;
}

/* cache_get into a fresh buf: the return code, the value in *val
 * (caller frees). */
static int get(struct cache *c, const char *ns, const char *key, char **val)
{
	struct buf b;
	int rc;

	buf_init_dynamic(&b, 1 << 21);
	rc = cache_get(c, ns, key, &b);
	*val = strdup(buf_str(&b));
	cr_assert(not(eq(ptr, *val, NULL)));
	buf_free(&b);
	return rc;
}

static void expect_get(struct cache *c, const char *ns, const char *key,
    const char *want)
{
	char *v = NULL;
	int rc = get(c, ns, key, &v);

	if (want == NULL) {
		cr_assert(eq(int, rc, 0),
		    "get %s:%s: expected a miss, got %d "
		    "\"%s\"",
		    ns, key, rc, v);
	} else {
		cr_assert(eq(int, rc, 1), "get %s:%s: expected a hit, got %d",
		    ns, key, rc);
		cr_assert(eq(str, v, (char *)want));
	}
	free(v);
}

static void set(struct cache *c, const char *ns, const char *key,
    const char *val, unsigned ttl)
{
	int rc = cache_set(c, ns, key, val, strlen(val), ttl);

	cr_assert(eq(int, rc, 0), "set %s:%s", ns, key);
}

/* Set a key no other test uses (stem and our pid) in ns through c; key
 * gets the cache's key, full the name Redis has for it. */
static void set_fresh(struct cache *c, const char *ns, const char *stem,
    const char *val, unsigned ttl, char *key, size_t keylen, char *full,
    size_t fulllen)
{
	ukey(key, keylen, stem);
	set(c, ns, key, val, ttl);
	(void)snprintf(full, fulllen, "pacer:v1:%s:%s", ns, key);
}

/* ------------------------------------------------------------ harness */

Test(cache, set_get_delete_round_trip_binary_safe)
{
	struct cache *a = open_harness(16), *b = open_harness(0);
	const char bin[] = {'a', '\0', 'b', '\r', '\n', (char)0xff};
	char key[64];
	struct buf out;

	ukey(key, sizeof(key), "round");
	expect_get(a, "test", key, NULL);
	cr_assert(eq(int, cache_set(a, "test", key, bin, sizeof(bin), 60), 0));
	/* Another worker (no local table) reads it from Redis. */
	buf_init_dynamic(&out, 1024);
	cr_assert(eq(int, cache_get(b, "test", key, &out), 1));
	cr_assert(eq(sz, out.len, sizeof(bin)));
	cr_assert(eq(int, memcmp(out.data, bin, sizeof(bin)), 0));
	buf_free(&out);
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_HIT], 1));
	cr_assert(eq(int, cache_del(a, "test", key), 0));
	expect_get(a, "test", key, NULL);
	expect_get(b, "test", key, NULL);
	/* An empty value is a value. */
	set(a, "test", key, "", 60);
	expect_get(b, "test", key, "");
	cr_assert(eq(int, cache_del(b, "test", key), 0));
	cache_close(&a);
	cache_close(&b);
	cache_close(&b); /* NULL-safe */
	cr_assert(eq(ptr, b, NULL));
}

Test(cache, keys_are_namespaced_and_versioned_in_redis)
{
	struct cache *c = open_harness(16);
	redisContext *r = own_redis(atoi(ts_env("PACER_TEST_REDIS_PORT")));
	char key[64], full[160];
	long long ttl;

	set_fresh(c, "user", "42", "{\"id\":42}", 300, key, sizeof(key), full,
	    sizeof(full));
	cr_assert(eq(i64, redis_int(r, "EXISTS", full), 1), "%s not in redis",
	    full);
	ttl = redis_int(r, "TTL", full);
	cr_assert(ttl > 290 && ttl <= 300, "TTL %lld, expected <= 300", ttl);
	cr_assert(eq(int, cache_del(c, "user", key), 0));
	cr_assert(eq(i64, redis_int(r, "EXISTS", full), 0));
	redisFree(r);
	cache_close(&c);
}

Test(cache, two_namespaces_do_not_collide)
{
	struct cache *c = open_harness(16), *other = open_harness(0);
	char key[64];

	ukey(key, sizeof(key), "same");
	set(c, "alpha", key, "from alpha", 60);
	set(c, "beta", key, "from beta", 60);
	expect_get(c, "alpha", key, "from alpha");
	expect_get(other, "alpha", key, "from alpha");
	expect_get(other, "beta", key, "from beta");
	cr_assert(eq(int, cache_del(c, "alpha", key), 0));
	expect_get(other, "alpha", key, NULL);
	expect_get(other, "beta", key, "from beta");
	cr_assert(eq(int, cache_del(c, "beta", key), 0));
	cache_close(&c);
	cache_close(&other);
}

Test(cache, redis_honours_the_ttl)
{
	struct cache *c = open_harness(0);
	redisContext *r = own_redis(atoi(ts_env("PACER_TEST_REDIS_PORT")));
	char key[64], full[160];
	long long pttl;

	set_fresh(c, "test", "brief", "soon gone", 1, key, sizeof(key), full,
	    sizeof(full));
	pttl = redis_int(r, "PTTL", full);
	cr_assert(pttl > 0 && pttl <= 1000, "PTTL %lld, expected <= 1000",
	    pttl);
	expect_get(c, "test", key, "soon gone");
	ts_sleep_ms(1100);
	expect_get(c, "test", key, NULL);
	cr_assert(eq(i64, redis_int(r, "EXISTS", full), 0));
	redisFree(r);
	cache_close(&c);
}

Test(cache, local_table_is_bounded_and_backed_by_redis)
{
	struct cache *c = open_harness(2);
	char k1[64], k2[64], k3[64];

	ukey(k1, sizeof(k1), "one");
	ukey(k2, sizeof(k2), "two");
	ukey(k3, sizeof(k3), "three");
	set(c, "test", k1, "1", 60);
	set(c, "test", k2, "2", 60);
	set(c, "test", k3, "3", 60); /* evicts k1 locally */
	memset(ev, 0, sizeof(ev));
	expect_get(c, "test", k3, "3");
	cr_assert(eq(u32, ev[CACHE_EV_LOCAL_HIT], 1));
	expect_get(c, "test", k1, "1"); /* from Redis, and back in locally */
	cr_assert(eq(u32, ev[CACHE_EV_LOCAL_MISS], 1));
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_HIT], 1));
	expect_get(c, "test", k1, "1");
	cr_assert(eq(u32, ev[CACHE_EV_LOCAL_HIT], 2));
	/* k1's return evicted k2, the least recently used. */
	expect_get(c, "test", k2, "2");
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_HIT], 2));
	cr_assert(eq(int, cache_del(c, "test", k1), 0));
	cr_assert(eq(int, cache_del(c, "test", k2), 0));
	cr_assert(eq(int, cache_del(c, "test", k3), 0));
	cache_close(&c);
}

Test(cache, events_and_local_expiry)
{
	struct cache *c = open_harness(16), *writer = open_harness(0);
	char key[64];

	ukey(key, sizeof(key), "ev");
	expect_get(c, "test", key, NULL);
	cr_assert(eq(u32, ev[CACHE_EV_LOCAL_MISS], 1));
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_MISS], 1));
	set(writer, "test", key, "v1", 60);
	expect_get(c, "test", key, "v1");
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_HIT], 1));
	/* Another worker changes it: this one still sees its local copy
	 * until local_ttl (5 s on the injected clock) has passed. */
	set(writer, "test", key, "v2", 60);
	fake_now += 4999000;
	expect_get(c, "test", key, "v1");
	cr_assert(eq(u32, ev[CACHE_EV_LOCAL_HIT], 1));
	fake_now += 1000;
	expect_get(c, "test", key, "v2");
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_HIT], 2));
	/* A short Redis ttl caps the local one: the copy taken now is kept
	 * for at most 2 s, not local_ttl's 5 s. */
	set(writer, "test", key, "v3", 2);
	fake_now += 5000000;
	expect_get(c, "test", key, "v3");
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_HIT], 3));
	fake_now += 2000000;
	expect_get(c, "test", key, "v3"); /* Redis still has it (real time) */
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_HIT], 4));
	cr_assert(eq(u32, ev[CACHE_EV_LOCAL_MISS], 5));
	cr_assert(eq(u32, ev[CACHE_EV_LOCAL_HIT], 1));
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_ERROR], 0));
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_RECONNECT], 0));
	cr_assert(eq(int, cache_del(writer, "test", key), 0));
	cache_close(&c);
	cache_close(&writer);
}

Test(cache, bad_namespaces_keys_and_arguments_are_refused)
{
	struct cache *c = open_harness(16);
	static const char *bad_ns[] = {"", "Upper", "a:b", "a-b", "a b",
	    "x123456789012345678901234567890123", "caf\xc3\xa9"};
	static const char *bad_key[] = {"", "with space", "tab\t", "\x01",
	    "caf\xc3\xa9", "del\x7f"};
	char longkey[CACHE_KEY_MAX + 2], ns32[CACHE_NS_MAX + 1];
	struct buf out;
	size_t i;

	buf_init_dynamic(&out, 64);
	for (i = 0; i < sizeof(bad_ns) / sizeof(bad_ns[0]); i++) {
		cr_assert(eq(int, cache_get(c, bad_ns[i], "k", &out), -1),
		    "ns \"%s\"", bad_ns[i]);
		cr_assert(eq(int, cache_set(c, bad_ns[i], "k", "v", 1, 5), -1));
		cr_assert(eq(int, cache_del(c, bad_ns[i], "k"), -1));
	}
	for (i = 0; i < sizeof(bad_key) / sizeof(bad_key[0]); i++) {
		cr_assert(eq(int, cache_get(c, "test", bad_key[i], &out), -1),
		    "key \"%s\"", bad_key[i]);
		cr_assert(
		    eq(int, cache_set(c, "test", bad_key[i], "v", 1, 5), -1));
		cr_assert(eq(int, cache_del(c, "test", bad_key[i]), -1));
	}
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	cr_assert(eq(int, cache_set(c, "test", longkey, "v", 1, 5), -1));
	longkey[CACHE_KEY_MAX] = '\0'; /* exactly the limit: fine */
	memset(ns32, 'n', CACHE_NS_MAX);
	ns32[CACHE_NS_MAX] = '\0';
	cr_assert(eq(int, cache_set(c, ns32, longkey, "v", 1, 5), 0));
	cr_assert(eq(int, cache_del(c, ns32, longkey), 0));
	/* ttl 0, NULL arguments, a value too large */
	cr_assert(eq(int, cache_set(c, "test", "k", "v", 1, 0), -1));
	cr_assert(eq(int, cache_set(c, NULL, "k", "v", 1, 5), -1));
	cr_assert(eq(int, cache_set(c, "test", NULL, "v", 1, 5), -1));
	cr_assert(eq(int, cache_set(c, "test", "k", NULL, 1, 5), -1));
	cr_assert(
	    eq(int, cache_set(c, "test", "k", "", CACHE_VALUE_MAX + 1, 5), -1));
	cr_assert(eq(int, cache_get(c, "test", "k", NULL), -1));
	cr_assert(eq(int, cache_get(NULL, "test", "k", &out), -1));
	cr_assert(eq(sz, out.len, 0));
	buf_free(&out);
	cache_close(&c);
}

Test(cache, a_value_larger_than_the_callers_buffer_is_refused_whole)
{
	struct cache *c = open_harness(16), *b = open_harness(0);
	char key[64], small[8];
	struct buf out;

	ukey(key, sizeof(key), "big");
	set(c, "test", key, "0123456789abcdef", 60);
	buf_init_fixed(&out, small, sizeof(small));
	(void)buf_puts(&out, "ab");
	cr_assert(eq(int, cache_get(c, "test", key, &out), -1)); /* local */
	cr_assert(eq(str, (char *)buf_str(&out), "ab"));
	cr_assert(not(out.overflow));
	cr_assert(eq(int, cache_get(b, "test", key, &out), -1)); /* redis */
	cr_assert(eq(str, (char *)buf_str(&out), "ab"));
	cr_assert(eq(int, cache_del(c, "test", key), 0));
	cache_close(&c);
	cache_close(&b);
}

Test(cache, bad_urls_are_refused_without_the_password)
{
	struct cache_opts o = opts("redis://:hunter2@127.0.0.1:6379/abc", 0);
	char err[256] = "";
	struct cache *c = cache_open(&o, err, sizeof(err));

	cr_assert(eq(ptr, c, NULL));
	cr_assert(not(eq(str, err, "")));
	cr_assert(eq(ptr, strstr(err, "hunter2"), NULL), "%s", err);
	o = opts("http://:hunter2@127.0.0.1/", 0);
	cr_assert(eq(ptr, cache_open(&o, err, sizeof(err)), NULL));
	cr_assert(eq(ptr, strstr(err, "hunter2"), NULL), "%s", err);
	o = opts("redis://127.0.0.1/", 0);
	o.command_timeout_ms = 0;
	cr_assert(eq(ptr, cache_open(&o, err, sizeof(err)), NULL));
}

Test(cache, a_wrong_password_is_an_outage_not_a_leak)
{
	char url[128], err[256] = "";
	struct cache_opts o;
	struct cache *c;

	(void)snprintf(url, sizeof(url), "redis://:hunter2@127.0.0.1:%s/0",
	    ts_env("PACER_TEST_REDIS_PORT"));
	o = opts(url, 4);
	c = cache_open(&o, err, sizeof(err));
	cr_assert(not(eq(ptr, c, NULL)), "%s", err);
	/* The harness Redis has no password: AUTH is refused. */
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_DOWN));
	TU_EXPECT_IN(cache_last_error(c), "AUTH refused");
	cr_assert(eq(ptr, strstr(cache_last_error(c), "hunter2"), NULL), "%s",
	    cache_last_error(c));
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_ERROR], 1));
	/* Still a working (local) cache. */
	set(c, "test", "k", "v", 5);
	expect_get(c, "test", "k", "v");
	cache_close(&c);
}

/* ------------------------------------------------------------ private */

/* A private redis-server (t/tredis.h) for the tests that stop or kill
 * it; the harness's server must stay up for every other test. */
static struct tredis pr;

static void pr_init(void)
{
	suite_init();
	memset(&pr, 0, sizeof(pr));
}

static void pr_fini(void)
{
	char path[512];

	log_close();
	if (pr.dir != NULL) {
		(void)snprintf(path, sizeof(path), "%s/test.log", pr.dir);
		(void)unlink(path);
	}
	tredis_fini(&pr); /* also after a failed assertion */
}

/* Our log, to count what the cache wrote. */
static char *log_to_file(void)
{
	char *path = NULL, err[256];

	cr_assert(asprintf(&path, "%s/test.log", pr.dir) > 0);
	log_init("worker");
	cr_assert(eq(int,
	              log_open(LOG_DEST_FILE, path, 0, NULL, err, sizeof(err)),
	              0),
	    "%s", err);
	return path;
}

static char *pr_url(const char *password)
{
	char *url = NULL;

	if (password != NULL)
		cr_assert(asprintf(&url, "redis://:%s@127.0.0.1:%d/3", password,
		              pr.port) > 0);
	else
		cr_assert(asprintf(&url, "redis://127.0.0.1:%d", pr.port) > 0);
	return url;
}

/* Run one call and return how long it took (ms, real clock). */
#define TIMED(ms_var, call)                                                    \
	do {                                                                   \
		uint64_t t0_ = real_ms();                                      \
		call;                                                          \
		(ms_var) = real_ms() - t0_;                                    \
	} while (0)

Test(cache, redis_killed_and_restarted, .init = pr_init, .fini = pr_fini)
{
	struct cache_opts o;
	struct cache *c;
	char *url, *logpath, *log, err[256], *v = NULL, key[16];
	uint64_t ms, worst = 0, t_down, back_ms = 0;
	unsigned errors;
	int i, rc;

	tredis_start(&pr, NULL);
	logpath = log_to_file();
	url = pr_url(NULL);
	o = opts(url, 4);
	o.now_us = NULL; /* the real clock: real pauses */
	c = cache_open(&o, err, sizeof(err));
	cr_assert(not(eq(ptr, c, NULL)), "%s", err);
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_UP));
	for (i = 0; i < 8; i++) { /* 4 stay local, all 8 in Redis */
		(void)snprintf(key, sizeof(key), "k%d", i);
		set(c, "test", key, key, 60);
	}

	/* Down for 700 ms: requests keep coming, reconnects fail. */
	tredis_kill(&pr, SIGKILL);
	t_down = real_ms();
	for (i = 0; real_ms() - t_down < 700; i++) {
		(void)snprintf(key, sizeof(key), "k%d", i % 8);
		TIMED(ms, rc = get(c, "test", key, &v));
		worst = (ms > worst) ? ms : worst;
		cr_assert(rc == 0 || (rc == 1 && strcmp(v, key) == 0),
		    "get %s during the outage: %d \"%s\"", key, rc, v);
		free(v);
		TIMED(ms, rc = cache_set(c, "test", "new", "x", 1, 60));
		worst = (ms > worst) ? ms : worst;
		cr_assert(eq(int, rc, 0));
		TIMED(ms, rc = cache_del(c, "test", "gone"));
		worst = (ms > worst) ? ms : worst;
		cr_assert(eq(int, rc, 0));
		TIMED(ms, cache_tick(c));
		worst = (ms > worst) ? ms : worst;
		ts_sleep_ms(10);
	}
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_DOWN));
	/* One error for the lost connection, one per failed attempt: at
	 * 100, 300 and 700 ms (pauses 100, 200, 400): no storm. */
	errors = ev[CACHE_EV_REDIS_ERROR];
	cr_assert(errors >= 2 && errors <= 5, "%u errors in 700 ms", errors);
	TU_EXPECT_IN(cache_last_error(c), "unreachable");
	cr_assert(worst <= (uint64_t)o.command_timeout_ms + 50,
	    "a call took %llu ms", (unsigned long long)worst);
	expect_get(c, "test", "new", "x"); /* a set while down is local */
	cr_assert(eq(int, cache_ping(c, NULL), -1));

	/* Back on the same port: within the longest pause (400 ms) plus a
	 * little, ticks reconnect; one reconnect is counted. */
	tredis_start(&pr, NULL);
	t_down = real_ms();
	while (cache_redis_state(c) == CACHE_REDIS_DOWN &&
	    real_ms() - t_down < 2000) {
		cache_tick(c);
		ts_sleep_ms(5);
	}
	back_ms = real_ms() - t_down;
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_UP), "%s",
	    cache_last_error(c));
	cr_assert(back_ms <= (uint64_t)o.retry_max_ms + 100,
	    "took %llu ms to reconnect", (unsigned long long)back_ms);
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_RECONNECT], 1));
	cr_assert(eq(str, (char *)cache_last_error(c), ""));

	/* Redis works again: a value set now is a Redis hit elsewhere. */
	set(c, "test", "after", "again", 60);
	{
		struct cache_opts o2 = opts(url, 0);
		struct cache *c2 = cache_open(&o2, err, sizeof(err));

		cr_assert(not(eq(ptr, c2, NULL)), "%s", err);
		memset(ev, 0, sizeof(ev));
		expect_get(c2, "test", "after", "again");
		cr_assert(eq(u32, ev[CACHE_EV_REDIS_HIT], 1));
		cache_close(&c2);
	}
	cr_assert(eq(int, cache_ping(c, &ms), 0));
	cr_log_info("outage: %d rounds of get/set/del/tick in 700 ms, worst "
	            "call %llu ms, %u errors counted; reconnected %llu ms "
	            "after redis answered again",
	    i, (unsigned long long)worst, errors, (unsigned long long)back_ms);

	/* One line down, one line back: not one per request. */
	log = tu_read(logpath, NULL);
	cr_assert(not(eq(ptr, log, NULL)));
	cr_assert(eq(sz, tu_count_lines_with(log, "unreachable"), 1), "%s",
	    log);
	cr_assert(eq(sz, tu_count_lines_with(log, "back after"), 1), "%s", log);
	TU_EXPECT_IN(log, "cache bypassed, retrying");
	free(log);
	(void)unlink(logpath);
	free(logpath);
	cache_close(&c);
	free(url);
}

Test(cache, a_hung_redis_costs_one_timeout, .init = pr_init, .fini = pr_fini)
{
	struct cache_opts o;
	struct cache *c;
	char *url, err[256];
	uint64_t ms;
	redisContext *r;
	int rc;

	tredis_start(&pr, NULL);
	url = pr_url(NULL);
	o = opts(url, 0);
	o.now_us = NULL;
	c = cache_open(&o, err, sizeof(err));
	cr_assert(not(eq(ptr, c, NULL)), "%s", err);
	set(c, "test", "stale", "old value", 60);

	tredis_kill(&pr, SIGSTOP); /* accepts nothing, answers nothing */
	TIMED(ms, rc = cache_del(c, "test", "first"));
	cr_assert(eq(int, rc, 0));
	cr_assert(ms >= (uint64_t)o.command_timeout_ms - 20 &&
	        ms <= (uint64_t)o.command_timeout_ms + 150,
	    "the first call took %llu ms", (unsigned long long)ms);
	cr_log_info("hung redis: the first call took %llu ms",
	    (unsigned long long)ms);
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_DOWN));
	TU_EXPECT_IN(cache_last_error(c), "no reply within 300 ms");
	/* Down: the next calls do not wait. */
	TIMED(ms, rc = cache_del(c, "test", "stale"));
	cr_assert(eq(int, rc, 0));
	cr_assert(ms < 50, "a call while down took %llu ms",
	    (unsigned long long)ms);

	/* Redis returns (a partition heals, its data intact): the delete
	 * made while it was unreachable is applied on reconnect. */
	tredis_kill(&pr, SIGCONT);
	ts_sleep_ms(150);
	cache_tick(c);
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_UP), "%s",
	    cache_last_error(c));
	r = own_redis(pr.port);
	cr_assert(eq(i64, redis_int(r, "EXISTS", "pacer:v1:test:stale"), 0));
	redisFree(r);
	expect_get(c, "test", "stale", NULL);
	cache_close(&c);
	free(url);
}

Test(cache, auth_and_select_from_the_url, .init = pr_init, .fini = pr_fini)
{
	struct cache_opts o;
	struct cache *c;
	char *url, err[256];
	redisContext *r;
	redisReply *rep;

	tredis_start(&pr, "s3cret pass");
	/* Without the password: down, and the reason says why. */
	url = pr_url(NULL);
	o = opts(url, 0);
	c = cache_open(&o, err, sizeof(err));
	cr_assert(not(eq(ptr, c, NULL)), "%s", err);
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_DOWN));
	TU_EXPECT_IN(cache_last_error(c), "NOAUTH");
	cache_close(&c);
	free(url);

	url = pr_url("s3cret%20pass"); /* percent-encoded in the URL */
	o = opts(url, 0);
	c = cache_open(&o, err, sizeof(err));
	cr_assert(not(eq(ptr, c, NULL)), "%s", err);
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_UP), "%s",
	    cache_last_error(c));
	set(c, "test", "in_db3", "yes", 60);
	expect_get(c, "test", "in_db3", "yes");
	r = own_redis(pr.port);
	rep = redisCommand(r, "AUTH %s", "s3cret pass");
	freeReplyObject(rep);
	cr_assert(eq(i64, redis_int(r, "EXISTS", "pacer:v1:test:in_db3"), 0),
	    "the key is in database 0");
	rep = redisCommand(r, "SELECT 3");
	freeReplyObject(rep);
	cr_assert(eq(i64, redis_int(r, "EXISTS", "pacer:v1:test:in_db3"), 1),
	    "the key is not in database 3");
	redisFree(r);
	cr_assert(eq(ptr, strstr(cache_redis_name(c), "s3cret"), NULL));
	cache_close(&c);
	free(url);
}

/* A redis-server on a unix socket only (tredis speaks TCP). */
static pid_t unix_pid = -1;
static char *unix_dir, *unix_sock;

static void unix_fini(void)
{
	if (unix_pid > 0) {
		(void)kill(unix_pid, SIGKILL);
		while (waitpid(unix_pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	unix_pid = -1;
	if (unix_sock != NULL)
		(void)unlink(unix_sock);
	if (unix_dir != NULL)
		(void)rmdir(unix_dir);
	free(unix_sock);
	free(unix_dir);
	unix_sock = unix_dir = NULL;
}

static void unix_start(void)
{
	uint64_t until = real_ms() + 10000;
	redisContext *r;
	int fd;

	unix_dir = tu_tmpdir();
	cr_assert(asprintf(&unix_sock, "%s/redis.sock", unix_dir) > 0);
	unix_pid = fork();
	cr_assert(unix_pid >= 0, "fork: %s", strerror(errno));
	if (unix_pid == 0) {
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || fd == -1 ||
		    dup2(fd, STDOUT_FILENO) == -1)
			_exit(127);
		execlp("redis-server", "redis-server", "--port", "0",
		    "--unixsocket", unix_sock, "--save", "", "--appendonly",
		    "no", "--dir", unix_dir, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		bool up;

		r = redisConnectUnix(unix_sock);
		up = r != NULL && r->err == 0;
		if (r != NULL)
			redisFree(r);
		if (up)
			break;
		cr_assert(waitpid(unix_pid, NULL, WNOHANG) == 0,
		    "redis-server on %s exited", unix_sock);
		cr_assert(real_ms() < until, "redis-server did not answer");
		ts_sleep_ms(20);
	}
}

Test(cache, a_unix_socket_url, .init = suite_init, .fini = unix_fini)
{
	struct cache_opts o;
	struct cache *c;
	char *url = NULL, err[256];
	uint64_t rtt = 0;

	unix_start();
	cr_assert(asprintf(&url, "unix:%s", unix_sock) > 0);
	o = opts(url, 0);
	c = cache_open(&o, err, sizeof(err));
	cr_assert(not(eq(ptr, c, NULL)), "%s", err);
	cr_assert(eq(int, cache_redis_state(c), CACHE_REDIS_UP), "%s",
	    cache_last_error(c));
	cr_assert(eq(str, (char *)cache_redis_name(c), unix_sock));
	set(c, "test", "via_socket", "yes", 60);
	expect_get(c, "test", "via_socket", "yes");
	cr_assert(eq(u32, ev[CACHE_EV_REDIS_HIT], 1));
	cr_assert(eq(int, cache_ping(c, &rtt), 0));
	cr_assert(rtt > 0 && rtt < 100000, "PING took %llu us",
	    (unsigned long long)rtt);
	cache_close(&c);
	free(url);
}
