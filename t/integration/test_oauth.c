/*
 * test_oauth.c - the OAuth 2.1 authorization server for MCP clients,
 * through a running pacerd: the metadata documents, dynamic client
 * registration and its redirect-URI rules, the authorization endpoint
 * (its page, its CSP and escaping, errors as pages or as redirects, a
 * first-party token's immediate code, the sign-in form, the browser
 * session, consent and denial), the token endpoint (codes with PKCE,
 * single use and expiry, refresh rotation and reuse, client_credentials
 * with both secret methods), the audience binding of the gate on MCP
 * routes, and that no secret reaches the server's log.
 *
 * The MCP route used here is the debug route POST /debug/mcp-gate
 * (ROUTER_AUTH_MCP), which answers who the gate let through.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "secret.h"
#include "tdb.h"
#include "thttp.h"
#include "tsecret.h"
#include "tserver.h"
#include "tuser.h"

#define FORM "Content-Type: application/x-www-form-urlencoded"
#define REDIRECT "http://127.0.0.1:33418/callback"

static struct ts srv;
static char base[128];

static void fini(void)
{
	ts_fini(&srv);
	tsecret_forget();
}

static void start(const char *extra)
{
	ts_start_conf(&srv, "rate_limit_auth = 1000\ndebug_routes = on\n",
	    extra);
	(void)snprintf(base, sizeof(base), "http://127.0.0.1:%d", srv.port);
}

static char *sql(const char *q, const char *p1, const char *p2)
{
	return tdb_value(tdb_url(), q, p1, p2);
}

static long long sql_int(const char *q, const char *p1, const char *p2)
{
	return tdb_int(tdb_url(), q, p1, p2);
}

/* ------------------------------------------------------------ helpers */

/* Register, activate and log in; the log must not show u's secrets. */
static void active_user(struct tuser *u, const char *tag)
{
	tuser_active(srv.port, tdb_url(), u, tag, NULL);
	tsecret_keep_user(u);
}

/* Percent-encoding of s into out. */
static void enc(const char *s, char *out, size_t n)
{
	char *e = curl_easy_escape(NULL, s, 0);

	cr_assert(e != NULL);
	cr_assert(strlen(e) < n);
	memcpy(out, e, strlen(e) + 1);
	curl_free(e);
}

/* A PKCE verifier and its S256 challenge. */
static void pkce(char verifier[51], char challenge[44])
{
	unsigned char h[SECRET_SHA256_LEN];

	cr_assert(eq(int, secret_random_base62(verifier, 50), 0));
	verifier[50] = '\0';
	cr_assert(eq(int, secret_sha256(verifier, 50, h), 0));
	cr_assert(eq(long,
	    (long)secret_b64url_encode(h, sizeof(h), challenge, 44), 43L));
	tsecret_keep(verifier);
}

/* POST /oauth2/register with json (and a bearer when not NULL). */
static int reg(const char *json, const char *bearer, struct th_resp *r)
{
	return th_json_req(srv.port, "POST", "/oauth2/register", bearer, json,
	    r);
}

/* A public client with redirect REDIRECT, named name; its id in id. */
static void public_client(const char *name, char id[64])
{
	struct json_object *o = json_object_new_object(), *uris, *g;
	struct th_resp r;

	uris = json_object_new_array();
	g = json_object_new_array();
	json_object_array_add(uris, json_object_new_string(REDIRECT));
	json_object_array_add(g, json_object_new_string("authorization_code"));
	json_object_array_add(g, json_object_new_string("refresh_token"));
	json_object_object_add(o, "client_name", json_object_new_string(name));
	json_object_object_add(o, "redirect_uris", uris);
	json_object_object_add(o, "grant_types", g);
	json_object_object_add(o, "token_endpoint_auth_method",
	    json_object_new_string("none"));
	cr_assert(eq(int, reg(json_object_to_json_string(o), NULL, &r), 201),
	    "%s", r.body);
	json_object_put(o);
	o = th_body(&r);
	(void)snprintf(id, 64, "%s", th_str(o, "client_id"));
	json_object_put(o);
	th_free(&r);
}

/* The path and query of an authorization request; NULL values are left
 * out; then tail, or (NULL) scope=mcp and this server's resource. */
static void query_tail(char *out, size_t n, const char *client_id,
    const char *redirect, const char *challenge, const char *method,
    const char *state, const char *tail)
{
	char e1[512], e2[512], e3[256];
	struct buf b;

	buf_init_fixed(&b, out, n);
	(void)buf_printf(&b, "/oauth2/authorize?response_type=code");
	if (client_id != NULL)
		(void)buf_printf(&b, "&client_id=%s", client_id);
	if (redirect != NULL) {
		enc(redirect, e1, sizeof(e1));
		(void)buf_printf(&b, "&redirect_uri=%s", e1);
	}
	if (challenge != NULL)
		(void)buf_printf(&b, "&code_challenge=%s", challenge);
	if (method != NULL)
		(void)buf_printf(&b, "&code_challenge_method=%s", method);
	if (state != NULL) {
		enc(state, e2, sizeof(e2));
		(void)buf_printf(&b, "&state=%s", e2);
	}
	enc(base, e3, sizeof(e3));
	if (tail != NULL)
		(void)buf_puts(&b, tail);
	else
		(void)buf_printf(&b, "&scope=mcp&resource=%s%%2Fmcp", e3);
	cr_assert(not(b.overflow));
}

static void query(char *out, size_t n, const char *client_id,
    const char *redirect, const char *challenge, const char *method,
    const char *state)
{
	query_tail(out, n, client_id, redirect, challenge, method, state, NULL);
}

/* GET path, with an Authorization: Bearer and/or a Cookie field. */
static int get(const char *path, const char *bearer, const char *cookie,
    struct th_resp *r)
{
	char a[4200], c[600];
	const char *h[3] = {NULL, NULL, NULL};
	size_t i = 0;

	if (bearer != NULL) {
		(void)snprintf(a, sizeof(a), "Authorization: Bearer %s",
		    bearer);
		h[i++] = a;
	}
	if (cookie != NULL) {
		(void)snprintf(c, sizeof(c), "Cookie: %s", cookie);
		h[i++] = c;
	}
	return th_req(srv.port, "GET", path, h, NULL, r);
}

/* The value of parameter name in the Location of r (decoded); asserts
 * both are there. */
static void location_param(const struct th_resp *r, const char *name, char *out,
    size_t n)
{
	char loc[4096], key[64], *p, *d;
	size_t len;
	int dl = 0;

	cr_assert(th_header(r, "Location", loc, sizeof(loc)) != NULL,
	    "no Location in:\n%s", r->head);
	(void)snprintf(key, sizeof(key), "%s=", name);
	p = strstr(loc, key);
	while (p != NULL && p[-1] != '?' && p[-1] != '&')
		p = strstr(p + 1, key);
	cr_assert(p != NULL, "no %s in %s", name, loc);
	p += strlen(key);
	len = strcspn(p, "&");
	d = curl_easy_unescape(NULL, p, (int)len, &dl);
	cr_assert(d != NULL && (size_t)dl < n);
	memcpy(out, d, (size_t)dl);
	out[dl] = '\0';
	for (char *q = out; *q != '\0'; q++)
		if (*q == '+')
			*q = ' ';
	curl_free(d);
}

/* A code for client_id by the user's first-party token (immediate). */
static void code_by_bearer(const struct tuser *u, const char *client_id,
    const char *challenge, char code[64])
{
	char path[2048], state[64], iss[128];
	struct th_resp r;

	query(path, sizeof(path), client_id, REDIRECT, challenge, "S256",
	    "st-42");
	cr_assert(eq(int, get(path, u->access, NULL, &r), 302), "%s", r.body);
	location_param(&r, "code", code, 64);
	location_param(&r, "state", state, sizeof(state));
	location_param(&r, "iss", iss, sizeof(iss));
	cr_expect(eq(str, state, "st-42"));
	cr_expect(eq(str, iss, base));
	cr_expect(strncmp(code, "ac_", 3) == 0);
	tsecret_keep(code);
	th_free(&r);
}

/* Start a server with an active user (tag), a public client (name) for
 * it to authorize, and a PKCE pair. */
static void start_flow(struct tuser *u, const char *tag, const char *name,
    char id[64], char verifier[51], char challenge[44])
{
	start(NULL);
	active_user(u, tag);
	public_client(name, id);
	pkce(verifier, challenge);
}

/* POST /oauth2/token with form; basic: "Authorization: Basic ..." or
 * NULL. */
static int token(const char *form, const char *basic, struct th_resp *r)
{
	const char *h[3] = {FORM, basic, NULL};

	return th_req(srv.port, "POST", "/oauth2/token", h, form, r);
}

/* An "Authorization: Basic" field for client_id and secret. */
static void basic_field(char *out, size_t n, const char *client_id,
    const char *secret)
{
	char raw[160];
	int len = snprintf(raw, sizeof(raw), "%s:%s", client_id, secret);

	cr_assert(len > 0 && (size_t)len < sizeof(raw));
	cr_assert(n > 21);
	(void)snprintf(out, n, "Authorization: Basic ");
	cr_assert(secret_b64_encode(raw, (size_t)len, out + 21, n - 21) > 0);
}

/* The access and refresh tokens of a 200 token answer. */
static void tokens_of(const struct th_resp *r, char *access, char *refresh)
{
	struct json_object *o = th_body(r);

	(void)snprintf(access, 4096, "%s", th_str(o, "access_token"));
	if (refresh != NULL)
		(void)snprintf(refresh, 64, "%s", th_str(o, "refresh_token"));
	tsecret_keep(access);
	if (refresh != NULL)
		tsecret_keep(refresh);
	json_object_put(o);
}

/* The form that exchanges code with verifier and redirect. */
static void exchange_form(char *form, size_t n, const char *client_id,
    const char *code, const char *verifier, const char *redirect)
{
	char e[512];

	enc(redirect, e, sizeof(e));
	(void)snprintf(form, n,
	    "grant_type=authorization_code&client_id=%s&code=%s&"
	    "code_verifier=%s&redirect_uri=%s",
	    client_id, code, verifier, e);
}

/* Exchange a code: the form with the verifier and redirect. */
static int exchange(const char *client_id, const char *code,
    const char *verifier, const char *redirect, struct th_resp *r)
{
	char form[1024];

	exchange_form(form, sizeof(form), client_id, code, verifier, redirect);
	return token(form, NULL, r);
}

/* The answer to what (named in a failure) is an OAuth error with
 * status, error and reason (NULL: any). */
static void expect_oauth_error(const char *what, struct th_resp *r, int status,
    const char *error, const char *reason)
{
	struct json_object *o;

	cr_expect(eq(int, r->status, status), "%s: want %d %s, got %d: %s",
	    what, status, error, r->status, r->body);
	o = th_body(r);
	cr_expect(eq(str, (char *)th_str(o, "error"), (char *)error), "%s: %s",
	    what, r->body);
	if (reason != NULL)
		cr_expect(eq(str, (char *)th_str(o, "reason"), (char *)reason),
		    "%s: %s", what, r->body);
	json_object_put(o);
}

/* POST /oauth2/token with form (and basic, as token()) is refused with
 * status, error and reason (NULL: any). */
static void token_refused(const char *form, const char *basic, int status,
    const char *error, const char *reason)
{
	struct th_resp r;

	(void)token(form, basic, &r);
	expect_oauth_error(form, &r, status, error, reason);
	th_free(&r);
}

/* Exchanging code (as exchange()) is an invalid_grant for reason. */
static void exchange_refused(const char *client_id, const char *code,
    const char *verifier, const char *redirect, const char *reason)
{
	char form[1024];

	exchange_form(form, sizeof(form), client_id, code, verifier, redirect);
	token_refused(form, NULL, 400, "invalid_grant", reason);
}

/* The refresh grant of client_id with refresh is an invalid_grant for
 * reason. */
static void refresh_refused(const char *client_id, const char *refresh,
    const char *reason)
{
	char form[256];

	(void)snprintf(form, sizeof(form),
	    "grant_type=refresh_token&client_id=%s&refresh_token=%s", client_id,
	    refresh);
	token_refused(form, NULL, 400, "invalid_grant", reason);
}

/* POST /debug/mcp-gate with a field (or none); *by gets
 * authenticated_by on 200. */
static int gate(const char *field, char *by, size_t n, struct th_resp *r)
{
	const char *h[2] = {field, NULL};
	int st = th_req(srv.port, "POST", "/debug/mcp-gate", h, "", r);

	if (st == 200 && by != NULL) {
		struct json_object *o = th_body(r);

		(void)snprintf(by, n, "%s", th_str(o, "authenticated_by"));
		json_object_put(o);
	}
	return st;
}

static int gate_bearer(const char *tok, char *by, size_t n, struct th_resp *r)
{
	char f[4200];

	(void)snprintf(f, sizeof(f), "Authorization: Bearer %s", tok);
	return gate(f, by, n, r);
}

/* The value of cookie name in r's Set-Cookie fields (the whole field in
 * line, when not NULL). */
static bool set_cookie(const struct th_resp *r, const char *name, char *value,
    size_t n, char *line, size_t ln)
{
	size_t k = strlen(name);

	for (const char *p = r->head; p != NULL && *p != '\0';) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (strncasecmp(p, "Set-Cookie: ", 12) == 0 &&
		    strncmp(p + 12, name, k) == 0 && p[12 + k] == '=') {
			size_t vl = strcspn(p + 13 + k, ";\r\n");

			cr_assert(vl < n);
			memcpy(value, p + 13 + k, vl);
			value[vl] = '\0';
			if (line != NULL)
				(void)snprintf(line, ln, "%.*s", (int)len, p);
			return true;
		}
		p = eol != NULL ? eol + 2 : NULL;
	}
	return false;
}

/* The csrf hidden field of a page. */
static void page_csrf(const struct th_resp *r, char out[33])
{
	const char *p = strstr(r->body, "name=\"csrf\" value=\"");

	cr_assert(p != NULL, "no csrf field in %s", r->body);
	memcpy(out, p + 19, 32);
	out[32] = '\0';
}

/* The hidden fields the page needs posted back, plus extra. */
static void form_body(char *out, size_t n, const char *client_id,
    const char *challenge, const char *csrf, const char *extra)
{
	char e[512];

	enc(REDIRECT, e, sizeof(e));
	(void)snprintf(out, n,
	    "client_id=%s&redirect_uri=%s&response_type=code&"
	    "code_challenge=%s&code_challenge_method=S256&state=st-9&"
	    "csrf=%s&%s",
	    client_id, e, challenge, csrf, extra);
}

static int post_form(const char *body, const char *cookie, struct th_resp *r)
{
	char c[600];
	const char *h[3] = {FORM, c, NULL};

	(void)snprintf(c, sizeof(c), "Cookie: %s", cookie);
	return th_req(srv.port, "POST", "/oauth2/authorize", h, body, r);
}

/* ------------------------------------------------------------ tests */

TestSuite(oauth, .fini = fini, .timeout = 180);

Test(oauth, metadata_documents)
{
	static const char *paths[] = {
	    "/.well-known/oauth-protected-resource/mcp",
	    "/.well-known/oauth-protected-resource"};
	struct th_resp r;
	struct json_object *o;
	char want[512];

	start(NULL);
	(void)snprintf(want, sizeof(want),
	    "{\"resource\":\"%s/mcp\",\"authorization_servers\":[\"%s\"],"
	    "\"scopes_supported\":[\"mcp\"],"
	    "\"bearer_methods_supported\":[\"header\"],"
	    "\"resource_name\":\"pacer\"}",
	    base, base);
	for (size_t i = 0; i < 2; i++) {
		cr_assert(eq(int, get(paths[i], NULL, NULL, &r), 200));
		cr_expect(eq(str, r.body, want));
		th_free(&r);
	}
	cr_assert(eq(int,
	    get("/.well-known/oauth-authorization-server", NULL, NULL, &r),
	    200));
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "issuer"), base));
	(void)snprintf(want, sizeof(want), "%s/oauth2/authorize", base);
	cr_expect(eq(str, (char *)th_str(o, "authorization_endpoint"), want));
	(void)snprintf(want, sizeof(want), "%s/oauth2/token", base);
	cr_expect(eq(str, (char *)th_str(o, "token_endpoint"), want));
	(void)snprintf(want, sizeof(want), "%s/oauth2/register", base);
	cr_expect(eq(str, (char *)th_str(o, "registration_endpoint"), want));
	cr_expect(eq(str, (char *)th_str(o, "response_types_supported"),
	    "[ \"code\" ]"));
	cr_expect(eq(str, (char *)th_str(o, "grant_types_supported"),
	    "[ \"authorization_code\", \"refresh_token\", "
	    "\"client_credentials\" ]"));
	cr_expect(eq(str, (char *)th_str(o, "code_challenge_methods_supported"),
	    "[ \"S256\" ]"));
	cr_expect(eq(str,
	    (char *)th_str(o, "token_endpoint_auth_methods_supported"),
	    "[ \"none\", \"client_secret_basic\", \"client_secret_post\" ]"));
	cr_expect(
	    eq(str, (char *)th_str(o, "scopes_supported"), "[ \"mcp\" ]"));
	json_object_put(o);
	th_free(&r);
	/* A Host that is no host is refused, not echoed. */
	{
		const char *h[2] = {"Host: evil\"host", NULL};

		cr_expect(eq(int,
		    th_req(srv.port, "GET",
		        "/.well-known/oauth-authorization-server", h, NULL, &r),
		    400));
		th_free(&r);
	}
}

Test(oauth, metadata_follow_public_url)
{
	struct th_resp r;
	struct json_object *o;
	char www[512];

	start("public_url = 'https://pacer.example.com/'\n");
	cr_assert(eq(int,
	    get("/.well-known/oauth-protected-resource/mcp", NULL, NULL, &r),
	    200));
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "resource"),
	    "https://pacer.example.com/mcp"));
	json_object_put(o);
	th_free(&r);
	cr_assert(eq(int,
	    get("/.well-known/oauth-authorization-server", NULL, NULL, &r),
	    200));
	o = th_body(&r);
	cr_expect(
	    eq(str, (char *)th_str(o, "issuer"), "https://pacer.example.com"));
	json_object_put(o);
	th_free(&r);
	cr_expect(eq(int, gate(NULL, NULL, 0, &r), 401));
	cr_expect(th_header(&r, "WWW-Authenticate", www, sizeof(www)) != NULL &&
	        strcmp(www,
	            "Bearer resource_metadata=\"https://pacer.example.com/"
	            ".well-known/oauth-protected-resource/mcp\", "
	            "scope=\"mcp\"") == 0,
	    "%s", r.head);
	th_free(&r);
}

Test(oauth, registration_rules)
{
	static const struct {
		const char *json, *error;
	} bad[] = {
	    {"{\"redirect_uris\":[\"http://example.com/cb\"]}",
	        "invalid_redirect_uri"},
	    {"{\"redirect_uris\":[\"https://example.com/cb#frag\"]}",
	        "invalid_redirect_uri"},
	    {"{\"redirect_uris\":[\"ftp://example.com/cb\"]}",
	        "invalid_redirect_uri"},
	    {"{\"redirect_uris\":[\"https://user@example.com/cb\"]}",
	        "invalid_redirect_uri"},
	    {"{\"redirect_uris\":[]}", "invalid_redirect_uri"},
	    {"{\"client_name\":\"no uris\"}", "invalid_redirect_uri"},
	    {"{\"redirect_uris\":[\"https://a.example/cb\"],"
	     "\"token_endpoint_auth_method\":\"client_secret_basic\"}",
	        "invalid_client_metadata"},
	    {"{\"redirect_uris\":[\"https://a.example/cb\"],"
	     "\"token_endpoint_auth_method\":\"private_key_jwt\"}",
	        "invalid_client_metadata"},
	    {"{\"grant_types\":[\"client_credentials\"]}",
	        "invalid_client_metadata"},
	    {"{\"redirect_uris\":[\"https://a.example/"
	     "cb\"],\"scope\":\"admin\"}",
	        "invalid_client_metadata"},
	    {"{\"redirect_uris\":[\"https://a.example/cb\"],"
	     "\"response_types\":[\"token\"]}",
	        "invalid_client_metadata"},
	};
	static const char *good[] = {"https://app.example.com/oauth/cb?x=1",
	    "http://localhost:9999/cb", "http://[::1]:5000/cb",
	    "http://127.0.0.1/cb"};
	struct th_resp r;
	struct json_object *o;
	struct tuser u;
	char json[512], secret[64], id[64];

	start(NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)reg(bad[i].json, NULL, &r);
		expect_oauth_error(bad[i].json, &r, 400, bad[i].error, NULL);
		th_free(&r);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		(void)snprintf(json, sizeof(json),
		    "{\"client_name\":\"ok\",\"redirect_uris\":[\"%s\"]}",
		    good[i]);
		cr_expect(eq(int, reg(json, NULL, &r), 201), "%s: %s", good[i],
		    r.body);
		o = th_body(&r);
		cr_expect(eq(str,
		    (char *)th_str(o, "token_endpoint_auth_method"), "none"));
		cr_expect(
		    eq(str, (char *)th_str(o, "client_secret"), "(absent)"));
		cr_expect(eq(str, (char *)th_str(o, "grant_types"),
		    "[ \"authorization_code\" ]"));
		cr_expect(atoll(th_str(o, "client_id_issued_at")) > 1700000000);
		json_object_put(o);
		th_free(&r);
	}
	/* A user may register a confidential client; it is theirs, and only
	 * the secret's hash is kept. */
	active_user(&u, "oreg");
	cr_assert(eq(int,
	              reg("{\"client_name\":\"batch\",\"grant_types\":"
	                  "[\"client_credentials\"],"
	                  "\"token_endpoint_auth_method\":"
	                  "\"client_secret_post\"}",
	                  u.access, &r),
	              201),
	    "%s", r.body);
	o = th_body(&r);
	(void)snprintf(secret, sizeof(secret), "%s",
	    th_str(o, "client_secret"));
	(void)snprintf(id, sizeof(id), "%s", th_str(o, "client_id"));
	cr_expect(strncmp(secret, "cs_", 3) == 0 && strlen(secret) == 43, "%s",
	    secret);
	cr_expect(eq(str, (char *)th_str(o, "client_secret_expires_at"), "0"));
	tsecret_keep(secret);
	json_object_put(o);
	th_free(&r);
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM oauth_clients WHERE id = $1 AND "
	            "owner_id = $2 AND auth_method = 'client_secret_post'",
	        id, u.id),
	    1));
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM oauth_clients WHERE id = $1 AND "
	            "secret_hash = sha256(convert_to($2, 'UTF8'))",
	        id, secret),
	    1));
	tsecret_expect_log_clean(&srv);
}

Test(oauth, authorize_page_escapes_and_errors)
{
	char id[64], verifier[51], challenge[44], path[2048], v[512], e[64];
	struct th_resp r;

	start(NULL);
	public_client("<script>alert(1)</script> & co", id);
	pkce(verifier, challenge);
	query(path, sizeof(path), id, REDIRECT, challenge, "S256",
	    "\"><b>state</b>");
	cr_assert(eq(int, get(path, NULL, NULL, &r), 200), "%s", r.body);
	cr_expect(th_header(&r, "Content-Type", v, sizeof(v)) != NULL &&
	    strcmp(v, "text/html; charset=utf-8") == 0);
	cr_assert(
	    th_header(&r, "Content-Security-Policy", v, sizeof(v)) != NULL);
	cr_expect(strstr(v, "default-src 'none'") != NULL, "%s", v);
	cr_expect(strstr(v, "style-src 'unsafe-inline'") != NULL, "%s", v);
	cr_expect(strstr(v, "frame-ancestors 'none'") != NULL, "%s", v);
	cr_expect(strstr(v, "form-action 'self' http://127.0.0.1:33418") !=
	        NULL,
	    "%s", v);
	cr_expect(strstr(v, "script") == NULL, "%s", v);
	cr_expect(strstr(r.body, "<script") == NULL, "%s", r.body);
	cr_expect(strstr(r.body,
	              "&lt;script&gt;alert(1)&lt;/script&gt; &amp; "
	              "co") != NULL,
	    "%s", r.body);
	cr_expect(strstr(r.body, "<b>state") == NULL, "%s", r.body);
	cr_expect(strstr(r.body, "&quot;&gt;&lt;b&gt;state") != NULL, "%s",
	    r.body);
	cr_expect(strstr(r.body, "name=\"password\"") != NULL);
	cr_expect(set_cookie(&r, "pacer_oauth_csrf", v, sizeof(v), NULL, 0));
	cr_expect(th_header(&r, "Cache-Control", v, sizeof(v)) != NULL &&
	    strcmp(v, "no-store") == 0);
	th_free(&r);

	/* Before the client and redirect URI are trusted: a page, never a
	 * redirect. */
	query(path, sizeof(path), "9d6c6a57-6a8b-4f0e-9b7a-000000000000",
	    REDIRECT, challenge, "S256", "s");
	cr_expect(eq(int, get(path, NULL, NULL, &r), 400));
	cr_expect(th_header(&r, "Location", v, sizeof(v)) == NULL);
	cr_expect(strstr(r.body, "<h1>Authorization failed</h1>") != NULL);
	th_free(&r);
	query(path, sizeof(path), "not-a-uuid", REDIRECT, challenge, "S256",
	    "s");
	cr_expect(eq(int, get(path, NULL, NULL, &r), 400));
	cr_expect(th_header(&r, "Location", v, sizeof(v)) == NULL);
	th_free(&r);
	query(path, sizeof(path), id, "http://127.0.0.1:33418/other", challenge,
	    "S256", "s");
	cr_expect(eq(int, get(path, NULL, NULL, &r), 400));
	cr_expect(th_header(&r, "Location", v, sizeof(v)) == NULL);
	th_free(&r);

	/* After: errors go back to the client, with the state. */
	{
		static const struct {
			const char *challenge, *method, *error;
		} cases[] = {
		    {NULL, "S256", "invalid_request"},
		    {"x", "S256", "invalid_request"},
		    {"", NULL, "invalid_request"},
		    {"", "plain", "invalid_request"},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			query(path, sizeof(path), id, REDIRECT,
			    cases[i].challenge == NULL ? NULL
			        : cases[i].challenge[0] == '\0'
			        ? challenge
			        : cases[i].challenge,
			    cases[i].method, "st-7");
			cr_expect(eq(int, get(path, NULL, NULL, &r), 302),
			    "case %zu: %s", i, r.body);
			location_param(&r, "error", e, sizeof(e));
			cr_expect(eq(str, e, (char *)cases[i].error));
			location_param(&r, "state", e, sizeof(e));
			cr_expect(eq(str, e, "st-7"));
			cr_expect(th_header(&r, "Location", v, sizeof(v)) !=
			            NULL &&
			        strncmp(v, REDIRECT "?error=",
			            strlen(REDIRECT) + 7) == 0,
			    "%s", v);
			th_free(&r);
		}
	}
	{
		static const struct {
			const char *tail, *error;
		} cases[] = {
		    {"&scope=mcp&scope=mcp", "invalid_scope"},
		    {"&scope=admin", "invalid_scope"},
		    {"&resource=https%3A%2F%2Fother.example%2Fmcp",
		        "invalid_target"},
		    {"&response_type=token", "unsupported_response_type"},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			query_tail(path, sizeof(path), id, REDIRECT, challenge,
			    "S256", "st-8", cases[i].tail);
			cr_expect(eq(int, get(path, NULL, NULL, &r), 302),
			    "%s: %s", cases[i].tail, r.body);
			location_param(&r, "error", e, sizeof(e));
			cr_expect(eq(str, e, (char *)cases[i].error), "%s",
			    cases[i].tail);
			th_free(&r);
		}
	}
	/* Without resource and scope: the defaults. */
	query_tail(path, sizeof(path), id, REDIRECT, challenge, "S256", "s",
	    "");
	cr_expect(eq(int, get(path, NULL, NULL, &r), 200), "%s", r.body);
	th_free(&r);
}

Test(oauth, code_exchange_and_audience)
{
	char id[64], verifier[51], challenge[44], code[64], by[64];
	char access[4096], refresh[64], v[256];
	struct th_resp r;
	struct json_object *o;
	struct tuser u;

	start_flow(&u, "ocode", "Claude", id, verifier, challenge);
	code_by_bearer(&u, id, challenge, code);
	/* Only the code's hash is stored. */
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM oauth_codes WHERE code_hash = "
	            "sha256(convert_to($1, 'UTF8'))",
	        code, NULL),
	    1));
	cr_assert(eq(int, exchange(id, code, verifier, REDIRECT, &r), 200),
	    "%s", r.body);
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "token_type"), "Bearer"));
	cr_expect(eq(str, (char *)th_str(o, "scope"), "mcp"));
	cr_expect(eq(int, atoi(th_str(o, "expires_in")), 900));
	cr_expect(strncmp(th_str(o, "refresh_token"), "rt_", 3) == 0);
	json_object_put(o);
	cr_expect(th_header(&r, "Cache-Control", v, sizeof(v)) != NULL &&
	    strcmp(v, "no-store") == 0);
	tokens_of(&r, access, refresh);
	th_free(&r);

	/* The token is the user's, for the MCP resource only. */
	cr_expect(eq(int, gate_bearer(access, by, sizeof(by), &r), 200), "%s",
	    r.body);
	cr_expect(eq(str, by, "oauth_token"));
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "user_id"), u.id));
	cr_expect(eq(str, (char *)th_str(o, "client_id"), id));
	json_object_put(o);
	th_free(&r);
	{
		char f[4200];
		const char *h[2] = {f, NULL};

		(void)snprintf(f, sizeof(f), "Authorization: Bearer %s",
		    access);
		(void)th_req(srv.port, "GET", "/api/me", h, NULL, &r);
		th_expect_reason(&r, 401, "wrong_audience");
		th_free(&r);
		/* Nor may it register a client or sign in at authorize. */
		cr_expect(eq(int, reg("{}", access, &r), 401));
		th_free(&r);
	}
	/* Another Host is another resource: the token is not for it. */
	{
		char f[4200];
		const char *h[3] = {f, "Host: localhost", NULL};

		(void)snprintf(f, sizeof(f), "Authorization: Bearer %s",
		    access);
		cr_expect(eq(int,
		    th_req(srv.port, "POST", "/debug/mcp-gate", h, "", &r),
		    401));
		th_free(&r);
	}
	cr_expect(eq(i64,
	    tdb_audit_count(tdb_url(), "oauth.token", u.id, "success"), 1));
	tsecret_expect_log_clean(&srv);
}

Test(oauth, code_refusals)
{
	char id[64], verifier[51], challenge[44], code[64];
	char access[4096], refresh[64], form[256];
	struct th_resp r;
	struct tuser u;

	start_flow(&u, "orefuse", "refusals", id, verifier, challenge);

	/* A wrong verifier: refused, and the code is spent. */
	code_by_bearer(&u, id, challenge, code);
	exchange_refused(id, code,
	    "wrong-verifier-wrong-verifier-wrong-verifier", REDIRECT,
	    "bad_code_verifier");
	exchange_refused(id, code, verifier, REDIRECT, "code_reused");

	/* Another redirect URI than the request's. */
	code_by_bearer(&u, id, challenge, code);
	exchange_refused(id, code, verifier, "http://127.0.0.1:33418/other",
	    "redirect_uri_mismatch");

	/* Another client. */
	{
		char other[64];

		public_client("other", other);
		code_by_bearer(&u, id, challenge, code);
		exchange_refused(other, code, verifier, REDIRECT,
		    "unknown_code");
	}

	/* A code used twice: the second use revokes what the first gave. */
	code_by_bearer(&u, id, challenge, code);
	cr_assert(eq(int, exchange(id, code, verifier, REDIRECT, &r), 200),
	    "%s", r.body);
	tokens_of(&r, access, refresh);
	th_free(&r);
	cr_expect(eq(int, gate_bearer(access, NULL, 0, &r), 200));
	th_free(&r);
	exchange_refused(id, code, verifier, REDIRECT, "code_reused");
	cr_expect(eq(int, gate_bearer(access, NULL, 0, &r), 401));
	cr_expect(strstr(r.body, "token_revoked") != NULL, "%s", r.body);
	th_free(&r);
	refresh_refused(id, refresh, "refresh_token_revoked");

	/* An expired code. */
	code_by_bearer(&u, id, challenge, code);
	free(sql("UPDATE oauth_codes SET created_at = now() - interval "
	         "'10 min', expires_at = now() - interval '1 min' WHERE "
	         "code_hash = sha256(convert_to($1, 'UTF8'))",
	    code, NULL));
	exchange_refused(id, code, verifier, REDIRECT, "code_expired");

	/* An unknown grant, a missing field. */
	token_refused("grant_type=password&username=a&password=b", NULL, 400,
	    "unsupported_grant_type", NULL);
	(void)snprintf(form, sizeof(form),
	    "grant_type=authorization_code&client_id=%s", id);
	token_refused(form, NULL, 400, "invalid_request", "missing_field");
	tsecret_expect_log_clean(&srv);
}

Test(oauth, refresh_rotation_and_reuse)
{
	char id[64], verifier[51], challenge[44], code[64], form[256];
	char access[4096], refresh[64], access2[4096], refresh2[64];
	struct th_resp r;
	struct tuser u;

	start_flow(&u, "orefresh", "refresh", id, verifier, challenge);
	code_by_bearer(&u, id, challenge, code);
	cr_assert(eq(int, exchange(id, code, verifier, REDIRECT, &r), 200));
	tokens_of(&r, access, refresh);
	th_free(&r);

	/* A client's refresh token is not a first-party one, nor the other
	 * way round. */
	{
		char json[128];

		(void)snprintf(json, sizeof(json), "{\"refresh_token\":\"%s\"}",
		    refresh);
		cr_expect(eq(int,
		    th_json_req(srv.port, "POST", "/api/auth/refresh", NULL,
		        json, &r),
		    401));
		cr_expect(strstr(r.body, "invalid_refresh_token") != NULL);
		th_free(&r);
		refresh_refused(id, u.refresh, "invalid_refresh_token");
	}

	(void)snprintf(form, sizeof(form),
	    "grant_type=refresh_token&client_id=%s&refresh_token=%s&scope=mcp",
	    id, refresh);
	cr_assert(eq(int, token(form, NULL, &r), 200), "%s", r.body);
	tokens_of(&r, access2, refresh2);
	th_free(&r);
	cr_expect(strcmp(refresh, refresh2) != 0);
	cr_expect(eq(int, gate_bearer(access2, NULL, 0, &r), 200));
	th_free(&r);
	/* The spent one again: reuse, and the family is revoked. */
	token_refused(form, NULL, 400, "invalid_grant", "refresh_token_reused");
	refresh_refused(id, refresh2, "refresh_token_revoked");
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM audit_log WHERE action = "
	            "'oauth.refresh_reuse' AND user_id = $1",
	        u.id, NULL),
	    1));
	tsecret_expect_log_clean(&srv);
}

Test(oauth, client_credentials)
{
	char id[64], secret[64], pub[64], form[256], basic[256], raw[160];
	char access[4096], by[64];
	struct th_resp r;
	struct json_object *o;
	struct tuser u;

	start(NULL);
	active_user(&u, "occ");
	cr_assert(eq(int,
	              reg("{\"client_name\":\"cron\",\"grant_types\":"
	                  "[\"client_credentials\"],"
	                  "\"token_endpoint_auth_method\":"
	                  "\"client_secret_basic\"}",
	                  u.access, &r),
	              201),
	    "%s", r.body);
	o = th_body(&r);
	(void)snprintf(id, sizeof(id), "%s", th_str(o, "client_id"));
	(void)snprintf(secret, sizeof(secret), "%s",
	    th_str(o, "client_secret"));
	tsecret_keep(secret);
	json_object_put(o);
	th_free(&r);

	/* HTTP Basic. */
	basic_field(basic, sizeof(basic), id, secret);
	tsecret_keep(basic + 21);
	cr_assert(eq(int, token("grant_type=client_credentials", basic, &r),
	              200),
	    "%s", r.body);
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "refresh_token"), "(absent)"));
	cr_expect(eq(str, (char *)th_str(o, "scope"), "mcp"));
	json_object_put(o);
	tokens_of(&r, access, NULL);
	th_free(&r);
	cr_expect(eq(int, gate_bearer(access, by, sizeof(by), &r), 200));
	cr_expect(eq(str, by, "oauth_token"));
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "user_id"), u.id));
	json_object_put(o);
	th_free(&r);

	/* The right secret in the form: not how this client registered
	 * (client_secret_basic), so refused. */
	(void)snprintf(form, sizeof(form),
	    "grant_type=client_credentials&client_id=%s&client_secret=%s", id,
	    secret);
	token_refused(form, NULL, 401, "invalid_client",
	    "auth_method_mismatch");

	/* A wrong secret. */
	basic_field(basic, sizeof(basic), id, "cs_nope");
	(void)token("grant_type=client_credentials", basic, &r);
	expect_oauth_error(basic, &r, 401, "invalid_client",
	    "bad_client_secret");
	cr_expect(th_header(&r, "WWW-Authenticate", raw, sizeof(raw)) != NULL &&
	    strncmp(raw, "Basic", 5) == 0);
	th_free(&r);

	/* A public client has no client_credentials. */
	public_client("public", pub);
	(void)snprintf(form, sizeof(form),
	    "grant_type=client_credentials&client_id=%s", pub);
	token_refused(form, NULL, 400, "unauthorized_client", NULL);

	/* A suspended owner's client gets nothing. */
	free(sql("UPDATE users SET status = 'suspended' WHERE id = $1", u.id,
	    NULL));
	basic_field(basic, sizeof(basic), id, secret);
	token_refused("grant_type=client_credentials", basic, 400,
	    "invalid_grant", "account_inactive");
	tsecret_expect_log_clean(&srv);
}

Test(oauth, browser_sign_in_session_and_consent)
{
	char id[64], id2[64], verifier[51], challenge[44], path[2048];
	char csrf[33], csrf_cookie[64], cookies[512], body[2048], sid[64];
	char line[512], code[64], e[64], extra[512], em[256];
	struct th_resp r;
	struct tuser u;

	start_flow(&u, "obrowser", "Browser client", id, verifier, challenge);
	query(path, sizeof(path), id, REDIRECT, challenge, "S256", "st-9");
	cr_assert(eq(int, get(path, NULL, NULL, &r), 200));
	cr_assert(set_cookie(&r, "pacer_oauth_csrf", csrf_cookie,
	    sizeof(csrf_cookie), line, sizeof(line)));
	cr_expect(strstr(line, "HttpOnly") != NULL &&
	        strstr(line, "SameSite=Strict") != NULL &&
	        strstr(line, "Path=/oauth2/") != NULL,
	    "%s", line);
	page_csrf(&r, csrf);
	cr_expect(eq(str, csrf, csrf_cookie));
	th_free(&r);
	(void)snprintf(cookies, sizeof(cookies), "pacer_oauth_csrf=%s", csrf);
	enc(u.email, em, sizeof(em));

	/* A wrong password: the page again, 401. */
	(void)snprintf(extra, sizeof(extra),
	    "email=%s&password=wrong-password&action=allow", em);
	form_body(body, sizeof(body), id, challenge, csrf, extra);
	cr_expect(eq(int, post_form(body, cookies, &r), 401));
	cr_expect(strstr(r.body, "The email or password is wrong.") != NULL);
	th_free(&r);
	/* No CSRF cookie: refused. */
	(void)snprintf(extra, sizeof(extra),
	    "email=%s&password=%s&action=allow", em, u.password);
	form_body(body, sizeof(body), id, challenge, csrf, extra);
	cr_expect(eq(int, post_form(body, "other=1", &r), 400));
	cr_expect(th_header(&r, "Location", line, sizeof(line)) == NULL);
	th_free(&r);

	/* The right password: a code, and a session cookie. */
	cr_assert(eq(int, post_form(body, cookies, &r), 302), "%s", r.body);
	location_param(&r, "code", code, sizeof(code));
	tsecret_keep(code);
	location_param(&r, "state", e, sizeof(e));
	cr_expect(eq(str, e, "st-9"));
	cr_assert(set_cookie(&r, "pacer_oauth_session", sid, sizeof(sid), line,
	    sizeof(line)));
	tsecret_keep(sid);
	cr_expect(strstr(line, "HttpOnly") != NULL &&
	        strstr(line, "SameSite=Lax") != NULL &&
	        strstr(line, "Path=/oauth2/") != NULL &&
	        strstr(line, "Max-Age=2592000") != NULL &&
	        strstr(line, "Secure") == NULL,
	    "%s", line);
	th_free(&r);
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM oauth_sessions WHERE session_hash = "
	            "sha256(convert_to($1, 'UTF8')) AND user_id = $2",
	        sid, u.id),
	    1));
	cr_expect(eq(int, exchange(id, code, verifier, REDIRECT, &r), 200),
	    "%s", r.body);
	th_free(&r);

	/* Signed in and allowed before: at once. */
	(void)snprintf(cookies, sizeof(cookies),
	    "pacer_oauth_session=%s; pacer_oauth_csrf=%s", sid, csrf);
	cr_expect(eq(int, get(path, NULL, cookies, &r), 302), "%s", r.body);
	location_param(&r, "code", code, sizeof(code));
	tsecret_keep(code);
	th_free(&r);

	/* Another client: the consent page, then allow. */
	public_client("Second", id2);
	query(path, sizeof(path), id2, REDIRECT, challenge, "S256", "st-9");
	cr_assert(eq(int, get(path, NULL, cookies, &r), 200));
	cr_expect(strstr(r.body, "Signed in as") != NULL, "%s", r.body);
	cr_expect(strstr(r.body, "name=\"password\"") == NULL);
	th_free(&r);
	form_body(body, sizeof(body), id2, challenge, csrf, "action=allow");
	cr_expect(eq(int, post_form(body, cookies, &r), 302), "%s", r.body);
	location_param(&r, "code", code, sizeof(code));
	tsecret_keep(code);
	th_free(&r);

	/* Deny. */
	form_body(body, sizeof(body), id2, challenge, csrf, "action=deny");
	cr_expect(eq(int, post_form(body, cookies, &r), 302));
	location_param(&r, "error", e, sizeof(e));
	cr_expect(eq(str, e, "access_denied"));
	location_param(&r, "state", e, sizeof(e));
	cr_expect(eq(str, e, "st-9"));
	th_free(&r);

	/* A suspended user's session signs nobody in. */
	free(sql("UPDATE users SET status = 'suspended' WHERE id = $1", u.id,
	    NULL));
	query(path, sizeof(path), id, REDIRECT, challenge, "S256", "st-9");
	cr_expect(eq(int, get(path, NULL, cookies, &r), 200));
	cr_expect(strstr(r.body, "name=\"password\"") != NULL);
	th_free(&r);
	(void)snprintf(extra, sizeof(extra),
	    "email=%s&password=%s&action=allow", em, u.password);
	form_body(body, sizeof(body), id, challenge, csrf, extra);
	cr_expect(eq(int, post_form(body, cookies, &r), 403));
	cr_expect(strstr(r.body, "suspended") != NULL);
	th_free(&r);
	cr_expect(eq(i64,
	    tdb_audit_count(tdb_url(), "auth.login", u.id, "failure"), 1));
	tsecret_expect_log_clean(&srv);
}

Test(oauth, gate_on_mcp_routes)
{
	char by[64], www[512], want[512], key[128];
	struct th_resp r;
	struct json_object *o;
	struct tuser u;

	start(NULL);
	active_user(&u, "ogate");
	/* No credential: 401 with the resource metadata. */
	(void)gate(NULL, NULL, 0, &r);
	th_expect_reason(&r, 401, "missing_credentials");
	(void)snprintf(want, sizeof(want),
	    "Bearer resource_metadata=\"%s/.well-known/oauth-protected-"
	    "resource/mcp\", scope=\"mcp\"",
	    base);
	cr_expect(th_header(&r, "WWW-Authenticate", www, sizeof(www)) != NULL);
	cr_expect(eq(str, www, want));
	th_free(&r);
	/* A bad token: the same, and invalid_token. */
	cr_expect(eq(int, gate_bearer("eyJnot.a.token", NULL, 0, &r), 401));
	cr_expect(th_header(&r, "WWW-Authenticate", www, sizeof(www)) != NULL);
	cr_expect(strncmp(www, want, strlen(want)) == 0 &&
	        strstr(www, "error=\"invalid_token\"") != NULL,
	    "%s", www);
	th_free(&r);
	/* First-party token and API key. */
	cr_expect(eq(int, gate_bearer(u.access, by, sizeof(by), &r), 200));
	cr_expect(eq(str, by, "access_token"));
	th_free(&r);
	cr_assert(eq(int,
	    th_json_req(srv.port, "POST", "/api/keys", u.access, "{}", &r),
	    201));
	o = th_body(&r);
	(void)snprintf(key, sizeof(key), "X-API-Key: %s", th_str(o, "key"));
	tsecret_keep(th_str(o, "key"));
	json_object_put(o);
	th_free(&r);
	cr_expect(eq(int, gate(key, by, sizeof(by), &r), 200));
	cr_expect(eq(str, by, "api_key"));
	th_free(&r);
	/* An API key does not sign a user in at authorize. */
	{
		char id[64], v[51], c[44], path[2048];
		const char *h[2] = {key, NULL};

		public_client("key", id);
		pkce(v, c);
		query(path, sizeof(path), id, REDIRECT, c, "S256", "s");
		cr_expect(
		    eq(int, th_req(srv.port, "GET", path, h, NULL, &r), 403));
		th_free(&r);
	}
	tsecret_expect_log_clean(&srv);
	ts_fini(&srv);

	/* With the conformance fixtures, anonymous callers pass; a bad
	 * credential still does not. */
	start("mcp_fixtures = on\n");
	cr_expect(eq(int, gate(NULL, by, sizeof(by), &r), 200), "%s", r.body);
	cr_expect(eq(str, by, "anonymous"));
	th_free(&r);
	cr_expect(eq(int, gate_bearer("nope", NULL, 0, &r), 401));
	th_free(&r);
}
