/*
 * page.c - the HTML of the authorization endpoint: the sign-in page, the
 * consent page of a browser already signed in, and the error page shown
 * when a request cannot be sent back to its client.
 *
 * Runs in worker processes. These are the only HTML pages pacer serves,
 * and the values they show come from strangers: a client names itself
 * at registration, and the request's parameters are whatever a link
 * said. So every value is HTML-escaped (text and attributes alike), no
 * page has a script, and the Content-Security-Policy allows inline
 * styles and nothing else: no script, no image, no frame, no base, and
 * forms posting only to this server and to the client's redirect origin
 * (browsers apply form-action to the redirect that answers the form).
 * Pages are never cached.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "oauth_int.h"

#define PAGE_TYPE "text/html; charset=utf-8"
#define PAGE_MAX ((size_t)64 * 1024)
#define CSP_BASE                                                               \
	"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "     \
	"frame-ancestors 'none'; "
#define CSP_ERROR CSP_BASE "form-action 'none'"

static const char style[] =
    "body{font-family:system-ui,sans-serif;max-width:30em;margin:3em auto;"
    "padding:0 1em;color:#222;line-height:1.4}"
    "label{display:block;margin:.8em 0 .2em}"
    "input[type=email],input[type=password]{width:100%;padding:.5em;"
    "box-sizing:border-box}"
    "button{margin:1.2em .6em 0 0;padding:.5em 1.3em}"
    ".notice{color:#a00}.muted{color:#666;font-size:.9em}"
    "code{background:#f3f3f3;padding:0 .2em}";

/* The policy of the form pages; alive until the response is written
 * (one request at a time per worker). */
static char form_csp[OAUTH_URL_MAX + 160];

/* s, escaped for HTML text and quoted attribute values. */
static void esc(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': (void)buf_puts(b, "&amp;"); break;
		case '<': (void)buf_puts(b, "&lt;"); break;
		case '>': (void)buf_puts(b, "&gt;"); break;
		case '"': (void)buf_puts(b, "&quot;"); break;
		case '\'': (void)buf_puts(b, "&#39;"); break;
		default: (void)buf_putc(b, *s); break;
		}
	}
}

static void head(struct buf *b, const char *title)
{
	(void)buf_puts(b,
	    "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><title>");
	esc(b, title);
	(void)buf_printf(b, " - pacer</title><style>%s</style></head><body>\n",
	    style);
}

/* Set status and the page; no-store. */
static void send_page(const struct router_call *call, struct http_resp *r,
    int status, struct buf *b)
{
	(void)buf_puts(b, "</body></html>\n");
	(void)http_resp_header(r, "Cache-Control", "no-store");
	if (b->overflow ||
	    http_resp_set(r, status, PAGE_TYPE, b->data, b->len) != 0) {
		r->csp = NULL;
		http_resp_error(r, 500, "The page could not be built.",
		    call->request_id);
	}
}

void oauth_page_error(const struct router_call *call, struct http_resp *r,
    int status, const char *message)
{
	struct buf b;

	buf_init_dynamic(&b, PAGE_MAX);
	head(&b, "Authorization failed");
	(void)buf_puts(&b, "<h1>Authorization failed</h1>\n<p>");
	esc(&b, message);
	(void)buf_puts(&b, "</p>\n<p class=\"muted\">Request ");
	esc(&b, call->request_id);
	(void)buf_puts(&b,
	    ". Go back to the application and start again."
	    "</p>\n");
	r->csp = CSP_ERROR;
	send_page(call, r, status, &b);
	buf_free(&b);
}

/* The origin ("scheme://host[:port]") of uri into out, "" when it has
 * none fit for a policy. */
static void origin_of(const char *uri, char *out, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int k = -1;

	out[0] = '\0';
	if (u != NULL && curl_url_set(u, CURLUPART_URL, uri, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
		k = snprintf(out, n, "%s://%s%s%s", scheme, host,
		    port != NULL ? ":" : "", port != NULL ? port : "");
	}
	for (size_t i = 0; k > 0 && out[i] != '\0'; i++)
		if (!isalnum((unsigned char)out[i]) &&
		    strchr(".-:/[]", out[i]) == NULL)
			k = -1;
	if (k < 0 || (size_t)k >= n)
		out[0] = '\0';
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

static void hidden(struct buf *b, const char *name, const char *value)
{
	(void)buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"",
	    name);
	esc(b, value);
	(void)buf_puts(b, "\">\n");
}

/* The request's parameters and the CSRF token, as hidden fields: the
 * form's POST is checked exactly as the GET was. */
static void hidden_request(struct buf *b, const struct oauth_areq *q,
    const char *csrf)
{
	hidden(b, "client_id", q->client_id);
	if (q->redirect_sent)
		hidden(b, "redirect_uri", q->redirect_uri);
	hidden(b, "response_type", "code");
	hidden(b, "code_challenge", q->challenge);
	hidden(b, "code_challenge_method", "S256");
	if (q->has_state)
		hidden(b, "state", q->state);
	if (q->scope[0] != '\0')
		hidden(b, "scope", q->scope);
	if (q->resource_arg[0] != '\0')
		hidden(b, "resource", q->resource_arg);
	hidden(b, "csrf", csrf);
}

/* Who asks, for what, and where the answer goes. */
static void intro(struct buf *b, const struct oauth_areq *q,
    const struct oauth_client *c, const char *origin)
{
	(void)buf_puts(b, "<h1>Allow access to pacer</h1>\n<p><strong>");
	esc(b, c->name[0] != '\0' ? c->name : "An unnamed application");
	(void)buf_puts(b,
	    "</strong> wants to use your pacer account through "
	    "MCP (scope <code>" OAUTH_SCOPE "</code>): read your "
	    "training data and use pacer's tools as you.</p>\n"
	    "<p class=\"muted\">Client ");
	esc(b, q->client_id);
	(void)buf_puts(b, "; you will be sent back to ");
	esc(b, origin[0] != '\0' ? origin : q->redirect_uri);
	(void)buf_puts(b, ".</p>\n");
}

void oauth_page_form(const struct router_call *call, struct http_resp *r,
    int status, enum oauth_page_kind kind, const struct oauth_areq *q,
    const struct oauth_client *c, const char *csrf, const char *email,
    const char *notice)
{
	char origin[OAUTH_URL_MAX];
	struct buf b;

	origin_of(q->redirect_uri, origin, sizeof(origin));
	buf_init_dynamic(&b, PAGE_MAX);
	head(&b, kind == OAUTH_PAGE_LOGIN ? "Sign in" : "Allow access");
	intro(&b, q, c, origin);
	if (notice != NULL) {
		(void)buf_puts(&b, "<p class=\"notice\">");
		esc(&b, notice);
		(void)buf_puts(&b, "</p>\n");
	}
	(void)buf_puts(&b,
	    "<form method=\"post\" action=\"/oauth2/authorize\">\n");
	hidden_request(&b, q, csrf);
	if (kind == OAUTH_PAGE_LOGIN) {
		(void)buf_puts(&b,
		    "<label for=\"email\">Email</label><input "
		    "id=\"email\" name=\"email\" type=\"email\" "
		    "autocomplete=\"username\" required value=\"");
		esc(&b, email);
		(void)buf_puts(&b,
		    "\">\n<label for=\"password\">Password</label><input "
		    "id=\"password\" name=\"password\" type=\"password\" "
		    "autocomplete=\"current-password\" required>\n");
	} else {
		(void)buf_puts(&b, "<p>Signed in as ");
		esc(&b, email);
		(void)buf_puts(&b, ".</p>\n");
	}
	(void)buf_printf(&b,
	    "<button type=\"submit\" name=\"action\" value=\"allow\">%s"
	    "</button><button type=\"submit\" name=\"action\" value=\"deny\" "
	    "formnovalidate>Deny</button>\n</form>\n",
	    kind == OAUTH_PAGE_LOGIN ? "Sign in and allow" : "Allow");
	(void)snprintf(form_csp, sizeof(form_csp),
	    CSP_BASE "form-action 'self'%s%s", origin[0] != '\0' ? " " : "",
	    origin);
	r->csp = form_csp;
	send_page(call, r, status, &b);
	buf_free(&b);
}
