/*
 * spawn.h - the pool's decisions, as pure functions the master calls once
 * a second: how many workers to fork or retire (Apache prefork's spare
 * worker algorithm), how long to wait before respawning after fast
 * crashes, and each worker's jittered request limit.
 *
 * No process is touched here, so every rule is unit-tested on its own.
 * Callers: the master only.
 */
#ifndef PACER_SPAWN_H
#define PACER_SPAWN_H

#include <stdbool.h>
#include <stdint.h>

#define SPAWN_MAX_RATE 32 /* most workers forked in one second */

struct spawn_counts {
	unsigned idle;  /* workers waiting for a request */
	unsigned total; /* live workers of the current generation */
	unsigned max_workers, min_spare, max_spare;
};

struct spawn_state {
	unsigned rate;   /* batch size of the next fork round: 1, 2, 4 ... */
	bool warned_max; /* "max_workers reached" logged since last below */
};

struct spawn_decision {
	unsigned fork_n; /* workers to fork now */
	bool retire_one; /* retire one idle worker gracefully */
	bool log_at_max; /* log once that max_workers stops the pool */
};

void spawn_init(struct spawn_state *st);

/* One tick of the spare-worker algorithm. Too many idle: retire one a
 * tick. Too few: fork `rate` (capped by max_workers), doubling the rate
 * each tick the pool is still short, up to SPAWN_MAX_RATE; the rate falls
 * back to 1 once the pool has enough spares. */
void spawn_tick(struct spawn_state *st, const struct spawn_counts *c,
    struct spawn_decision *d);

/* Milliseconds to wait before the next respawn after `fast_crashes`
 * consecutive workers died soon after start: 0 for the first, then 100ms
 * doubling up to 10 s, so a crash loop costs little CPU and floods no log. */
uint32_t spawn_crash_delay_ms(unsigned fast_crashes);

/* A worker's request limit: base +/- up to 10%, from a random value r, so
 * workers started together do not all recycle together. 0 stays 0
 * (never recycle). */
uint64_t spawn_request_limit(uint64_t base, uint32_t r);

#endif /* PACER_SPAWN_H */
