/*
 * oauth_int.h - what the files of worker/oauth/ share among themselves:
 * registered clients, secrets, scopes, the authorization request and the
 * HTML pages. Not for use outside worker/oauth/.
 */
#ifndef PACER_OAUTH_INT_H
#define PACER_OAUTH_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "auth_int.h"
#include "oauth.h"

#define OAUTH_NAME_MAX 200     /* client_name, bytes */
#define OAUTH_URI_MAX 2000     /* one redirect URI, bytes */
#define OAUTH_REDIRECTS_MAX 10 /* redirect URIs of one client */
#define OAUTH_STATE_MAX 1024   /* the state a client passes through */
/* Secrets made here: a 3-byte kind ("cs_" client secret, "ac_"
 * authorization code, "os_" browser session) and 40 base62 characters;
 * only their SHA-256 is stored. */
#define OAUTH_SECRET_LEN 43
/* A PKCE challenge: base64url of a SHA-256, no padding. */
#define OAUTH_CHALLENGE_LEN 43
/* The CSRF token of the page's forms (a cookie and a hidden field). */
#define OAUTH_CSRF_LEN 32

/* Grant types, as bits. */
#define OAUTH_GRANT_CODE 0x1u    /* authorization_code */
#define OAUTH_GRANT_REFRESH 0x2u /* refresh_token */
#define OAUTH_GRANT_CLIENT 0x4u  /* client_credentials */

/* token_endpoint_auth_method */
enum oauth_method {
	OAUTH_AUTH_NONE, /* a public client */
	OAUTH_AUTH_BASIC,
	OAUTH_AUTH_POST,
};

/* A registered client, as oauth_client_get() reads it. */
struct oauth_client {
	char id[AUTH_UUID_LEN + 1];
	char name[OAUTH_NAME_MAX + 1];
	struct json_object *redirect_uris; /* array of strings, owned */
	unsigned grants;                   /* OAUTH_GRANT_* */
	enum oauth_method method;
	char secret_hex[65]; /* SHA-256 of the secret in hex; "" public */
	/* The user who registered a confidential client; "" for none. */
	char owner_id[AUTH_UUID_LEN + 1];
	char owner_email[AUTH_EMAIL_MAX + 1];
	char owner_role[16];
	bool owner_active;
};

/* Read client id (any text: what is not a uuid is unknown) into *c
 * (zeroed first). Returns 0, 404 (unknown), 503 or 500. Release with
 * oauth_client_free() whatever it returned. */
int oauth_client_get(const char *id, struct oauth_client *c);
void oauth_client_free(struct oauth_client *c);

/* Whether uri is exactly one of c's redirect URIs. */
bool oauth_client_redirect_ok(const struct oauth_client *c, const char *uri);

/* The only redirect URI of c, or NULL when it has none or several. */
const char *oauth_client_sole_redirect(const struct oauth_client *c);

/* Whether a requested scope (space-separated) asks for nothing but
 * OAUTH_SCOPE; NULL and "" ask for the default, OAUTH_SCOPE. */
bool oauth_scope_ok(const char *scope);

/* A new secret: kind (3 bytes, "cs_" ...) and 40 base62 characters into
 * out (OAUTH_SECRET_LEN + 1 bytes), its hash as bytea text into hash.
 * Returns 0 or -1. */
int oauth_new_secret(const char *kind, char *out,
    char hash[AUTH_BYTEA_HEX_LEN]);

/* A form or query parameter of src[0..len), as http_form_get(): its
 * length, -1 when absent, -2 when repeated, malformed or too long. */
ssize_t oauth_param(const char *src, size_t len, const char *name, char *out,
    size_t outlen);

/* An authorization request (GET or POST /oauth2/authorize), checked. */
struct oauth_areq {
	char base[OAUTH_URL_MAX];     /* the issuer */
	char resource[OAUTH_URL_MAX]; /* base + "/mcp" */
	char client_id[AUTH_UUID_LEN + 1];
	char redirect_uri[OAUTH_URI_MAX + 1];
	bool redirect_sent; /* the request named it (else the only one) */
	char challenge[OAUTH_CHALLENGE_LEN + 1];
	char state[OAUTH_STATE_MAX + 1];
	bool has_state;
	char scope[128];                  /* as requested ("" when not) */
	char resource_arg[OAUTH_URL_MAX]; /* as requested ("" when not) */
};

/* The pages (page.c), text/html with a strict Content-Security-Policy,
 * every echoed value escaped, never cached. */
enum oauth_page_kind {
	OAUTH_PAGE_LOGIN,   /* email, password, allow or deny */
	OAUTH_PAGE_CONSENT, /* signed in already: allow or deny */
};

/* The sign-in or consent page for request q of client c, with the form
 * carrying q and csrf; email: the signed-in user (consent) or the one to
 * prefill (login), may be NULL; notice: a sentence shown above the form,
 * or NULL. */
void oauth_page_form(const struct router_call *call, struct http_resp *r,
    int status, enum oauth_page_kind kind, const struct oauth_areq *q,
    const struct oauth_client *c, const char *csrf, const char *email,
    const char *notice);

/* An error page: the request cannot be sent back to the client (unknown
 * client, a redirect URI it did not register ...). */
void oauth_page_error(const struct router_call *call, struct http_resp *r,
    int status, const char *message);

#endif /* PACER_OAUTH_INT_H */
