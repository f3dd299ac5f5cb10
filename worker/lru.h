/*
 * lru.h - a bounded in-process key/value store with expiry, evicting the
 * least recently used entry when full.
 *
 * A hash table (chained, grown by doubling) finds an entry and a doubly
 * linked list keeps the recency order, so get, set, delete and eviction
 * are O(1). Keys and values are byte strings (values binary-safe) and are
 * copied in. Each entry carries its own expiry; an expired entry is never
 * returned and is dropped when a lookup or an insert finds it.
 *
 * Time is passed in by the caller (microseconds on any monotonic clock),
 * which keeps this module free of clocks and lets tests drive expiry.
 *
 * Callers: worker/cache.c (one table per worker, after fork) and tests.
 * Not thread-safe; pacer has no threads.
 */
#ifndef PACER_LRU_H
#define PACER_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lru;

/* A table holding at most max_entries entries. max_entries 0 gives a
 * table that stores nothing (every set is a no-op, every get a miss).
 * Returns NULL when out of memory. Caller frees with lru_free(). */
struct lru *lru_new(size_t max_entries);

/* Free the table and every entry. NULL-safe; sets *l to NULL. */
void lru_free(struct lru **l);

/*
 * Look key up. Returns 1 and points *val / *vlen at the stored value
 * (borrowed: valid until the next lru_set, lru_del, lru_clear or lru_get
 * on this table), making the entry the most recently used; or 0 when the
 * key is absent or expired at now_us (an expired entry is dropped).
 */
int lru_get(struct lru *l, const char *key, size_t klen, uint64_t now_us,
    const void **val, size_t *vlen);

/*
 * Store a copy of key and val, kept until now_us + ttl_us (ttl_us > 0),
 * as the most recently used entry; an existing entry for key is replaced.
 * When the table is full the least recently used entry goes first.
 * Returns 0, or -1 when out of memory or ttl_us is 0 (any old entry for
 * key is then gone too, so a failed set never leaves a stale value).
 */
int lru_set(struct lru *l, const char *key, size_t klen, const void *val,
    size_t vlen, uint64_t now_us, uint64_t ttl_us);

/* Remove key. Returns true when it was there (expired or not). */
bool lru_del(struct lru *l, const char *key, size_t klen);

/* Remove every entry. */
void lru_clear(struct lru *l);

/* Entries held, expired ones not yet dropped included. */
size_t lru_count(const struct lru *l);

/* The bound given to lru_new(). */
size_t lru_max(const struct lru *l);

/* Check the internal invariants (the hash chains and the recency list
 * hold the same entries, count and bound agree). Returns 0, or -1 on a
 * broken table. For tests; O(n). */
int lru_check(const struct lru *l);

#endif /* PACER_LRU_H */
