/*
 * lru.c - the bounded in-process cache table; see lru.h.
 *
 * Runs in worker processes (and tests). Each entry is one allocation
 * holding its links, its key and its value. The bucket array starts small
 * and doubles while the table fills, up to the power of two at or above
 * the bound, so a large bound costs memory only when it is used. The hash
 * is FNV-1a with a per-table random seed: keys are built by server code
 * but may carry client-chosen parts (ids), and a seed keeps chains short
 * even for keys picked to collide.
 */
#include "lru.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define LRU_BUCKETS_MIN 16u

struct lru_ent {
	struct lru_ent *hnext;       /* next in the bucket's chain */
	struct lru_ent *prev, *next; /* recency list: head is the newest */
	uint64_t hash;
	uint64_t expires_us;
	size_t klen, vlen;
	char data[]; /* klen bytes of key, then vlen bytes of value */
};

struct lru {
	struct lru_ent **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	size_t max;
	uint64_t seed;
	struct lru_ent *head, *tail;
};

static uint64_t lru_hash(const struct lru *l, const char *key, size_t klen)
{
	uint64_t h = 14695981039346656037ULL ^ l->seed;
	size_t i;

	for (i = 0; i < klen; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ULL;
	}
	/* FNV's low bits mix poorly; fold the high half in (bucket index
	 * uses the low bits). */
	return h ^ (h >> 32);
}

static uint64_t lru_seed(const void *addr)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)(uintptr_t)addr * 0x9E3779B97F4A7C15ULL;
	return s;
}

struct lru *lru_new(size_t max_entries)
{
	struct lru *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->max = max_entries;
	l->seed = lru_seed(l);
	if (max_entries == 0)
		return l;
	l->nbuckets = LRU_BUCKETS_MIN;
	l->buckets = calloc(l->nbuckets, sizeof(struct lru_ent *));
	if (l->buckets == NULL) {
		free(l);
		return NULL;
	}
	return l;
}

void lru_clear(struct lru *l)
{
	struct lru_ent *e, *next;

	if (l == NULL)
		return;
	for (e = l->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	l->head = l->tail = NULL;
	l->count = 0;
	if (l->buckets != NULL)
		memset(l->buckets, 0, l->nbuckets * sizeof(struct lru_ent *));
}

void lru_free(struct lru **lp)
{
	if (lp == NULL || *lp == NULL)
		return;
	lru_clear(*lp);
	free((*lp)->buckets);
	free(*lp);
	*lp = NULL;
}

static void list_unlink(struct lru *l, struct lru_ent *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
}

static void list_push_head(struct lru *l, struct lru_ent *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head != NULL)
		l->head->prev = e;
	else
		l->tail = e;
	l->head = e;
}

/* The link that points at key's entry (or the chain's terminating NULL
 * when it is absent). */
static struct lru_ent **find_link(const struct lru *l, const char *key,
    size_t klen, uint64_t hash)
{
	struct lru_ent **pp = &l->buckets[hash & (l->nbuckets - 1)];

	while (*pp != NULL) {
		const struct lru_ent *e = *pp;

		if (e->hash == hash && e->klen == klen &&
		    memcmp(e->data, key, klen) == 0)
			break;
		pp = &(*pp)->hnext;
	}
	return pp;
}

/* Unlink the entry *pp points at from its chain and the list; free it. */
static void remove_at(struct lru *l, struct lru_ent **pp)
{
	struct lru_ent *e = *pp;

	*pp = e->hnext;
	list_unlink(l, e);
	l->count--;
	free(e);
}

static void remove_ent(struct lru *l, struct lru_ent *e)
{
	remove_at(l, find_link(l, e->data, e->klen, e->hash));
}

/* Double the bucket array while it is smaller than the entry count and
 * the bound allows; a failed allocation just keeps longer chains. */
static void maybe_grow(struct lru *l)
{
	struct lru_ent **nb, *e;
	size_t n = l->nbuckets * 2, i;

	if (l->count < l->nbuckets || l->nbuckets >= l->max)
		return;
	nb = calloc(n, sizeof(struct lru_ent *));
	if (nb == NULL)
		return;
	for (i = 0; i < l->nbuckets; i++) {
		while ((e = l->buckets[i]) != NULL) {
			l->buckets[i] = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(l->buckets);
	l->buckets = nb;
	l->nbuckets = n;
}

int lru_get(struct lru *l, const char *key, size_t klen, uint64_t now_us,
    const void **val, size_t *vlen)
{
	struct lru_ent **pp, *e;

	if (l == NULL || l->max == 0)
		return 0;
	pp = find_link(l, key, klen, lru_hash(l, key, klen));
	if ((e = *pp) == NULL)
		return 0;
	if (now_us >= e->expires_us) {
		remove_at(l, pp);
		return 0;
	}
	if (l->head != e) {
		list_unlink(l, e);
		list_push_head(l, e);
	}
	*val = e->data + e->klen;
	*vlen = e->vlen;
	return 1;
}

int lru_set(struct lru *l, const char *key, size_t klen, const void *val,
    size_t vlen, uint64_t now_us, uint64_t ttl_us)
{
	struct lru_ent **pp, *e;
	uint64_t hash;

	if (l == NULL || l->max == 0)
		return 0;
	hash = lru_hash(l, key, klen);
	pp = find_link(l, key, klen, hash);
	if (*pp != NULL)
		remove_at(l, pp);
	if (ttl_us == 0 || klen > SIZE_MAX / 2 || vlen > SIZE_MAX / 2 - klen)
		return -1;
	e = malloc(sizeof(*e) + klen + vlen);
	if (e == NULL)
		return -1;
	/* Make room: the tail is the least recently used. */
	while (l->count >= l->max)
		remove_ent(l, l->tail);
	e->hash = hash;
	e->expires_us =
	    (ttl_us > UINT64_MAX - now_us) ? UINT64_MAX : now_us + ttl_us;
	e->klen = klen;
	e->vlen = vlen;
	memcpy(e->data, key, klen);
	if (vlen > 0)
		memcpy(e->data + klen, val, vlen);
	l->count++;
	maybe_grow(l);
	pp = &l->buckets[hash & (l->nbuckets - 1)];
	e->hnext = *pp;
	*pp = e;
	list_push_head(l, e);
	return 0;
}

bool lru_del(struct lru *l, const char *key, size_t klen)
{
	struct lru_ent **pp;

	if (l == NULL || l->max == 0)
		return false;
	pp = find_link(l, key, klen, lru_hash(l, key, klen));
	if (*pp == NULL)
		return false;
	remove_at(l, pp);
	return true;
}

size_t lru_count(const struct lru *l)
{
	return (l != NULL) ? l->count : 0;
}

size_t lru_max(const struct lru *l)
{
	return (l != NULL) ? l->max : 0;
}

int lru_check(const struct lru *l)
{
	const struct lru_ent *e, *prev = NULL;
	size_t n = 0, chained = 0, i;

	if (l == NULL)
		return -1;
	if (l->count > l->max)
		return -1;
	for (e = l->head; e != NULL; prev = e, e = e->next) {
		if (e->prev != prev || ++n > l->count)
			return -1;
		if (e->hash != lru_hash(l, e->data, e->klen))
			return -1;
		if (*find_link(l, e->data, e->klen, e->hash) != e)
			return -1;
	}
	if (l->tail != prev || n != l->count)
		return -1;
	for (i = 0; i < l->nbuckets; i++) {
		for (e = l->buckets[i]; e != NULL; e = e->hnext) {
			if ((e->hash & (l->nbuckets - 1)) != i ||
			    ++chained > l->count)
				return -1;
		}
	}
	return (chained == l->count) ? 0 : -1;
}
