/*
 * token.c - the token endpoint (POST /oauth2/token): an MCP client
 * trades a code (authorization_code, with its PKCE verifier), a refresh
 * token (refresh_token) or its own secret (client_credentials) for an
 * access token whose audience is this server's MCP resource.
 *
 * Runs in worker processes. Errors are RFC 6749's JSON (section 5.2)
 * through the same helper as the password grant of /oauth/token; a
 * client that fails to authenticate gets 401 invalid_client.
 *
 * Codes: the one UPDATE that claims a code also records the jti of the
 * access token about to be issued, and the code already names the
 * refresh family it will start; so when a code comes back a second time
 * (someone else holds it), that token and family are revoked at once
 * (RFC 6749 section 4.1.2). A code is spent by the attempt even when its
 * verifier or redirect URI then turns out wrong.
 *
 * Refresh tokens are the first-party machinery's (rotation, a spent one
 * presented again revokes the family), in rows that also name the
 * client, the resource and the scope; a client can only spend its own.
 * client_credentials tokens act as the user who registered the client
 * and have no refresh token: the client has its secret.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cfg.h"
#include "log.h"
#include "oauth_int.h"
#include "secret.h"

#define VERIFIER_MIN 43
#define VERIFIER_MAX 128

/* Whom a token is for. */
struct grant {
	const char *type; /* grant_type, for the audit row */
	const char *user_id, *email, *role;
	const char *resource; /* the audience */
	const char *client_id;
	const char *jti; /* NULL: a random one */
};

static void refuse(const struct router_call *call, struct http_resp *r,
    const char *error, const char *reason, const char *desc)
{
	auth_oauth_error(call, r, 400, error, reason, desc);
}

/* A form field of the body (see oauth_param). */
static ssize_t field(const struct router_call *call, const char *name,
    char *out, size_t outlen)
{
	return oauth_param(call->body, call->body_len, name, out, outlen);
}

/* Answer the token (and refresh, when not NULL). */
static void send_token(const struct router_call *call, struct http_resp *r,
    const struct grant *g, const char *refresh)
{
	struct auth_token_opts o = {g->resource, OAUTH_SCOPE, g->client_id,
	    g->jti};
	char jti[AUTH_JTI_LEN + 1];
	struct json_object *doc, *d;

	doc = auth_token_doc(call, r, g->user_id, g->email, g->role, &o,
	    refresh, jti);
	if (doc == NULL)
		return;
	json_object_object_add(doc, "scope",
	    json_object_new_string(OAUTH_SCOPE));
	if ((d = json_object_new_object()) != NULL) {
		json_object_object_add(d, "client_id",
		    json_object_new_string(g->client_id));
		json_object_object_add(d, "grant_type",
		    json_object_new_string(g->type));
		json_object_object_add(d, "jti", json_object_new_string(jti));
	}
	audit_record(call, "oauth.token", AUDIT_SUCCESS, NULL, g->user_id, NULL,
	    d);
	auth_send_token(call, r, doc);
}

/* ---- client authentication --------------------------------------- */

/* Percent-decode s into out (RFC 6749 2.3.1); false when it does not
 * fit or holds a NUL. */
static bool unescape(const char *s, char *out, size_t outlen)
{
	int n = 0;
	char *d = curl_easy_unescape(NULL, s, 0, &n);
	bool ok = d != NULL && n >= 0 && (size_t)n < outlen &&
	    memchr(d, '\0', (size_t)n) == NULL;

	if (ok) {
		memcpy(out, d, (size_t)n);
		out[n] = '\0';
	}
	if (d != NULL)
		secret_wipe(d, (size_t)(n > 0 ? n : 0));
	curl_free(d);
	return ok;
}

/* "Authorization: Basic" (client_secret_basic): 1 with the client's id
 * and secret, 0 without such a field, -1 when it is malformed. */
static int basic_auth(const struct router_call *call, char *id, size_t idlen,
    char *secret, size_t slen)
{
	unsigned char raw[256];
	struct http_slice s;
	const char *v;
	char *colon;
	ssize_t n;
	int rc = -1;

	if (!http_header_get(call->req, call->buf, "Authorization", &s))
		return 0;
	v = call->buf + s.off;
	if (s.len < 6 || strncasecmp(v, "Basic ", 6) != 0)
		return 0;
	n = secret_b64_decode(v + 6, s.len - 6, raw, sizeof(raw) - 1);
	if (n <= 0 || memchr(raw, '\0', (size_t)n) != NULL)
		return -1;
	raw[n] = '\0';
	if ((colon = strchr((char *)raw, ':')) != NULL) {
		*colon = '\0';
		if (unescape((char *)raw, id, idlen) &&
		    unescape(colon + 1, secret, slen))
			rc = 1;
	}
	secret_wipe(raw, sizeof(raw));
	return rc;
}

/* 401 invalid_client, audited. */
static void client_refused(const struct router_call *call, struct http_resp *r,
    const char *id, bool basic, const char *reason)
{
	struct json_object *d = json_object_new_object();

	if (d != NULL)
		json_object_object_add(d, "client_id",
		    json_object_new_string(id));
	audit_record(call, "oauth.client_auth", AUDIT_FAILURE, reason, NULL,
	    NULL, d);
	if (basic)
		(void)http_resp_header(r, "WWW-Authenticate",
		    "Basic realm=\"pacer\"");
	auth_oauth_error(call, r, 401, "invalid_client", reason,
	    "The client is unknown or failed to authenticate.");
}

/* The client's secret (may be "") against c's hash. */
static bool secret_matches(const struct oauth_client *c, const char *secret)
{
	char hash[AUTH_BYTEA_HEX_LEN];

	if (c->method == OAUTH_AUTH_NONE)
		return secret[0] == '\0';
	return secret[0] != '\0' &&
	    secret_sha256_bytea(secret, strlen(secret), hash) == 0 &&
	    strlen(c->secret_hex) == 64 &&
	    secret_equal(hash + 2, c->secret_hex, 64);
}

/* Who is asking: HTTP Basic, or client_id (and client_secret) in the
 * form. true with *c read; false after answering. */
static bool client_auth(const struct router_call *call, struct http_resp *r,
    struct oauth_client *c)
{
	char id[AUTH_UUID_LEN + 2], fid[AUTH_UUID_LEN + 2];
	char secret[OAUTH_SECRET_LEN + 2], fsec[OAUTH_SECRET_LEN + 2];
	int b = basic_auth(call, id, sizeof(id), secret, sizeof(secret)), st;
	ssize_t fi = field(call, "client_id", fid, sizeof(fid));
	ssize_t fs = field(call, "client_secret", fsec, sizeof(fsec));
	bool ok = false;

	if (b < 0 || fi == -2 || fs == -2 || (b == 0 && fi < 0)) {
		client_refused(call, r, b == 1 ? id : "", b != 0,
		    "bad_client_authentication");
		goto out;
	}
	if (b == 1 && (fs >= 0 || (fi >= 0 && strcmp(fid, id) != 0))) {
		refuse(call, r, "invalid_request", "two_client_credentials",
		    "Authenticate the client one way only.");
		goto out;
	}
	if (b == 0) {
		memcpy(id, fid, sizeof(id));
		memcpy(secret, fs >= 0 ? fsec : "", fs >= 0 ? sizeof(fsec) : 1);
	}
	st = oauth_client_get(id, c);
	if (st == 503)
		auth_unavailable(call, r);
	else if (st == 500)
		http_resp_error(r, 500, NULL, call->request_id);
	else if (st != 0)
		client_refused(call, r, id, b == 1, "unknown_client");
	else if ((c->method == OAUTH_AUTH_BASIC && b != 1) ||
	    (c->method == OAUTH_AUTH_POST && b == 1))
		/* A confidential client authenticates the way it registered
		 * (token_endpoint_auth_method), never the other. */
		client_refused(call, r, id, b == 1, "auth_method_mismatch");
	else if (!secret_matches(c, secret))
		client_refused(call, r, id, b == 1, "bad_client_secret");
	else
		ok = true;
out:
	secret_wipe(secret, sizeof(secret));
	secret_wipe(fsec, sizeof(fsec));
	return ok;
}

/* ---- authorization_code ------------------------------------------ */

/* Whether verifier's S256 is challenge (RFC 7636 section 4.6). */
static bool pkce_ok(const char *verifier, const char *challenge)
{
	unsigned char h[SECRET_SHA256_LEN];
	char enc[OAUTH_CHALLENGE_LEN + 1];
	size_t n = strlen(verifier);

	if (n < VERIFIER_MIN || n > VERIFIER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((verifier[i] >= '0' && verifier[i] <= '9') ||
		        (verifier[i] >= 'a' && verifier[i] <= 'z') ||
		        (verifier[i] >= 'A' && verifier[i] <= 'Z') ||
		        strchr("-._~", verifier[i]) != NULL))
			return false;
	return secret_sha256(verifier, n, h) == 0 &&
	    secret_b64url_encode(h, sizeof(h), enc, sizeof(enc)) ==
	    OAUTH_CHALLENGE_LEN &&
	    secret_equal(enc, challenge, OAUTH_CHALLENGE_LEN);
}

/* A code that could not be claimed: why; a second use revokes what the
 * first gave. */
static void code_refused(const struct router_call *call, struct http_resp *r,
    const char *hash)
{
	const char *params[1] = {hash};
	PGresult *res = NULL;
	enum db_rc rc = db_exec(auth_g.db, Q_OAUTH_CODE_LOOKUP, params, &res);

	if (rc != DB_OK) {
		auth_db_failed(call, r, rc, res);
		return;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
		const char *fam[1] = {PQgetvalue(res, 0, 4)};
		PGresult *fres = NULL;
		struct json_object *d = json_object_new_object();

		(void)db_exec(auth_g.db, Q_REFRESH_REVOKE_FAM, fam, &fres);
		PQclear(fres);
		if (PQgetvalue(res, 0, 5)[0] != '\0')
			(void)auth_jti_revoke(PQgetvalue(res, 0, 5),
			    PQgetvalue(res, 0, 1),
			    strtoll(PQgetvalue(res, 0, 6), NULL, 10));
		if (d != NULL)
			json_object_object_add(d, "client_id",
			    json_object_new_string(PQgetvalue(res, 0, 0)));
		audit_record(call, "oauth.code_reuse", AUDIT_DENIED,
		    "code_reused", PQgetvalue(res, 0, 1), NULL, d);
		refuse(call, r, "invalid_grant", "code_reused",
		    "The code was used already; the tokens issued from it "
		    "are revoked.");
	} else if (PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
		refuse(call, r, "invalid_grant", "code_expired",
		    "The code has expired.");
	} else {
		refuse(call, r, "invalid_grant", "unknown_code",
		    "The code is not known (or not this client's).");
	}
	PQclear(res);
}

/* What a claimed code (row 0 of res) still needs: an active user, the
 * verifier, the same redirect URI and resource. NULL when fine, else
 * the reason, with the error in *error and a sentence in *desc. */
static const char *code_check(const struct router_call *call, PGresult *res,
    const char *verifier, const char **error, const char **desc)
{
	char uri[OAUTH_URI_MAX + 2], resource[OAUTH_URL_MAX];
	ssize_t n = field(call, "redirect_uri", uri, sizeof(uri));
	ssize_t k = field(call, "resource", resource, sizeof(resource));

	*error = "invalid_grant";
	*desc = "The account is not active.";
	if (strcmp(PQgetvalue(res, 0, 3), "active") != 0)
		return "account_inactive";
	*desc = "The code_verifier does not match the code_challenge.";
	if (!pkce_ok(verifier, PQgetvalue(res, 0, 6)))
		return "bad_code_verifier";
	*desc = "redirect_uri is not the one of the authorization request.";
	if (n == -2 || (n == -1 && strcmp(PQgetvalue(res, 0, 5), "t") == 0) ||
	    (n >= 0 && strcmp(uri, PQgetvalue(res, 0, 4)) != 0))
		return "redirect_uri_mismatch";
	*error = "invalid_target";
	*desc = "resource is not the one of the authorization request.";
	if (k == -2 || (k >= 0 && strcmp(resource, PQgetvalue(res, 0, 8)) != 0))
		return "resource_mismatch";
	return NULL;
}

/* Tokens for a claimed code: a refresh token in the code's family (when
 * the client may refresh), then the access token with the claimed jti. */
static void code_redeem(const struct router_call *call, struct http_resp *r,
    const struct oauth_client *c, PGresult *res, const char *jti)
{
	char refresh[AUTH_REFRESH_LEN + 1], hash[AUTH_BYTEA_HEX_LEN], ttl[24];
	const char *params[7] = {PQgetvalue(res, 0, 0), hash, ttl,
	    PQgetvalue(res, 0, 9), c->id, PQgetvalue(res, 0, 8), OAUTH_SCOPE};
	struct grant g = {"authorization_code", PQgetvalue(res, 0, 0),
	    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 8),
	    c->id, jti};
	PGresult *rres = NULL;
	enum db_rc rc;

	if ((c->grants & OAUTH_GRANT_REFRESH) == 0) {
		send_token(call, r, &g, NULL);
		return;
	}
	if (auth_refresh_new(refresh, hash) != 0) {
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	(void)snprintf(ttl, sizeof(ttl), "%lld",
	    (long long)(auth_g.ctx->cfg->refresh_token_ttl / 1000));
	rc = db_exec(auth_g.db, Q_OAUTH_REFRESH_INSERT, params, &rres);
	if (rc != DB_OK)
		auth_db_failed(call, r, rc, rres);
	else
		send_token(call, r, &g, refresh);
	if (rc == DB_OK)
		PQclear(rres);
	secret_wipe(refresh, sizeof(refresh));
}

static void grant_code(const struct router_call *call, struct http_resp *r,
    const struct oauth_client *c)
{
	char code[OAUTH_SECRET_LEN + 2], verifier[VERIFIER_MAX + 2];
	char hash[AUTH_BYTEA_HEX_LEN], jti[AUTH_JTI_LEN + 1], exp[24];
	const char *params[4] = {hash, c->id, jti, exp}, *reason, *error, *desc;
	PGresult *res = NULL;
	enum db_rc rc;

	if ((c->grants & OAUTH_GRANT_CODE) == 0) {
		refuse(call, r, "unauthorized_client", "grant_not_registered",
		    "The client did not register the authorization_code "
		    "grant.");
		return;
	}
	if (field(call, "code", code, sizeof(code)) < 0 ||
	    field(call, "code_verifier", verifier, sizeof(verifier)) < 0) {
		refuse(call, r, "invalid_request", "missing_field",
		    "Give code and code_verifier.");
		goto out;
	}
	if (secret_sha256_bytea(code, strlen(code), hash) != 0 ||
	    secret_random_base62(jti, AUTH_JTI_LEN) != 0) {
		http_resp_error(r, 500, NULL, call->request_id);
		goto out;
	}
	jti[AUTH_JTI_LEN] = '\0';
	(void)snprintf(exp, sizeof(exp), "%lld",
	    (long long)time(NULL) + auth_g.ctx->cfg->access_token_ttl / 1000);
	rc = db_exec(auth_g.db, Q_OAUTH_CODE_CLAIM, params, &res);
	if (rc != DB_OK) {
		auth_db_failed(call, r, rc, res);
		goto out;
	}
	if (PQntuples(res) != 1)
		code_refused(call, r, hash);
	else if ((reason = code_check(call, res, verifier, &error, &desc)) !=
	    NULL)
		refuse(call, r, error, reason, desc);
	else
		code_redeem(call, r, c, res, jti);
	PQclear(res);
out:
	secret_wipe(code, sizeof(code));
	secret_wipe(verifier, sizeof(verifier));
}

/* ---- refresh_token, client_credentials --------------------------- */

/* scope and resource of a refresh or client_credentials request: false
 * after answering. */
static bool scope_resource_ok(const struct router_call *call,
    struct http_resp *r, char resource[OAUTH_URL_MAX])
{
	char scope[128], given[OAUTH_URL_MAX];
	ssize_t n = field(call, "scope", scope, sizeof(scope));
	ssize_t k = field(call, "resource", given, sizeof(given));

	if (n == -2 || (n >= 0 && !oauth_scope_ok(scope))) {
		refuse(call, r, "invalid_scope", "invalid_scope",
		    "The only scope is mcp.");
		return false;
	}
	if (oauth_resource_url(call, resource, OAUTH_URL_MAX) != 0 || k == -2 ||
	    (k >= 0 && strcmp(given, resource) != 0)) {
		refuse(call, r, "invalid_target", "invalid_target",
		    "resource must be this server's MCP endpoint.");
		return false;
	}
	return true;
}

/* A refresh token that could not be spent by client c: why; a spent one
 * presented again revokes its family. */
static void refresh_refused(const struct router_call *call, struct http_resp *r,
    const struct oauth_client *c, const char *hash)
{
	const char *params[1] = {hash}, *reason = "invalid_refresh_token";
	PGresult *res = NULL;
	enum db_rc rc = db_exec(auth_g.db, Q_REFRESH_LOOKUP, params, &res);

	if (rc != DB_OK) {
		auth_db_failed(call, r, rc, res);
		return;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 6) ||
	    strcmp(PQgetvalue(res, 0, 6), c->id) != 0) {
		reason = "invalid_refresh_token";
	} else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
		const char *fam[1] = {PQgetvalue(res, 0, 1)};
		PGresult *fres = NULL;

		(void)db_exec(auth_g.db, Q_REFRESH_REVOKE_FAM, fam, &fres);
		PQclear(fres);
		audit_record(call, "oauth.refresh_reuse", AUDIT_DENIED,
		    "refresh_token_reused", PQgetvalue(res, 0, 0), NULL, NULL);
		reason = "refresh_token_reused";
	} else if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
		reason = "refresh_token_revoked";
	} else if (strcmp(PQgetvalue(res, 0, 4), "t") == 0) {
		reason = "refresh_token_expired";
	} else {
		reason = "account_inactive";
	}
	refuse(call, r, "invalid_grant", reason,
	    "The refresh token is not valid (unknown, spent, revoked, expired, "
	    "or its account is not active).");
	PQclear(res);
}

static void grant_refresh(const struct router_call *call, struct http_resp *r,
    const struct oauth_client *c)
{
	char tok[AUTH_REFRESH_LEN + 2], fresh[AUTH_REFRESH_LEN + 1], ttl[24];
	char old_h[AUTH_BYTEA_HEX_LEN], fresh_h[AUTH_BYTEA_HEX_LEN];
	char resource[OAUTH_URL_MAX];
	const char *params[4] = {old_h, fresh_h, ttl, c->id};
	PGresult *res = NULL;
	enum db_rc rc;

	if ((c->grants & OAUTH_GRANT_REFRESH) == 0) {
		refuse(call, r, "unauthorized_client", "grant_not_registered",
		    "The client did not register the refresh_token grant.");
		return;
	}
	if (field(call, "refresh_token", tok, sizeof(tok)) !=
	        AUTH_REFRESH_LEN ||
	    strncmp(tok, "rt_", 3) != 0) {
		refuse(call, r, "invalid_grant", "invalid_refresh_token",
		    "The refresh token is malformed.");
		goto out;
	}
	if (!scope_resource_ok(call, r, resource))
		goto out;
	if (secret_sha256_bytea(tok, AUTH_REFRESH_LEN, old_h) != 0 ||
	    auth_refresh_new(fresh, fresh_h) != 0) {
		http_resp_error(r, 500, NULL, call->request_id);
		goto out;
	}
	(void)snprintf(ttl, sizeof(ttl), "%lld",
	    (long long)(auth_g.ctx->cfg->refresh_token_ttl / 1000));
	rc = db_exec(auth_g.db, Q_OAUTH_REFRESH_ROTATE, params, &res);
	if (rc == DB_UNAVAILABLE) {
		auth_unavailable(call, r);
	} else if (rc == DB_OK && PQntuples(res) == 1) {
		struct grant g = {"refresh_token", PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
		    PQgetvalue(res, 0, 3), c->id, NULL};

		send_token(call, r, &g, fresh);
	} else {
		/* Not spendable, or spent by a racing refresh (a unique
		 * violation): find out which. */
		refresh_refused(call, r, c, old_h);
	}
	PQclear(res);
out:
	secret_wipe(tok, sizeof(tok));
	secret_wipe(fresh, sizeof(fresh));
}

static void grant_client(const struct router_call *call, struct http_resp *r,
    const struct oauth_client *c)
{
	char resource[OAUTH_URL_MAX];
	struct grant g = {"client_credentials", c->owner_id, c->owner_email,
	    c->owner_role, resource, c->id, NULL};

	if (c->method == OAUTH_AUTH_NONE ||
	    (c->grants & OAUTH_GRANT_CLIENT) == 0) {
		refuse(call, r, "unauthorized_client", "grant_not_registered",
		    "Only a confidential client that registered "
		    "client_credentials may use it.");
		return;
	}
	if (c->owner_id[0] == '\0' || !c->owner_active) {
		refuse(call, r, "invalid_grant", "account_inactive",
		    "The account that owns this client is not active.");
		return;
	}
	if (scope_resource_ok(call, r, resource))
		send_token(call, r, &g, NULL);
}

void oauth_h_token(const struct router_call *call, struct http_resp *r)
{
	char grant[40];
	struct oauth_client c;

	memset(&c, 0, sizeof(c));
	if (!router_content_type_is(call,
	        "application/x-www-form-urlencoded")) {
		refuse(call, r, "invalid_request", "unsupported_media_type",
		    "Send the form as application/x-www-form-urlencoded.");
		return;
	}
	if (field(call, "grant_type", grant, sizeof(grant)) < 0) {
		refuse(call, r, "invalid_request", "missing_field",
		    "Give grant_type.");
		return;
	}
	if (strcmp(grant, "authorization_code") != 0 &&
	    strcmp(grant, "refresh_token") != 0 &&
	    strcmp(grant, "client_credentials") != 0) {
		refuse(call, r, "unsupported_grant_type",
		    "unsupported_grant_type",
		    "grant_type is authorization_code, refresh_token or "
		    "client_credentials.");
		return;
	}
	if (!client_auth(call, r, &c))
		goto out;
	if (strcmp(grant, "authorization_code") == 0)
		grant_code(call, r, &c);
	else if (strcmp(grant, "refresh_token") == 0)
		grant_refresh(call, r, &c);
	else
		grant_client(call, r, &c);
out:
	oauth_client_free(&c);
}
