/*
 * oauth.h - the OAuth 2.1 authorization server for MCP clients (the MCP
 * authorization spec, 2025-06-18 and 2025-11-25): the metadata documents
 * (RFC 9728, RFC 8414), dynamic client registration (RFC 7591), the
 * authorization endpoint with PKCE (S256 only) and its sign-in and
 * consent page, and the token endpoint (authorization_code,
 * refresh_token, client_credentials).
 *
 * The MCP resource is <base>/mcp, where <base> is public_url when set,
 * else "http://" or "https://" (over TLS) and the request's Host. Access
 * tokens issued here are JWTs like the first-party ones (same keys, same
 * revocation) whose aud is that resource, with a "scope" ("mcp") and a
 * "client_id" claim; the gate (worker/auth/gate.c) accepts them on
 * ROUTER_AUTH_MCP routes only.
 *
 * Callers: worker processes only (the route table in handlers.c, the
 * gate, the /mcp handler); one thread.
 */
#ifndef PACER_OAUTH_H
#define PACER_OAUTH_H

#include <stddef.h>

#include "http_resp.h"
#include "router.h"

/* Room for a base or resource URL: "https://", a host of up to 255
 * bytes, a port and the path, NUL included. */
#define OAUTH_URL_MAX 320
/* The only scope there is: the MCP server, as the user. */
#define OAUTH_SCOPE "mcp"
/* The MCP endpoint's path, and where its protected resource metadata
 * is (both appended to the base URL). */
#define OAUTH_RESOURCE_PATH "/mcp"
#define OAUTH_PRM_PATH "/.well-known/oauth-protected-resource/mcp"

/*
 * The base URL clients reach this server at, as "scheme://host[:port]"
 * without a trailing slash, into dst (n bytes; OAUTH_URL_MAX is enough):
 * public_url when set, else http:// (https:// when call came over TLS)
 * and the request's Host field, lowercased. Returns 0, or -1 when the
 * Host field is absent or not a host[:port] (the caller answers 400).
 * It is the OAuth issuer, and the audience of MCP tokens is
 * oauth_resource_url().
 */
int oauth_base_url(const struct router_call *call, char *dst, size_t n);

/* The MCP resource: oauth_base_url() + OAUTH_RESOURCE_PATH. Returns 0
 * or -1 as oauth_base_url(). */
int oauth_resource_url(const struct router_call *call, char *dst, size_t n);

/*
 * The routes (see README's "OAuth for MCP clients"):
 *   GET  /.well-known/oauth-protected-resource[/mcp]   RFC 9728
 *   GET  /.well-known/oauth-authorization-server       RFC 8414
 *   POST /oauth2/register    RFC 7591; ROUTER_AUTH_OPTIONAL (a user's
 *                            credential may register a confidential
 *                            client it then owns), ROUTER_RATE_AUTH
 *   GET  /oauth2/authorize   ROUTER_AUTH_OPTIONAL (a first-party access
 *                            token signs the user in)
 *   POST /oauth2/authorize   the page's form, ROUTER_RATE_AUTH
 *   POST /oauth2/token       ROUTER_AUTH_NONE (clients authenticate
 *                            themselves), ROUTER_RATE_AUTH
 *   POST /debug/mcp-gate     ROUTER_AUTH_MCP, ROUTER_F_DEBUG: who called
 */
void oauth_h_resource_metadata(const struct router_call *call,
    struct http_resp *r);
void oauth_h_server_metadata(const struct router_call *call,
    struct http_resp *r);
void oauth_h_register(const struct router_call *call, struct http_resp *r);
void oauth_h_authorize(const struct router_call *call, struct http_resp *r);
void oauth_h_authorize_form(const struct router_call *call,
    struct http_resp *r);
void oauth_h_token(const struct router_call *call, struct http_resp *r);
void oauth_h_debug_gate(const struct router_call *call, struct http_resp *r);

#endif /* PACER_OAUTH_H */
