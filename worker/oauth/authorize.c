/*
 * authorize.c - the authorization endpoint (GET and POST
 * /oauth2/authorize): who the user is, whether they allow the client,
 * and the single-use code that says so.
 *
 * Runs in worker processes. A request is checked in two steps (RFC 6749
 * section 4.1.2.1): until its client and redirect URI are known to be
 * registered together, an error is a page here, never a redirect (else
 * anyone could bounce a browser anywhere); after that, errors go back to
 * the client as ?error=...&state=...&iss=.... PKCE is required, S256
 * only; the only scope is "mcp"; a resource, when named, must be this
 * server's MCP endpoint.
 *
 * Who the user is: a first-party access token in Authorization (a
 * headless client, or a test: its holder may act as the user anyway, so
 * the code comes at once); else the browser's session cookie, set after
 * a sign-in on the page (HttpOnly, SameSite=Lax, Path=/oauth2/, Secure
 * over TLS; only its hash is stored, and it lives refresh_token_ttl); a
 * signed-in user who allowed this client before is sent back at once,
 * else is asked once more. The sign-in reuses the login of
 * worker/auth/account.c, so pending and suspended accounts are refused
 * the same way and every attempt is audited (auth.login).
 *
 * The forms carry a CSRF token that must equal a cookie of the same
 * browser (SameSite=Strict, HttpOnly): another site can neither read nor
 * set it, so it cannot post a sign-in or an approval for the user.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "log.h"
#include "oauth_int.h"
#include "secret.h"

#define SESSION_COOKIE "pacer_oauth_session"
#define CSRF_COOKIE "pacer_oauth_csrf"

/* The value of cookie name in the Cookie field into out (outlen bytes):
 * true, or false when absent, empty or too long. */
static bool cookie_get(const struct router_call *call, const char *name,
    char *out, size_t outlen)
{
	size_t n = strlen(name);
	struct http_slice s;
	const char *p, *end;

	if (!http_header_get(call->req, call->buf, "Cookie", &s))
		return false;
	p = call->buf + s.off;
	end = p + s.len;
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi != NULL ? semi : end;

		while (p < stop && *p == ' ')
			p++;
		if ((size_t)(stop - p) > n + 1 && strncmp(p, name, n) == 0 &&
		    p[n] == '=') {
			size_t vl = (size_t)(stop - p) - n - 1;

			if (vl >= outlen)
				return false;
			memcpy(out, p + n + 1, vl);
			out[vl] = '\0';
			return true;
		}
		p = stop + 1;
	}
	return false;
}

/* Whether s is n base62 characters after prefix (may be ""). */
static bool token_shaped(const char *s, const char *prefix, size_t n)
{
	size_t pl = strlen(prefix);

	if (strlen(s) != n || strncmp(s, prefix, pl) != 0)
		return false;
	for (size_t i = pl; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

/* Set-Cookie for path /oauth2/, HttpOnly, with same_site; Secure over
 * TLS or behind an https public_url; max_age 0: a session cookie. */
static void set_cookie(const struct router_call *call, struct http_resp *r,
    const char *name, const char *value, const char *same_site, int64_t max_age)
{
	const char *pub = auth_g.ctx->cfg->public_url;
	bool secure =
	    call->tls || (pub != NULL && strncasecmp(pub, "https://", 8) == 0);
	char v[256], age[40];

	age[0] = '\0';
	if (max_age > 0)
		(void)snprintf(age, sizeof(age), "; Max-Age=%lld",
		    (long long)max_age);
	(void)snprintf(v, sizeof(v),
	    "%s=%s; Path=/oauth2/%s; HttpOnly; "
	    "SameSite=%s%s",
	    name, value, age, same_site, secure ? "; Secure" : "");
	if (http_resp_header(r, "Set-Cookie", v) != 0)
		log_errx("request %s: could not set cookie %s",
		    call->request_id, name);
}

/* The browser's CSRF token: its cookie's, or a new one (set now). */
static int csrf_token(const struct router_call *call, struct http_resp *r,
    char out[OAUTH_CSRF_LEN + 1])
{
	if (cookie_get(call, CSRF_COOKIE, out, OAUTH_CSRF_LEN + 1) &&
	    token_shaped(out, "", OAUTH_CSRF_LEN))
		return 0;
	if (secret_random_base62(out, OAUTH_CSRF_LEN) != 0)
		return -1;
	out[OAUTH_CSRF_LEN] = '\0';
	set_cookie(call, r, CSRF_COOKIE, out, "Strict", 0);
	return 0;
}

/* 302 to q's redirect URI with k1=v1 (and k2=v2 unless k2 is NULL),
 * state when the request had one, and iss (RFC 9207). */
static void redirect(const struct router_call *call, struct http_resp *r,
    const struct oauth_areq *q, const char *k1, const char *v1, const char *k2,
    const char *v2)
{
	const char *keys[4] = {k1, k2, q->has_state ? "state" : NULL, "iss"};
	const char *vals[4] = {v1, v2, q->state, q->base};
	char part[OAUTH_STATE_MAX + OAUTH_URL_MAX + 32], *url = NULL;
	CURLU *u = curl_url();
	bool ok = u != NULL &&
	    curl_url_set(u, CURLUPART_URL, q->redirect_uri, 0) == CURLUE_OK;

	for (int i = 0; ok && i < 4; i++) {
		int k;

		if (keys[i] == NULL)
			continue;
		k = snprintf(part, sizeof(part), "%s=%s", keys[i], vals[i]);
		ok = k > 0 && (size_t)k < sizeof(part) &&
		    curl_url_set(u, CURLUPART_QUERY, part,
		        CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK;
	}
	ok = ok && curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK;
	if (!ok || http_resp_header(r, "Location", url) != 0) {
		log_errx("request %s: could not build the redirect to the "
		         "client",
		    call->request_id);
		http_resp_error(r, 500, NULL, call->request_id);
	} else {
		(void)http_resp_header(r, "Cache-Control", "no-store");
		(void)http_resp_set(r, 302, NULL, "", 0);
	}
	if (url != NULL)
		secret_wipe(url, strlen(url));
	curl_free(url);
	curl_url_cleanup(u);
}

/* The first step: the issuer, the client and its redirect URI. false
 * after answering (an error page, 503 or 500). */
static bool areq_client(const struct router_call *call, struct http_resp *r,
    const char *src, size_t len, struct oauth_areq *q, struct oauth_client *c)
{
	const char *sole;
	ssize_t n;
	int st;

	if (oauth_base_url(call, q->base, sizeof(q->base)) != 0 ||
	    oauth_resource_url(call, q->resource, sizeof(q->resource)) != 0) {
		oauth_page_error(call, r, 400,
		    "The request's Host field is not a host name.");
		return false;
	}
	if (oauth_param(src, len, "client_id", q->client_id,
	        sizeof(q->client_id)) < 0 ||
	    (st = oauth_client_get(q->client_id, c)) == 404) {
		oauth_page_error(call, r, 400,
		    "The application (client_id) is not registered here.");
		return false;
	}
	if (st != 0) {
		if (st == 503)
			auth_unavailable(call, r);
		else
			http_resp_error(r, 500, NULL, call->request_id);
		return false;
	}
	n = oauth_param(src, len, "redirect_uri", q->redirect_uri,
	    sizeof(q->redirect_uri));
	if (n == -1 && (sole = oauth_client_sole_redirect(c)) != NULL &&
	    strlen(sole) < sizeof(q->redirect_uri)) {
		memcpy(q->redirect_uri, sole, strlen(sole) + 1);
		return true;
	}
	if (n < 0 || !oauth_client_redirect_ok(c, q->redirect_uri)) {
		oauth_page_error(call, r, 400,
		    "The redirect URI is not one the application registered.");
		return false;
	}
	q->redirect_sent = true;
	return true;
}

/* Whether s is a PKCE S256 challenge: 43 base64url characters. */
static bool challenge_shaped(const char *s)
{
	if (strlen(s) != OAUTH_CHALLENGE_LEN)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		        (*s >= 'A' && *s <= 'Z') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* The rest of the request: NULL when fine, else the error code with a
 * sentence in *desc. */
static const char *areq_check(const char *src, size_t len, struct oauth_areq *q,
    const struct oauth_client *c, const char **desc)
{
	char type[16], method[16];
	ssize_t n = oauth_param(src, len, "state", q->state, sizeof(q->state));

	q->has_state = n >= 0;
	*desc = "state is repeated or too long.";
	if (n == -2)
		return "invalid_request";
	*desc = "The client did not register the authorization_code grant.";
	if ((c->grants & OAUTH_GRANT_CODE) == 0)
		return "unauthorized_client";
	*desc = "response_type must be code.";
	if (oauth_param(src, len, "response_type", type, sizeof(type)) < 0 ||
	    strcmp(type, "code") != 0)
		return "unsupported_response_type";
	*desc = "A PKCE code_challenge (S256) is required.";
	if (oauth_param(src, len, "code_challenge", q->challenge,
	        sizeof(q->challenge)) < 0 ||
	    !challenge_shaped(q->challenge))
		return "invalid_request";
	*desc = "code_challenge_method must be S256.";
	if (oauth_param(src, len, "code_challenge_method", method,
	        sizeof(method)) < 0 ||
	    strcmp(method, "S256") != 0)
		return "invalid_request";
	*desc = "The only scope is mcp.";
	n = oauth_param(src, len, "scope", q->scope, sizeof(q->scope));
	if (n == -2 || (n >= 0 && !oauth_scope_ok(q->scope)))
		return "invalid_scope";
	*desc = "resource must be this server's MCP endpoint.";
	n = oauth_param(src, len, "resource", q->resource_arg,
	    sizeof(q->resource_arg));
	if (n == -2 || (n >= 0 && strcmp(q->resource_arg, q->resource) != 0))
		return "invalid_target";
	return NULL;
}

/* The whole request, from a query (GET) or a form (POST). */
static bool areq_read(const struct router_call *call, struct http_resp *r,
    const char *src, size_t len, struct oauth_areq *q, struct oauth_client *c)
{
	const char *err, *desc = NULL;

	memset(q, 0, sizeof(*q));
	memset(c, 0, sizeof(*c));
	if (!areq_client(call, r, src, len, q, c))
		return false;
	if ((err = areq_check(src, len, q, c, &desc)) == NULL)
		return true;
	/* From here on the client is known: errors go back to it. */
	redirect(call, r, q, "error", err, "error_description", desc);
	return false;
}

/* The user allowed: a code (and the consent, in the same statement),
 * and back to the client with it. */
static void issue_code(const struct router_call *call, struct http_resp *r,
    const struct oauth_areq *q, const struct oauth_client *c,
    const char *user_id)
{
	char code[OAUTH_SECRET_LEN + 1], hash[AUTH_BYTEA_HEX_LEN], ttl[24];
	const char *params[9] = {hash, c->id, user_id, q->redirect_uri,
	    q->redirect_sent ? "true" : "false", q->challenge, OAUTH_SCOPE,
	    q->resource, ttl};
	struct json_object *d;
	PGresult *res = NULL;
	enum db_rc rc;

	if (oauth_new_secret("ac_", code, hash) != 0) {
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	(void)snprintf(ttl, sizeof(ttl), "%lld",
	    (long long)(auth_g.ctx->cfg->oauth_code_ttl / 1000));
	rc = db_exec(auth_g.db, Q_OAUTH_CODE_INSERT, params, &res);
	if (rc != DB_OK) {
		auth_db_failed(call, r, rc, res);
		secret_wipe(code, sizeof(code));
		return;
	}
	PQclear(res);
	if ((d = json_object_new_object()) != NULL)
		json_object_object_add(d, "client_id",
		    json_object_new_string(c->id));
	audit_record(call, "oauth.authorize", AUDIT_SUCCESS, NULL, user_id,
	    NULL, d);
	redirect(call, r, q, "code", code, NULL, NULL);
	secret_wipe(code, sizeof(code));
}

/* A browser signed in: a session, its cookie. A failure only costs the
 * user a sign-in next time. */
static void session_start(const struct router_call *call, struct http_resp *r,
    const char *user_id)
{
	char sid[OAUTH_SECRET_LEN + 1], hash[AUTH_BYTEA_HEX_LEN], ttl[24];
	const char *params[3] = {hash, user_id, ttl};
	int64_t secs = auth_g.ctx->cfg->refresh_token_ttl / 1000;
	PGresult *res = NULL;
	enum db_rc rc;

	if (oauth_new_secret("os_", sid, hash) != 0)
		return;
	(void)snprintf(ttl, sizeof(ttl), "%lld", (long long)secs);
	rc = db_exec(auth_g.db, Q_OAUTH_SESSION_INSERT, params, &res);
	if (rc == DB_OK)
		set_cookie(call, r, SESSION_COOKIE, sid, "Lax", secs);
	else
		log_warnx("request %s: could not store a browser session: %s",
		    call->request_id,
		    rc == DB_UNAVAILABLE ? "database unavailable"
		                         : PQresultErrorMessage(res));
	PQclear(res);
	secret_wipe(sid, sizeof(sid));
}

/* The active user this browser's session cookie names, and whether they
 * allowed client c before: 1 with *u, 0 for none, or 503 / 500. */
static int session_user(const struct router_call *call,
    const struct oauth_client *c, struct auth_login *u, bool *consented)
{
	char sid[OAUTH_SECRET_LEN + 1], hash[AUTH_BYTEA_HEX_LEN];
	const char *params[2] = {hash, c->id};
	PGresult *res = NULL;
	enum db_rc rc;
	int st = 0;

	bool have;

	*consented = false;
	have = cookie_get(call, SESSION_COOKIE, sid, sizeof(sid)) &&
	    token_shaped(sid, "os_", OAUTH_SECRET_LEN) &&
	    secret_sha256_bytea(sid, OAUTH_SECRET_LEN, hash) == 0;
	secret_wipe(sid, sizeof(sid));
	if (!have)
		return 0;
	rc = db_exec(auth_g.db, Q_OAUTH_SESSION_GET, params, &res);
	if (rc != DB_OK) {
		if (rc == DB_ERROR)
			log_errx("request %s: could not read a session: %s",
			    call->request_id, PQresultErrorMessage(res));
		PQclear(res);
		return rc == DB_UNAVAILABLE ? 503 : 500;
	}
	if (PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 3), "active") == 0) {
		(void)snprintf(u->id, sizeof(u->id), "%s",
		    PQgetvalue(res, 0, 0));
		(void)snprintf(u->email, sizeof(u->email), "%s",
		    PQgetvalue(res, 0, 1));
		(void)snprintf(u->role, sizeof(u->role), "%s",
		    PQgetvalue(res, 0, 2));
		*consented = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
		st = 1;
	}
	PQclear(res);
	return st;
}

/* 503 or 500 for a status of session_user or the login. */
static void trouble(const struct router_call *call, struct http_resp *r, int st)
{
	if (st == 503)
		auth_unavailable(call, r);
	else
		http_resp_error(r, 500, NULL, call->request_id);
}

/* The page: sign in, or (signed in) allow; with the CSRF token. */
static void page(const struct router_call *call, struct http_resp *r,
    int status, enum oauth_page_kind kind, const struct oauth_areq *q,
    const struct oauth_client *c, const char *email, const char *notice)
{
	char csrf[OAUTH_CSRF_LEN + 1];

	if (csrf_token(call, r, csrf) != 0) {
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	oauth_page_form(call, r, status, kind, q, c, csrf, email, notice);
}

void oauth_h_authorize(const struct router_call *call, struct http_resp *r)
{
	const char *qs = call->buf + call->req->query.off;
	struct oauth_areq q;
	struct oauth_client c;
	struct auth_login u;
	bool consented = false;
	int st;

	if (!areq_read(call, r, qs, call->req->query.len, &q, &c))
		goto out;
	if (call->who != NULL) {
		if (call->who->via != AUTH_VIA_JWT)
			auth_refuse(call, r, 403, "access_token_required",
			    "Sign in with an access token or in the browser; "
			    "an API key cannot authorize a client.");
		else
			issue_code(call, r, &q, &c, call->who->user_id);
		goto out;
	}
	st = session_user(call, &c, &u, &consented);
	if (st == 1 && consented)
		issue_code(call, r, &q, &c, u.id);
	else if (st == 1)
		page(call, r, 200, OAUTH_PAGE_CONSENT, &q, &c, u.email, NULL);
	else if (st == 0)
		page(call, r, 200, OAUTH_PAGE_LOGIN, &q, &c, NULL, NULL);
	else
		trouble(call, r, st);
out:
	oauth_client_free(&c);
}

/* The sign-in form: the password, then a session and a code. */
static void form_login(const struct router_call *call, struct http_resp *r,
    const struct oauth_areq *q, const struct oauth_client *c)
{
	char email[AUTH_EMAIL_MAX + 2], pw[AUTH_PASSWORD_MAX + 2];
	const char *reason = NULL, *message = NULL;
	struct auth_login u;
	ssize_t e, p;
	int st;

	e = oauth_param(call->body, call->body_len, "email", email,
	    sizeof(email));
	p = oauth_param(call->body, call->body_len, "password", pw, sizeof(pw));
	if (e < 0 || p < 0) {
		page(call, r, 400, OAUTH_PAGE_LOGIN, q, c,
		    e >= 0 ? email : NULL, "Give your email and password.");
		secret_wipe(pw, sizeof(pw));
		return;
	}
	st = auth_login_check(call, email, pw, &u, &reason, &message);
	secret_wipe(pw, sizeof(pw));
	if (st == 0) {
		session_start(call, r, u.id);
		issue_code(call, r, q, c, u.id);
	} else if (st == 401 || st == 403) {
		page(call, r, st, OAUTH_PAGE_LOGIN, q, c, email, message);
	} else {
		trouble(call, r, st);
	}
}

/* The consent form of a signed-in browser. */
static void form_allow(const struct router_call *call, struct http_resp *r,
    const struct oauth_areq *q, const struct oauth_client *c)
{
	struct auth_login u;
	bool consented;
	int st = session_user(call, c, &u, &consented);

	if (st == 1)
		issue_code(call, r, q, c, u.id);
	else if (st == 0)
		page(call, r, 200, OAUTH_PAGE_LOGIN, q, c, NULL,
		    "Your sign-in has expired; sign in again.");
	else
		trouble(call, r, st);
}

/* Whether the form's CSRF token is this browser's. */
static bool csrf_ok(const struct router_call *call)
{
	char cookie[OAUTH_CSRF_LEN + 2], field[OAUTH_CSRF_LEN + 2];

	return cookie_get(call, CSRF_COOKIE, cookie, sizeof(cookie)) &&
	    oauth_param(call->body, call->body_len, "csrf", field,
	        sizeof(field)) == OAUTH_CSRF_LEN &&
	    token_shaped(cookie, "", OAUTH_CSRF_LEN) &&
	    secret_equal(cookie, field, OAUTH_CSRF_LEN);
}

void oauth_h_authorize_form(const struct router_call *call, struct http_resp *r)
{
	struct oauth_areq q;
	struct oauth_client c;
	char action[16];

	memset(&c, 0, sizeof(c));
	if (!router_content_type_is(call,
	        "application/x-www-form-urlencoded")) {
		oauth_page_error(call, r, 415,
		    "The form must be sent as "
		    "application/x-www-form-urlencoded.");
		return;
	}
	if (!areq_read(call, r, call->body, call->body_len, &q, &c))
		goto out;
	if (!csrf_ok(call)) {
		oauth_page_error(call, r, 400,
		    "The form expired or did not come from this server's "
		    "page.");
		goto out;
	}
	if (oauth_param(call->body, call->body_len, "action", action,
	        sizeof(action)) >= 0 &&
	    strcmp(action, "deny") == 0) {
		redirect(call, r, &q, "error", "access_denied",
		    "error_description", "The user denied access.");
		goto out;
	}
	if (oauth_param(call->body, call->body_len, "email", action, 2) != -1 ||
	    oauth_param(call->body, call->body_len, "password", action, 2) !=
	        -1)
		form_login(call, r, &q, &c);
	else
		form_allow(call, r, &q, &c);
out:
	oauth_client_free(&c);
}
