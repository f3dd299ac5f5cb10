/*
 * test_rlshm.c - the rate limiter's shared-memory fallback table: windows
 * and their roll-over, seeds, a full table failing open and freeing up
 * when windows end, and exact totals when several forked processes hit
 * the same buckets at once (no lost updates, also across a roll-over).
 *
 * The suite is named ratelimit_shm so that --filter='ratelimit*' runs it
 * with the rate limiter's integration tests.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rlshm.h"

#define NOW 1700000000LL

TestSuite(ratelimit_shm);

static struct rlshm *table(uint32_t n)
{
	char err[256] = "";
	struct rlshm *t = rlshm_create(n, NOW, err, sizeof(err));

	cr_assert(not(eq(ptr, t, NULL)), "rlshm_create(%u): %s", n, err);
	return t;
}

static int64_t hit(struct rlshm *t, uint64_t h, int64_t now, int64_t end,
    int64_t seed)
{
	int64_t c = -1;
	int rc = rlshm_hit(t, h, now, end, seed, &c);

	cr_assert(eq(int, rc, RLSHM_COUNTED),
	    "expected the hit counted (now %lld, end %lld), got %d",
	    (long long)now, (long long)end, rc);
	return c;
}

Test(ratelimit_shm, counts_in_a_window_and_starts_again_in_the_next)
{
	struct rlshm *t = table(1024);
	uint64_t h = rlshm_hash(t, "burst", "key_1", 60);
	int64_t i;

	for (i = 1; i <= 5; i++)
		cr_assert(eq(i64, hit(t, h, NOW, NOW + 60, 0), i),
		    "expected hit %lld to count %lld", (long long)i,
		    (long long)i);
	cr_assert(eq(i64, rlshm_peek(t, h, NOW, NOW + 60), 5));
	/* The window ended: the next one starts at 1. */
	cr_assert(eq(i64, hit(t, h, NOW + 60, NOW + 120, 0), 1),
	    "expected the new window to start at 1");
	cr_assert(eq(i64, rlshm_peek(t, h, NOW + 60, NOW + 60), 0),
	    "expected nothing left of the old window");
	/* A late clock that still computes the old window counts in the
	 * newer one instead of wiping it. */
	cr_assert(eq(i64, hit(t, h, NOW + 59, NOW + 60, 0), 2),
	    "expected a boundary hit to count in the newer window");
	cr_assert(eq(i64, hit(t, h, NOW + 61, NOW + 120, 0), 3));
	rlshm_destroy(&t);
	cr_assert(eq(ptr, t, NULL));
	rlshm_destroy(&t); /* NULL-safe */
}

Test(ratelimit_shm, a_seed_starts_a_window_only)
{
	struct rlshm *t = table(1024);
	uint64_t h = rlshm_hash(t, "quota", "key_7", 2592000);

	cr_assert(eq(i64, hit(t, h, NOW, NOW + 100, 41), 42),
	    "expected the seed plus this hit");
	cr_assert(eq(i64, hit(t, h, NOW, NOW + 100, 41), 43),
	    "expected a seed to be ignored once the window is counted");
	cr_assert(eq(i64, hit(t, h, NOW + 100, NOW + 200, 7), 8),
	    "expected the next window to start from its own seed");
	cr_assert(eq(i64, hit(t, h, NOW + 200, NOW + 300, RLSHM_COUNT_MAX + 5),
	              RLSHM_COUNT_MAX),
	    "expected a huge seed to stop at the maximum");
	cr_assert(eq(i64, hit(t, h, NOW + 200, NOW + 300, 0), RLSHM_COUNT_MAX),
	    "expected the count to stay at its maximum");
	rlshm_destroy(&t);
}

Test(ratelimit_shm, buckets_are_apart_and_hashes_never_zero)
{
	struct rlshm *t = table(1024);
	uint64_t a = rlshm_hash(t, "auth", "10.0.0.1", 60),
	         b = rlshm_hash(t, "auth", "10.0.0.2", 60),
	         c = rlshm_hash(t, "auth", "10.0.0.1", 61),
	         d = rlshm_hash(t, "aut", "h10.0.0.1", 60);

	cr_assert(a != 0 && b != 0 && c != 0 && d != 0);
	cr_assert(a != b && a != c && a != d,
	    "expected id, window and the ns/id split to change the hash");
	cr_assert(eq(u64, a, rlshm_hash(t, "auth", "10.0.0.1", 60)),
	    "expected the same bucket to hash the same");
	cr_assert(eq(i64, hit(t, a, NOW, NOW + 60, 0), 1));
	cr_assert(eq(i64, hit(t, a, NOW, NOW + 60, 0), 2));
	cr_assert(eq(i64, hit(t, b, NOW, NOW + 60, 0), 1),
	    "expected another bucket to count on its own");
	cr_assert(eq(i64, rlshm_peek(t, c, NOW, NOW + 60), 0));
	rlshm_destroy(&t);
}

Test(ratelimit_shm, refuses_bad_arguments)
{
	struct rlshm *t = table(64);
	char err[256] = "";
	int64_t c;

	cr_assert(eq(ptr, rlshm_create(100, NOW, err, sizeof(err)), NULL));
	cr_assert(not(eq(ptr, strstr(err, "power of two"), NULL)), "%s", err);
	cr_assert(eq(ptr, rlshm_create(32, NOW, err, sizeof(err)), NULL));
	cr_assert(eq(int, rlshm_hit(t, 0, NOW, NOW + 1, 0, &c), -1), "hash 0");
	cr_assert(eq(int, rlshm_hit(t, 5, NOW, NOW, 0, &c), -1),
	    "a window that already ended");
	cr_assert(eq(int,
	              rlshm_hit(t, 5, NOW, NOW + RLSHM_WINDOW_MAX + 1, 0, &c),
	              -1),
	    "a window that is too long");
	cr_assert(eq(int, rlshm_hit(t, 5, NOW, NOW + 1, -1, &c), -1),
	    "a negative seed");
	cr_assert(eq(int, rlshm_hit(t, 5, NOW, NOW + 1, 0, NULL), -1));
	cr_assert(eq(int, rlshm_hit(NULL, 5, NOW, NOW + 1, 0, &c), -1));
	cr_assert(eq(u32, rlshm_size(t), 64));
	rlshm_destroy(&t);
}

Test(ratelimit_shm, a_full_table_fails_open_and_frees_up_when_windows_end)
{
	struct rlshm *t = table(64); /* the probe run is the whole table */
	char id[32];
	uint64_t h;
	int64_t c;
	int i;

	for (i = 0; i < 64; i++) {
		(void)snprintf(id, sizeof(id), "client_%d", i);
		h = rlshm_hash(t, "auth", id, 60);
		cr_assert(eq(i64, hit(t, h, NOW, NOW + 60, 0), 1));
	}
	h = rlshm_hash(t, "auth", "one_too_many", 60);
	cr_assert(eq(int, rlshm_hit(t, h, NOW, NOW + 60, 0, &c), RLSHM_FULL),
	    "expected no room for a 65th live bucket");
	/* The buckets already there keep counting exactly. */
	cr_assert(eq(i64,
	    hit(t, rlshm_hash(t, "auth", "client_17", 60), NOW, NOW + 60, 0),
	    2));
	/* Once their windows end, the entries are free for new buckets. */
	cr_assert(eq(i64, hit(t, h, NOW + 60, NOW + 120, 0), 1),
	    "expected an ended window's entry to be reused");
	cr_assert(eq(i64, hit(t, h, NOW + 60, NOW + 120, 0), 2));
	rlshm_destroy(&t);
}

/* Fork n processes that each run fn(t, arg); wait for all, asserting
 * each exited 0. */
static void in_processes(int n, struct rlshm *t,
    void (*fn)(struct rlshm *, int))
{
	pid_t pids[16];
	bool exited0;
	int i, st;

	cr_assert(n <= 16);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0, "fork");
		if (pids[i] == 0) {
			fn(t, i);
			_exit(0);
		}
	}
	for (i = 0; i < n; i++) {
		cr_assert(eq(int, waitpid(pids[i], &st, 0), pids[i]));
		exited0 = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		cr_assert(exited0, "expected child %d to exit 0 (status %#x)",
		    i, st);
	}
}

#define HITS 20000
#define NPROC 8

static void hammer_first(struct rlshm *t, int who)
{
	uint64_t h = rlshm_hash(t, "burst", "shared", 60);
	int64_t c;
	int i;

	(void)who;
	for (i = 0; i < HITS; i++)
		if (rlshm_hit(t, h, NOW, NOW + 60, 0, &c) != RLSHM_COUNTED)
			_exit(3);
}

static void hammer_next(struct rlshm *t, int who)
{
	uint64_t h = rlshm_hash(t, "burst", "shared", 60);
	int64_t c;
	int i;

	(void)who;
	for (i = 0; i < HITS; i++)
		if (rlshm_hit(t, h, NOW + 60, NOW + 120, 0, &c) !=
		    RLSHM_COUNTED)
			_exit(3);
}

Test(ratelimit_shm, processes_hitting_one_bucket_lose_no_hit)
{
	struct rlshm *t = table(RLSHM_ENTRIES);
	uint64_t h = rlshm_hash(t, "burst", "shared", 60);

	in_processes(NPROC, t, hammer_first);
	cr_assert(eq(i64, rlshm_peek(t, h, NOW, NOW + 60),
	              (int64_t)NPROC * HITS),
	    "expected exactly %d hits counted", NPROC * HITS);
	/* All of them roll the window over at once: one reset, no hit
	 * lost. */
	in_processes(NPROC, t, hammer_next);
	cr_assert(eq(i64, rlshm_peek(t, h, NOW + 60, NOW + 120),
	              (int64_t)NPROC * HITS),
	    "expected exactly %d hits in the new window", NPROC * HITS);
	rlshm_destroy(&t);
}

#define NBUCKETS 48
#define BUCKET_HITS 500

/* Every process places the same new buckets in a small table at once. */
static void hammer_many(struct rlshm *t, int who)
{
	char id[32];
	int64_t c;
	int i, b;

	for (i = 0; i < BUCKET_HITS; i++)
		for (b = 0; b < NBUCKETS; b++) {
			int k = (b + who * 7) % NBUCKETS;

			(void)snprintf(id, sizeof(id), "addr_%d", k);
			if (rlshm_hit(t, rlshm_hash(t, "auth", id, 60), NOW,
			        NOW + 60, 0, &c) != RLSHM_COUNTED)
				_exit(3);
		}
}

Test(ratelimit_shm, processes_placing_many_buckets_count_each_exactly)
{
	struct rlshm *t = table(64);
	char id[32];
	int b;

	in_processes(NPROC, t, hammer_many);
	for (b = 0; b < NBUCKETS; b++) {
		(void)snprintf(id, sizeof(id), "addr_%d", b);
		cr_assert(eq(i64,
		              rlshm_peek(t, rlshm_hash(t, "auth", id, 60), NOW,
		                  NOW + 60),
		              (int64_t)NPROC * BUCKET_HITS),
		    "expected bucket %s to hold every hit", id);
	}
	rlshm_destroy(&t);
}
