/*
 * gate.c - the middleware that runs before every routed handler, API-key
 * checks and their use; see auth.h.
 *
 * Order: a public auth route's per-address limit (so a flood of bad
 * passwords costs no scrypt), then the credential, then the route's
 * kind, then an API key's burst and quota. A credential is looked at only
 * on a route that takes one.
 *
 * An OAuth access token (worker/oauth/) is accepted on ROUTER_AUTH_MCP
 * routes only, and only when its audience is this server's MCP resource
 * as the request names it (oauth_resource_url): everywhere else its
 * audience is wrong. MCP routes answer a 401 with the WWW-Authenticate
 * the MCP authorization spec asks for, which sends a client to the
 * protected resource metadata and from there to /oauth2/authorize.
 *
 * An API key is looked up in PostgreSQL on every request (one indexed
 * read of its hash), so a revoked key stops at once on every worker and
 * node. Its use is written back in batches: last_used_at and the count of
 * the quota window, every AUTH_FLUSH_S per worker, so a request costs no
 * write; Redis counts between write-backs and the written count seeds
 * Redis again when it lost the window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth_int.h"
#include "buf.h"
#include "log.h"
#include "oauth.h"
#include "ratelimit.h"
#include "secret.h"

/* Keys whose use is not yet written back. */
#define USE_SLOTS 128

struct key_use {
	char id[AUTH_UUID_LEN + 1];
	int64_t window; /* quota window index */
	int64_t count;  /* requests counted since the last write-back */
	int64_t last;   /* unix seconds of the last use */
};

static struct key_use uses[USE_SLOTS];
static size_t nuses;
static int64_t last_flush;

int auth_init(const struct worker_ctx *ctx, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	auth_g.ctx = ctx;
	return 0;
}

void auth_attach(struct db *db, struct cache *cache)
{
	auth_g.db = db;
	auth_g.cache = cache;
}

/* Write back the keys' use; keeps what could not be written. */
static void flush_uses(int64_t now)
{
	size_t kept = 0;

	for (size_t i = 0; i < nuses; i++) {
		char last[24], win[24], cnt[24];
		const char *params[4] = {uses[i].id, last, win, cnt};
		PGresult *res = NULL;
		enum db_rc rc;

		(void)snprintf(last, sizeof(last), "%lld",
		    (long long)uses[i].last);
		(void)snprintf(win, sizeof(win), "%lld",
		    (long long)uses[i].window);
		(void)snprintf(cnt, sizeof(cnt), "%lld",
		    (long long)uses[i].count);
		rc = db_exec(auth_g.db, Q_APIKEY_TOUCH, params, &res);
		PQclear(res);
		if (rc == DB_UNAVAILABLE)
			uses[kept++] = uses[i];
	}
	nuses = kept;
	last_flush = now;
}

static void note_use(const char *id, int64_t window, int64_t now)
{
	size_t i;

	for (i = 0; i < nuses; i++)
		if (strcmp(uses[i].id, id) == 0)
			break;
	if (i == nuses) {
		if (nuses == USE_SLOTS)
			flush_uses(now);
		if (nuses == USE_SLOTS)
			return; /* the database is away: the count is lost */
		i = nuses++;
		(void)snprintf(uses[i].id, sizeof(uses[i].id), "%s", id);
		uses[i].window = window;
		uses[i].count = 0;
	}
	if (uses[i].window != window) {
		uses[i].window = window;
		uses[i].count = 0;
	}
	uses[i].count++;
	uses[i].last = now;
}

void auth_keys_tick(int64_t now)
{
	if (nuses > 0 && now - last_flush >= AUTH_FLUSH_S)
		flush_uses(now);
}

void auth_tick(void)
{
	int64_t now = (int64_t)time(NULL);

	if (auth_g.db == NULL)
		return;
	auth_tokens_tick(now);
	auth_keys_tick(now);
}

/* Whether key has the shape of an API key. */
static bool key_shaped(const char *key, size_t len)
{
	size_t pre;

	if (len > 8 && strncmp(key, "pk_live_", 8) == 0)
		pre = 8;
	else if (len > 9 && strncmp(key, "pk_trial_", 9) == 0)
		pre = 9;
	else
		return false;
	if (len - pre != AUTH_KEY_RANDOM_LEN)
		return false;
	for (size_t i = pre; i < len; i++) {
		char c = key[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		        (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

#define KFAIL(st, why, msg)                                                    \
	do {                                                                   \
		*reason = (why);                                               \
		*message = (msg);                                              \
		rc = (st);                                                     \
		goto out;                                                      \
	} while (0)

int auth_key_verify(const char *key, size_t len, struct auth_principal *p,
    int64_t *created, int64_t *quota_seed, const char **reason,
    const char **message)
{
	char hash[AUTH_BYTEA_HEX_LEN];
	const char *params[1] = {hash};
	PGresult *res = NULL;
	enum db_rc dr;
	int64_t now = (int64_t)time(NULL), expires, window;
	int rc = 0, tier, role;

	if (!key_shaped(key, len))
		KFAIL(401, "malformed_key", "The API key is malformed.");
	if (secret_sha256_bytea(key, len, hash) != 0)
		KFAIL(500, "internal", "The API key could not be checked.");
	dr = db_exec(auth_g.db, Q_APIKEY_AUTH, params, &res);
	if (dr == DB_UNAVAILABLE)
		KFAIL(503, "unavailable",
		    "The database is unreachable; retry in a moment.");
	if (dr != DB_OK) {
		log_errx("could not look an API key up: %s",
		    PQresultErrorMessage(res));
		KFAIL(500, "internal", "The API key could not be checked.");
	}
	if (PQntuples(res) != 1)
		KFAIL(401, "unknown_key", "The API key is not known.");
	if (strcmp(PQgetvalue(res, 0, 5), "t") == 0)
		KFAIL(401, "key_revoked", "The API key was revoked.");
	expires = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	if (expires != 0 && expires <= now)
		KFAIL(401, "key_expired", "The API key has expired.");
	if (strcmp(PQgetvalue(res, 0, 9), "pending") == 0)
		KFAIL(403, "account_pending",
		    "The key's account waits for an administrator's approval.");
	if (strcmp(PQgetvalue(res, 0, 9), "active") != 0)
		KFAIL(403, "account_suspended",
		    "The key's account is suspended.");
	if ((tier = auth_tier_parse(PQgetvalue(res, 0, 2))) < 0 ||
	    (role = auth_role_parse(PQgetvalue(res, 0, 10))) < 0)
		KFAIL(500, "internal", "The API key's row is not understood.");
	memset(p, 0, sizeof(*p));
	p->via = AUTH_VIA_API_KEY;
	(void)snprintf(p->key_id, sizeof(p->key_id), "%s",
	    PQgetvalue(res, 0, 0));
	(void)snprintf(p->user_id, sizeof(p->user_id), "%s",
	    PQgetvalue(res, 0, 1));
	(void)snprintf(p->email, sizeof(p->email), "%s", PQgetvalue(res, 0, 8));
	p->tier = (enum auth_tier)tier;
	p->role = (enum auth_role)role;
	*created = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	window = (now - *created) / AUTH_QUOTA_WINDOW_S;
	*quota_seed = strtoll(PQgetvalue(res, 0, 6), NULL, 10) == window
	    ? strtoll(PQgetvalue(res, 0, 7), NULL, 10)
	    : 0;
out:
	PQclear(res);
	return rc;
}

/* A token's user as the database has it now: suspended since the token
 * was issued, or a changed role. Cached (ns "user") for
 * AUTH_USER_CACHE_S; an admin's change deletes the entry. Returns 0 (role
 * updated in *p), or a status with the reason. */
static int user_state(struct auth_principal *p, const char **reason,
    const char **message)
{
	char store[64], status[16];
	const char *params[1] = {p->user_id};
	struct buf v;
	PGresult *res = NULL;
	enum db_rc dr;
	int role;

	buf_init_fixed(&v, store, sizeof(store));
	if (cache_get(auth_g.cache, "user", p->user_id, &v) != 1) {
		dr = db_exec(auth_g.db, Q_USER_STATUS, params, &res);
		if (dr != DB_OK) {
			PQclear(res);
			*reason = "unavailable";
			*message = "The database is unreachable.";
			return dr == DB_UNAVAILABLE ? 503 : 500;
		}
		if (PQntuples(res) != 1) {
			PQclear(res);
			*reason = "unknown_user";
			*message = "The access token's user no longer exists.";
			return 401;
		}
		buf_reset(&v);
		(void)buf_printf(&v, "%s %s", PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1));
		PQclear(res);
		(void)cache_set(auth_g.cache, "user", p->user_id, v.data, v.len,
		    AUTH_USER_CACHE_S);
	}
	if (sscanf(buf_str(&v), "%15s", status) != 1)
		status[0] = '\0';
	role = auth_role_parse(buf_str(&v) + strcspn(buf_str(&v), " ") +
	    (strchr(buf_str(&v), ' ') != NULL ? 1 : 0));
	if (strcmp(status, "active") != 0) {
		*reason = strcmp(status, "pending") == 0 ? "account_pending"
		                                         : "account_suspended";
		*message = strcmp(status, "pending") == 0
		    ? "This account waits for an administrator's approval."
		    : "This account is suspended.";
		return 403;
	}
	if (role >= 0)
		p->role = (enum auth_role)role;
	return 0;
}

/* The credential of a request: 1 with its bytes, 0 when none was sent,
 * -1 when the Authorization field is not a Bearer one. */
static int credential(const struct router_call *call, const char **cred,
    size_t *len, bool *is_key)
{
	struct http_slice s;
	const char *v;

	if (http_header_get(call->req, call->buf, "Authorization", &s)) {
		v = call->buf + s.off;
		if (s.len < 8 || strncasecmp(v, "Bearer ", 7) != 0)
			return -1;
		*cred = v + 7;
		*len = s.len - 7;
		while (*len > 0 && **cred == ' ') {
			(*cred)++;
			(*len)--;
		}
		*is_key = *len >= 3 && strncmp(*cred, "pk_", 3) == 0;
		return *len > 0 ? 1 : -1;
	}
	if (http_header_get(call->req, call->buf, "X-API-Key", &s) &&
	    s.len > 0) {
		*cred = call->buf + s.off;
		*len = s.len;
		*is_key = true;
		return 1;
	}
	return 0;
}

/* A 429 with the verdict's headers and our reason. */
static void deny(const struct router_call *call, struct http_resp *r,
    const struct rl_verdict *v, const char *reason, const char *what)
{
	char msg[192];

	(void)snprintf(msg, sizeof(msg),
	    "%s: %lld requests allowed; retry in %lld s.", what,
	    (long long)v->limit, (long long)v->retry_after_s);
	auth_refuse(call, r, 429, reason, msg);
	ratelimit_headers(r, v);
}

static bool limit_auth_route(struct router_call *call, struct http_resp *r)
{
	const struct router_route *route = call->match->route;
	int64_t limit = auth_g.ctx->cfg->rate_limit_auth;
	struct rl_verdict v;
	struct json_object *d;

	if (route->rate != ROUTER_RATE_AUTH || limit <= 0)
		return true;
	if (ratelimit_hit("auth", call->client, limit, 60, 0, 0, &v) != 0)
		return true; /* a bug, logged by the module: serve */
	if (v.allowed) {
		ratelimit_headers(r, &v);
		return true;
	}
	deny(call, r, &v, "rate_limited",
	    "Too many requests from this address to the sign-in endpoints "
	    "this minute");
	if ((d = json_object_new_object()) != NULL)
		json_object_object_add(d, "route",
		    json_object_new_string(route->label));
	audit_record(call, "ratelimit.denied", AUDIT_DENIED, "auth_rate_limit",
	    NULL, NULL, d);
	return false;
}

/* An API key's burst and quota. */
static bool limit_key(struct router_call *call, struct http_resp *r,
    const struct auth_principal *p, int64_t created, int64_t seed)
{
	const struct auth_tier_info *t = &auth_tiers[p->tier];
	int64_t now = (int64_t)time(NULL);
	struct rl_verdict burst, quota;
	const struct rl_verdict *show = &burst;

	if (ratelimit_hit("burst", p->key_id, t->burst, 60, 0, 0, &burst) != 0)
		return true;
	if (t->quota > 0 && burst.allowed) {
		if (ratelimit_hit("quota", p->key_id, t->quota,
		        AUTH_QUOTA_WINDOW_S, created, seed, &quota) != 0)
			return true;
		show = ratelimit_pick(&burst, &quota);
		if (quota.allowed)
			note_use(p->key_id,
			    (now - created) / AUTH_QUOTA_WINDOW_S, now);
	} else if (burst.allowed) {
		note_use(p->key_id, (now - created) / AUTH_QUOTA_WINDOW_S, now);
	}
	if (show->allowed) {
		ratelimit_headers(r, show);
		return true;
	}
	if (show == &burst)
		deny(call, r, show, "burst_exceeded",
		    "This API key made too many requests this minute");
	else
		deny(call, r, show, "quota_exceeded",
		    "This API key used its 30-day quota");
	return false;
}

/* A refusal of the gate. On an MCP route a 401 carries the
 * WWW-Authenticate of the MCP authorization spec: where the resource's
 * metadata is, the scope, and error="invalid_token" when a credential
 * was sent (sent) and refused. */
static void refuse(const struct router_call *call, struct http_resp *r,
    int status, bool sent, const char *reason, const char *message)
{
	char base[OAUTH_URL_MAX], www[OAUTH_URL_MAX + 160];
	struct buf b;

	if (status != 401 || call->match->route->auth != ROUTER_AUTH_MCP) {
		auth_refuse(call, r, status, reason, message);
		return;
	}
	buf_init_fixed(&b, www, sizeof(www));
	(void)buf_puts(&b, "Bearer ");
	if (oauth_base_url(call, base, sizeof(base)) == 0)
		(void)buf_printf(&b,
		    "resource_metadata=\"%s" OAUTH_PRM_PATH "\", ", base);
	(void)buf_printf(&b, "scope=\"" OAUTH_SCOPE "\"");
	if (sent)
		(void)buf_printf(&b,
		    ", error=\"invalid_token\", error_description=\"%s\"",
		    reason);
	auth_refuse_www(call, r, status, reason, message,
	    b.overflow ? "Bearer" : buf_str(&b));
}

/* The credential's check: an API key, or an access token (on an MCP
 * route also one whose audience is this server's MCP resource), then
 * for a token the user's current state. 0, or a status with the
 * reason. */
static int verify(const struct router_call *call, const char *cred, size_t len,
    bool is_key, struct auth_principal *who, int64_t *created, int64_t *seed,
    const char **reason, const char **message)
{
	char resource[OAUTH_URL_MAX];
	const char *res = NULL;
	int rc;

	if (is_key)
		return auth_key_verify(cred, len, who, created, seed, reason,
		    message);
	if (call->match->route->auth == ROUTER_AUTH_MCP &&
	    oauth_resource_url(call, resource, sizeof(resource)) == 0)
		res = resource;
	rc = auth_jwt_verify(cred, len, res, who, reason, message);
	if (rc == 0)
		rc = user_state(who, reason, message);
	return rc;
}

/* Whether a call without any credential may go on: on an optional
 * route, and on an MCP route while the conformance fixtures are on. */
static bool anonymous_ok(const struct router_route *route)
{
	return route->auth == ROUTER_AUTH_OPTIONAL ||
	    (route->auth == ROUTER_AUTH_MCP && auth_g.ctx->cfg->mcp_fixtures);
}

bool auth_gate(struct router_call *call, struct http_resp *r,
    struct auth_principal *who)
{
	const struct router_route *route = call->match->route;
	const char *cred = NULL, *reason = NULL, *message = NULL;
	int64_t created = 0, seed = 0;
	size_t len = 0;
	bool is_key = false;
	int c, rc;

	call->who = NULL;
	if (!limit_auth_route(call, r))
		return false;
	if (route->auth == ROUTER_AUTH_NONE)
		return true;
	if (auth_g.db == NULL) {
		auth_unavailable(call, r);
		return false;
	}
	c = credential(call, &cred, &len, &is_key);
	if (c == 0 && anonymous_ok(route))
		return true;
	if (c == 0) {
		refuse(call, r, 401, false, "missing_credentials",
		    "Send an access token or an API key: Authorization: "
		    "Bearer <token>, or X-API-Key: <key>.");
		return false;
	}
	if (c < 0) {
		refuse(call, r, 401, true, "malformed_credentials",
		    "The Authorization field must be \"Bearer <token>\".");
		return false;
	}
	rc = verify(call, cred, len, is_key, who, &created, &seed, &reason,
	    &message);
	if (rc == 503) {
		auth_unavailable(call, r);
		return false;
	}
	if (rc != 0) {
		refuse(call, r, rc, true, reason, message);
		return false;
	}
	if (route->auth == ROUTER_AUTH_JWT && who->via != AUTH_VIA_JWT) {
		auth_refuse(call, r, 403, "access_token_required",
		    "This endpoint takes an access token (log in), not an API "
		    "key.");
		return false;
	}
	if (route->auth == ROUTER_AUTH_ADMIN && !auth_is_admin(who)) {
		auth_refuse(call, r, 403, "admin_required",
		    "This endpoint is for administrators.");
		return false;
	}
	if (who->via == AUTH_VIA_API_KEY &&
	    !limit_key(call, r, who, created, seed))
		return false;
	call->who = who;
	return true;
}
