/*
 * rlshm.h - the rate limiter's fallback counters: a fixed-size table of
 * fixed-window hit counters in anonymous shared memory, used while Redis
 * is down (worker/ratelimit.h).
 *
 * The master creates the table once, before it forks the first worker
 * (mmap MAP_SHARED | MAP_ANONYMOUS, so there is no file and nothing
 * outside this instance's process tree can see it), and keeps it across
 * reloads: every worker of every generation inherits the same mapping
 * through fork(), so the instance counts as one. It dies with the master.
 *
 * The table is lock-free (C11 atomics; no process ever blocks another
 * for longer than a handful of instructions, and a process killed at any
 * point cannot wedge the table). Each entry is two 64-bit words: the
 * bucket's 64-bit hash, and its state: the end of its current window, the
 * hits counted in it, a tag and a busy bit. A hit is one compare-and-swap
 * on the state: add one in the same window, or start a new window (the
 * caller's seed plus one) when the window has changed. An entry changes
 * bucket only by first setting the busy bit with a CAS, then writing the
 * hash, then the new state with a new tag, so a process that read the
 * old state can never add to the new bucket (its CAS fails on the tag).
 * A busy bit left by a process that died in those few instructions is
 * taken over after RLSHM_BUSY_STALE_S.
 *
 * Buckets are placed by open addressing (linear probing over at most
 * RLSHM_PROBE entries from the hash's home). An entry whose window has
 * ended is free for any bucket. When every entry of a bucket's probe run
 * holds a live window of another bucket, the table is full for that
 * bucket: the hit is not counted and the caller lets it through ("fail
 * open"). Evicting a live window instead would let anyone who can make
 * many buckets (many client addresses) reset the counts of others;
 * failing open limits the damage to the new buckets, and only during a
 * Redis outage. Counts stop at RLSHM_COUNT_MAX.
 *
 * Callers: the master creates and destroys the table (before fork, at
 * exit); workers (and the unit tests) hash and count. Times are unix
 * seconds from the caller, so the tests can drive the clock.
 */
#ifndef PACER_RLSHM_H
#define PACER_RLSHM_H

#include <stddef.h>
#include <stdint.h>

/* Entries the master creates: 128 KiB of counters. */
#define RLSHM_ENTRIES 8192u
/* Entries a bucket may be placed in, from its home entry on. */
#define RLSHM_PROBE 64u
/* The highest count an entry holds (26 bits). */
#define RLSHM_COUNT_MAX (((int64_t)1 << 26) - 1)
/* The longest window the table counts (a 30-day quota fits). */
#define RLSHM_WINDOW_MAX ((int64_t)400 * 86400)
/* A busy entry older than this was left by a dead process. */
#define RLSHM_BUSY_STALE_S 2

/* rlshm_hit() results. */
enum rlshm_result {
	RLSHM_COUNTED = 0, /* counted; *count is the window's count */
	RLSHM_FULL = 1,    /* no room for the bucket (or an entry stayed
	                      busy): not counted */
};

struct rlshm;

/*
 * Create a table of nentries (a power of two, 64 to 2^24) in anonymous
 * shared memory. now (unix seconds) anchors the window ends the table can
 * hold: from now to about 30 years later. Returns the handle (free with
 * rlshm_destroy()), or NULL with the reason in err. Master (or a test),
 * before fork.
 */
struct rlshm *rlshm_create(uint32_t nentries, int64_t now, char *err,
    size_t errlen);

/* Unmap and free; NULL-safe; sets *t to NULL. A child that inherited the
 * handle may call it too (it unmaps its own view only). */
void rlshm_destroy(struct rlshm **t);

/* Entries of the table. */
uint32_t rlshm_size(const struct rlshm *t);

/*
 * The bucket hash of (ns, id, window_s), keyed with the table's random
 * seed (so an outsider cannot aim many buckets at one probe run); never
 * 0. ns and id are C strings.
 */
uint64_t rlshm_hash(const struct rlshm *t, const char *ns, const char *id,
    int64_t window_s);

/*
 * Count one hit of bucket h in the window that ends at end (unix seconds,
 * now < end <= now + RLSHM_WINDOW_MAX). When the bucket has no entry yet,
 * or its entry holds another window, the window starts at seed (0 or
 * more) plus this hit. Returns RLSHM_COUNTED with the count in *count,
 * RLSHM_FULL (nothing counted), or -1 for bad arguments.
 */
int rlshm_hit(struct rlshm *t, uint64_t h, int64_t now, int64_t end,
    int64_t seed, int64_t *count);

/* The count of bucket h in the window ending at end, without counting;
 * 0 when the table has no such window. */
int64_t rlshm_peek(const struct rlshm *t, uint64_t h, int64_t now, int64_t end);

#endif /* PACER_RLSHM_H */
