/*
 * spawn.c - spare-worker algorithm, crash backoff and recycle jitter; see
 * spawn.h.
 *
 * Runs in the master. The spare-worker rule follows Apache prefork's
 * perform_idle_server_maintenance: retiring is gentle (one a second) since
 * an idle worker costs only memory, while spawning grows exponentially
 * since a burst of traffic is waiting.
 */
#include "spawn.h"

void spawn_init(struct spawn_state *st)
{
	st->rate = 1;
	st->warned_max = false;
}

void spawn_tick(struct spawn_state *st, const struct spawn_counts *c,
    struct spawn_decision *d)
{
	unsigned room;

	d->fork_n = 0;
	d->retire_one = false;
	d->log_at_max = false;

	if (c->idle > c->max_spare) {
		d->retire_one = true;
		st->rate = 1;
		return;
	}
	if (c->idle >= c->min_spare) {
		st->rate = 1;
		return;
	}
	room = (c->total < c->max_workers) ? c->max_workers - c->total : 0;
	if (room == 0) {
		if (!st->warned_max) {
			d->log_at_max = true;
			st->warned_max = true;
		}
		return;
	}
	st->warned_max = false;
	d->fork_n = (st->rate < room) ? st->rate : room;
	if (st->rate < SPAWN_MAX_RATE)
		st->rate *= 2;
}

uint32_t spawn_crash_delay_ms(unsigned fast_crashes)
{
	uint32_t ms = 100;

	if (fast_crashes <= 1)
		return 0;
	while (--fast_crashes > 1 && ms < 10000)
		ms *= 2;
	return (ms > 10000) ? 10000 : ms;
}

uint64_t spawn_request_limit(uint64_t base, uint32_t r)
{
	uint64_t span = base / 10;

	if (base == 0 || span == 0)
		return base;
	/* r maps onto [-span, +span]. */
	return base - span + (uint64_t)r % (2 * span + 1);
}
