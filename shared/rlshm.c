/*
 * rlshm.c - the rate limiter's shared-memory fallback counters; see
 * rlshm.h for the contract.
 *
 * Created in the master before fork; used by every worker at once, with
 * no lock: each entry is a bucket hash and a state word changed only by
 * compare-and-swap. The state word packs, from the top bit down:
 *
 *   busy (1) | tag (7) | window end - base (30 s) | count (26)
 *
 * A hit reads the state (acquire), then the hash: if the hash is the
 * bucket's, one CAS adds one (or starts the new window) on exactly the
 * state it read. Giving an entry to another bucket goes busy (CAS),
 * hash (store), new state with tag + 1 (release store), so a CAS made
 * from a state read before the change fails on the busy bit or the tag:
 * no hit ever lands in another bucket's count. (The tag wraps after 128
 * changes of one entry; a stale CAS would need all of them to happen
 * between its read and its CAS, a few instructions apart.) A reader that
 * meets a busy entry yields until it settles; a busy bit older than
 * RLSHM_BUSY_STALE_S is a dead process's, and may be taken over.
 *
 * Placement is linear probing from the hash's home entry. Hashes are
 * never set back to 0, so an empty entry ends a bucket's probe run, and
 * a bucket lives in the first entry of its run that holds its hash (its
 * "first match"). Two processes adding the same new bucket at once can
 * still place it twice when an entry between them freed up in between;
 * whoever sees two live entries of its bucket after placing it moves the
 * later one's count into the earlier one and kills the later one, and a
 * hit whose CAS fails starts over from the home entry, so counts end up
 * in the first match.
 */
#include "rlshm.h"

#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Atomics shared between processes must not fall back to libatomic's
 * per-process locks. */
static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics are lock-free");

#define ST_BUSY ((uint64_t)1 << 63)
#define ST_TAG_SHIFT 56
#define ST_TAG_MASK 0x7fu
#define ST_END_SHIFT 26
#define ST_END_MAX (((uint64_t)1 << 30) - 1)
#define ST_COUNT_MASK ((uint64_t)RLSHM_COUNT_MAX)

/* How many yields a reader waits for a busy entry, and how many times a
 * hit starts over after losing a race, before giving up (not counted). */
#define RLSHM_BUSY_SPINS 256
#define RLSHM_RETRIES 64

/* try_hit(): lost a race, start over from the home entry. */
#define RLSHM_AGAIN 2

struct entry {
	_Atomic uint64_t key; /* the bucket hash; 0: never used */
	_Atomic uint64_t state;
};

static_assert(sizeof(struct entry) == 16, "an entry is two words");

/* The handle is private to each process (a copy inherited by fork); only
 * the entries are shared, and nothing read from them sizes anything. */
struct rlshm {
	struct entry *e;
	size_t maplen;
	uint32_t n, mask;
	int64_t base; /* window ends are stored as end - base */
	uint64_t seed;
};

static inline uint64_t st_make(uint64_t tag, uint64_t end_rel, uint64_t count)
{
	return ((tag & ST_TAG_MASK) << ST_TAG_SHIFT) |
	    ((end_rel & ST_END_MAX) << ST_END_SHIFT) | (count & ST_COUNT_MASK);
}

static inline bool st_busy(uint64_t s)
{
	return (s & ST_BUSY) != 0;
}

static inline uint64_t st_tag(uint64_t s)
{
	return (s >> ST_TAG_SHIFT) & ST_TAG_MASK;
}

static inline uint64_t st_end(uint64_t s)
{
	return (s >> ST_END_SHIFT) & ST_END_MAX;
}

static inline uint64_t st_count(uint64_t s)
{
	return s & ST_COUNT_MASK;
}

static inline uint64_t load_state(const struct entry *e)
{
	return atomic_load_explicit(&e->state, memory_order_acquire);
}

static inline uint64_t load_key(const struct entry *e)
{
	return atomic_load_explicit(&e->key, memory_order_acquire);
}

static inline bool cas_state(struct entry *e, uint64_t *expect, uint64_t want)
{
	return atomic_compare_exchange_strong_explicit(&e->state, expect, want,
	    memory_order_acq_rel, memory_order_acquire);
}

/* ------------------------------------------------------------ life */

struct rlshm *rlshm_create(uint32_t nentries, int64_t now, char *err,
    size_t errlen)
{
	struct rlshm *t = NULL;
	void *map;

	if (nentries < 64 || nentries > (1u << 24) ||
	    (nentries & (nentries - 1)) != 0) {
		(void)snprintf(err, errlen,
		    "rate-limit table: %u entries is not a power of two "
		    "from 64 to 16777216",
		    nentries);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		(void)snprintf(err, errlen, "rate-limit table: out of memory");
		return NULL;
	}
	t->n = nentries;
	t->mask = nentries - 1;
	t->maplen = (size_t)nentries * sizeof(struct entry);
	map = mmap(NULL, t->maplen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		(void)snprintf(err, errlen,
		    "rate-limit table: could not map %zu bytes of shared "
		    "memory: %s",
		    t->maplen, strerror(errno));
		free(t);
		return NULL;
	}
	t->e = map; /* anonymous memory starts zeroed: every entry empty */
	/* A day of slack below now, for a wall clock stepped back. */
	t->base = now - 86400;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)time(NULL);
	return t;
}

void rlshm_destroy(struct rlshm **tp)
{
	struct rlshm *t;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	(void)munmap(t->e, t->maplen);
	free(t);
	*tp = NULL;
}

uint32_t rlshm_size(const struct rlshm *t)
{
	return (t != NULL) ? t->n : 0;
}

/* ------------------------------------------------------------ hash */

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t rlshm_hash(const struct rlshm *t, const char *ns, const char *id,
    int64_t window_s)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ ((t != NULL) ? t->seed : 0);

	/* The NULs keep ("a", "bc") apart from ("ab", "c"). */
	h = fnv(h, ns, strlen(ns) + 1);
	h = fnv(h, id, strlen(id) + 1);
	h = fnv(h, &window_s, sizeof(window_s));
	/* splitmix64's finaliser: every input bit moves the home entry. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (h != 0) ? h : 1;
}

/* ------------------------------------------------------------ hits */

/* now - base, kept in the 30 bits a busy state has for it. */
static uint64_t rel_now(const struct rlshm *t, int64_t now)
{
	int64_t r = now - t->base;

	if (r < 0)
		return 0;
	return ((uint64_t)r > ST_END_MAX) ? ST_END_MAX : (uint64_t)r;
}

/* The entry's state once it is not busy, or a busy state that is stale
 * (a dead process's). Returns 0, or -1 when it stayed busy. */
static int settled(const struct entry *e, uint64_t now_rel, uint64_t *s)
{
	int spins;

	for (spins = 0;; spins++) {
		*s = load_state(e);
		if (!st_busy(*s) ||
		    now_rel >= st_end(*s) + (uint64_t)RLSHM_BUSY_STALE_S)
			return 0;
		if (spins == RLSHM_BUSY_SPINS)
			return -1;
		(void)sched_yield();
	}
}

/* One hit on the entry of bucket h whose state was s. On a lost race the
 * hit is retried here while the entry still belongs to h (same tag), or
 * started over from the home entry otherwise. A hit whose caller's clock
 * is a little behind (it computed the previous window while another
 * process already started the next one) counts in the newer window
 * rather than resetting it: a boundary hit may count early, never be
 * lost or wipe a count. */
static int bump(struct entry *e, uint64_t s, uint64_t end_rel, uint64_t now_rel,
    uint64_t init, int64_t *count)
{
	uint64_t tag = st_tag(s), c, end, next;

	for (;;) {
		end = st_end(s);
		if (end == end_rel || (end > end_rel && end > now_rel)) {
			c = st_count(s);
			if (c < ST_COUNT_MASK)
				c++;
		} else {
			c = init; /* a new window */
			end = end_rel;
		}
		next = st_make(tag, end, c);
		if (cas_state(e, &s, next)) {
			*count = (int64_t)c;
			return RLSHM_COUNTED;
		}
		if (st_busy(s) || st_tag(s) != tag)
			return RLSHM_AGAIN;
	}
}

/* Move the count of hi (a later live entry of bucket h) into lo (its
 * first match), and kill hi: its state becomes an ended, empty window
 * with a new tag, so a CAS made from its old state fails. A count whose
 * window differs from lo's is dropped (lo rolled over meanwhile). */
static void merge(struct entry *lo, struct entry *hi, uint64_t h)
{
	uint64_t s = load_state(hi), t, moved, end, c;

	do {
		if (st_busy(s) || load_key(hi) != h || st_end(s) == 0)
			return;
	} while (!cas_state(hi, &s, st_make(st_tag(s) + 1, 0, 0)));
	moved = st_count(s);
	end = st_end(s);
	t = load_state(lo);
	do {
		if (moved == 0 || st_busy(t) || load_key(lo) != h ||
		    st_end(t) != end)
			return;
		c = st_count(t) + moved;
		if (c > ST_COUNT_MASK)
			c = ST_COUNT_MASK;
	} while (!cas_state(lo, &t, st_make(st_tag(t), end, c)));
}

/* After placing bucket h at probe offset mine: fold any other live entry
 * of h in its run into the earlier of the two. */
static void dedupe(struct rlshm *t, uint64_t h, uint32_t mine, uint64_t now_rel)
{
	uint32_t home = (uint32_t)h & t->mask, i;
	uint32_t probe = (t->n < RLSHM_PROBE) ? t->n : RLSHM_PROBE;

	for (i = 0; i < probe; i++) {
		struct entry *e = &t->e[(home + i) & t->mask];
		uint64_t s = load_state(e), k = load_key(e);

		if (k == 0 && !st_busy(s))
			return; /* the end of the run */
		if (i == mine || st_busy(s) || st_end(s) <= now_rel || k != h)
			continue;
		if (i < mine)
			merge(e, &t->e[(home + mine) & t->mask], h);
		else
			merge(&t->e[(home + mine) & t->mask], e, h);
		return;
	}
}

/* Give entry x (probe offset off), whose state was s, to bucket h with a
 * new window of init hits. */
static int take(struct rlshm *t, uint32_t off, uint64_t s, uint64_t h,
    uint64_t now_rel, uint64_t end_rel, uint64_t init, int64_t *count)
{
	struct entry *e = &t->e[((uint32_t)h + off) & t->mask];
	uint64_t busy = ST_BUSY | st_make(st_tag(s), now_rel, 0);

	if (!cas_state(e, &s, busy))
		return RLSHM_AGAIN;
	atomic_store_explicit(&e->key, h, memory_order_relaxed);
	/* release: whoever reads this state also reads the hash above */
	atomic_store_explicit(&e->state, st_make(st_tag(s) + 1, end_rel, init),
	    memory_order_release);
	*count = (int64_t)init;
	dedupe(t, h, off, now_rel);
	return RLSHM_COUNTED;
}

/* One pass over bucket h's probe run: its first match gets the hit;
 * without one, the first free entry (never used, ended, or stale busy)
 * is taken. */
static int try_hit(struct rlshm *t, uint64_t h, uint64_t now_rel,
    uint64_t end_rel, uint64_t init, int64_t *count)
{
	uint32_t home = (uint32_t)h & t->mask, i, cand = UINT32_MAX;
	uint32_t probe = (t->n < RLSHM_PROBE) ? t->n : RLSHM_PROBE;
	uint64_t cand_s = 0;

	for (i = 0; i < probe; i++) {
		struct entry *e = &t->e[(home + i) & t->mask];
		uint64_t s, k;
		bool free_entry;

		if (settled(e, now_rel, &s) != 0)
			return RLSHM_FULL;
		k = load_key(e);
		if (!st_busy(s) && k == h)
			return bump(e, s, end_rel, now_rel, init, count);
		free_entry = st_busy(s) || k == 0 || st_end(s) <= now_rel;
		if (free_entry && cand == UINT32_MAX) {
			cand = i;
			cand_s = s;
		}
		if (k == 0 && !st_busy(s))
			break; /* the end of the run: h is not further on */
	}
	if (cand == UINT32_MAX)
		return RLSHM_FULL;
	return take(t, cand, cand_s, h, now_rel, end_rel, init, count);
}

int rlshm_hit(struct rlshm *t, uint64_t h, int64_t now, int64_t end,
    int64_t seed, int64_t *count)
{
	uint64_t now_rel, end_rel, init;
	int attempt, rc;

	if (t == NULL || count == NULL || h == 0 || seed < 0 || end <= now ||
	    end - now > RLSHM_WINDOW_MAX)
		return -1;
	if (end - t->base < 1 || (uint64_t)(end - t->base) > ST_END_MAX)
		return RLSHM_FULL; /* a clock far from the table's creation */
	end_rel = (uint64_t)(end - t->base);
	now_rel = rel_now(t, now);
	init = (seed >= RLSHM_COUNT_MAX) ? ST_COUNT_MASK : (uint64_t)seed + 1;
	for (attempt = 0; attempt < RLSHM_RETRIES; attempt++) {
		rc = try_hit(t, h, now_rel, end_rel, init, count);
		if (rc != RLSHM_AGAIN)
			return rc;
	}
	return RLSHM_FULL;
}

int64_t rlshm_peek(const struct rlshm *t, uint64_t h, int64_t now, int64_t end)
{
	uint32_t home, i, probe;
	uint64_t s;

	(void)now;
	if (t == NULL || h == 0 || end - t->base < 1 ||
	    (uint64_t)(end - t->base) > ST_END_MAX)
		return 0;
	home = (uint32_t)h & t->mask;
	probe = (t->n < RLSHM_PROBE) ? t->n : RLSHM_PROBE;
	for (i = 0; i < probe; i++) {
		const struct entry *e = &t->e[(home + i) & t->mask];
		uint64_t k;

		s = load_state(e);
		k = load_key(e);
		if (st_busy(s))
			continue;
		if (k == h)
			return (st_end(s) == (uint64_t)(end - t->base))
			    ? (int64_t)st_count(s)
			    : 0;
		if (k == 0)
			return 0;
	}
	return 0;
}
