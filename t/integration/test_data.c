/*
 * test_data.c - the data layer in the running server: /health/ready,
 * /admin/health and its allow-list, the data-layer metrics and status,
 * and the two outages the issue names, for real: PostgreSQL stopped under
 * load (fast 503s, liveness untouched, back within 2 s with the same
 * workers) and Redis killed under load (no failed request, degraded
 * health, hits again once it is back).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"
#include "tredis.h"
#include "tserver.h"

static long long now_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int status_of(const char *resp)
{
	return resp != NULL && strncmp(resp, "HTTP/1.1 ", 9) == 0
	    ? atoi(resp + 9)
	    : -1;
}

static struct json_object *body_json(const char *resp)
{
	const char *b = resp != NULL ? strstr(resp, "\r\n\r\n") : NULL;
	struct json_object *o = b != NULL ? json_tokener_parse(b + 4) : NULL;

	cr_assert(o != NULL, "expected a JSON body in:\n%s",
	    resp != NULL ? resp : "(nothing)");
	return o;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "(absent)";
	return json_object_get_string(v);
}

/* The check named name in an /admin/health document. */
static struct json_object *check_named(struct json_object *doc,
    const char *name)
{
	struct json_object *checks;
	size_t i;

	cr_assert(json_object_object_get_ex(doc, "checks", &checks));
	for (i = 0; i < json_object_array_length(checks); i++) {
		struct json_object *c = json_object_array_get_idx(checks, i);

		if (strcmp(jstr(c, "name"), name) == 0)
			return c;
	}
	cr_assert(false, "no check named %s", name);
	return NULL;
}

/* ------------------------------------------------------------ healthy */

Test(data, ready_and_admin_health_on_a_healthy_server, .timeout = 60)
{
	struct ts s;
	struct json_object *doc, *svc, *c;
	char *resp;
	bool ok;

	ts_init(&s, "environment = staging\n");
	ts_start(&s);
	resp = ts_raw_get(s.port, "/health/ready");
	cr_assert(eq(int, status_of(resp), 200), "%s", resp);
	doc = body_json(resp);
	cr_assert(eq(str, (char *)jstr(doc, "status"), "ready"));
	ok = atoi(jstr(doc, "schema_version")) >= 5;
	cr_assert(ok, "expected the schema at version 5 or later: %s", resp);
	json_object_put(doc);
	free(resp);

	resp = ts_raw_get(s.port, "/admin/health");
	cr_assert(eq(int, status_of(resp), 200), "%s", resp);
	doc = body_json(resp);
	cr_assert(eq(str, (char *)jstr(doc, "status"), "healthy"), "%s", resp);
	cr_assert(json_object_object_get_ex(doc, "service", &svc));
	cr_assert(eq(str, (char *)jstr(svc, "name"), "pacer"));
	cr_assert(eq(str, (char *)jstr(svc, "environment"), "staging"));
	cr_assert(eq(str, (char *)jstr(svc, "version"), PACKAGE_VERSION));
	ok = strlen(jstr(svc, "build_time")) == 20 ||
	    strcmp(jstr(svc, "build_time"), "unknown") == 0;
	cr_assert(ok, "build_time: %s", jstr(svc, "build_time"));
	ok = strcmp(jstr(svc, "git_commit"), "(absent)") != 0 &&
	    strcmp(jstr(svc, "uptime_seconds"), "(absent)") != 0;
	cr_assert(ok, "%s", resp);
	c = check_named(doc, "database");
	cr_assert(eq(str, (char *)jstr(c, "status"), "healthy"));
	cr_assert(eq(str, (char *)jstr(c, "message"), "connected"));
	c = check_named(doc, "redis");
	cr_assert(eq(str, (char *)jstr(c, "status"), "healthy"));
	c = check_named(doc, "migrations");
	cr_assert(eq(str, (char *)jstr(c, "status"), "healthy"), "%s", resp);
	c = check_named(doc, "workers");
	cr_assert(eq(str, (char *)jstr(c, "status"), "healthy"), "%s", resp);
	{
		/* Each worker's own connection, named after it. */
		PGconn *pg = PQconnectdb(ts_env("PACER_TEST_DATABASE_URL"));
		PGresult *pr;

		cr_assert(eq(int, PQstatus(pg), CONNECTION_OK));
		pr = PQexec(pg,
		    "SELECT count(*) FROM pg_stat_activity WHERE "
		    "application_name LIKE 'pacerd worker % gen 1'");
		cr_assert(eq(int, PQresultStatus(pr), PGRES_TUPLES_OK));
		ok = atoi(PQgetvalue(pr, 0, 0)) >= 1;
		cr_assert(ok, "no connection named pacerd worker N gen 1");
		PQclear(pr);
		PQfinish(pg);
	}
	ok = json_object_object_get_ex(c, "duration_ms", NULL) &&
	    json_object_object_get_ex(c, "metadata", NULL) &&
	    json_object_object_get_ex(doc, "timestamp", NULL) &&
	    json_object_object_get_ex(doc, "response_time_ms", NULL);
	cr_assert(ok, "expected the documented fields in %s", resp);
	json_object_put(doc);
	free(resp);
	ts_fini(&s);
}

Test(data, admin_health_is_refused_outside_admin_allow, .timeout = 60)
{
	struct ts s;
	char *resp, *log;

	ts_init(&s, "admin_allow = 10.0.0.0/8, ::1\n");
	ts_start(&s);
	resp = ts_raw_get(s.port, "/admin/health");
	cr_assert(eq(int, status_of(resp), 403), "%s", resp);
	TU_EXPECT_IN(resp, "admin_allow");
	free(resp);
	/* Readiness is for load balancers: no allow-list. */
	cr_assert(eq(int, ts_get(s.port, "/health/ready"), 200));
	cr_assert(ts_log_wait(&s, "not in admin_allow", 3000));
	log = ts_log(&s);
	TU_EXPECT_IN(log, "/admin/health refused to 127.0.0.1");
	free(log);
	ts_fini(&s);
}

Test(data, metrics_and_status_show_the_data_layer, .timeout = 60)
{
	struct ts s;
	struct tu_run r;
	char *pacerctl = tu_buildpath("master/pacerctl");
	double n;
	int i;

	ts_init(&s, NULL);
	ts_start(&s);
	for (i = 0; i < 5; i++)
		cr_assert(eq(int, ts_get(s.port, "/health/ready"), 200));
	n = ts_metric(s.port,
	    "pacer_db_query_duration_seconds_count{query=\"schema_state\"}");
	cr_assert(n >= 5, "expected at least 5 schema_state queries, got %g",
	    n);
	n = ts_metric(s.port,
	    "pacer_db_query_errors_total{query=\"schema_state\"}");
	cr_assert(n == 0, "expected no failed query, got %g", n);
	/* ts_start returns once one worker answers; the second one may
	 * still be starting. */
	for (i = 0; i < 100; i++) {
		n = ts_metric(s.port,
		    "pacer_workers_by_db_state{state=\"up\"}");
		if (n >= 2)
			break;
		ts_sleep_ms(20);
	}
	cr_assert(n >= 2, "expected the workers' database up, got %g", n);
	n = ts_metric(s.port,
	    "pacer_cache_requests_total{level=\"redis\",result=\"hit\"}");
	cr_assert(n >= 0, "expected the cache counters");
	n = ts_metric(s.port, "pacer_db_reconnects_total");
	cr_assert(n == 0, "expected no reconnect on a healthy server, got %g",
	    n);
	{
		char *argv[] = {pacerctl, "-f", s.conf, "status", NULL};

		cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
		cr_assert(eq(int, r.status, 0), "%s", r.err);
		TU_EXPECT_IN(r.out, "database: workers up ");
		TU_EXPECT_IN(r.out, " DB ");
		TU_EXPECT_IN(r.out, " up ");
		tu_run_free(&r);
	}
	{
		char *argv[] = {pacerctl, "-f", s.conf, "status", "--json",
		    NULL};
		struct json_object *doc, *db;

		cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
		doc = json_tokener_parse(r.out);
		cr_assert(doc != NULL, "%s", r.out);
		cr_assert(json_object_object_get_ex(doc, "database", &db));
		TU_EXPECT_IN(r.out, "\"db_state\":\"up\"");
		TU_EXPECT_IN(r.out, "\"query\":\"schema_state\"");
		json_object_put(doc);
		tu_run_free(&r);
	}
	free(pacerctl);
	ts_fini(&s);
}

/* ------------------------------------------------------------ outages */

/* Private services for a test that stops one of them. */
struct svc {
	char *dir;
	char *script;
	char db_url[256];
	char redis_url[128];
};

static void run_services(struct svc *v, const char *cmd)
{
	char *argv[] = {"/bin/bash", v->script, (char *)cmd, v->dir, NULL};
	struct tu_run r;

	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 0), "services.sh %s: %s", cmd, r.err);
	tu_run_free(&r);
}

static void svc_start(struct svc *v)
{
	char *env, *p, path[600];

	v->dir = tu_tmpdir();
	v->script = tu_srcpath("t/harness/services.sh");
	(void)snprintf(path, sizeof(path), "%s/svc", v->dir);
	free(v->dir);
	v->dir = strdup(path);
	cr_assert(v->dir != NULL);
	run_services(v, "start");
	(void)snprintf(path, sizeof(path), "%s/env", v->dir);
	env = tu_read(path, NULL);
	cr_assert(env != NULL);
	p = strstr(env, "PACER_TEST_DATABASE_URL='");
	cr_assert(p != NULL);
	(void)sscanf(p + 25, "%255[^']", v->db_url);
	p = strstr(env, "PACER_TEST_REDIS_URL='");
	cr_assert(p != NULL);
	(void)sscanf(p + 22, "%127[^']", v->redis_url);
	free(env);
}

static void svc_stop(struct svc *v)
{
	char *argv[] = {"/bin/bash", v->script, "stop", v->dir, NULL};
	struct tu_run r;

	if (v->dir == NULL)
		return;
	if (tu_run(&r, argv, NULL) == 0)
		tu_run_free(&r);
	free(v->dir);
	free(v->script);
	v->dir = v->script = NULL;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/* The master of the test in hand, stopped by the test's .fini also
 * after a failed assertion. */
static struct ts *running;

static void stop_running(void)
{
	if (running != NULL)
		ts_fini(running);
	running = NULL;
}

static struct svc pgsvc;
static void pg_fini(void)
{
	stop_running();
	svc_stop(&pgsvc);
}

Test(data, postgresql_stopped_under_load_fast_503_then_back, .timeout = 120,
    .fini = pg_fini)
{
	struct ts s;
	struct ts_pool before, after;
	pid_t pids[16], pids2[16];
	size_t npids, npids2, i;
	char extra[1024];
	long long t0, worst = 0, back_ms;
	int live_fail = 0, n503 = 0, nother = 0, retry_after = 0;

	svc_start(&pgsvc);
	(void)snprintf(extra, sizeof(extra),
	    "database_url = '%s'\n"
	    "database_connect_timeout = 1s\n"
	    "database_retry_max = 1s\n"
	    "start_workers = 2\nmin_spare_workers = 0\nmax_spare_workers = 8\n"
	    /* Recycling would replace workers: not what is measured. */
	    "max_requests_per_worker = 0\n",
	    pgsvc.db_url);
	ts_init(&s, extra);
	running = &s;
	ts_start(&s);
	for (i = 0; i < 10; i++)
		cr_assert(eq(int, ts_get(s.port, "/health/ready"), 200));
	npids = ts_workers(&s, pids, 16);
	cr_assert(eq(int, ts_pool(&s, &before), 0));

	run_services(&pgsvc, "pg-stop");
	/* Two seconds of load without the database. */
	t0 = now_ms();
	while (now_ms() - t0 < 2000) {
		long long a = now_ms();
		char *resp = ts_raw_get(s.port, "/health/ready");
		long long took = now_ms() - a;

		if (status_of(resp) == 503) {
			n503++;
			if (strstr(resp, "Retry-After: ") != NULL)
				retry_after++;
		} else {
			nother++;
		}
		worst = took > worst ? took : worst;
		free(resp);
		if (ts_get(s.port, "/health/live") != 200)
			live_fail++;
	}
	cr_log_info("PostgreSQL down: %d x 503, %d other, slowest %lld ms",
	    n503, nother, worst);
	cr_assert(n503 > 10, "expected many 503s, got %d", n503);
	cr_assert(eq(int, nother, 0), "expected only 503 while it was down");
	cr_assert(eq(int, retry_after, n503), "expected Retry-After on each");
	cr_assert(worst < 1000 + 500,
	    "a request waited %lld ms (connect_timeout is 1 s)", worst);
	cr_assert(eq(int, live_fail, 0), "liveness must not depend on it");

	run_services(&pgsvc, "pg-start");
	t0 = now_ms();
	for (;;) {
		int st = ts_get(s.port, "/health/ready");

		back_ms = now_ms() - t0;
		if (st == 200)
			break;
		cr_assert(back_ms < 5000, "still %d after 5 s", st);
		ts_sleep_ms(20);
	}
	cr_log_info("PostgreSQL back: ready again after %lld ms", back_ms);
	cr_assert(back_ms < 2000, "service came back after %lld ms", back_ms);
	/* Every worker (not only the one that answered) serves again: each
	 * reconnects on its own schedule, so within database_retry_max (1 s)
	 * of the first; then 20 answers in a row are 200. */
	{
		long long t1 = now_ms();
		int run = 0;

		while (run < 20 && now_ms() - t1 < 3000) {
			run = ts_get(s.port, "/health/ready") == 200 ? run + 1
			                                             : 0;
			if (run == 0)
				ts_sleep_ms(20);
		}
		cr_assert(eq(int, run, 20),
		    "not every worker was back 3 s after the first");
	}
	npids2 = ts_workers(&s, pids2, 16);
	cr_assert(eq(int, ts_pool(&s, &after), 0));
	for (i = 0; i < 8; i++)
		cr_assert(eq(u64, after.exits[i], before.exits[i]),
		    "a worker exited (reason %zu)", i);
	cr_assert(eq(sz, npids2, npids), "the pool changed size");
	qsort(pids, npids, sizeof(pid_t), cmp_pid);
	qsort(pids2, npids2, sizeof(pid_t), cmp_pid);
	for (i = 0; i < npids; i++)
		cr_assert(eq(int, pids[i], pids2[i]), "worker %d was replaced",
		    (int)pids[i]);
	cr_assert(ts_metric(s.port, "pacer_db_reconnects_total") >= 1);
	cr_assert(ts_metric(s.port, "pacer_db_unavailable_total") >= n503);
	cr_assert(ts_log_wait(&s, "database (primary) back after", 1000));
	stop_running();
}

static struct tredis rsvc;
static void redis_fini(void)
{
	stop_running();
	tredis_fini(&rsvc);
}

Test(data, redis_killed_under_load_no_failed_request, .timeout = 120,
    .fini = redis_fini)
{
	struct ts s;
	struct json_object *doc;
	char extra[1024], path[64], *resp;
	long long t0;
	int i = 0, failed = 0, total = 0;
	double hits0, hits1;

	tredis_start(&rsvc, NULL);
	(void)snprintf(extra, sizeof(extra),
	    "redis_url = 'redis://127.0.0.1:%d/0'\n"
	    "redis_timeout = 200ms\nredis_retry_max = 200ms\n"
	    "cache_local_entries = 0\ndebug_routes = on\n"
	    /* No recycling: a worker born after the restart would never
	     * see Redis go away, and the reconnect count would not show. */
	    "max_requests_per_worker = 0\n",
	    rsvc.port);
	ts_init(&s, extra);
	running = &s;
	ts_start(&s);
	/* A key outside the documented alphabet, or none, is a 400. */
	cr_assert(eq(int, ts_get(s.port, "/debug/cache?key=a%2Fb"), 400));
	cr_assert(eq(int, ts_get(s.port, "/debug/cache?key="), 400));
	cr_assert(eq(int, ts_get(s.port, "/debug/cache"), 400));
	cr_assert(eq(int, ts_get(s.port, "/debug/cache?k=x"), 400));
	/* Load, with Redis killed in the middle. */
	t0 = now_ms();
	while (now_ms() - t0 < 3000) {
		if (total == 100)
			tredis_kill(&rsvc, SIGKILL);
		(void)snprintf(path, sizeof(path), "/debug/cache?key=k%d",
		    i++ % 10);
		if (ts_get(s.port, path) != 200)
			failed++;
		total++;
	}
	cr_log_info("Redis killed: %d requests, %d failed", total, failed);
	cr_assert(total > 150, "expected real load, only %d requests", total);
	cr_assert(eq(int, failed, 0), "requests failed without Redis");
	resp = ts_raw_get(s.port, "/admin/health");
	cr_assert(eq(int, status_of(resp), 200), "%s", resp);
	doc = body_json(resp);
	cr_assert(eq(str, (char *)jstr(doc, "status"), "degraded"), "%s", resp);
	cr_assert(eq(str, (char *)jstr(check_named(doc, "redis"), "status"),
	    "degraded"));
	json_object_put(doc);
	free(resp);

	/* Back: the values set from now on are found in Redis again. */
	hits0 = ts_metric(s.port,
	    "pacer_cache_requests_total{level=\"redis\",result=\"hit\"}");
	tredis_start(&rsvc, NULL);
	t0 = now_ms();
	do {
		cr_assert(now_ms() - t0 < 5000,
		    "no Redis hit 5 s after restart");
		(void)snprintf(path, sizeof(path), "/debug/cache?key=k%d",
		    i++ % 3);
		cr_assert(eq(int, ts_get(s.port, path), 200));
		hits1 = ts_metric(s.port,
		    "pacer_cache_requests_total{level=\"redis\",result="
		    "\"hit\"}");
	} while (hits1 <= hits0);
	cr_log_info("Redis back: hits resumed after %lld ms", now_ms() - t0);
	cr_assert(ts_metric(s.port, "pacer_redis_reconnects_total") >= 1);
	cr_assert(ts_metric(s.port, "pacer_redis_errors_total") >= 1);
	/* Every worker reconnects within redis_retry_max (200 ms). */
	t0 = now_ms();
	for (;;) {
		bool healthy;

		resp = ts_raw_get(s.port, "/admin/health");
		doc = body_json(resp);
		healthy = strcmp(jstr(doc, "status"), "healthy") == 0;
		json_object_put(doc);
		if (healthy)
			break;
		cr_assert(now_ms() - t0 < 2000, "not healthy 2 s after: %s",
		    resp);
		free(resp);
		ts_sleep_ms(50);
	}
	free(resp);
	stop_running();
}

/* ------------------------------------------------------------ replica */

static const char *replica_state(int port)
{
	static char state[32];
	char *resp = ts_raw_get(port, "/admin/health");
	struct json_object *doc = body_json(resp), *db, *meta;

	db = check_named(doc, "database");
	cr_assert(eq(str, (char *)jstr(db, "status"), "healthy"), "%s", resp);
	cr_assert(json_object_object_get_ex(db, "metadata", &meta));
	(void)snprintf(state, sizeof(state), "%s", jstr(meta, "replica"));
	json_object_put(doc);
	free(resp);
	return state;
}

Test(data, read_replica_used_when_up_primary_when_not, .timeout = 60)
{
	struct ts s;
	char extra[512];
	int i;

	/* A replica nobody answers on: reads fall back to the primary. */
	(void)snprintf(extra, sizeof(extra),
	    "database_read_url = 'postgresql://pacer@127.0.0.1:%d/pacer'\n"
	    "database_connect_timeout = 1s\n",
	    ts_free_port());
	ts_init(&s, extra);
	ts_start(&s);
	for (i = 0; i < 5; i++)
		cr_assert(eq(int, ts_get(s.port, "/health/ready"), 200));
	cr_assert(eq(str, (char *)replica_state(s.port), "down"));
	ts_fini(&s);

	/* The harness's server as the replica: up. */
	(void)snprintf(extra, sizeof(extra), "database_read_url = '%s'\n",
	    ts_env("PACER_TEST_DATABASE_URL"));
	ts_init(&s, extra);
	ts_start(&s);
	cr_assert(eq(str, (char *)replica_state(s.port), "up"));
	ts_fini(&s);
}
