/*
 * test_prom.c - the Prometheus text format, byte for byte: families,
 * labels with escaping, special float values, cumulative histograms.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>

#include "prom.h"

static struct buf out;

static void setup(void)
{
	buf_init_dynamic(&out, 1 << 16);
}

static void teardown(void)
{
	buf_free(&out);
}

TestSuite(prom, .init = setup, .fini = teardown);

Test(prom, counter_family_with_labels)
{
	static const char *const names[] = {"route", "class"};
	static const char *const values[] = {"/health/live", "2xx"};
	struct prom_labels l = {2, names, values};

	prom_family(&out, "pacer_http_requests_total", "counter",
	    "HTTP requests served.");
	prom_u64(&out, "pacer_http_requests_total", &l, 42);
	prom_u64(&out, "pacer_up", NULL, 1);
	cr_assert(eq(str, (char *)buf_str(&out),
	    "# HELP pacer_http_requests_total HTTP requests served.\n"
	    "# TYPE pacer_http_requests_total counter\n"
	    "pacer_http_requests_total{route=\"/health/live\",class=\"2xx\"} "
	    "42\n"
	    "pacer_up 1\n"));
}

Test(prom, label_values_and_help_are_escaped)
{
	static const char *const names[] = {"path"};
	static const char *const values[] = {"a\"b\\c\nd"};
	struct prom_labels l = {1, names, values};

	prom_family(&out, "m", "gauge", "line one\nback\\slash \"quoted\"");
	prom_u64(&out, "m", &l, 0);
	cr_assert(eq(str, (char *)buf_str(&out),
	    "# HELP m line one\\nback\\\\slash \"quoted\"\n"
	    "# TYPE m gauge\n"
	    "m{path=\"a\\\"b\\\\c\\nd\"} 0\n"));
}

Test(prom, doubles_round_trip_and_special_values_are_spelt_out)
{
	prom_double(&out, "a", NULL, 0.1);
	prom_double(&out, "b", NULL, INFINITY);
	prom_double(&out, "c", NULL, -INFINITY);
	prom_double(&out, "d", NULL, NAN);
	cr_assert(eq(str, (char *)buf_str(&out),
	    "a 0.10000000000000001\nb +Inf\nc -Inf\nd NaN\n"));
}

Test(prom, histogram_buckets_are_cumulative_and_end_with_inf)
{
	static const double bounds[] = {0.005, 0.1, 1};
	static const uint64_t counts[] = {3, 0, 2, 1};

	prom_histogram(&out, "lat_seconds", "Latency.", bounds, counts, 3, 1.5);
	cr_assert(eq(str, (char *)buf_str(&out),
	    "# HELP lat_seconds Latency.\n"
	    "# TYPE lat_seconds histogram\n"
	    "lat_seconds_bucket{le=\"0.005\"} 3\n"
	    "lat_seconds_bucket{le=\"0.1\"} 3\n"
	    "lat_seconds_bucket{le=\"1\"} 5\n"
	    "lat_seconds_bucket{le=\"+Inf\"} 6\n"
	    "lat_seconds_sum 1.5\n"
	    "lat_seconds_count 6\n"));
}

Test(prom, full_buffer_is_reported_not_overrun)
{
	char store[16];
	struct buf small;

	buf_init_fixed(&small, store, sizeof(store));
	prom_u64(&small, "a_rather_long_metric_name", NULL, 123456789);
	cr_assert(small.overflow, "overflow not reported");
	cr_assert(eq(sz, small.len, 15));
}
