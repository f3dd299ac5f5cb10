/*
 * register.c - OAuth clients: dynamic client registration (RFC 7591,
 * POST /oauth2/register), reading a client back, its redirect URIs, and
 * the small helpers the other files share (scopes, secrets, parameters).
 *
 * Runs in worker processes. Anyone may register a public client (no
 * secret, token_endpoint_auth_method "none"): that is what MCP clients
 * do the first time they meet a server, and it grants nothing by itself,
 * since every token still needs a user to sign in and allow it. A
 * confidential client (client_secret_basic or client_secret_post) is
 * registered only with a user's credential and belongs to that user: its
 * client_credentials tokens act as that user, so registering one
 * anonymously would hand out an identity nobody owns. Its secret is shown
 * once, in the answer, and kept as a SHA-256 only.
 *
 * Redirect URIs are where codes go, so they are strict (RFC 8252 and the
 * MCP spec): https anywhere, http only to a loopback host (127.0.0.1,
 * [::1], localhost), no fragment, no user information; they are matched
 * later byte for byte.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oauth_int.h"
#include "secret.h"

static const char *const grant_names[] = {"authorization_code", "refresh_token",
    "client_credentials"};
static const char *const method_names[] = {"none", "client_secret_basic",
    "client_secret_post"};

/* What a registration asks for, checked. */
struct reg {
	const char *name;
	struct json_object *redirects; /* borrowed from the body, or NULL */
	unsigned grants;
	enum oauth_method method;
};

ssize_t oauth_param(const char *src, size_t len, const char *name, char *out,
    size_t outlen)
{
	if (src == NULL)
		return -1;
	return http_form_get(src, len, name, out, outlen);
}

bool oauth_scope_ok(const char *scope)
{
	const char *p = scope;

	if (p == NULL)
		return true;
	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n > 0 &&
		    (n != strlen(OAUTH_SCOPE) ||
		        strncmp(p, OAUTH_SCOPE, n) != 0))
			return false;
		p += n;
		p += strspn(p, " ");
	}
	return true;
}

int oauth_new_secret(const char *kind, char *out, char hash[AUTH_BYTEA_HEX_LEN])
{
	memcpy(out, kind, 3);
	if (secret_random_base62(out + 3, OAUTH_SECRET_LEN - 3) != 0)
		return -1;
	out[OAUTH_SECRET_LEN] = '\0';
	return secret_sha256_bytea(out, OAUTH_SECRET_LEN, hash);
}

/* The grant bits of a space-separated list; 0 when one is unknown. */
static unsigned grants_parse(const char *list)
{
	unsigned bits = 0;

	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, " "), i;

		for (i = 0; i < 3; i++)
			if (strlen(grant_names[i]) == n &&
			    strncmp(p, grant_names[i], n) == 0)
				break;
		if (i == 3)
			return 0;
		bits |= 1u << i;
		p += n;
		p += strspn(p, " ");
	}
	return bits;
}

/* Fill c from row 0 of a Q_OAUTH_CLIENT_GET result. */
static int client_fill(PGresult *res, struct oauth_client *c)
{
	const char *m = PQgetvalue(res, 0, 3);

	(void)snprintf(c->name, sizeof(c->name), "%s", PQgetvalue(res, 0, 0));
	c->redirect_uris = json_tokener_parse(PQgetvalue(res, 0, 1));
	c->grants = grants_parse(PQgetvalue(res, 0, 2));
	c->method = strcmp(m, "client_secret_basic") == 0 ? OAUTH_AUTH_BASIC
	    : strcmp(m, "client_secret_post") == 0        ? OAUTH_AUTH_POST
	                                                  : OAUTH_AUTH_NONE;
	(void)snprintf(c->secret_hex, sizeof(c->secret_hex), "%s",
	    PQgetvalue(res, 0, 4));
	(void)snprintf(c->owner_id, sizeof(c->owner_id), "%s",
	    PQgetvalue(res, 0, 5));
	(void)snprintf(c->owner_email, sizeof(c->owner_email), "%s",
	    PQgetvalue(res, 0, 6));
	(void)snprintf(c->owner_role, sizeof(c->owner_role), "%s",
	    PQgetvalue(res, 0, 7));
	c->owner_active = strcmp(PQgetvalue(res, 0, 8), "active") == 0;
	if (c->redirect_uris == NULL ||
	    !json_object_is_type(c->redirect_uris, json_type_array)) {
		log_errx("client %s: its redirect URIs are not understood",
		    c->id);
		return 500;
	}
	return 0;
}

int oauth_client_get(const char *id, struct oauth_client *c)
{
	const char *params[1] = {id};
	PGresult *res = NULL;
	enum db_rc rc;
	int st;

	memset(c, 0, sizeof(*c));
	if (!auth_uuid_valid(id, strlen(id)))
		return 404;
	(void)snprintf(c->id, sizeof(c->id), "%s", id);
	rc = db_exec(auth_g.db, Q_OAUTH_CLIENT_GET, params, &res);
	if (rc != DB_OK) {
		if (rc == DB_ERROR)
			log_errx("could not read OAuth client %s: %s", id,
			    PQresultErrorMessage(res));
		PQclear(res);
		return rc == DB_UNAVAILABLE ? 503 : 500;
	}
	st = PQntuples(res) == 1 ? client_fill(res, c) : 404;
	PQclear(res);
	return st;
}

void oauth_client_free(struct oauth_client *c)
{
	json_object_put(c->redirect_uris);
	c->redirect_uris = NULL;
}

bool oauth_client_redirect_ok(const struct oauth_client *c, const char *uri)
{
	size_t n = c->redirect_uris != NULL
	    ? json_object_array_length(c->redirect_uris)
	    : 0;

	for (size_t i = 0; i < n; i++) {
		const char *u = json_object_get_string(
		    json_object_array_get_idx(c->redirect_uris, i));

		if (u != NULL && strcmp(u, uri) == 0)
			return true;
	}
	return false;
}

const char *oauth_client_sole_redirect(const struct oauth_client *c)
{
	if (c->redirect_uris == NULL ||
	    json_object_array_length(c->redirect_uris) != 1)
		return NULL;
	return json_object_get_string(
	    json_object_array_get_idx(c->redirect_uris, 0));
}

/* Whether uri may be a redirect URI: https, or http to a loopback host;
 * no fragment, no user information, no blank or control byte. */
static bool redirect_uri_ok(const char *uri)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *user = NULL;
	size_t n = strlen(uri);
	bool ok = false;

	if (n == 0 || n > OAUTH_URI_MAX || strchr(uri, '#') != NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)uri[i] <= 0x20 || uri[i] == 0x7f)
			return false;
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto out;
	if (strcmp(scheme, "https") == 0)
		ok = host[0] != '\0';
	else if (strcmp(scheme, "http") == 0)
		ok = strcmp(host, "127.0.0.1") == 0 ||
		    strcmp(host, "[::1]") == 0 ||
		    strcmp(host, "localhost") == 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

/* A registration error (RFC 7591 section 3.2.2). */
static void reg_error(const struct router_call *call, struct http_resp *r,
    const char *error, const char *desc)
{
	auth_oauth_error(call, r, 400, error, error, desc);
}

/* Member key of body as a string (NULL when absent): false after
 * answering 400 when it is there but no string. */
static bool opt_string(const struct router_call *call, struct http_resp *r,
    struct json_object *body, const char *key, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(body, key, &v) || v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_string)) {
		char desc[96];

		(void)snprintf(desc, sizeof(desc), "%s must be a string.", key);
		reg_error(call, r, "invalid_client_metadata", desc);
		return false;
	}
	*out = json_object_get_string(v);
	return true;
}

/* The strings of array member key, joined by spaces into out; absent:
 * dflt. false after answering 400. */
static bool string_list(const struct router_call *call, struct http_resp *r,
    struct json_object *body, const char *key, const char *dflt, char *out,
    size_t outlen)
{
	struct json_object *v;
	struct buf b;
	size_t n;

	buf_init_fixed(&b, out, outlen);
	if (!json_object_object_get_ex(body, key, &v) || v == NULL) {
		(void)buf_puts(&b, dflt);
		return true;
	}
	n = json_object_is_type(v, json_type_array)
	    ? json_object_array_length(v)
	    : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string) ||
		    strchr(json_object_get_string(e), ' ') != NULL)
			n = 0;
		else
			(void)buf_printf(&b, "%s%s", i > 0 ? " " : "",
			    json_object_get_string(e));
	}
	if (n == 0 || b.overflow) {
		char desc[96];

		(void)snprintf(desc, sizeof(desc),
		    "%s must be a non-empty array of known strings.", key);
		reg_error(call, r, "invalid_client_metadata", desc);
		return false;
	}
	return true;
}

/* token_endpoint_auth_method, grant_types and response_types. */
static bool reg_kinds(const struct router_call *call, struct http_resp *r,
    struct json_object *body, struct reg *m)
{
	const char *method;
	char list[128];
	int i;

	if (!opt_string(call, r, body, "token_endpoint_auth_method", &method))
		return false;
	for (i = 0; method != NULL && i < 3; i++)
		if (strcmp(method, method_names[i]) == 0)
			break;
	if (i == 3) {
		reg_error(call, r, "invalid_client_metadata",
		    "token_endpoint_auth_method must be none, "
		    "client_secret_basic or client_secret_post.");
		return false;
	}
	m->method = method == NULL ? OAUTH_AUTH_NONE : (enum oauth_method)i;
	if (!string_list(call, r, body, "grant_types", "authorization_code",
	        list, sizeof(list)))
		return false;
	if ((m->grants = grants_parse(list)) == 0 ||
	    ((m->grants & OAUTH_GRANT_CLIENT) != 0 &&
	        m->method == OAUTH_AUTH_NONE)) {
		reg_error(call, r, "invalid_client_metadata",
		    "grant_types are authorization_code, refresh_token and, "
		    "for a confidential client only, client_credentials.");
		return false;
	}
	if (!string_list(call, r, body, "response_types", "code", list,
	        sizeof(list)))
		return false;
	if (strcmp(list, "code") != 0) {
		reg_error(call, r, "invalid_client_metadata",
		    "response_types must be [\"code\"].");
		return false;
	}
	return true;
}

/* redirect_uris: required for authorization_code, each one checked. */
static bool reg_redirects(const struct router_call *call, struct http_resp *r,
    struct json_object *body, struct reg *m)
{
	struct json_object *v = NULL;
	size_t n = 0;

	if (json_object_object_get_ex(body, "redirect_uris", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_array) ||
		    (n = json_object_array_length(v)) > OAUTH_REDIRECTS_MAX) {
			reg_error(call, r, "invalid_redirect_uri",
			    "redirect_uris must be an array of at most 10 "
			    "URIs.");
			return false;
		}
	}
	if (n == 0 && (m->grants & OAUTH_GRANT_CODE) != 0) {
		reg_error(call, r, "invalid_redirect_uri",
		    "An authorization_code client needs redirect_uris.");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string) ||
		    !redirect_uri_ok(json_object_get_string(e))) {
			reg_error(call, r, "invalid_redirect_uri",
			    "Each redirect URI must be https, or http to "
			    "127.0.0.1, [::1] or localhost, without a "
			    "fragment.");
			return false;
		}
	}
	m->redirects = n > 0 ? v : NULL;
	return true;
}

/* client_name and scope. */
static bool reg_name_scope(const struct router_call *call, struct http_resp *r,
    struct json_object *body, struct reg *m)
{
	const char *scope;

	if (!opt_string(call, r, body, "client_name", &m->name) ||
	    !opt_string(call, r, body, "scope", &scope))
		return false;
	if (m->name == NULL)
		m->name = "";
	for (const char *p = m->name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			m->name = NULL;
	if (m->name == NULL || strlen(m->name) > OAUTH_NAME_MAX) {
		reg_error(call, r, "invalid_client_metadata",
		    "client_name is at most 200 bytes of text.");
		return false;
	}
	if (!oauth_scope_ok(scope)) {
		reg_error(call, r, "invalid_client_metadata",
		    "The only scope is \"" OAUTH_SCOPE "\".");
		return false;
	}
	return true;
}

/* The JSON array of the grant bits. */
static struct json_object *grants_json(unsigned grants)
{
	struct json_object *a = json_object_new_array();

	for (unsigned i = 0; a != NULL && i < 3; i++)
		if ((grants & (1u << i)) != 0)
			json_object_array_add(a,
			    json_object_new_string(grant_names[i]));
	return a;
}

/* The 201 answer: the client as registered, with its secret once. */
static void reg_answer(const struct router_call *call, struct http_resp *r,
    const struct reg *m, PGresult *res, const char *secret)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *types = json_object_new_array();

	if (doc == NULL || types == NULL) {
		json_object_put(doc);
		json_object_put(types);
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	json_object_object_add(doc, "client_id",
	    json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(doc, "client_id_issued_at",
	    json_object_new_int64(strtoll(PQgetvalue(res, 0, 1), NULL, 10)));
	if (secret != NULL) {
		json_object_object_add(doc, "client_secret",
		    json_object_new_string(secret));
		json_object_object_add(doc, "client_secret_expires_at",
		    json_object_new_int64(0));
	}
	json_object_object_add(doc, "client_name",
	    json_object_new_string(m->name));
	json_object_object_add(doc, "redirect_uris",
	    m->redirects != NULL ? json_object_get(m->redirects)
	                         : json_object_new_array());
	json_object_object_add(doc, "grant_types", grants_json(m->grants));
	json_object_array_add(types, json_object_new_string("code"));
	json_object_object_add(doc, "response_types", types);
	json_object_object_add(doc, "token_endpoint_auth_method",
	    json_object_new_string(method_names[m->method]));
	json_object_object_add(doc, "scope",
	    json_object_new_string(OAUTH_SCOPE));
	(void)http_resp_header(r, "Cache-Control", "no-store");
	router_send_json(call, r, 201, doc);
}

/* Store the client (and make its secret when confidential), answer. */
static void reg_store(const struct router_call *call, struct http_resp *r,
    const struct reg *m)
{
	char secret[OAUTH_SECRET_LEN + 1], hash[AUTH_BYTEA_HEX_LEN];
	const char *owner = call->who != NULL ? call->who->user_id : NULL;
	struct json_object *g = grants_json(m->grants), *d;
	const char *params[7];
	PGresult *res = NULL;
	enum db_rc rc;

	secret[0] = '\0';
	if (m->method != OAUTH_AUTH_NONE &&
	    oauth_new_secret("cs_", secret, hash) != 0) {
		http_resp_error(r, 500, NULL, call->request_id);
		goto out;
	}
	params[0] = m->name;
	params[1] = m->redirects != NULL
	    ? json_object_to_json_string_ext(m->redirects,
	          JSON_C_TO_STRING_PLAIN)
	    : "[]";
	params[2] = json_object_to_json_string_ext(g, JSON_C_TO_STRING_PLAIN);
	params[3] = method_names[m->method];
	params[4] = secret[0] != '\0' ? hash : NULL;
	params[5] = secret[0] != '\0' ? owner : NULL;
	params[6] = OAUTH_SCOPE;
	rc = db_exec(auth_g.db, Q_OAUTH_CLIENT_INSERT, params, &res);
	if (rc != DB_OK || PQntuples(res) != 1) {
		auth_db_failed(call, r, rc == DB_OK ? DB_ERROR : rc, res);
		res = NULL;
		goto out;
	}
	if ((d = json_object_new_object()) != NULL)
		json_object_object_add(d, "client_id",
		    json_object_new_string(PQgetvalue(res, 0, 0)));
	audit_record(call, "oauth.client_register", AUDIT_SUCCESS, NULL,
	    params[5], NULL, d);
	reg_answer(call, r, m, res, secret[0] != '\0' ? secret : NULL);
out:
	secret_wipe(secret, sizeof(secret));
	json_object_put(g);
	PQclear(res);
}

void oauth_h_register(const struct router_call *call, struct http_resp *r)
{
	struct json_object *body = auth_body_json(call, r);
	struct reg m;

	if (body == NULL)
		return;
	memset(&m, 0, sizeof(m));
	if (!reg_kinds(call, r, body, &m) ||
	    !reg_redirects(call, r, body, &m) ||
	    !reg_name_scope(call, r, body, &m))
		goto out;
	if (m.method != OAUTH_AUTH_NONE && call->who == NULL) {
		reg_error(call, r, "invalid_client_metadata",
		    "A confidential client (client_secret_basic or "
		    "client_secret_post) is registered with the credential of "
		    "the user it acts for: Authorization: Bearer <access "
		    "token or API key>. Anyone may register a public client "
		    "(token_endpoint_auth_method \"none\").");
		goto out;
	}
	reg_store(call, r, &m);
out:
	json_object_put(body);
}
