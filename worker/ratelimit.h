/*
 * ratelimit.h - fixed-window rate limits shared by every worker of every
 * node: an API key's quota and burst, a client address on the public
 * auth endpoints.
 *
 * A limit is "at most limit hits per window of window_s seconds" on one
 * bucket, named by a namespace and an id: ("auth", client address),
 * ("burst", key id), ("quota", key id). Windows are fixed and aligned:
 * window k of a bucket covers [origin + k * window_s, origin + (k + 1) *
 * window_s) in unix time, where origin is 0 (the epoch: a per-minute
 * window starts at each full minute) or, for an API key's 30-day quota,
 * the key's creation time. Every hit counts, denied ones too: a client
 * that keeps knocking while refused stays refused until the window ends,
 * and never more than limit hits of a window are allowed.
 *
 * Where the counts live. Normally in Redis (cache_incr(): one atomic
 * script per hit, key "pacer:v1:rl_<ns>:<id>:<window_s>:<window start>",
 * expiring when its window ends), so every worker of every node counts
 * against the same number. When Redis is down or fails, the hit is
 * counted in the instance's shared-memory table instead (shared/rlshm.h:
 * created by the master, shared by all its workers, reloads included);
 * the verdict then says local. During an outage each node limits on its
 * own, so a client spread over n nodes may get up to n times the limit;
 * and the table starts from the caller's seed, not from what Redis had
 * counted before it went away. When Redis is reachable again counting
 * moves back to it at once; if Redis lost the window's key (a restart),
 * the count the instance's table holds for the window is its starting
 * value (as a seed), so hits made during the outage are not forgotten.
 * If the table has no room for a new bucket (more live buckets than
 * entries, see rlshm.h), that bucket's hit is allowed and not counted
 * ("fails open"), with a warning in the log at most once a minute.
 *
 * Headers. Every response of a limited route or key carries
 * X-RateLimit-Limit (the limit), X-RateLimit-Remaining (hits left in the
 * window after this one, never below 0) and X-RateLimit-Reset: the
 * number of seconds until the window resets (a delta, as in the IETF
 * RateLimit draft and GitHub's Retry-After, not a unix time: it needs no
 * synchronised client clock), at least 1. A refused hit (429) also gets
 * Retry-After with the same number of seconds.
 *
 * Callers: worker/ only, from the worker's one thread, after
 * ratelimit_attach(). A hit blocks for at most one Redis command timeout.
 */
#ifndef PACER_RATELIMIT_H
#define PACER_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "rlshm.h"
#include "sb.h"

struct http_resp;
struct router_call;

/* A namespace is 1 to RATELIMIT_NS_MAX characters of [a-z0-9_]; an id 1
 * to RATELIMIT_ID_MAX printable ASCII characters without space. */
#define RATELIMIT_NS_MAX 16
#define RATELIMIT_ID_MAX 128

/* What one hit got. */
struct rl_verdict {
	bool allowed;          /* this hit is within the limit */
	bool local;            /* counted in shared memory: Redis down */
	bool failed_open;      /* not counted anywhere (Redis down and the
	                          shared table full): allowed */
	int64_t limit;         /* the limit of the window */
	int64_t count;         /* hits of the window, this one included */
	int64_t remaining;     /* max(0, limit - count) */
	int64_t reset_s;       /* seconds until the window ends, >= 1 */
	int64_t retry_after_s; /* denied: reset_s; allowed: 0 */
};

/*
 * Give the module this worker's cache (Redis), the instance's shared
 * table and the scoreboard (denials are counted there as
 * SB_DATA_RATELIMIT_DENIED). Each may be NULL: without a cache every hit
 * is local, without a table a hit Redis cannot count fails open, without
 * a scoreboard nothing is counted. Borrowed for the worker's life.
 */
void ratelimit_attach(struct cache *c, struct rlshm *shm, struct sb *sb);

/*
 * Count one hit against bucket (ns, id) whose limit is limit hits per
 * window_s seconds, windows aligned to window_origin (unix seconds; 0:
 * the epoch), and fill *v. seed: hits already known to have been made in
 * the current window (from PostgreSQL, say), used as the count's
 * starting value when neither Redis nor the table holds the window yet;
 * 0 if none. Returns 0 (always with *v filled, whatever Redis does), or
 * -1 only on a caller's bug: a bad ns or id, limit < 1, window_s < 1 or
 * longer than RLSHM_WINDOW_MAX, seed < 0, v NULL.
 */
int ratelimit_hit(const char *ns, const char *id, int64_t limit,
    int64_t window_s, int64_t window_origin, int64_t seed,
    struct rl_verdict *v);

/* Of two verdicts of one request (burst and quota), the one to show: a
 * denied one, else the one with fewer hits remaining (then the sooner
 * reset). Neither may be NULL. */
const struct rl_verdict *ratelimit_pick(const struct rl_verdict *a,
    const struct rl_verdict *b);

/* Add X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset to
 * r, and Retry-After when v is a denial. Call once per response. */
void ratelimit_headers(struct http_resp *r, const struct rl_verdict *v);

/* Make r the refusal of a denied hit: 429, the JSON error body (code
 * "too_many_requests") and ratelimit_headers(); do not add the headers
 * again. */
void ratelimit_deny(const struct router_call *call, struct http_resp *r,
    const struct rl_verdict *v);

#endif /* PACER_RATELIMIT_H */
