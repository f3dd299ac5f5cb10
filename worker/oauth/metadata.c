/*
 * metadata.c - where an MCP client learns how to get a token: the base
 * URL this server is reached at, the protected resource metadata of /mcp
 * (RFC 9728) and the authorization server metadata (RFC 8414); and the
 * debug route that shows what the gate let through on an MCP route.
 *
 * Runs in worker processes. The base URL is public_url when the operator
 * set it (the only right answer behind a proxy that terminates TLS or
 * rewrites Host); without it each request's own Host decides, so a
 * server reached as http://127.0.0.1:8080 and as http://localhost:8080
 * is two issuers with two resources, and a token made for one is refused
 * by the other. The Host is checked to be a plain host[:port] before it
 * goes into any document, header or page, and lowercased, so one host
 * gives one audience.
 */
#include "oauth.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "oauth_int.h"

/* Whether h[0..n) is "name[:port]" or "[v6][:port]": the only Host
 * values a base URL is made from. */
static bool host_ok(const char *h, size_t n)
{
	size_t i = 0, end;

	if (n == 0 || n > 255)
		return false;
	if (h[0] == '[') {
		end = 1;
		while (end < n &&
		    (isxdigit((unsigned char)h[end]) || h[end] == ':' ||
		        h[end] == '.'))
			end++;
		if (end == n || h[end] != ']' || end == 1)
			return false;
		i = end + 1;
	} else {
		while (i < n &&
		    (isalnum((unsigned char)h[i]) || h[i] == '.' ||
		        h[i] == '-'))
			i++;
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	if (h[i] != ':' || n - i < 2 || n - i > 6)
		return false;
	for (i++; i < n; i++)
		if (!isdigit((unsigned char)h[i]))
			return false;
	return true;
}

int oauth_base_url(const struct router_call *call, char *dst, size_t n)
{
	const char *pub = auth_g.ctx->cfg->public_url;
	size_t len = pub != NULL ? strlen(pub) : 0;
	struct http_slice s = call->req->host;
	const char *h = call->buf + s.off;
	int k;

	if (len > 0) {
		while (len > 0 && pub[len - 1] == '/')
			len--;
		k = snprintf(dst, n, "%.*s", (int)len, pub);
		return k < 0 || (size_t)k >= n ? -1 : 0;
	}
	if (!call->req->has_host || !host_ok(h, s.len))
		return -1;
	k = snprintf(dst, n, "%s://%.*s", call->tls ? "https" : "http",
	    (int)s.len, h);
	if (k < 0 || (size_t)k >= n)
		return -1;
	for (char *p = dst; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

int oauth_resource_url(const struct router_call *call, char *dst, size_t n)
{
	size_t len;

	if (oauth_base_url(call, dst, n) != 0)
		return -1;
	len = strlen(dst);
	if (len + sizeof(OAUTH_RESOURCE_PATH) > n)
		return -1;
	memcpy(dst + len, OAUTH_RESOURCE_PATH, sizeof(OAUTH_RESOURCE_PATH));
	return 0;
}

/* ["a", "b", ...] from a NULL-terminated list. */
static struct json_object *strings(const char *const *v)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a != NULL && v[i] != NULL; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/* Add key: base + path. */
static void add_url(struct json_object *doc, const char *key, const char *base,
    const char *path)
{
	char url[OAUTH_URL_MAX + 64];

	(void)snprintf(url, sizeof(url), "%s%s", base, path);
	json_object_object_add(doc, key, json_object_new_string(url));
}

/* The base URL, or false after answering 400 (a Host that is not one). */
static bool base_or_400(const struct router_call *call, struct http_resp *r,
    char *base, size_t n)
{
	if (oauth_base_url(call, base, n) == 0)
		return true;
	auth_refuse(call, r, 400, "invalid_host",
	    "The Host field must be a host name or address and an optional "
	    "port (or set public_url).");
	return false;
}

static void send_doc(const struct router_call *call, struct http_resp *r,
    struct json_object *doc)
{
	(void)http_resp_header(r, "Cache-Control", "public, max-age=300");
	router_send_json(call, r, 200, doc);
}

void oauth_h_resource_metadata(const struct router_call *call,
    struct http_resp *r)
{
	static const char *const scopes[] = {OAUTH_SCOPE, NULL};
	static const char *const methods[] = {"header", NULL};
	char base[OAUTH_URL_MAX];
	struct json_object *doc, *servers;

	if (!base_or_400(call, r, base, sizeof(base)))
		return;
	if ((doc = json_object_new_object()) == NULL ||
	    (servers = json_object_new_array()) == NULL) {
		json_object_put(doc);
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	add_url(doc, "resource", base, OAUTH_RESOURCE_PATH);
	json_object_array_add(servers, json_object_new_string(base));
	json_object_object_add(doc, "authorization_servers", servers);
	json_object_object_add(doc, "scopes_supported", strings(scopes));
	json_object_object_add(doc, "bearer_methods_supported",
	    strings(methods));
	json_object_object_add(doc, "resource_name",
	    json_object_new_string("pacer"));
	send_doc(call, r, doc);
}

void oauth_h_server_metadata(const struct router_call *call,
    struct http_resp *r)
{
	static const char *const code[] = {"code", NULL};
	static const char *const query[] = {"query", NULL};
	static const char *const grants[] = {"authorization_code",
	    "refresh_token", "client_credentials", NULL};
	static const char *const s256[] = {"S256", NULL};
	static const char *const auth[] = {"none", "client_secret_basic",
	    "client_secret_post", NULL};
	static const char *const scopes[] = {OAUTH_SCOPE, NULL};
	char base[OAUTH_URL_MAX];
	struct json_object *doc;

	if (!base_or_400(call, r, base, sizeof(base)))
		return;
	if ((doc = json_object_new_object()) == NULL) {
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	json_object_object_add(doc, "issuer", json_object_new_string(base));
	add_url(doc, "authorization_endpoint", base, "/oauth2/authorize");
	add_url(doc, "token_endpoint", base, "/oauth2/token");
	add_url(doc, "registration_endpoint", base, "/oauth2/register");
	json_object_object_add(doc, "response_types_supported", strings(code));
	json_object_object_add(doc, "response_modes_supported", strings(query));
	json_object_object_add(doc, "grant_types_supported", strings(grants));
	json_object_object_add(doc, "code_challenge_methods_supported",
	    strings(s256));
	json_object_object_add(doc, "token_endpoint_auth_methods_supported",
	    strings(auth));
	json_object_object_add(doc, "scopes_supported", strings(scopes));
	json_object_object_add(doc,
	    "authorization_response_iss_parameter_supported",
	    json_object_new_boolean(1));
	send_doc(call, r, doc);
}

void oauth_h_debug_gate(const struct router_call *call, struct http_resp *r)
{
	const struct auth_principal *who = call->who;
	struct json_object *doc = json_object_new_object();
	const char *by = who == NULL       ? "anonymous"
	    : who->via == AUTH_VIA_API_KEY ? "api_key"
	    : who->mcp_audience            ? "oauth_token"
	                                   : "access_token";

	if (doc == NULL) {
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	json_object_object_add(doc, "authenticated_by",
	    json_object_new_string(by));
	json_object_object_add(doc, "user_id",
	    who != NULL ? json_object_new_string(who->user_id) : NULL);
	json_object_object_add(doc, "client_id",
	    who != NULL && who->client_id[0] != '\0'
	        ? json_object_new_string(who->client_id)
	        : NULL);
	router_send_json(call, r, 200, doc);
}
