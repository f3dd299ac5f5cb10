/*
 * test_spawn.c - the pool's rules: spares kept between the bounds, spawn
 * rate doubling to 32, max_workers respected and reported once, crash
 * backoff, and recycle jitter.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "spawn.h"

static struct spawn_counts counts(unsigned idle, unsigned total)
{
	struct spawn_counts c = {idle, total, 64, 2, 8};

	return c;
}

/* The decision of a fresh pool's first tick with idle of total workers. */
static struct spawn_decision first_tick(unsigned idle, unsigned total)
{
	struct spawn_state st;
	struct spawn_decision d;
	struct spawn_counts c = counts(idle, total);

	spawn_init(&st);
	spawn_tick(&st, &c, &d);
	return d;
}

Test(spawn, idle_pool_within_bounds_does_nothing)
{
	struct spawn_decision d = first_tick(5, 10);

	cr_assert(eq(u32, d.fork_n, 0));
	cr_assert(not(d.retire_one));
}

Test(spawn, too_many_idle_retires_one_per_tick)
{
	struct spawn_decision d = first_tick(20, 20);

	cr_assert(d.retire_one, "20 idle with max_spare 8: expected a retire");
	cr_assert(eq(u32, d.fork_n, 0));
}

Test(spawn, shortage_doubles_the_rate_up_to_32)
{
	static const unsigned want[] = {1, 2, 4, 8, 16, 32, 32, 32};
	struct spawn_state st;
	struct spawn_decision d;
	struct spawn_counts c = {0, 0, 4096, 2, 8};

	spawn_init(&st);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		spawn_tick(&st, &c, &d);
		cr_assert(eq(u32, d.fork_n, want[i]), "tick %zu", i);
		c.total += d.fork_n; /* all still busy: idle stays 0 */
	}
}

Test(spawn, rate_resets_once_spares_suffice)
{
	struct spawn_state st;
	struct spawn_decision d;
	struct spawn_counts c = counts(0, 4);

	spawn_init(&st);
	spawn_tick(&st, &c, &d);
	spawn_tick(&st, &c, &d);
	cr_assert(eq(u32, d.fork_n, 2));
	c.idle = 3;
	spawn_tick(&st, &c, &d);
	cr_assert(eq(u32, d.fork_n, 0));
	c.idle = 0;
	spawn_tick(&st, &c, &d);
	cr_assert(eq(u32, d.fork_n, 1), "rate did not fall back to 1");
}

Test(spawn, max_workers_caps_forks_and_is_logged_once)
{
	struct spawn_state st;
	struct spawn_decision d;
	struct spawn_counts c = {0, 60, 64, 2, 8};
	int logs = 0;

	spawn_init(&st);
	st.rate = 32;
	spawn_tick(&st, &c, &d);
	cr_assert(eq(u32, d.fork_n, 4), "only 4 slots left under max_workers");
	c.total = 64;
	for (int i = 0; i < 5; i++) {
		spawn_tick(&st, &c, &d);
		cr_assert(eq(u32, d.fork_n, 0));
		logs += d.log_at_max;
	}
	cr_assert(eq(int, logs, 1), "max_workers reached logged %d times",
	    logs);
	c.total = 63; /* a worker left: below the cap again, then at it again */
	spawn_tick(&st, &c, &d);
	c.total = 64;
	spawn_tick(&st, &c, &d);
	cr_assert(d.log_at_max, "a new stretch at the cap is logged again");
}

Test(spawn, crash_delay_backs_off_to_ten_seconds)
{
	static const unsigned crashes[][2] = {{0, 0}, {1, 0}, {2, 100},
	    {3, 200}, {8, 6400}, {9, 10000}, {1000, 10000}};

	for (size_t i = 0; i < sizeof(crashes) / sizeof(crashes[0]); i++)
		cr_assert(eq(u32, spawn_crash_delay_ms(crashes[i][0]),
		              crashes[i][1]),
		    "after %u crashes", crashes[i][0]);
}

Test(spawn, request_limit_jitters_within_ten_percent)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (uint32_t r = 0; r < 5000; r++) {
		uint64_t v = spawn_request_limit(10000, r * 2654435761u);

		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	cr_assert(eq(u64, lo, 9000));
	cr_assert(eq(u64, hi, 11000));
	cr_assert(eq(u64, spawn_request_limit(0, 12345), 0),
	    "0 must mean never");
	cr_assert(eq(u64, spawn_request_limit(5, 3), 5),
	    "tiny limits unchanged");
}
