/*
 * health.c - /health/ready and /admin/health; see health.h.
 *
 * Runs in worker processes, one request at a time. The checks look at
 * this worker's own connections (each worker has its own) and, for the
 * pool, at the scoreboard. JSON is built with json-c, so a server's error
 * message can never break the document.
 */
#include "health.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "http_resp.h"
#include "log.h"
#include "netacl.h"
#include "sb.h"
#include "version.h"

enum level { HEALTHY, DEGRADED, UNHEALTHY };

static const char *const level_names[] = {"healthy", "degraded", "unhealthy"};

static const struct worker_ctx *hctx;
static struct db *hdb;
static struct cache *hcache;
static struct netacl admin_acl;

int health_init(const struct worker_ctx *ctx, char *err, size_t errlen)
{
	hctx = ctx;
	netacl_free(&admin_acl);
	return netacl_parse(&admin_acl, ctx->cfg->admin_allow, err, errlen);
}

void health_attach(struct db *db, struct cache *cache)
{
	hdb = db;
	hcache = cache;
}

void health_db_unavailable(const struct router_call *call, struct http_resp *r)
{
	char secs[16];

	(void)snprintf(secs, sizeof(secs), "%u",
	    hdb != NULL ? db_retry_after_s(hdb, sb_clock_us()) : 1);
	(void)http_resp_header(r, "Retry-After", secs);
	http_resp_error(r, 503,
	    "The database is unreachable; retry in a moment.",
	    call->request_id);
}

/* The schema as the database has it: 1 with count and version, 0 when
 * the table is missing (no migration ever ran), -1 unreachable, -2 any
 * other query error (message in why). */
static int schema_state(long long *count, long long *version, char *why,
    size_t whylen)
{
	PGresult *res = NULL;
	enum db_rc rc = db_exec(hdb, Q_SCHEMA_STATE, NULL, &res);
	int out;

	why[0] = '\0';
	if (rc == DB_UNAVAILABLE)
		return -1;
	if (rc == DB_ERROR) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		out = state != NULL && strcmp(state, "42P01") == 0 ? 0 : -2;
		(void)snprintf(why, whylen, "%s",
		    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) != NULL
		        ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
		        : "query failed");
		PQclear(res);
		return out;
	}
	/* bigint columns in text form, from our own query. */
	*count =
	    PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	*version =
	    PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 1), NULL, 10) : 0;
	PQclear(res);
	return 1;
}

static bool schema_current(long long count, long long version)
{
	return count >= (long long)hctx->schema_count &&
	    version >= (long long)hctx->schema_version;
}

void health_ready(const struct router_call *call, struct http_resp *r)
{
	long long count = 0, version = 0;
	char why[256], store[512];
	struct buf b;
	int st =
	    hdb != NULL ? schema_state(&count, &version, why, sizeof(why)) : -1;

	buf_init_fixed(&b, store, sizeof(store));
	if (st == -1) {
		health_db_unavailable(call, r);
		return;
	}
	if (st == 1 && schema_current(count, version)) {
		(void)buf_printf(&b,
		    "{\"status\":\"ready\",\"pid\":%ld,\"generation\":%llu,"
		    "\"schema_version\":%lld}",
		    (long)getpid(), (unsigned long long)hctx->generation,
		    version);
		(void)http_resp_set(r, 200, HTTP_RESP_JSON, b.data, b.len);
		return;
	}
	(void)buf_printf(&b,
	    "{\"status\":\"not_ready\",\"reason\":\"%s\","
	    "\"schema_version\":%lld,\"required_version\":%lld}",
	    st == 1       ? "migrations behind"
	        : st == 0 ? "migrations not applied"
	                  : "schema check failed",
	    version, (long long)hctx->schema_version);
	if (st == -2)
		log_warnx("request %s: /health/ready: schema check failed: %s",
		    call->request_id, why);
	(void)http_resp_header(r, "Retry-After", "5");
	(void)http_resp_set(r, 503, HTTP_RESP_JSON, b.data, b.len);
}

/* ----------------------------------------------------------- /admin/health */

/* Milliseconds with three decimals, printed as such (not 0.58799999). */
static struct json_object *ms_json(double ms)
{
	char text[32];

	(void)snprintf(text, sizeof(text), "%.3f", ms);
	return json_object_new_double_s(ms, text);
}

static struct json_object *check_new(const char *name, enum level lv,
    const char *message, uint64_t t0_us, struct json_object *meta)
{
	struct json_object *o = json_object_new_object();
	double ms = (double)(sb_clock_us() - t0_us) / 1000.0;

	if (o == NULL) {
		json_object_put(meta);
		return NULL;
	}
	(void)json_object_object_add(o, "name", json_object_new_string(name));
	(void)json_object_object_add(o, "status",
	    json_object_new_string(level_names[lv]));
	(void)json_object_object_add(o, "message",
	    json_object_new_string(message));
	(void)json_object_object_add(o, "duration_ms", ms_json(ms));
	(void)json_object_object_add(o, "metadata", meta);
	return o;
}

static enum level check_database(struct json_object *checks)
{
	uint64_t t0 = sb_clock_us();
	struct json_object *meta = json_object_new_object();
	PGresult *res = NULL;
	enum db_rc rc = db_exec(hdb, Q_PING, NULL, &res);
	enum level lv = rc == DB_OK ? HEALTHY : UNHEALTHY;
	char msg[320];

	PQclear(res);
	if (rc == DB_OK)
		(void)snprintf(msg, sizeof(msg), "connected");
	else if (rc == DB_UNAVAILABLE)
		(void)snprintf(msg, sizeof(msg), "unreachable: %s",
		    db_last_error(hdb));
	else
		(void)snprintf(msg, sizeof(msg), "ping failed");
	(void)json_object_object_add(meta, "state",
	    json_object_new_string(sb_db_state_name(db_state(hdb))));
	(void)json_object_object_add(meta, "server_version",
	    json_object_new_int(db_server_version(hdb)));
	(void)json_object_object_add(meta, "replica",
	    json_object_new_string(hctx->cfg->database_read_url[0] == '\0'
	            ? "not configured"
	            : sb_db_state_name(db_read_state(hdb))));
	(void)json_object_array_add(checks,
	    check_new("database", lv, msg, t0, meta));
	return lv;
}

static enum level check_redis(struct json_object *checks)
{
	uint64_t t0 = sb_clock_us(), rtt = 0;
	struct json_object *meta = json_object_new_object();
	bool up = hcache != NULL && cache_ping(hcache, &rtt) == 0;
	char msg[320];

	if (up)
		(void)snprintf(msg, sizeof(msg), "connected");
	else
		(void)snprintf(msg, sizeof(msg),
		    "%s; the cache is bypassed, nothing fails",
		    hcache != NULL && cache_last_error(hcache)[0] != '\0'
		        ? cache_last_error(hcache)
		        : "unreachable");
	(void)json_object_object_add(meta, "state",
	    json_object_new_string(up ? "up" : "down"));
	(void)json_object_object_add(meta, "server",
	    json_object_new_string(
	        hcache != NULL ? cache_redis_name(hcache) : ""));
	(void)json_object_object_add(meta, "local_entries_max",
	    json_object_new_int64(hctx->cfg->cache_local_entries));
	(void)json_object_array_add(checks,
	    check_new("redis", up ? HEALTHY : DEGRADED, msg, t0, meta));
	return up ? HEALTHY : DEGRADED;
}

static enum level check_migrations(struct json_object *checks)
{
	uint64_t t0 = sb_clock_us();
	struct json_object *meta = json_object_new_object();
	long long count = 0, version = 0;
	char why[256], msg[400];
	int st = schema_state(&count, &version, why, sizeof(why));
	enum level lv =
	    st == 1 && schema_current(count, version) ? HEALTHY : UNHEALTHY;

	if (st == -1)
		(void)snprintf(msg, sizeof(msg),
		    "unknown: the database is unreachable");
	else if (st == 0)
		(void)snprintf(msg, sizeof(msg),
		    "no migration applied (schema_migrations is missing)");
	else if (st == -2)
		(void)snprintf(msg, sizeof(msg), "schema check failed: %s",
		    why);
	else if (lv == HEALTHY)
		(void)snprintf(msg, sizeof(msg),
		    "%lld applied, schema version %lld", count, version);
	else
		(void)snprintf(msg, sizeof(msg),
		    "behind: the database is at version %lld (%lld applied), "
		    "this server needs %lld (%u)",
		    version, count, (long long)hctx->schema_version,
		    hctx->schema_count);
	(void)json_object_object_add(meta, "applied",
	    json_object_new_int64(count));
	(void)json_object_object_add(meta, "version",
	    json_object_new_int64(version));
	(void)json_object_object_add(meta, "required_version",
	    json_object_new_int64(hctx->schema_version));
	(void)json_object_array_add(checks,
	    check_new("migrations", lv, msg, t0, meta));
	return lv;
}

static enum level check_workers(struct json_object *checks)
{
	uint64_t t0 = sb_clock_us();
	struct json_object *meta = json_object_new_object();
	unsigned n = 0, by[SB_DB_NSTATES] = {0};
	uint32_t i, nslots = sb_nslots(hctx->sb);
	enum level lv;
	char msg[160];

	for (i = 0; i < nslots; i++) {
		struct sb_slot_view v;

		if (sb_slot_read(hctx->sb, i, &v) != 0 || v.pid == 0 ||
		    v.state == SB_STATE_FINISHING)
			continue;
		n++;
		if (v.db_state < SB_DB_NSTATES)
			by[v.db_state]++;
	}
	lv = by[SB_DB_UP] == 0 ? UNHEALTHY
	    : by[SB_DB_UP] < n ? DEGRADED
	                       : HEALTHY;
	(void)snprintf(msg, sizeof(msg),
	    "%u workers: %u with the database up, %u down, %u connecting", n,
	    by[SB_DB_UP], by[SB_DB_DOWN], by[SB_DB_NONE]);
	(void)json_object_object_add(meta, "workers",
	    json_object_new_int((int)n));
	(void)json_object_object_add(meta, "database_up",
	    json_object_new_int((int)by[SB_DB_UP]));
	(void)json_object_object_add(meta, "database_down",
	    json_object_new_int((int)by[SB_DB_DOWN]));
	(void)json_object_object_add(meta, "generation",
	    json_object_new_int64((int64_t)hctx->generation));
	(void)json_object_array_add(checks,
	    check_new("workers", lv, msg, t0, meta));
	return lv;
}

static struct json_object *service_info(void)
{
	struct json_object *o = json_object_new_object();
	struct sb_header_view h;
	int64_t up = 0;

	if (sb_header_read(hctx->sb, &h) == 0 && h.start_time > 0)
		up = (int64_t)time(NULL) - h.start_time;
	(void)json_object_object_add(o, "name",
	    json_object_new_string("pacer"));
	(void)json_object_object_add(o, "version",
	    json_object_new_string(version_string()));
	(void)json_object_object_add(o, "environment",
	    json_object_new_string(hctx->cfg->environment));
	(void)json_object_object_add(o, "uptime_seconds",
	    json_object_new_int64(up < 0 ? 0 : up));
	(void)json_object_object_add(o, "build_time",
	    json_object_new_string(version_build_time()));
	(void)json_object_object_add(o, "git_commit",
	    json_object_new_string(version_git_commit()));
	return o;
}

static void iso8601_now(char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, len, "unknown");
}

void health_admin(const struct router_call *call, struct http_resp *r)
{
	uint64_t t0 = sb_clock_us();
	struct json_object *doc, *checks;
	enum level lv = HEALTHY, c;
	char stamp[32];

	/* The route takes an optional credential: the middleware has set
	 * call->who when a valid one came. */
	if (!netacl_match_str(&admin_acl, call->client) &&
	    !auth_is_admin(call->who)) {
		log_warnx("request %s: /admin/health refused to %s (not in "
		          "admin_allow, no admin credential)",
		    call->request_id, call->client);
		http_resp_error(r, 403,
		    "This address may not read /admin/health without an "
		    "admin's access token or API key (see admin_allow).",
		    call->request_id);
		return;
	}
	doc = json_object_new_object();
	checks = json_object_new_array();
	if (doc == NULL || checks == NULL) {
		json_object_put(checks);
		router_send_json(call, r, 500, doc);
		return;
	}
	c = check_database(checks);
	lv = c > lv ? c : lv;
	c = check_redis(checks);
	lv = c > lv ? c : lv;
	c = check_migrations(checks);
	lv = c > lv ? c : lv;
	c = check_workers(checks);
	lv = c > lv ? c : lv;
	iso8601_now(stamp, sizeof(stamp));
	(void)json_object_object_add(doc, "status",
	    json_object_new_string(level_names[lv]));
	(void)json_object_object_add(doc, "service", service_info());
	(void)json_object_object_add(doc, "checks", checks);
	(void)json_object_object_add(doc, "timestamp",
	    json_object_new_string(stamp));
	(void)json_object_object_add(doc, "response_time_ms",
	    ms_json((double)(sb_clock_us() - t0) / 1000.0));
	router_send_json(call, r, lv == UNHEALTHY ? 503 : 200, doc);
}
