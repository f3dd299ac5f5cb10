/*
 * test_lru.c - the in-process cache table: its bound evicts the least
 * recently used entry, a get refreshes recency, entries expire on an
 * injected clock, replace and delete work, size 0 stores nothing, and
 * long runs of random operations agree with a simple model.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"

#define SEC 1000000ULL

static bool has(struct lru *l, const char *key, uint64_t now, const char *want)
{
	const void *v;
	size_t n;

	if (lru_get(l, key, strlen(key), now, &v, &n) != 1)
		return false;
	return want == NULL || (n == strlen(want) && memcmp(v, want, n) == 0);
}

static void put(struct lru *l, const char *key, const char *val, uint64_t now,
    uint64_t ttl)
{
	int rc = lru_set(l, key, strlen(key), val, strlen(val), now, ttl);

	cr_assert(eq(int, rc, 0), "lru_set %s", key);
}

Test(lru, the_bound_evicts_the_least_recently_used)
{
	struct lru *l = lru_new(3);
	bool ok;

	cr_assert(not(eq(ptr, l, NULL)));
	put(l, "a", "1", 0, SEC);
	put(l, "b", "2", 0, SEC);
	put(l, "c", "3", 0, SEC);
	cr_assert(eq(sz, lru_count(l), 3));
	put(l, "d", "4", 0, SEC); /* N + 1: "a" is the oldest */
	cr_assert(eq(sz, lru_count(l), 3));
	ok = has(l, "a", 0, NULL);
	cr_assert(not(ok), "a should have been evicted");
	ok = has(l, "b", 0, "2") && has(l, "c", 0, "3") && has(l, "d", 0, "4");
	cr_assert(ok);
	cr_assert(eq(int, lru_check(l), 0));
	lru_free(&l);
	cr_assert(eq(ptr, l, NULL));
}

Test(lru, a_get_refreshes_recency)
{
	struct lru *l = lru_new(2);
	bool ok;

	put(l, "a", "1", 0, SEC);
	put(l, "b", "2", 0, SEC);
	ok = has(l, "a", 0, "1"); /* now "b" is the least recently used */
	cr_assert(ok);
	put(l, "c", "3", 0, SEC);
	ok = has(l, "b", 0, NULL);
	cr_assert(not(ok), "b should have been evicted, not a");
	ok = has(l, "a", 0, "1") && has(l, "c", 0, "3");
	cr_assert(ok);
	lru_free(&l);
}

Test(lru, entries_expire_on_the_given_clock)
{
	struct lru *l = lru_new(8);
	bool ok;

	put(l, "short", "s", 100, 2 * SEC);
	put(l, "long", "l", 100, 10 * SEC);
	ok = has(l, "short", 100 + 2 * SEC - 1, "s");
	cr_assert(ok, "alive one microsecond before its expiry");
	ok = has(l, "short", 100 + 2 * SEC, NULL);
	cr_assert(not(ok), "gone at its expiry");
	cr_assert(eq(sz, lru_count(l), 1), "the expired entry is dropped");
	ok = has(l, "long", 100 + 9 * SEC, "l");
	cr_assert(ok);
	/* A get does not extend the life of an entry. */
	ok = has(l, "long", 100 + 10 * SEC, NULL);
	cr_assert(not(ok));
	/* A ttl of 0 is refused and leaves nothing behind. */
	put(l, "k", "v", 0, SEC);
	cr_assert(eq(int, lru_set(l, "k", 1, "w", 1, 0, 0), -1));
	ok = has(l, "k", 0, NULL);
	cr_assert(not(ok));
	/* A huge ttl saturates instead of wrapping around. */
	put(l, "forever", "f", UINT64_MAX - 5, UINT64_MAX);
	ok = has(l, "forever", UINT64_MAX - 1, "f");
	cr_assert(ok);
	cr_assert(eq(int, lru_check(l), 0));
	lru_free(&l);
}

Test(lru, replace_and_delete)
{
	struct lru *l = lru_new(4);
	const char bin[] = {'x', '\0', 'y', '\n'};
	const void *v;
	size_t n;
	bool ok;

	put(l, "k", "old", 0, SEC);
	put(l, "k", "new value", 0, SEC);
	cr_assert(eq(sz, lru_count(l), 1));
	ok = has(l, "k", 0, "new value");
	cr_assert(ok);
	/* Binary values and keys that differ only past a NUL. */
	cr_assert(eq(int, lru_set(l, "b\0x", 3, bin, sizeof(bin), 0, SEC), 0));
	cr_assert(eq(int, lru_set(l, "b\0y", 3, "other", 5, 0, SEC), 0));
	cr_assert(eq(int, lru_get(l, "b\0x", 3, 0, &v, &n), 1));
	cr_assert(eq(sz, n, sizeof(bin)));
	cr_assert(eq(int, memcmp(v, bin, n), 0));
	/* An empty value is a value. */
	cr_assert(eq(int, lru_set(l, "e", 1, NULL, 0, 0, SEC), 0));
	cr_assert(eq(int, lru_get(l, "e", 1, 0, &v, &n), 1));
	cr_assert(eq(sz, n, 0));
	cr_assert(lru_del(l, "k", 1));
	cr_assert(not(lru_del(l, "k", 1)));
	ok = has(l, "k", 0, NULL);
	cr_assert(not(ok));
	cr_assert(eq(sz, lru_count(l), 3));
	lru_clear(l);
	cr_assert(eq(sz, lru_count(l), 0));
	put(l, "again", "1", 0, SEC);
	cr_assert(eq(int, lru_check(l), 0));
	lru_free(&l);
	lru_free(&l); /* NULL-safe */
}

Test(lru, size_zero_stores_nothing)
{
	struct lru *l = lru_new(0);
	bool ok;

	cr_assert(not(eq(ptr, l, NULL)));
	put(l, "a", "1", 0, SEC);
	ok = has(l, "a", 0, NULL);
	cr_assert(not(ok));
	cr_assert(eq(sz, lru_count(l), 0));
	cr_assert(not(lru_del(l, "a", 1)));
	cr_assert(eq(int, lru_check(l), 0));
	lru_free(&l);
}

/* The model: a small array of keys 0..NKEYS-1 with value, expiry and a
 * last-used stamp; the table must agree with it after every step. */
#define NKEYS 64
#define BOUND 16

struct model {
	bool present[NKEYS];
	unsigned val[NKEYS];
	uint64_t expires[NKEYS];
	uint64_t used[NKEYS];
	uint64_t stamp;
};

static void model_evict_if_full(struct model *m, int except)
{
	int i, n = 0, oldest = -1;

	for (i = 0; i < NKEYS; i++) {
		if (!m->present[i] || i == except)
			continue;
		n++;
		if (oldest < 0 || m->used[i] < m->used[oldest])
			oldest = i;
	}
	if (n >= BOUND)
		m->present[oldest] = false;
}

static void random_step(struct lru *l, struct model *m, uint64_t now)
{
	char key[16];
	int k = rand() % NKEYS, op = rand() % 10;
	const void *v;
	size_t n;
	unsigned got;
	int rc;

	(void)snprintf(key, sizeof(key), "key%d", k);
	if (op < 5) { /* get */
		bool live = m->present[k] && now < m->expires[k];

		rc = lru_get(l, key, strlen(key), now, &v, &n);
		cr_assert(eq(int, rc, live ? 1 : 0), "get %s at %llu", key,
		    (unsigned long long)now);
		if (live) {
			cr_assert(eq(sz, n, sizeof(got)));
			memcpy(&got, v, sizeof(got));
			cr_assert(eq(u32, got, m->val[k]));
			m->used[k] = ++m->stamp;
		} else {
			m->present[k] = false;
		}
	} else if (op < 9) { /* set */
		uint64_t ttl = (uint64_t)(1 + rand() % 50);
		unsigned val = (unsigned)rand();

		if (m->present[k])
			m->present[k] = false;
		else
			model_evict_if_full(m, k);
		rc = lru_set(l, key, strlen(key), &val, sizeof(val), now, ttl);
		cr_assert(eq(int, rc, 0));
		m->present[k] = true;
		m->val[k] = val;
		m->expires[k] = now + ttl;
		m->used[k] = ++m->stamp;
	} else { /* delete */
		bool was = lru_del(l, key, strlen(key));

		cr_assert(eq(int, was, m->present[k]), "del %s", key);
		m->present[k] = false;
	}
}

Test(lru, random_operations_agree_with_a_model)
{
	struct lru *l = lru_new(BOUND);
	struct model m;
	uint64_t now = 1;
	size_t count;
	int i, k;

	memset(&m, 0, sizeof(m));
	srand(4242);
	for (i = 0; i < 100000; i++) {
		random_step(l, &m, now);
		now += (uint64_t)(rand() % 3);
		if (i % 97 == 0) {
			cr_assert(eq(int, lru_check(l), 0), "step %d", i);
			for (count = 0, k = 0; k < NKEYS; k++)
				count += m.present[k];
			cr_assert(eq(sz, lru_count(l), count), "step %d", i);
			cr_assert(count <= BOUND);
		}
	}
	lru_free(&l);
}

Test(lru, many_entries_grow_the_table_and_stay_reachable)
{
	struct lru *l = lru_new(5000);
	char key[32];
	int i;
	bool ok = true;

	for (i = 0; i < 6000; i++) {
		(void)snprintf(key, sizeof(key), "user:%d", i);
		put(l, key, key, 0, SEC);
	}
	cr_assert(eq(sz, lru_count(l), 5000));
	cr_assert(eq(int, lru_check(l), 0));
	for (i = 0; i < 6000 && ok; i++) {
		(void)snprintf(key, sizeof(key), "user:%d", i);
		ok = has(l, key, 0, (i < 1000) ? NULL : key) == (i >= 1000);
	}
	cr_assert(ok, "key user:%d", i - 1);
	lru_free(&l);
}
