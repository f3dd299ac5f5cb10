/*
 * ratelimit.c - fixed-window rate limits counted in Redis, or in the
 * instance's shared-memory table while Redis is down; see ratelimit.h.
 *
 * Runs in worker processes only, on the worker's one thread; the module
 * state is the handles ratelimit_attach() borrowed. Windows are computed
 * here from the wall clock (unix time, the same on every node that keeps
 * its clock in sync), so Redis and the table agree on which window a hit
 * belongs to: the window's start is part of the Redis key, and the
 * table's entry holds the window's end.
 */
#include "ratelimit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "http_resp.h"
#include "log.h"
#include "router.h"

/* A table that is full is worth a warning, not one per request. */
#define RL_WARN_EVERY_S 60

static struct {
	struct cache *cache;
	struct rlshm *shm;
	struct sb *sb;
	int64_t warned_full; /* unix time of the last "table full" warning */
} rl;

void ratelimit_attach(struct cache *c, struct rlshm *shm, struct sb *sb)
{
	rl.cache = c;
	rl.shm = shm;
	rl.sb = sb;
	rl.warned_full = 0;
}

static bool ns_valid(const char *ns)
{
	size_t i;

	for (i = 0; ns[i] != '\0'; i++) {
		char ch = ns[i];

		if (i >= RATELIMIT_NS_MAX ||
		    !((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		        ch == '_'))
			return false;
	}
	return i > 0;
}

static bool id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++) {
		if (i >= RATELIMIT_ID_MAX || id[i] < 0x21 || id[i] > 0x7e)
			return false;
	}
	return i > 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The start of the window now falls in: origin + k * window_s, k the
 * floor of (now - origin) / window_s (also for now before origin). */
static int64_t window_start(int64_t now, int64_t window_s, int64_t origin)
{
	int64_t d = now - origin, k = d / window_s;

	if (d % window_s < 0)
		k--;
	return origin + k * window_s;
}

/* Count the hit in Redis. Returns 1 with *count and *left_ms, 0 when
 * Redis did not count it, -1 on a bad key. */
static int count_redis(const char *ns, const char *id, int64_t window_s,
    int64_t start, int64_t now, int64_t ttl_ms, int64_t seed, int64_t *count,
    int64_t *left_ms)
{
	char rns[4 + RATELIMIT_NS_MAX + 1], key[RATELIMIT_ID_MAX + 48];
	uint64_t h;
	int64_t known;
	struct buf b;

	if (rl.cache == NULL)
		return 0; /* cache_incr() itself is quick while Redis is down */
	buf_init_fixed(&b, rns, sizeof(rns));
	if (buf_printf(&b, "rl_%s", ns) != 0)
		return -1;
	buf_init_fixed(&b, key, sizeof(key));
	if (buf_printf(&b, "%s:%lld:%lld", id, (long long)window_s,
	        (long long)start) != 0)
		return -1;
	/* Hits this instance counted while Redis was away: the starting
	 * value if Redis lost the key meanwhile (ignored when it has it). */
	if (rl.shm != NULL) {
		h = rlshm_hash(rl.shm, ns, id, window_s);
		known = rlshm_peek(rl.shm, h, now, start + window_s);
		if (known > seed)
			seed = known;
	}
	return cache_incr(rl.cache, rns, key, 1, ttl_ms, seed, count, left_ms);
}

/* Redis did not count the hit: the table counts it, or nothing does. */
static void count_local(const char *ns, const char *id, int64_t window_s,
    int64_t now, int64_t end, int64_t seed, struct rl_verdict *v)
{
	int rc = RLSHM_FULL;

	v->local = true;
	if (rl.shm != NULL)
		rc = rlshm_hit(rl.shm, rlshm_hash(rl.shm, ns, id, window_s),
		    now, end, seed, &v->count);
	if (rc == RLSHM_COUNTED)
		return;
	v->failed_open = true;
	v->count = 0;
	if (now - rl.warned_full >= RL_WARN_EVERY_S) {
		rl.warned_full = now;
		log_warnx("rate limit %s:%s not counted: redis is unreachable "
		          "and the shared rate-limit table has %s; letting "
		          "such requests through",
		    ns, id,
		    rl.shm != NULL ? "no room for it" : "not been set up");
	}
}

int ratelimit_hit(const char *ns, const char *id, int64_t limit,
    int64_t window_s, int64_t window_origin, int64_t seed, struct rl_verdict *v)
{
	int64_t t_ms, now, start, end, left_ms = 0;
	int rc;

	if (v == NULL || ns == NULL || id == NULL || !ns_valid(ns) ||
	    !id_valid(id) || limit < 1 || window_s < 1 ||
	    window_s > RLSHM_WINDOW_MAX || seed < 0)
		return -1;
	memset(v, 0, sizeof(*v));
	t_ms = now_ms();
	now = t_ms / 1000;
	start = window_start(now, window_s, window_origin);
	end = start + window_s;
	/* The key lives until its window ends (at least 1 ms). */
	rc = count_redis(ns, id, window_s, start, now,
	    (end * 1000 > t_ms) ? end * 1000 - t_ms : 1, seed, &v->count,
	    &left_ms);
	if (rc == -1)
		return -1;
	if (rc == 0) {
		count_local(ns, id, window_s, now, end, seed, v);
		left_ms = end * 1000 - t_ms;
	}
	v->limit = limit;
	v->allowed = v->failed_open || v->count <= limit;
	v->remaining = (v->count < limit) ? limit - v->count : 0;
	v->reset_s = (left_ms + 999) / 1000;
	if (v->reset_s < 1)
		v->reset_s = 1;
	v->retry_after_s = v->allowed ? 0 : v->reset_s;
	if (!v->allowed && rl.sb != NULL)
		(void)sb_data_count(rl.sb, SB_DATA_RATELIMIT_DENIED);
	return 0;
}

const struct rl_verdict *ratelimit_pick(const struct rl_verdict *a,
    const struct rl_verdict *b)
{
	if (!a->allowed || !b->allowed)
		return !a->allowed ? a : b;
	if (a->remaining != b->remaining)
		return (a->remaining < b->remaining) ? a : b;
	return (a->reset_s <= b->reset_s) ? a : b;
}

static void header_num(struct http_resp *r, const char *name, int64_t n)
{
	char num[24];

	(void)snprintf(num, sizeof(num), "%lld", (long long)n);
	(void)http_resp_header(r, name, num); /* digits: always header-safe */
}

void ratelimit_headers(struct http_resp *r, const struct rl_verdict *v)
{
	header_num(r, "X-RateLimit-Limit", v->limit);
	header_num(r, "X-RateLimit-Remaining", v->remaining);
	header_num(r, "X-RateLimit-Reset", v->reset_s);
	if (!v->allowed)
		header_num(r, "Retry-After", v->retry_after_s);
}

void ratelimit_deny(const struct router_call *call, struct http_resp *r,
    const struct rl_verdict *v)
{
	char msg[128];

	(void)snprintf(msg, sizeof(msg),
	    "Rate limit exceeded: %lld requests per window; retry in %lld "
	    "s.",
	    (long long)v->limit, (long long)v->retry_after_s);
	http_resp_error(r, 429, msg, call->request_id);
	ratelimit_headers(r, v);
}
