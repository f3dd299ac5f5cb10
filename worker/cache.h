/*
 * cache.h - a worker's cache: a small in-process LRU in front of Redis,
 * and the worker's own Redis connection.
 *
 * Redis is only a cache (DESIGN.md, Data): PostgreSQL holds the truth, so
 * losing Redis loses no data, and this module never makes Redis trouble a
 * caller's problem. While Redis is down a get falls back to the local
 * table and then answers "miss", a set stores only locally, a delete
 * deletes only locally; no call returns an error for it. A return of -1
 * always means a caller's bug (a bad namespace, key, ttl or argument).
 *
 * Keys: every key lives in Redis as "pacer:v1:<ns>:<key>". ns names the
 * kind of value, 1 to CACHE_NS_MAX characters of [a-z0-9_]; key is 1 to
 * CACHE_KEY_MAX characters of printable ASCII without space (0x21-0x7e).
 * "v1" is bumped when the encoding of cached values changes, so a new
 * release never reads an old release's values. Values are byte strings
 * of at most CACHE_VALUE_MAX bytes (binary-safe).
 *
 * The Redis connection: opened by cache_open() (blocking, bounded by
 * connect_timeout_ms; AUTH when the URL has a password, SELECT when it
 * names a database other than 0), every command bounded by
 * command_timeout_ms. On any I/O error or timeout the connection is
 * dropped, the state becomes CACHE_REDIS_DOWN (logged once, with the
 * reason) and a reconnect is scheduled 100 ms later, the pause doubling
 * after each failed attempt up to retry_max_ms. An attempt is made only by
 * cache_tick() or by the first call after its time has come, never more
 * than one per pause, so a down Redis costs one failed connect per pause,
 * not one per request. Getting back is logged once ("back after N
 * attempts") and counted as CACHE_EV_REDIS_RECONNECT (the first connect
 * of cache_open() is not a reconnect). An error reply from a live Redis
 * (e.g. OOM) is counted as CACHE_EV_REDIS_ERROR but keeps the connection.
 *
 * Staleness: a value read from the local table may be up to
 * local_ttl_ms old (a change made through another worker shows within
 * that), and never outlives its own ttl. While Redis is down each worker
 * sees only its own local table, so workers may disagree for up to
 * local_ttl_ms. A set or delete made while Redis is down cannot reach
 * Redis, which may still hold the old value when it is reachable again
 * (a network outage, not a restart): each worker remembers the last
 * CACHE_PENDING_MAX keys it changed while down and deletes them from
 * Redis as soon as it reconnects; past that many (or when the worker is
 * recycled meanwhile) an old value may be served until its Redis ttl
 * runs out, which is why callers choose ttls that bound how stale a
 * value may be.
 *
 * Secrets: the password in redis_url is used for AUTH only; it never
 * appears in a log line, in cache_last_error() or in an err message.
 *
 * Callers: worker/ only. One struct cache per worker, opened after fork
 * (never carried across fork()) and used from the worker's one thread.
 * The process must ignore SIGPIPE (workers do), as hiredis writes with
 * write(2). A call blocks for at most command_timeout_ms per command it
 * sends (a get sends one round trip); a reconnect attempt, at most
 * connect_timeout_ms plus one command timeout each for AUTH, SELECT, a
 * PING and the pending deletes.
 */
#ifndef PACER_CACHE_H
#define PACER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CACHE_NS_MAX 32
#define CACHE_KEY_MAX 200
#define CACHE_VALUE_MAX ((size_t)1 << 20)
/* Values larger than this go to Redis only, not to the local table. */
#define CACHE_LOCAL_VALUE_MAX ((size_t)64 * 1024)
/* Keys changed while Redis was down, deleted from it on reconnect. */
#define CACHE_PENDING_MAX 256

enum cache_event {
	CACHE_EV_LOCAL_HIT,       /* found in the local table */
	CACHE_EV_LOCAL_MISS,      /* not in the local table (when enabled) */
	CACHE_EV_REDIS_HIT,       /* found in Redis */
	CACHE_EV_REDIS_MISS,      /* Redis answered: no such key */
	CACHE_EV_REDIS_ERROR,     /* I/O error, timeout, failed (re)connect
	                             or error reply */
	CACHE_EV_REDIS_RECONNECT, /* connected again after being down */
	CACHE_EV_NEVENTS
};

enum cache_redis_state {
	CACHE_REDIS_UP,
	CACHE_REDIS_DOWN,
};

struct cache_opts {
	/* redis://[user][:password@]host[:port][/db] or unix:/path. Borrowed
	 * during cache_open() only. */
	const char *redis_url;
	int64_t connect_timeout_ms; /* > 0 */
	int64_t command_timeout_ms; /* > 0 */
	int64_t retry_max_ms;       /* longest pause between attempts */
	int64_t local_entries;      /* local table bound; 0: no local table */
	int64_t local_ttl_ms;       /* longest life of a local entry */
	/* Called for every event (may be NULL), e.g. to count it in the
	 * worker's scoreboard slot; must not call back into the cache. */
	void (*on_event)(void *arg, enum cache_event ev);
	void *arg;
	/* Microseconds on a monotonic clock, injectable for tests; NULL:
	 * CLOCK_MONOTONIC. Drives local expiry and the reconnect pauses. */
	uint64_t (*now_us)(void);
};

struct cache;

/*
 * Open the worker's cache and try to connect to Redis once. A Redis that
 * is down is not an error: the cache starts DOWN and retries later.
 * Returns NULL with the reason in err only for bad options (a URL that
 * cannot be parsed, a bad timeout) or no memory. Caller frees with
 * cache_close().
 */
struct cache *cache_open(const struct cache_opts *o, char *err, size_t errlen);

/* Close the connection and free everything. NULL-safe; sets *c to NULL. */
void cache_close(struct cache **c);

/*
 * Look key up: the local table first, then Redis. Returns 1 on a hit (the
 * value is appended to out), 0 on a miss (also when Redis is down or
 * failed), -1 for a bad ns or key, or when the value does not fit in out
 * (out is then left as it was). A Redis hit is copied into the local
 * table for the rest of its Redis ttl, at most local_ttl_ms.
 */
int cache_get(struct cache *c, const char *ns, const char *key,
    struct buf *out);

/*
 * Store val under key for ttl_s seconds (ttl_s > 0) in Redis (SET ... EX)
 * and in the local table (for at most local_ttl_ms). Returns 0 (also when
 * Redis is down or failed), or -1 for a bad ns, key, ttl or a value
 * larger than CACHE_VALUE_MAX.
 */
int cache_set(struct cache *c, const char *ns, const char *key, const void *val,
    size_t len, unsigned ttl_s);

/* Delete key from the local table and from Redis. Returns 0 (also when
 * Redis is down or failed), or -1 for a bad ns or key. */
int cache_del(struct cache *c, const char *ns, const char *key);

/*
 * An atomic fixed-window counter in Redis (the rate limiter's): add by
 * (>= 1) to the integer at key and return the new value in *count and
 * the milliseconds left before the key expires in *ms_left. The key gets
 * ttl_ms (> 0) when this call creates it (its first hit), and keeps it
 * afterwards. When seed > 0 and the key is absent, it first starts at
 * seed (a count the caller knows from elsewhere, e.g. PostgreSQL). One
 * round trip: a small Lua script (SET NX, INCRBY, PTTL, PEXPIRE) run by
 * EVALSHA, loaded with EVAL when the server does not know it yet. The
 * local table is not involved: a counter is only ever in Redis.
 *
 * Returns 1 when counted, 0 when Redis is down, failed or refused (an
 * error reply, such as a key holding a non-integer; counted as
 * CACHE_EV_REDIS_ERROR): nothing was counted and the caller falls back
 * to counting elsewhere; -1 for a bad ns, key or argument.
 */
int cache_incr(struct cache *c, const char *ns, const char *key, int64_t by,
    int64_t ttl_ms, int64_t seed, int64_t *count, int64_t *ms_left);

/* From the worker's loop (each wake-up, or at least every 100 ms or so):
 * reconnect to Redis when the pause after a failure has passed. Cheap
 * when there is nothing to do. */
void cache_tick(struct cache *c);

/* Whether the worker holds a working Redis connection. */
enum cache_redis_state cache_redis_state(const struct cache *c);

/* Why Redis is down ("redis 127.0.0.1:6379 unreachable: Connection
 * refused"), or "" while it is up. Borrowed until the next call on c; no
 * secrets. */
const char *cache_last_error(const struct cache *c);

/* How many times a Redis connection was made, the first included: a
 * caller that keeps something in Redis that Redis may have lost (a
 * restart) sees a new connection by this number changing. */
uint64_t cache_connects(const struct cache *c);

/* The Redis server as shown in logs: "host:port" or the socket path
 * (never the password). Borrowed for c's lifetime. */
const char *cache_redis_name(const struct cache *c);

/* Send PING (reconnecting first when a retry is due). Returns 0 with the
 * round trip in *rtt_us (may be NULL), or -1 when Redis is down or did not
 * answer (the reason in cache_last_error()). */
int cache_ping(struct cache *c, uint64_t *rtt_us);

#endif /* PACER_CACHE_H */
