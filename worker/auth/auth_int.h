/*
 * auth_int.h - what the files of worker/auth/ share among themselves:
 * the worker's handles, refusals, JSON bodies, the audit log, token and
 * key checks. Not for use outside worker/auth/ and worker/oauth/ (the
 * OAuth authorization server for MCP clients is identity too).
 */
#ifndef PACER_AUTH_INT_H
#define PACER_AUTH_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth.h"
#include "http_resp.h"
#include "secret.h"

struct auth_state {
	const struct worker_ctx *ctx;
	struct db *db;
	struct cache *cache;
};

extern struct auth_state auth_g;

/* A refusal: status, a short machine reason ("bad_password") and a
 * sentence. A 401 also gets WWW-Authenticate. */
void auth_refuse(const struct router_call *call, struct http_resp *r,
    int status, const char *reason, const char *message);

/* auth_refuse with www as the WWW-Authenticate value of a 401 (NULL: the
 * default one); header-safe. */
void auth_refuse_www(const struct router_call *call, struct http_resp *r,
    int status, const char *reason, const char *message, const char *www);

/* An OAuth 2.0 error (RFC 6749 section 5.2) as JSON: {"error",
 * "reason", "error_description", "request_id"}, Cache-Control: no-store
 * (account.c). */
void auth_oauth_error(const struct router_call *call, struct http_resp *r,
    int status, const char *error, const char *reason, const char *desc);

/* Issue an access token (o as for auth_token_issue_ex, NULL for a
 * session's) and start its RFC 6749 answer: access_token, token_type,
 * expires_in and, when refresh is not NULL, refresh_token. Returns the
 * document with the token's id in jti_out, for the caller to add to and
 * pass to auth_send_token; or NULL after answering 503 or 500 (account.c). */
struct json_object *auth_token_doc(const struct router_call *call,
    struct http_resp *r, const char *user_id, const char *email,
    const char *role, const struct auth_token_opts *o, const char *refresh,
    char jti_out[AUTH_JTI_LEN + 1]);

/* Send a token answer (taken) with status 200 and the no-store fields
 * RFC 6749 section 5.1 asks for. */
void auth_send_token(const struct router_call *call, struct http_resp *r,
    struct json_object *doc);

/* A user who signed in with a password (auth_login_check). */
struct auth_login {
	char id[AUTH_UUID_LEN + 1];
	char email[AUTH_EMAIL_MAX + 1];
	char role[16];
};

/* The password sign-in of every endpoint that takes one (account.c):
 * looks email up and verifies pw (an unknown email costs the same scrypt
 * work), then the account's status; audits the attempt (auth.login) and,
 * on success, records it (last_login_at, a stronger hash when due).
 * Returns 0 with *u filled; 401 (reason "bad_credentials"); 403 (reason
 * "account_pending" or "account_suspended", with a sentence in
 * *message); or 503 / 500. Answers nothing: the caller does. */
int auth_login_check(const struct router_call *call, const char *email,
    const char *pw, struct auth_login *u, const char **reason,
    const char **message);

/* 503 with Retry-After: the database is away. */
void auth_unavailable(const struct router_call *call, struct http_resp *r);

/* A query that did not give DB_OK: log a server error, PQclear res, and
 * answer 503 (unavailable) or 500. */
void auth_db_failed(const struct router_call *call, struct http_resp *r,
    enum db_rc rc, PGresult *res);

/* The request's JSON object body, or NULL after answering 415 (not
 * application/json) or 400 (not a JSON object). Caller puts it. */
struct json_object *auth_body_json(const struct router_call *call,
    struct http_resp *r);

/* The email and password of a new account in body, checked, and the
 * password hashed at password_scrypt_ln into phc (PWHASH_MAX_LEN bytes):
 * true, or false after answering 400 (invalid_email, invalid_password)
 * or 500. */
bool auth_new_credentials(const struct router_call *call, struct http_resp *r,
    struct json_object *body, const char **email, char *phc, size_t phclen);

/* An API key's optional "name" in body (a string of at most 100 bytes;
 * "" when absent): true, or false after answering 400 (invalid_name). */
bool auth_key_name(const struct router_call *call, struct http_resp *r,
    struct json_object *body, const char **name);

/* A string member of o, or NULL when absent or not a string. */
const char *auth_json_str(struct json_object *o, const char *key);

/* Secrets are stored as their SHA-256 (secret_sha256_bytea): refresh
 * tokens, API keys, OAuth codes and client secrets. */
#define AUTH_BYTEA_HEX_LEN SECRET_BYTEA_HEX_LEN

/* The audit log: a row in audit_log and a log line. user_id is whom the
 * event concerns, actor_id who acted when that is someone else (both may
 * be NULL); details is taken (may be NULL). Never pass a secret. */
enum audit_outcome {
	AUDIT_SUCCESS,
	AUDIT_FAILURE,
	AUDIT_DENIED,
};
void audit_record(const struct router_call *call, const char *action,
    enum audit_outcome outcome, const char *reason, const char *user_id,
    const char *actor_id, struct json_object *details);

/* Tokens (tokens.c). Verify an access token: 0 with *p filled, or an
 * HTTP status (401, 503) with *reason and *message set. Its audience
 * must be jwt_audience, or, when resource is not NULL (an MCP route),
 * resource with the scope "mcp" (p->mcp_audience, p->client_id). */
int auth_jwt_verify(const char *tok, size_t len, const char *resource,
    struct auth_principal *p, const char **reason, const char **message);
/* Revoke an access token's jti until exp. 0, or 503. */
int auth_jti_revoke(const char *jti, const char *user_id, int64_t exp);
/* Keys and revocations: periodic work (auth_tick). */
void auth_tokens_tick(int64_t now);

/* API keys (gate.c). Verify a key: 0 with *p, or a status (401, 403,
 * 503) with the reason; *quota_seed gets the quota use written back to
 * the database for the key's current window. */
int auth_key_verify(const char *key, size_t len, struct auth_principal *p,
    int64_t *created, int64_t *quota_seed, const char **reason,
    const char **message);
void auth_keys_tick(int64_t now);

/* Issue a refresh token for user_id in a new family (account.c): 0 with
 * the token in out (at least AUTH_REFRESH_LEN + 1 bytes), or 503/500. */
#define AUTH_REFRESH_LEN 46
int auth_refresh_issue(const char *user_id, char *out);

/* A new refresh token in out ("rt_" and base62, NUL-terminated) and its
 * hash: 0, or -1. */
int auth_refresh_new(char out[AUTH_REFRESH_LEN + 1],
    char hash[AUTH_BYTEA_HEX_LEN]);

/* API keys (keys.c), also for the admin API. Provision a key of tier
 * for user_id and answer 201 with it (shown this once); actor_id: the
 * admin who acts for someone else, or NULL. Audited as apikey.create,
 * or admin.key_provision when an admin acts. */
void auth_key_provision(const struct router_call *call, struct http_resp *r,
    const char *user_id, const char *name, enum auth_tier tier,
    const char *actor_id);
/* Revoke key id[0..idlen); owner: only that user's key, NULL: anyone's
 * (admin; the actor is call->who). Answers 200 or 404. Audited as
 * apikey.revoke, or admin.key_revoke when owner is NULL. */
void auth_key_revoke(const struct router_call *call, struct http_resp *r,
    const char *id, size_t idlen, const char *owner);

/* Whether s is a canonical uuid (36 characters, lowercase or uppercase
 * hex, dashes at 8-13-18-23). */
bool auth_uuid_valid(const char *s, size_t len);

#endif /* PACER_AUTH_INT_H */
