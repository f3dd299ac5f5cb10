/*
 * handlers.c - the route table and the handlers of the endpoints; see
 * handlers.h.
 *
 * Runs in worker processes, one request at a time. A handler fills the
 * response and never fails: an error becomes a JSON error reply. The
 * debug handlers exist to test the master: /debug/sleep is stuck on
 * purpose (nanosleep with SIGTERM blocked, as the worker keeps its
 * signals blocked outside epoll_pwait), and /debug/alloc grows the
 * resident size for good.
 */
#include "handlers.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "oauth.h"
#include "mcp.h"
#include "health.h"
#include "http_resp.h"
#include "log.h"
#include "ratelimit.h"
#include "sb.h"
#include "status.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

static const struct worker_ctx *hctx;
static struct cache *hcache;

/* Memory /debug/alloc keeps, in a list so it stays reachable. */
struct kept {
	struct kept *next;
};
static struct kept *kept_list;

static void h_health_live(const struct router_call *call, struct http_resp *r)
{
	char store[128];
	struct buf b;

	(void)call;
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_printf(&b,
	    "{\"status\":\"ok\",\"pid\":%ld,\"generation\":%llu}",
	    (long)getpid(), (unsigned long long)hctx->generation);
	(void)http_resp_set(r, 200, HTTP_RESP_JSON, b.data, b.len);
}

static void h_metrics(const struct router_call *call, struct http_resp *r)
{
	char err[256];

	r->status = 200;
	r->content_type = METRICS_TYPE;
	if (status_render(hctx->sb, STATUS_PROMETHEUS, (int64_t)time(NULL),
	        sb_clock_us(), &r->body, err, sizeof(err)) != 0 ||
	    r->body.overflow) {
		log_errx("request %s: could not render /metrics: %s",
		    call->request_id, r->body.overflow ? "too large" : err);
		http_resp_error(r, 500, "The metrics could not be read.",
		    call->request_id);
	}
}

/* The unsigned decimal value of query parameter name, or -1 when it is
 * absent, malformed or larger than max. */
static long long query_number(const struct router_call *call, const char *name,
    long long max)
{
	const char *q = call->buf + call->req->query.off;
	size_t qlen = call->req->query.len, nlen = strlen(name), i = 0;

	while (i < qlen) {
		size_t end = i;
		long long v = 0;

		while (end < qlen && q[end] != '&')
			end++;
		if (end - i > nlen && memcmp(q + i, name, nlen) == 0 &&
		    q[i + nlen] == '=') {
			size_t k;

			for (k = i + nlen + 1; k < end; k++) {
				if (q[k] < '0' || q[k] > '9')
					return -1;
				v = v * 10 + (q[k] - '0');
				if (v > max)
					return -1;
			}
			return k > i + nlen + 1 ? v : -1;
		}
		i = end + 1;
	}
	return -1;
}

static void bad_param(const struct router_call *call, struct http_resp *r,
    const char *what)
{
	http_resp_error(r, 400, what, call->request_id);
}

static void h_debug_sleep(const struct router_call *call, struct http_resp *r)
{
	long long ms = query_number(call, "ms", HANDLERS_SLEEP_MAX_MS);
	struct timespec left;
	char store[64];
	struct buf b;

	if (ms < 0) {
		bad_param(call, r, "Give ms=N, 0 to 3600000.");
		return;
	}
	log_info("request %s: /debug/sleep holds this worker for %lld ms",
	    call->request_id, ms);
	left.tv_sec = (time_t)(ms / 1000);
	left.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* Stuck on purpose: an interrupted sleep goes on with what is left,
	 * whatever the signal said. */
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_printf(&b, "{\"slept_ms\":%lld}", ms);
	(void)http_resp_set(r, 200, HTTP_RESP_JSON, b.data, b.len);
}

static void h_debug_alloc(const struct router_call *call, struct http_resp *r)
{
	long long mb = query_number(call, "mb", HANDLERS_ALLOC_MAX_MB);
	size_t size;
	struct kept *k;
	char store[64];
	struct buf b;

	if (mb < 1) {
		bad_param(call, r, "Give mb=N, 1 to 4096.");
		return;
	}
	size = (size_t)mb << 20;
	if ((k = malloc(size)) == NULL) {
		http_resp_error(r, 500, "Out of memory.", call->request_id);
		return;
	}
	memset(k, 0xa5, size); /* touch every page: it must count as RSS */
	k->next = kept_list;
	kept_list = k;
	log_info("request %s: /debug/alloc keeps %lld MB more",
	    call->request_id, mb);
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_printf(&b, "{\"allocated_mb\":%lld}", mb);
	(void)http_resp_set(r, 200, HTTP_RESP_JSON, b.data, b.len);
}

static void h_debug_echo(const struct router_call *call, struct http_resp *r)
{
	if (http_resp_set(r, 200, "application/octet-stream", call->body,
	        call->body_len) != 0)
		http_resp_error(r, 500, "The body could not be echoed.",
		    call->request_id);
}

/* /debug/cache?key=K: read K through the cache (namespace "debug"); on a
 * miss store a new value for 60 s. For the cache's outage tests: each
 * answer says whether it was a hit. */
static void h_debug_cache(const struct router_call *call, struct http_resp *r)
{
	const char *q = call->buf + call->req->query.off;
	size_t qlen = call->req->query.len, klen, i;
	char key[65], vstore[128], store[256];
	struct buf v, b;
	int hit;

	/* The query is a slice of the request buffer, not a C string. */
	for (klen = 0; qlen >= 4 && 4 + klen < qlen && q[4 + klen] != '&';)
		klen++;
	if (qlen < 5 || memcmp(q, "key=", 4) != 0 || klen == 0 ||
	    klen >= sizeof(key)) {
		bad_param(call, r, "Give key=K (1 to 64 of A-Z a-z 0-9 _ -).");
		return;
	}
	for (i = 0; i < klen; i++) {
		char c = q[4 + i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '_' || c == '-')) {
			bad_param(call, r,
			    "Give key=K (1 to 64 of A-Z a-z 0-9 _ -).");
			return;
		}
		key[i] = c;
	}
	key[klen] = '\0';
	buf_init_fixed(&v, vstore, sizeof(vstore));
	hit = cache_get(hcache, "debug", key, &v);
	if (hit != 1) {
		buf_init_fixed(&v, vstore, sizeof(vstore));
		(void)buf_printf(&v, "set by pid %ld", (long)getpid());
		if (cache_set(hcache, "debug", key, v.data, v.len, 60) != 0) {
			http_resp_error(r, 500,
			    "The value could not be cached.", call->request_id);
			return;
		}
	}
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_printf(&b, "{\"key\":\"%s\",\"hit\":%s,\"value\":\"", key,
	    hit == 1 ? "true" : "false");
	(void)buf_json_escape(&b, v.data, v.len);
	(void)buf_puts(&b, "\"}");
	(void)http_resp_set(r, 200, HTTP_RESP_JSON, b.data, b.len);
}

/* The value of query parameter name as a C string of [A-Za-z0-9_.:-]
 * into dst (n bytes); -1 when absent, empty, too long or other bytes. */
static int query_word(const struct router_call *call, const char *name,
    char *dst, size_t n)
{
	const char *q = call->buf + call->req->query.off;
	size_t qlen = call->req->query.len, nlen = strlen(name), i = 0, k;

	while (i < qlen) {
		size_t end = i;

		while (end < qlen && q[end] != '&')
			end++;
		if (end - i > nlen + 1 && end - i - nlen - 1 < n &&
		    memcmp(q + i, name, nlen) == 0 && q[i + nlen] == '=') {
			for (k = i + nlen + 1; k < end; k++) {
				char c = q[k];

				if (!((c >= 'a' && c <= 'z') ||
				        (c >= 'A' && c <= 'Z') ||
				        (c >= '0' && c <= '9') || c == '_' ||
				        c == '.' || c == ':' || c == '-'))
					return -1;
				dst[k - i - nlen - 1] = c;
			}
			dst[end - i - nlen - 1] = '\0';
			return 0;
		}
		i = end + 1;
	}
	return -1;
}

/* /debug/ratelimit?id=X&limit=N&window=S[&seed=N][&origin=T]: count one
 * hit of bucket ("debug", X) and answer the verdict (200) or the refusal
 * (429), with the rate-limit headers. For the rate limiter's tests. */
static void h_debug_ratelimit(const struct router_call *call,
    struct http_resp *r)
{
	long long limit = query_number(call, "limit", 1000000000LL),
	          window = query_number(call, "window", RLSHM_WINDOW_MAX),
	          seed = query_number(call, "seed", 1000000000LL),
	          origin = query_number(call, "origin", 4000000000LL);
	struct rl_verdict v;
	char id[65], store[320];
	struct buf b;

	if (query_word(call, "id", id, sizeof(id)) != 0 || limit < 1 ||
	    window < 1 ||
	    ratelimit_hit("debug", id, limit, window, origin < 0 ? 0 : origin,
	        seed < 0 ? 0 : seed, &v) != 0) {
		bad_param(call, r,
		    "Give id=X (1 to 64 of A-Z a-z 0-9 _ . : -), limit=N, "
		    "window=S, optionally seed=N and origin=T.");
		return;
	}
	if (!v.allowed) {
		ratelimit_deny(call, r, &v);
		return;
	}
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_printf(&b,
	    "{\"allowed\":true,\"local\":%s,\"failed_open\":%s,"
	    "\"limit\":%lld,\"count\":%lld,\"remaining\":%lld,"
	    "\"reset\":%lld,\"pid\":%ld}",
	    v.local ? "true" : "false", v.failed_open ? "true" : "false",
	    (long long)v.limit, (long long)v.count, (long long)v.remaining,
	    (long long)v.reset_s, (long)getpid());
	(void)http_resp_set(r, 200, HTTP_RESP_JSON, b.data, b.len);
	ratelimit_headers(r, &v);
}

void handlers_attach(struct db *db, struct cache *cache)
{
	hcache = cache;
	health_attach(db, cache);
	auth_attach(db, cache);
	mcp_attach(db, cache);
}

/* Append only: an index is a route's identity in the scoreboard. */
static const struct router_route routes[] = {
    {HTTP_METHOD_GET, "/health/live", h_health_live, ROUTER_AUTH_NONE,
        ROUTER_RATE_NONE, "health_live", 0},
    {HTTP_METHOD_GET, "/metrics", h_metrics, ROUTER_AUTH_NONE, ROUTER_RATE_NONE,
        "metrics", 0},
    {HTTP_METHOD_GET, "/debug/sleep", h_debug_sleep, ROUTER_AUTH_NONE,
        ROUTER_RATE_NONE, "debug_sleep", ROUTER_F_DEBUG},
    {HTTP_METHOD_GET, "/debug/alloc", h_debug_alloc, ROUTER_AUTH_NONE,
        ROUTER_RATE_NONE, "debug_alloc", ROUTER_F_DEBUG},
    {HTTP_METHOD_POST, "/debug/echo", h_debug_echo, ROUTER_AUTH_NONE,
        ROUTER_RATE_NONE, "debug_echo", ROUTER_F_DEBUG | ROUTER_F_BODY},
    {HTTP_METHOD_GET, "/health/ready", health_ready, ROUTER_AUTH_NONE,
        ROUTER_RATE_NONE, "health_ready", 0},
    {HTTP_METHOD_GET, "/admin/health", health_admin, ROUTER_AUTH_OPTIONAL,
        ROUTER_RATE_NONE, "admin_health", 0},
    {HTTP_METHOD_GET, "/debug/cache", h_debug_cache, ROUTER_AUTH_NONE,
        ROUTER_RATE_NONE, "debug_cache", ROUTER_F_DEBUG},
    /* identity (worker/auth/) */
    {HTTP_METHOD_POST, "/api/auth/register", auth_h_register, ROUTER_AUTH_NONE,
        ROUTER_RATE_AUTH, "auth_register", ROUTER_F_BODY},
    {HTTP_METHOD_POST, "/api/auth/login", auth_h_login, ROUTER_AUTH_NONE,
        ROUTER_RATE_AUTH, "auth_login", ROUTER_F_BODY},
    {HTTP_METHOD_POST, "/oauth/token", auth_h_oauth_token, ROUTER_AUTH_NONE,
        ROUTER_RATE_AUTH, "oauth_token", ROUTER_F_BODY},
    {HTTP_METHOD_POST, "/api/auth/refresh", auth_h_refresh, ROUTER_AUTH_NONE,
        ROUTER_RATE_AUTH, "auth_refresh", ROUTER_F_BODY},
    {HTTP_METHOD_POST, "/api/auth/logout", auth_h_logout, ROUTER_AUTH_JWT,
        ROUTER_RATE_NONE, "auth_logout", 0},
    {HTTP_METHOD_GET, "/api/me", auth_h_me, ROUTER_AUTH_USER, ROUTER_RATE_NONE,
        "me", 0},
    {HTTP_METHOD_GET, "/.well-known/jwks.json", auth_h_jwks, ROUTER_AUTH_NONE,
        ROUTER_RATE_NONE, "jwks", 0},
    {HTTP_METHOD_POST, "/api/keys", auth_h_keys_create, ROUTER_AUTH_JWT,
        ROUTER_RATE_NONE, "keys_create", 0},
    {HTTP_METHOD_GET, "/api/keys", auth_h_keys_list, ROUTER_AUTH_USER,
        ROUTER_RATE_NONE, "keys_list", 0},
    {HTTP_METHOD_DELETE, "/api/keys/{id}", auth_h_keys_delete, ROUTER_AUTH_JWT,
        ROUTER_RATE_NONE, "keys_delete", 0},
    {HTTP_METHOD_GET, "/debug/ratelimit", h_debug_ratelimit, ROUTER_AUTH_NONE,
        ROUTER_RATE_NONE, "debug_ratelimit", ROUTER_F_DEBUG},
    /* the admin API (worker/auth/admin.c) */
    {HTTP_METHOD_GET, "/admin/users", auth_h_admin_users, ROUTER_AUTH_ADMIN,
        ROUTER_RATE_NONE, "admin_users", 0},
    {HTTP_METHOD_POST, "/admin/users/{id}/approve", auth_h_admin_approve,
        ROUTER_AUTH_ADMIN, ROUTER_RATE_NONE, "admin_user_approve", 0},
    {HTTP_METHOD_POST, "/admin/users/{id}/suspend", auth_h_admin_suspend,
        ROUTER_AUTH_ADMIN, ROUTER_RATE_NONE, "admin_user_suspend", 0},
    {HTTP_METHOD_POST, "/admin/users/{id}/activate", auth_h_admin_activate,
        ROUTER_AUTH_ADMIN, ROUTER_RATE_NONE, "admin_user_activate", 0},
    {HTTP_METHOD_POST, "/admin/users/{id}/keys", auth_h_admin_key_create,
        ROUTER_AUTH_ADMIN, ROUTER_RATE_NONE, "admin_key_provision",
        ROUTER_F_BODY},
    {HTTP_METHOD_DELETE, "/admin/keys/{id}", auth_h_admin_key_delete,
        ROUTER_AUTH_ADMIN, ROUTER_RATE_NONE, "admin_key_revoke", 0},
    {HTTP_METHOD_GET, "/admin/audit", auth_h_admin_audit, ROUTER_AUTH_ADMIN,
        ROUTER_RATE_NONE, "admin_audit", 0},
    {HTTP_METHOD_POST, "/admin/setup", auth_h_admin_setup, ROUTER_AUTH_NONE,
        ROUTER_RATE_AUTH, "admin_setup", ROUTER_F_BODY},
    {HTTP_METHOD_POST, "/mcp", mcp_http_post, ROUTER_AUTH_MCP, ROUTER_RATE_NONE,
        "mcp", ROUTER_F_BODY},
    {HTTP_METHOD_DELETE, "/mcp", mcp_http_delete, ROUTER_AUTH_MCP,
        ROUTER_RATE_NONE, "mcp_delete", 0},
    /* OAuth for MCP clients (worker/oauth/) */
    {HTTP_METHOD_GET, "/.well-known/oauth-protected-resource/mcp",
        oauth_h_resource_metadata, ROUTER_AUTH_NONE, ROUTER_RATE_NONE,
        "oauth_resource_meta", 0},
    {HTTP_METHOD_GET, "/.well-known/oauth-protected-resource",
        oauth_h_resource_metadata, ROUTER_AUTH_NONE, ROUTER_RATE_NONE,
        "oauth_resource_meta_root", 0},
    {HTTP_METHOD_GET, "/.well-known/oauth-authorization-server",
        oauth_h_server_metadata, ROUTER_AUTH_NONE, ROUTER_RATE_NONE,
        "oauth_server_meta", 0},
    {HTTP_METHOD_POST, "/oauth2/register", oauth_h_register,
        ROUTER_AUTH_OPTIONAL, ROUTER_RATE_AUTH, "oauth_register",
        ROUTER_F_BODY},
    {HTTP_METHOD_GET, "/oauth2/authorize", oauth_h_authorize,
        ROUTER_AUTH_OPTIONAL, ROUTER_RATE_NONE, "oauth_authorize", 0},
    {HTTP_METHOD_POST, "/oauth2/authorize", oauth_h_authorize_form,
        ROUTER_AUTH_NONE, ROUTER_RATE_AUTH, "oauth_authorize_form",
        ROUTER_F_BODY},
    {HTTP_METHOD_POST, "/oauth2/token", oauth_h_token, ROUTER_AUTH_NONE,
        ROUTER_RATE_AUTH, "oauth2_token", ROUTER_F_BODY},
    {HTTP_METHOD_POST, "/debug/mcp-gate", oauth_h_debug_gate, ROUTER_AUTH_MCP,
        ROUTER_RATE_NONE, "debug_mcp_gate", ROUTER_F_DEBUG},
};

int handlers_init(const struct worker_ctx *ctx, struct router *r,
    size_t *unmatched, char *err, size_t errlen)
{
	size_t n = sizeof(routes) / sizeof(routes[0]), i;

	hctx = ctx;
	if (router_init(r, routes, n, err, errlen) != 0 ||
	    health_init(ctx, err, errlen) != 0 ||
	    auth_init(ctx, err, errlen) != 0 || mcp_init(ctx, err, errlen) != 0)
		return -1;
	for (i = 0; i <= n; i++) {
		const char *label =
		    i < n ? routes[i].label : HANDLERS_UNMATCHED_LABEL;

		/* A mismatch is a bug, not a reason to stop serving: the
		 * counter shows under the other label, the requests work. */
		if (sb_route_register(ctx->sb, (uint32_t)i, label) != 0)
			log_warn("could not register route label \"%s\" as "
			         "route %zu in the scoreboard",
			    label, i);
	}
	*unmatched = n;
	return 0;
}
