/*
 * status.c - scoreboard renderings; see status.h.
 *
 * Runs in pacerctl and in workers. Everything is computed from one pass of
 * snapshot copies (sb_*_read), so a rendering never holds the shared
 * memory while it formats; a slot that never read stable (a worker killed
 * mid-update and not yet reaped) is shown as "?" rather than guessed.
 */
#include "status.h"

#include <assert.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "prom.h"
#include "version.h"

static const char states[] = "_RWKGS"; /* live states, in display order */
static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

struct snapshot {
	struct sb_header_view hdr;
	struct sb_counters_view cnt;
	struct sb_hist_view hist;
	unsigned by_state[sizeof(states)]; /* [6] counts unreadable slots */
	unsigned live;
	struct sb_route_view routes[SB_MAX_ROUTES]; /* registered ones only */
	unsigned nroutes;
	struct sb_query_view queries[SB_MAX_QUERIES]; /* registered ones */
	unsigned nqueries;
	uint64_t data[SB_DATA_NCOUNTERS];
	unsigned by_db[SB_DB_NSTATES]; /* live workers by database state */
};

static const char *const db_states[SB_DB_NSTATES] = {"none", "up", "down"};

static_assert(SB_RECYCLE_REQUESTS == 1u && SB_RECYCLE_RSS == 2u,
    "the recycle names below are indexed by the two bits");

/* What a want_recycle value asks for, in JSON (NULL: nothing) and in the
 * text table. Unknown bits were masked by sb_slot_read. */
static const char *recycle_json(uint32_t want)
{
	static const char *const names[] = {NULL, "requests", "rss",
	    "requests,rss"};

	return names[want & 3u];
}

static const char *recycle_text(uint32_t want)
{
	static const char *const names[] = {"-", "reqs", "rss", "reqs,rss"};

	return names[want & 3u];
}

/* Registered routes only, in route order (ENOENT: not yet). Two routes
 * with one label (a route table listing a label twice, or a worker gone
 * wrong) are shown as one, added up: Prometheus refuses a scrape with a
 * series twice. */
static void take_routes(const struct sb *sb, struct snapshot *s)
{
	struct sb_route_view v;
	unsigned r, j, k;

	for (r = 0; r < SB_MAX_ROUTES; r++) {
		if (sb_route_read(sb, r, &v) != 0)
			continue;
		for (j = 0; j < s->nroutes; j++)
			if (strcmp(s->routes[j].label, v.label) == 0)
				break;
		if (j == s->nroutes) {
			s->routes[s->nroutes++] = v;
			continue;
		}
		for (k = 0; k < 5; k++)
			s->routes[j].status_class[k] += v.status_class[k];
		s->routes[j].count += v.count;
		s->routes[j].sum_us += v.sum_us;
	}
}

/* Registered queries, merged by label as routes are. */
static void take_queries(const struct sb *sb, struct snapshot *s)
{
	struct sb_query_view v;
	unsigned q, j, k;

	for (q = 0; q < SB_MAX_QUERIES; q++) {
		if (sb_query_read(sb, q, &v) != 0)
			continue;
		for (j = 0; j < s->nqueries; j++)
			if (strcmp(s->queries[j].label, v.label) == 0)
				break;
		if (j == s->nqueries) {
			s->queries[s->nqueries++] = v;
			continue;
		}
		for (k = 0; k < SB_HIST_NBUCKETS; k++)
			s->queries[j].bucket[k] += v.bucket[k];
		s->queries[j].count += v.count;
		s->queries[j].errors += v.errors;
		s->queries[j].sum_us += v.sum_us;
	}
}

static int take(const struct sb *sb, struct snapshot *s, char *err,
    size_t errlen)
{
	struct sb_slot_view v;
	uint32_t i;

	memset(s, 0, sizeof(*s));
	if (sb_header_read(sb, &s->hdr) != 0 ||
	    sb_counters_read(sb, &s->cnt) != 0 ||
	    sb_hist_read(sb, &s->hist) != 0 || sb_data_read(sb, s->data) != 0) {
		(void)snprintf(err, errlen,
		    "could not read the scoreboard header");
		return -1;
	}
	for (i = 0; i < sb_nslots(sb); i++) {
		const char *p;

		if (sb_slot_read(sb, i, &v) != 0) {
			s->by_state[sizeof(states) - 1]++;
			continue;
		}
		if (v.state == SB_STATE_OPEN)
			continue;
		s->live++;
		if ((p = strchr(states, v.state)) != NULL)
			s->by_state[p - states]++;
		if (v.db_state < SB_DB_NSTATES)
			s->by_db[v.db_state]++;
	}
	take_routes(sb, s);
	take_queries(sb, s);
	return 0;
}

double status_quantile_us(const struct sb_hist_view *h, double q, int *above)
{
	double target = q * (double)h->count, cum = 0, lo = 0;
	unsigned i;

	*above = 0;
	if (h->count == 0)
		return -1;
	for (i = 0; i < SB_HIST_NBUCKETS; i++) {
		double hi = (double)sb_hist_bound_us(i);

		if (sb_hist_bound_us(i) == UINT64_MAX) { /* the +Inf bucket */
			*above = 1;
			return lo;
		}
		if (cum + (double)h->bucket[i] >= target && h->bucket[i] > 0)
			return lo +
			    (hi - lo) * (target - cum) / (double)h->bucket[i];
		cum += (double)h->bucket[i];
		lo = hi;
	}
	*above = 1;
	return lo;
}

static void put_duration(struct buf *out, int64_t secs)
{
	if (secs >= 86400)
		(void)buf_printf(out, "%lldd ", (long long)(secs / 86400));
	if (secs >= 3600)
		(void)buf_printf(out, "%lldh ", (long long)(secs / 3600 % 24));
	if (secs >= 60)
		(void)buf_printf(out, "%lldm ", (long long)(secs / 60 % 60));
	(void)buf_printf(out, "%llds", (long long)(secs % 60));
}

static void put_quantiles(struct buf *out, const struct sb_hist_view *h)
{
	static const double qs[] = {0.5, 0.9, 0.99};
	size_t i;
	int above;

	if (h->count == 0) {
		(void)buf_puts(out, "latency: no requests yet\n");
		return;
	}
	(void)buf_puts(out, "latency:");
	for (i = 0; i < 3; i++) {
		double us = status_quantile_us(h, qs[i], &above);

		(void)buf_printf(out, "%s p%g %s%.1f ms", i ? "," : "",
		    qs[i] * 100, above ? "> " : "", us / 1000.0);
	}
	(void)buf_printf(out, ", mean %.1f ms\n",
	    (double)h->sum_us / (double)h->count / 1000.0);
}

/* Requests per registered route, after the summary; nothing when no
 * route is registered. */
static void put_routes(struct buf *out, const struct snapshot *s)
{
	unsigned r, k;

	if (s->nroutes == 0)
		return;
	(void)buf_printf(out, "\n%-31s %9s %6s %6s %6s %6s %6s %8s\n", "ROUTE",
	    "REQS", "1XX", "2XX", "3XX", "4XX", "5XX", "MEAN_MS");
	for (r = 0; r < s->nroutes; r++) {
		const struct sb_route_view *v = &s->routes[r];

		(void)buf_printf(out, "%-31s %9llu", v->label,
		    (unsigned long long)v->count);
		for (k = 0; k < 5; k++)
			(void)buf_printf(out, " %6llu",
			    (unsigned long long)v->status_class[k]);
		if (v->count == 0)
			(void)buf_printf(out, " %8s\n", "-");
		else
			(void)buf_printf(out, " %8.1f\n",
			    (double)v->sum_us / (double)v->count / 1000.0);
	}
}

/* One row per live worker. */
static void put_slots(const struct sb *sb, uint64_t now_us, struct buf *out)
{
	struct sb_slot_view v;
	uint32_t i;

	(void)buf_printf(out,
	    "\n%5s %7s %4s %1s %-4s %-8s %9s %11s %6s %4s %8s  %s\n", "SLOT",
	    "PID", "GEN", "S", "DB", "RECYCLE", "REQS", "BYTES_OUT", "CONNS",
	    "LAST", "AGE_MS", "REQUEST");
	for (i = 0; i < sb_nslots(sb); i++) {
		if (sb_slot_read(sb, i, &v) != 0) {
			(void)buf_printf(out, "%5u %7s %4s ?\n", i, "-", "-");
			continue;
		}
		if (v.state == SB_STATE_OPEN)
			continue;
		(void)buf_printf(out,
		    "%5u %7ld %4llu %c %-4s %-8s %9llu %11llu %2u/%u/%u %4u ",
		    i, (long)v.pid, (unsigned long long)v.generation, v.state,
		    sb_db_state_name(v.db_state), recycle_text(v.want_recycle),
		    (unsigned long long)v.requests,
		    (unsigned long long)v.bytes_out, v.conn_reading,
		    v.conn_keepalive, v.conn_writing, v.last_status);
		if (v.state == SB_STATE_HANDLING || v.state == SB_STATE_READING)
			(void)buf_printf(out, "%8llu  %s %s %s\n",
			    (unsigned long long)((now_us - v.req_start_us) /
			        1000),
			    v.method, v.path, v.client);
		else
			(void)buf_printf(out, "%8s  %s\n", "-", v.client);
	}
}

static uint64_t query_total(const struct snapshot *s, bool errors)
{
	uint64_t n = 0;
	unsigned q;

	for (q = 0; q < s->nqueries; q++)
		n += errors ? s->queries[q].errors : s->queries[q].count;
	return n;
}

/* The data layer: workers by database state, queries, cache. */
static void put_data(struct buf *out, const struct snapshot *s)
{
	const uint64_t *d = s->data;

	(void)buf_printf(out,
	    "database: workers up %u, down %u, connecting %u; queries %llu "
	    "(%llu failed), errors %llu, reconnects %llu, 503s %llu\n",
	    s->by_db[SB_DB_UP], s->by_db[SB_DB_DOWN], s->by_db[SB_DB_NONE],
	    (unsigned long long)query_total(s, false),
	    (unsigned long long)query_total(s, true),
	    (unsigned long long)d[SB_DATA_DB_ERRORS],
	    (unsigned long long)d[SB_DATA_DB_RECONNECTS],
	    (unsigned long long)d[SB_DATA_DB_UNAVAILABLE]);
	(void)buf_printf(out,
	    "cache: local %llu hits %llu misses; redis %llu hits %llu "
	    "misses, errors %llu, reconnects %llu\n",
	    (unsigned long long)d[SB_DATA_CACHE_LOCAL_HITS],
	    (unsigned long long)d[SB_DATA_CACHE_LOCAL_MISSES],
	    (unsigned long long)d[SB_DATA_CACHE_REDIS_HITS],
	    (unsigned long long)d[SB_DATA_CACHE_REDIS_MISSES],
	    (unsigned long long)d[SB_DATA_REDIS_ERRORS],
	    (unsigned long long)d[SB_DATA_REDIS_RECONNECTS]);
}

static void render_text(const struct sb *sb, const struct snapshot *s,
    int64_t now_wall, uint64_t now_us, struct buf *out)
{
	int64_t up = now_wall - s->hdr.start_time;
	double per = up > 0 ? (double)up : 1;
	char ts[32];

	(void)buf_printf(out, "pacerd master pid %ld, generation %llu, up ",
	    (long)s->hdr.master_pid, (unsigned long long)s->hdr.generation);
	put_duration(out, up);
	(void)buf_putc(out, '\n');
	if (s->hdr.reload_outcome == SB_RELOAD_NONE) {
		(void)buf_puts(out, "last reload: none\n");
	} else {
		(void)log_format_time(ts, sizeof(ts), s->hdr.reload_time, 0);
		(void)buf_printf(out, "last reload: %s %s%s%s\n", ts,
		    s->hdr.reload_outcome == SB_RELOAD_OK ? "ok" : "FAILED",
		    s->hdr.reload_error[0] ? ": " : "", s->hdr.reload_error);
	}
	(void)buf_printf(out,
	    "requests: %llu (1xx %llu, 2xx %llu, 3xx %llu, 4xx %llu, 5xx "
	    "%llu), "
	    "%.2f/s; bytes in %llu, out %llu (%.0f B/s)\n",
	    (unsigned long long)s->cnt.requests,
	    (unsigned long long)s->cnt.status_class[0],
	    (unsigned long long)s->cnt.status_class[1],
	    (unsigned long long)s->cnt.status_class[2],
	    (unsigned long long)s->cnt.status_class[3],
	    (unsigned long long)s->cnt.status_class[4],
	    (double)s->cnt.requests / per, (unsigned long long)s->cnt.bytes_in,
	    (unsigned long long)s->cnt.bytes_out,
	    (double)s->cnt.bytes_out / per);
	put_quantiles(out, &s->hist);
	(void)buf_printf(out,
	    "workers: %u of %u slots (_ %u waiting, R %u reading, W %u "
	    "handling, "
	    "K %u keep-alive, G %u finishing, S %u streaming%s)\n",
	    s->live, s->hdr.nslots, s->by_state[0], s->by_state[1],
	    s->by_state[2], s->by_state[3], s->by_state[4], s->by_state[5],
	    s->by_state[6] ? ", some unreadable" : "");
	put_data(out, s);
	put_routes(out, s);
	put_slots(sb, now_us, out);
}

static void json_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static struct json_object *slots_json(const struct sb *sb, uint64_t now_us)
{
	struct json_object *arr = json_object_new_array(), *o;
	struct sb_slot_view v;
	char st[2] = {0, 0};
	uint32_t i;

	for (i = 0; i < sb_nslots(sb); i++) {
		if (sb_slot_read(sb, i, &v) != 0 || v.state == SB_STATE_OPEN)
			continue;
		o = json_object_new_object();
		json_u64(o, "slot", i);
		json_object_object_add(o, "pid", json_object_new_int(v.pid));
		json_u64(o, "generation", v.generation);
		st[0] = v.state;
		json_object_object_add(o, "state", json_object_new_string(st));
		json_object_object_add(o, "db_state",
		    json_object_new_string(sb_db_state_name(v.db_state)));
		json_u64(o, "requests", v.requests);
		json_u64(o, "bytes_in", v.bytes_in);
		json_u64(o, "bytes_out", v.bytes_out);
		json_u64(o, "conn_reading", v.conn_reading);
		json_u64(o, "conn_keepalive", v.conn_keepalive);
		json_u64(o, "conn_writing", v.conn_writing);
		json_u64(o, "last_status", v.last_status);
		json_object_object_add(o, "method",
		    json_object_new_string(v.method));
		json_object_object_add(o, "path",
		    json_object_new_string(v.path));
		json_object_object_add(o, "client",
		    json_object_new_string(v.client));
		json_u64(o, "request_age_ms",
		    v.req_start_us && now_us > v.req_start_us
		        ? (now_us - v.req_start_us) / 1000
		        : 0);
		json_object_object_add(o, "recycle",
		    recycle_json(v.want_recycle) == NULL
		        ? NULL
		        : json_object_new_string(recycle_json(v.want_recycle)));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* [{"route", "requests", "status": {"1xx".."5xx"}, "latency_sum_ms"}],
 * registered routes only. */
static struct json_object *routes_json(const struct snapshot *s)
{
	struct json_object *arr = json_object_new_array(), *o, *st;
	char ms[32];
	unsigned r, k;

	for (r = 0; r < s->nroutes; r++) {
		const struct sb_route_view *v = &s->routes[r];

		o = json_object_new_object();
		json_object_object_add(o, "route",
		    json_object_new_string(v->label));
		json_u64(o, "requests", v->count);
		st = json_object_new_object();
		for (k = 0; k < 5; k++)
			json_u64(st, classes[k], v->status_class[k]);
		json_object_object_add(o, "status", st);
		/* Printed from the integer: exact to the microsecond. */
		(void)snprintf(ms, sizeof(ms), "%llu.%03llu",
		    (unsigned long long)(v->sum_us / 1000),
		    (unsigned long long)(v->sum_us % 1000));
		json_object_object_add(o, "latency_sum_ms",
		    json_object_new_double_s((double)v->sum_us / 1000.0, ms));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* p50/p90/p99 in ms; null while the histogram is empty (no data is not
 * zero latency). */
static void latency_json(struct json_object *o, const struct sb_hist_view *h)
{
	static const char *const names[] = {"p50", "p90", "p99"};
	static const double qs[] = {0.5, 0.9, 0.99};
	int above;
	size_t i;

	for (i = 0; i < 3; i++)
		json_object_object_add(o, names[i],
		    h->count == 0
		        ? NULL
		        : json_object_new_double(
		              status_quantile_us(h, qs[i], &above) / 1000.0));
}

/* {"workers": {"none","up","down"}, "errors", "reconnects",
 *  "unavailable", "queries": [{"query","count","errors","latency_sum_ms",
 *  "latency_ms": {p50, p90, p99}}]} */
static struct json_object *database_json(const struct snapshot *s)
{
	struct json_object *o = json_object_new_object(), *w, *arr, *q;
	unsigned i;

	w = json_object_new_object();
	for (i = 0; i < SB_DB_NSTATES; i++)
		json_u64(w, db_states[i], s->by_db[i]);
	json_object_object_add(o, "workers", w);
	json_u64(o, "errors", s->data[SB_DATA_DB_ERRORS]);
	json_u64(o, "reconnects", s->data[SB_DATA_DB_RECONNECTS]);
	json_u64(o, "unavailable", s->data[SB_DATA_DB_UNAVAILABLE]);
	arr = json_object_new_array();
	for (i = 0; i < s->nqueries; i++) {
		const struct sb_query_view *v = &s->queries[i];
		struct sb_hist_view h;
		struct json_object *lat = json_object_new_object();

		memcpy(h.bucket, v->bucket, sizeof(h.bucket));
		h.count = v->count;
		h.sum_us = v->sum_us;
		q = json_object_new_object();
		json_object_object_add(q, "query",
		    json_object_new_string(v->label));
		json_u64(q, "count", v->count);
		json_u64(q, "errors", v->errors);
		json_object_object_add(q, "latency_sum_ms",
		    json_object_new_double((double)v->sum_us / 1000.0));
		latency_json(lat, &h);
		json_object_object_add(q, "latency_ms", lat);
		json_object_array_add(arr, q);
	}
	json_object_object_add(o, "queries", arr);
	return o;
}

static struct json_object *cache_json(const struct snapshot *s)
{
	struct json_object *o = json_object_new_object(), *l, *r;

	l = json_object_new_object();
	json_u64(l, "hits", s->data[SB_DATA_CACHE_LOCAL_HITS]);
	json_u64(l, "misses", s->data[SB_DATA_CACHE_LOCAL_MISSES]);
	json_object_object_add(o, "local", l);
	r = json_object_new_object();
	json_u64(r, "hits", s->data[SB_DATA_CACHE_REDIS_HITS]);
	json_u64(r, "misses", s->data[SB_DATA_CACHE_REDIS_MISSES]);
	json_u64(r, "errors", s->data[SB_DATA_REDIS_ERRORS]);
	json_u64(r, "reconnects", s->data[SB_DATA_REDIS_RECONNECTS]);
	json_object_object_add(o, "redis", r);
	return o;
}

static void render_json(const struct sb *sb, const struct snapshot *s,
    int64_t now_wall, uint64_t now_us, struct buf *out)
{
	static const char *const outcome[] = {"none", "ok", "failed"};
	struct json_object *root = json_object_new_object(), *o;
	const char *text;
	unsigned i;

	json_object_object_add(root, "version",
	    json_object_new_string(version_string()));
	json_object_object_add(root, "master_pid",
	    json_object_new_int(s->hdr.master_pid));
	json_u64(root, "generation", s->hdr.generation);
	json_object_object_add(root, "start_time",
	    json_object_new_int64(s->hdr.start_time));
	json_object_object_add(root, "uptime_seconds",
	    json_object_new_int64(now_wall - s->hdr.start_time));
	o = json_object_new_object();
	json_object_object_add(o, "outcome",
	    json_object_new_string(outcome[s->hdr.reload_outcome % 3]));
	json_object_object_add(o, "time",
	    json_object_new_int64(s->hdr.reload_time));
	json_object_object_add(o, "error",
	    json_object_new_string(s->hdr.reload_error));
	json_object_object_add(root, "last_reload", o);
	o = json_object_new_object();
	json_u64(o, "total", s->cnt.requests);
	for (i = 0; i < 5; i++)
		json_u64(o, classes[i], s->cnt.status_class[i]);
	json_object_object_add(root, "requests", o);
	json_u64(root, "bytes_in", s->cnt.bytes_in);
	json_u64(root, "bytes_out", s->cnt.bytes_out);
	o = json_object_new_object();
	latency_json(o, &s->hist);
	json_object_object_add(root, "latency_ms", o);
	o = json_object_new_object();
	json_u64(o, "total", s->live);
	json_u64(o, "slots", s->hdr.nslots);
	for (i = 0; i + 1 < sizeof(states); i++) {
		char k[2] = {states[i], 0};

		json_u64(o, k, s->by_state[i]);
	}
	json_object_object_add(root, "workers", o);
	json_object_object_add(root, "slots", slots_json(sb, now_us));
	json_object_object_add(root, "routes", routes_json(s));
	json_object_object_add(root, "database", database_json(s));
	json_object_object_add(root, "cache", cache_json(s));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	(void)buf_puts(out, text);
	(void)buf_putc(out, '\n');
	json_object_put(root);
}

/* Per-route request counts by status class, and the route's latency sum
 * and count (a summary without quantiles: the global histogram has the
 * distribution). Only registered routes; every class, zeros included, so a
 * rate() over a class that starts failing has a baseline. */
static void prometheus_routes(const struct snapshot *s, struct buf *out)
{
	static const char *const names[] = {"route", "class"};
	const char *v[2];
	struct prom_labels l = {2, names, v};
	unsigned r, k;

	if (s->nroutes == 0)
		return;
	prom_family(out, "pacer_http_requests_by_route_total", "counter",
	    "HTTP requests answered, by route and status class.");
	for (r = 0; r < s->nroutes; r++) {
		v[0] = s->routes[r].label;
		for (k = 0; k < 5; k++) {
			v[1] = classes[k];
			prom_u64(out, "pacer_http_requests_by_route_total", &l,
			    s->routes[r].status_class[k]);
		}
	}
	prom_family(out, "pacer_http_request_duration_by_route_seconds",
	    "summary",
	    "Time from a complete request head to the end of the response, "
	    "by route.");
	l.n = 1;
	for (r = 0; r < s->nroutes; r++) {
		v[0] = s->routes[r].label;
		prom_double(out,
		    "pacer_http_request_duration_by_route_seconds_sum", &l,
		    (double)s->routes[r].sum_us / 1e6);
		prom_u64(out,
		    "pacer_http_request_duration_by_route_seconds_count", &l,
		    s->routes[r].count);
	}
}

/* The data layer: per-query latency histograms and errors, database and
 * Redis error and reconnect counters, cache hits and misses per level,
 * workers by database state. */
static void prometheus_data(const struct snapshot *s, struct buf *out)
{
	static const char *const qname[] = {"query"},
	                         *const cname[] = {"level", "result"},
	                         *const sname[] = {"state"};
	static const struct {
		const char *level, *result;
		enum sb_data_counter c;
	} cache[] = {
	    {"local", "hit", SB_DATA_CACHE_LOCAL_HITS},
	    {"local", "miss", SB_DATA_CACHE_LOCAL_MISSES},
	    {"redis", "hit", SB_DATA_CACHE_REDIS_HITS},
	    {"redis", "miss", SB_DATA_CACHE_REDIS_MISSES},
	};
	static const struct {
		const char *name, *help;
		enum sb_data_counter c;
	} plain[] = {
	    {"pacer_db_errors_total", "Failed database connects and queries.",
	        SB_DATA_DB_ERRORS},
	    {"pacer_db_reconnects_total",
	        "Database connections re-opened after a loss.",
	        SB_DATA_DB_RECONNECTS},
	    {"pacer_db_unavailable_total",
	        "Database calls answered at once because the database was "
	        "unreachable (the request got 503).",
	        SB_DATA_DB_UNAVAILABLE},
	    {"pacer_redis_errors_total", "Failed Redis connects and commands.",
	        SB_DATA_REDIS_ERRORS},
	    {"pacer_redis_reconnects_total",
	        "Redis connections re-opened after a loss.",
	        SB_DATA_REDIS_RECONNECTS},
	    {"pacer_ratelimit_denied_total",
	        "Requests refused by a rate limit (429).",
	        SB_DATA_RATELIMIT_DENIED},
	};
	double bounds[SB_HIST_NBUCKETS - 1];
	const char *v[2];
	struct prom_labels l = {1, qname, v};
	unsigned i;

	for (i = 0; i + 1 < SB_HIST_NBUCKETS; i++)
		bounds[i] = (double)sb_hist_bound_us(i) / 1e6;
	if (s->nqueries > 0) {
		prom_family(out, "pacer_db_query_duration_seconds", "histogram",
		    "Database query time, by query name (its count is the "
		    "number of queries run).");
		for (i = 0; i < s->nqueries; i++) {
			v[0] = s->queries[i].label;
			prom_histogram_series(out,
			    "pacer_db_query_duration_seconds", &l, bounds,
			    s->queries[i].bucket, SB_HIST_NBUCKETS - 1,
			    (double)s->queries[i].sum_us / 1e6);
		}
		prom_family(out, "pacer_db_query_errors_total", "counter",
		    "Database queries that failed, by query name.");
		for (i = 0; i < s->nqueries; i++) {
			v[0] = s->queries[i].label;
			prom_u64(out, "pacer_db_query_errors_total", &l,
			    s->queries[i].errors);
		}
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		prom_family(out, plain[i].name, "counter", plain[i].help);
		prom_u64(out, plain[i].name, NULL, s->data[plain[i].c]);
	}
	prom_family(out, "pacer_cache_requests_total", "counter",
	    "Cache look-ups, by level (the worker's local table, Redis) and "
	    "result.");
	l.n = 2;
	l.names = cname;
	for (i = 0; i < sizeof(cache) / sizeof(cache[0]); i++) {
		v[0] = cache[i].level;
		v[1] = cache[i].result;
		prom_u64(out, "pacer_cache_requests_total", &l,
		    s->data[cache[i].c]);
	}
	prom_family(out, "pacer_workers_by_db_state", "gauge",
	    "Workers by the state of their database connection.");
	l.n = 1;
	l.names = sname;
	for (i = 0; i < SB_DB_NSTATES; i++) {
		v[0] = db_states[i];
		prom_u64(out, "pacer_workers_by_db_state", &l, s->by_db[i]);
	}
}

static void render_prometheus(const struct snapshot *s, struct buf *out)
{
	static const char *const lname[] = {"class"},
	                         *const sname[] = {"state"},
	                         *const rname[] = {"reason"},
	                         *const oname[] = {"outcome"};
	double bounds[SB_HIST_NBUCKETS - 1];
	const char *v[1];
	struct prom_labels l = {1, lname, v};
	unsigned i;

	prom_family(out, "pacer_start_time_seconds", "gauge",
	    "Unix time the master started.");
	prom_u64(out, "pacer_start_time_seconds", NULL,
	    (uint64_t)s->hdr.start_time);
	prom_family(out, "pacer_generation", "gauge",
	    "Worker generation, one more per reload.");
	prom_u64(out, "pacer_generation", NULL, s->hdr.generation);
	prom_family(out, "pacer_http_requests_total", "counter",
	    "HTTP requests answered, by status class.");
	for (i = 0; i < 5; i++) {
		v[0] = classes[i];
		prom_u64(out, "pacer_http_requests_total", &l,
		    s->cnt.status_class[i]);
	}
	for (i = 0; i + 1 < SB_HIST_NBUCKETS; i++)
		bounds[i] = (double)sb_hist_bound_us(i) / 1e6;
	prom_histogram(out, "pacer_http_request_duration_seconds",
	    "Time from a complete request head to the end of the response.",
	    bounds, s->hist.bucket, SB_HIST_NBUCKETS - 1,
	    (double)s->hist.sum_us / 1e6);
	prometheus_routes(s, out);
	prom_family(out, "pacer_http_bytes_in_total", "counter",
	    "Request bytes read.");
	prom_u64(out, "pacer_http_bytes_in_total", NULL, s->cnt.bytes_in);
	prom_family(out, "pacer_http_bytes_out_total", "counter",
	    "Response bytes written.");
	prom_u64(out, "pacer_http_bytes_out_total", NULL, s->cnt.bytes_out);
	prom_family(out, "pacer_connections_accepted_total", "counter",
	    "Connections accepted.");
	prom_u64(out, "pacer_connections_accepted_total", NULL,
	    s->cnt.accepted);
	prom_family(out, "pacer_workers", "gauge",
	    "Workers by scoreboard state.");
	l.names = sname;
	for (i = 0; i + 1 < sizeof(states); i++) {
		v[0] = sb_state_name(states[i]);
		prom_u64(out, "pacer_workers", &l, s->by_state[i]);
	}
	prom_family(out, "pacer_worker_exits_total", "counter",
	    "Worker exits, by reason.");
	l.names = rname;
	for (i = 0; i < SB_EXIT_NREASONS; i++) {
		v[0] = sb_exit_reason_name((enum sb_exit_reason)i);
		prom_u64(out, "pacer_worker_exits_total", &l, s->cnt.exits[i]);
	}
	prom_family(out, "pacer_reloads_total", "counter",
	    "Configuration reloads, by outcome.");
	l.names = oname;
	v[0] = "ok";
	prom_u64(out, "pacer_reloads_total", &l, s->cnt.reloads_ok);
	v[0] = "failed";
	prom_u64(out, "pacer_reloads_total", &l, s->cnt.reloads_failed);
	prometheus_data(s, out);
}

int status_render(const struct sb *sb, enum status_format fmt, int64_t now_wall,
    uint64_t now_us, struct buf *out, char *err, size_t errlen)
{
	struct snapshot s;

	if (take(sb, &s, err, errlen) != 0)
		return -1;
	switch (fmt) {
	case STATUS_TEXT: render_text(sb, &s, now_wall, now_us, out); break;
	case STATUS_JSON: render_json(sb, &s, now_wall, now_us, out); break;
	case STATUS_PROMETHEUS: render_prometheus(&s, out); break;
	}
	return 0;
}
