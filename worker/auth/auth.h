/*
 * auth.h - identity in a worker: who a request comes from (an access
 * token or an API key), the middleware that enforces each route's auth
 * kind and rate limits, access tokens (JWT), API keys and their tiers,
 * the audit log, and the endpoints that make them, the admin API among
 * them.
 *
 * Credentials: "Authorization: Bearer <token>" carries an access token
 * (a JWT this server signed) or an API key (pk_live_... / pk_trial_...);
 * "X-API-Key: <key>" carries an API key. A request that sends a
 * credential to a route that takes one must send a valid one: a bad
 * credential is never treated as none.
 *
 * Refusals are JSON: {"error": "<status code>", "reason": "<why>",
 * "message": "<sentence>", "request_id": "..."}; a 401 also carries
 * WWW-Authenticate. No refusal, log line or audit row ever holds a
 * password, token or key: only a key's display prefix and a token's jti.
 *
 * State: PostgreSQL holds the truth (users, keys, refresh tokens,
 * revocations, audit); Redis caches user states and revoked jtis and
 * counts rate limits. A worker's private state is only its copy of the
 * verifying keys (re-read every AUTH_KEYS_REFRESH_S and whenever a token
 * names an unknown kid, at most once a second) and API-key use not yet
 * written back (every AUTH_FLUSH_S).
 *
 * Callers: worker processes only (conn.c calls auth_gate for every routed
 * request; worker.c calls auth_tick); one thread.
 */
#ifndef PACER_AUTH_H
#define PACER_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "db.h"
#include "router.h"
#include "worker.h"

#define AUTH_KEYS_REFRESH_S 30
#define AUTH_FLUSH_S 10
/* How long a user's state (status, role) is cached for token checks; an
 * admin's change deletes it at once (other workers' in-process copies
 * live at most cache_local_ttl more). */
#define AUTH_USER_CACHE_S 60
#define AUTH_UUID_LEN 36
#define AUTH_EMAIL_MAX 254
#define AUTH_JTI_LEN 22
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 1024
/* An API key: "pk_live_" or "pk_trial_" and AUTH_KEY_RANDOM_LEN base62
 * characters. The display prefix is the kind and the first 4 of them. */
#define AUTH_KEY_RANDOM_LEN 32
#define AUTH_KEY_MAX_LEN (9 + AUTH_KEY_RANDOM_LEN)
/* Live keys one user may hold. */
#define AUTH_KEYS_PER_USER 20
/* The quota window of every tier. */
#define AUTH_QUOTA_WINDOW_S (30LL * 86400)

enum auth_role {
	AUTH_ROLE_USER,
	AUTH_ROLE_ADMIN,
	AUTH_ROLE_SUPER_ADMIN,
};

enum auth_via {
	AUTH_VIA_JWT,
	AUTH_VIA_API_KEY,
};

enum auth_tier {
	AUTH_TIER_TRIAL,
	AUTH_TIER_STARTER,
	AUTH_TIER_PROFESSIONAL,
	AUTH_TIER_ENTERPRISE,
	AUTH_NTIERS,
};

struct auth_tier_info {
	const char *name;
	int64_t quota;      /* requests per 30 days; 0: unlimited */
	int64_t burst;      /* requests per minute */
	int64_t lifetime_s; /* a key expires after this; 0: never */
};

extern const struct auth_tier_info auth_tiers[AUTH_NTIERS];

/* Who a request comes from. */
struct auth_principal {
	enum auth_via via;
	char user_id[AUTH_UUID_LEN + 1];
	char email[AUTH_EMAIL_MAX + 1];
	enum auth_role role;
	/* access token */
	char jti[AUTH_JTI_LEN + 1];
	int64_t exp; /* unix seconds */
	/* API key */
	char key_id[AUTH_UUID_LEN + 1];
	enum auth_tier tier;
	/* An OAuth access token for the MCP resource (accepted on
	 * ROUTER_AUTH_MCP routes only), and the client it was issued to;
	 * false and "" for a first-party token or an API key. */
	bool mcp_audience;
	char client_id[AUTH_UUID_LEN + 1];
};

/* Set up for the worker of ctx (borrowed until exit). Returns 0, or -1
 * with the reason in err. */
int auth_init(const struct worker_ctx *ctx, char *err, size_t errlen);

/* Hand over the worker's database and cache once they are open. */
void auth_attach(struct db *db, struct cache *cache);

/* From the worker's loop: re-read the keys when due, refill Redis with
 * the revocations after it came back, write back API-key use. */
void auth_tick(void);

/*
 * The middleware, before a route's handler: the route's rate limit, then
 * its authentication. Returns true when the handler may run (call->who is
 * then set for authenticated calls, pointing at *who); false when r
 * already holds the refusal (401, 403, 429 or 503). Adds the rate-limit
 * headers to r either way.
 */
bool auth_gate(struct router_call *call, struct http_resp *r,
    struct auth_principal *who);

/* "user", "admin", "super_admin"; and back (-1 when unknown). */
const char *auth_role_name(enum auth_role role);
int auth_role_parse(const char *s);
/* A tier by name, -1 when unknown. */
int auth_tier_parse(const char *s);

/* Whether p may act as an administrator. */
bool auth_is_admin(const struct auth_principal *p);

/* What an access token is for beyond its user (worker/oauth/ issues
 * such): aud (NULL: jwt_audience, a first-party token), a "scope" and a
 * "client_id" claim (NULL: none), and its jti (NULL: a random one; else
 * AUTH_JTI_LEN base62 characters). All borrowed for the call. */
struct auth_token_opts {
	const char *aud;
	const char *scope;
	const char *client_id;
	const char *jti;
};

/* Issue an access token for a user, with o (NULL: a first-party token
 * with a random jti). out: at least 4096 bytes. Returns 0, 503 when the
 * keys cannot be read (database down), or 500 (the reason logged). */
int auth_token_issue_ex(const char *user_id, const char *email,
    enum auth_role role, const struct auth_token_opts *o, char *out,
    size_t outlen, char *jti_out, int64_t *exp_out);

/* The route handlers (worker/auth/account.c, keys.c). */
void auth_h_register(const struct router_call *call, struct http_resp *r);
void auth_h_login(const struct router_call *call, struct http_resp *r);
void auth_h_oauth_token(const struct router_call *call, struct http_resp *r);
void auth_h_refresh(const struct router_call *call, struct http_resp *r);
void auth_h_logout(const struct router_call *call, struct http_resp *r);
void auth_h_me(const struct router_call *call, struct http_resp *r);
void auth_h_jwks(const struct router_call *call, struct http_resp *r);
void auth_h_keys_create(const struct router_call *call, struct http_resp *r);
void auth_h_keys_list(const struct router_call *call, struct http_resp *r);
void auth_h_keys_delete(const struct router_call *call, struct http_resp *r);

/*
 * The admin API (worker/auth/admin.c); see README's Admin API section.
 * Every route but setup is ROUTER_AUTH_ADMIN (call->who is an admin):
 *   GET    /admin/users?status=&limit=&offset=   users, newest first
 *   POST   /admin/users/{id}/approve             pending -> active
 *   POST   /admin/users/{id}/suspend             -> suspended, sessions
 *                                                revoked (not oneself; a
 *                                                super_admin only by one)
 *   POST   /admin/users/{id}/activate            suspended -> active
 *   POST   /admin/users/{id}/keys                provision an API key
 *   DELETE /admin/keys/{id}                      revoke anyone's key
 *   GET    /admin/audit?user_id=&action=&before=&limit=
 *   POST   /admin/setup     (no credential) the first super_admin, once,
 *                           while no admin exists
 */
void auth_h_admin_users(const struct router_call *call, struct http_resp *r);
void auth_h_admin_approve(const struct router_call *call, struct http_resp *r);
void auth_h_admin_suspend(const struct router_call *call, struct http_resp *r);
void auth_h_admin_activate(const struct router_call *call, struct http_resp *r);
void auth_h_admin_key_create(const struct router_call *call,
    struct http_resp *r);
void auth_h_admin_key_delete(const struct router_call *call,
    struct http_resp *r);
void auth_h_admin_audit(const struct router_call *call, struct http_resp *r);
void auth_h_admin_setup(const struct router_call *call, struct http_resp *r);

#endif /* PACER_AUTH_H */
