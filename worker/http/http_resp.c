/*
 * http_resp.c - response building and serialization, error bodies,
 * request ids; see http_resp.h.
 *
 * Runs in worker processes. Every byte that goes on the wire is built in
 * a struct buf, so nothing here can overrun; a header value is checked
 * for CR and LF before it is stored, so a handler that echoes client data
 * into a header can never split the response. The Date field is
 * formatted by hand (no locale, no strftime) and only when the second
 * changes: a worker answering thousands of requests a second formats it
 * once.
 */
#include "http_resp.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "http_parse.h"

/* A response body that grew past this is freed after its request, so one
 * large /metrics does not pin memory in every worker forever. */
#define HTTP_RESP_KEEP ((size_t)64 * 1024)
#define HTTP_RESP_HEADERS_MAX ((size_t)8 * 1024)

void http_resp_init(struct http_resp *r, size_t max_body)
{
	r->status = 200;
	r->content_type = NULL;
	r->close = false;
	r->csp = NULL;
	buf_init_dynamic(&r->body, max_body + 1);
	buf_init_dynamic(&r->headers, HTTP_RESP_HEADERS_MAX);
}

static void reset_buf(struct buf *b)
{
	if (b->cap > HTTP_RESP_KEEP) {
		size_t max = b->max;

		buf_free(b);
		buf_init_dynamic(b, max);
	} else {
		buf_reset(b);
	}
}

void http_resp_reset(struct http_resp *r)
{
	r->status = 200;
	r->content_type = NULL;
	r->close = false;
	r->csp = NULL;
	reset_buf(&r->body);
	reset_buf(&r->headers);
}

void http_resp_free(struct http_resp *r)
{
	if (r == NULL)
		return;
	buf_free(&r->body);
	buf_free(&r->headers);
}

static bool header_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

int http_resp_header(struct http_resp *r, const char *name, const char *value)
{
	size_t before = r->headers.len;

	if (!header_safe(name) || !header_safe(value) || name[0] == '\0')
		return -1;
	if (buf_printf(&r->headers, "%s: %s\r\n", name, value) < 0) {
		buf_truncate(&r->headers, before);
		r->headers.overflow = false;
		return -1;
	}
	return 0;
}

int http_resp_set(struct http_resp *r, int status, const char *type,
    const char *body, size_t len)
{
	buf_reset(&r->body);
	r->status = status;
	r->content_type = type;
	if (buf_append(&r->body, body, len) < 0) {
		buf_reset(&r->body);
		r->status = 500;
		r->content_type = NULL;
		return -1;
	}
	return 0;
}

static const struct {
	int status;
	const char *code;
	const char *message;
} errors[] = {
    {400, "bad_request", "The request is malformed."},
    {401, "unauthorized", "Authentication is required."},
    {403, "forbidden", "This request is not allowed."},
    {404, "not_found", "No resource lives at this path."},
    {405, "method_not_allowed", "This path does not take that method."},
    {408, "request_timeout", "The request was not received in time."},
    {411, "length_required", "This request needs a Content-Length."},
    {413, "content_too_large", "The request body is too large."},
    {414, "uri_too_long", "The request target is too long."},
    {417, "expectation_failed", "The expectation cannot be met."},
    {429, "too_many_requests", "Too many requests; retry later."},
    {431, "header_fields_too_large", "The request head is too large."},
    {500, "internal_error", "The server failed to handle the request."},
    {501, "not_implemented", "The server does not implement that method."},
    {503, "unavailable", "The service is unavailable; retry later."},
    {505, "http_version_not_supported",
        "Only HTTP/1.0 and HTTP/1.1 are supported."},
};

const char *http_resp_error_code(int status)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].status == status)
			return errors[i].code;
	return status >= 500 ? "server_error" : "client_error";
}

const char *http_resp_error_message(int status)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].status == status)
			return errors[i].message;
	return status >= 500 ? "The server failed to handle the request."
	                     : "The request cannot be served.";
}

void http_resp_error(struct http_resp *r, int status, const char *message,
    const char *request_id)
{
	const char *code = http_resp_error_code(status);

	if (message == NULL)
		message = http_resp_error_message(status);
	if (request_id == NULL)
		request_id = "";
	buf_reset(&r->body);
	r->status = status;
	r->content_type = HTTP_RESP_JSON;
	(void)buf_puts(&r->body, "{\"error\": \"");
	(void)buf_json_escape(&r->body, code, strlen(code));
	(void)buf_puts(&r->body, "\", \"message\": \"");
	(void)buf_json_escape(&r->body, message, strlen(message));
	(void)buf_puts(&r->body, "\", \"request_id\": \"");
	(void)buf_json_escape(&r->body, request_id, strlen(request_id));
	(void)buf_puts(&r->body, "\"}");
}

/* 1xx, 204 and 304 never have a body nor a Content-Length (RFC 9110). */
static bool status_has_body(int status)
{
	return !(status < 200 || status == 204 || status == 304);
}

size_t http_resp_body_sent(const struct http_resp *r,
    const struct http_resp_meta *m)
{
	if (m->head || !status_has_body(r->status))
		return 0;
	return r->body.len;
}

/* The fields every response carries, errors and refusals included. */
static void write_security(const struct http_resp *r,
    const struct http_resp_meta *m, struct buf *out)
{
	const char *csp = HTTP_RESP_CSP;

	if (r->csp != NULL && r->csp[0] != '\0' && header_safe(r->csp))
		csp = r->csp;
	(void)buf_printf(out,
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Content-Security-Policy: %s\r\n",
	    csp);
	if (m->tls)
		(void)buf_puts(out,
		    "Strict-Transport-Security: " HTTP_RESP_HSTS "\r\n");
}

int http_resp_write(const struct http_resp *r, const struct http_resp_meta *m,
    struct buf *out)
{
	(void)buf_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: pacer\r\n",
	    r->status, http_status_reason(r->status), http_resp_date(m->now));
	if (r->content_type != NULL && status_has_body(r->status))
		(void)buf_printf(out, "Content-Type: %s\r\n", r->content_type);
	if (m->stream && !m->http10)
		(void)buf_puts(out, "Transfer-Encoding: chunked\r\n");
	else if (status_has_body(r->status) && !m->stream)
		(void)buf_printf(out, "Content-Length: %zu\r\n", r->body.len);
	if (!m->keep_alive)
		(void)buf_puts(out, "Connection: close\r\n");
	else if (m->http10)
		(void)buf_puts(out, "Connection: keep-alive\r\n");
	if (m->request_id != NULL && m->request_id[0] != '\0')
		(void)buf_printf(out, "X-Request-Id: %s\r\n", m->request_id);
	write_security(r, m, out);
	(void)buf_append(out, r->headers.data, r->headers.len);
	(void)buf_puts(out, "\r\n");
	if (!m->stream && http_resp_body_sent(r, m) > 0)
		(void)buf_append(out, r->body.data, r->body.len);
	return out->overflow ? -1 : 0;
}

/* ---- Date ------------------------------------------------------------ */

static void put2(char *dst, int v)
{
	dst[0] = (char)('0' + (v / 10) % 10);
	dst[1] = (char)('0' + v % 10);
}

const char *http_resp_date(time_t now)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static char cached[HTTP_RESP_DATE_LEN] = "";
	static time_t cached_at = (time_t)-1;
	struct tm tm;
	char *d = cached;
	int y;

	if (now == cached_at && cached[0] != '\0')
		return cached;
	if (gmtime_r(&now, &tm) == NULL)
		return cached[0] != '\0' ? cached
		                         : "Thu, 01 Jan 1970 00:00:00 GMT";
	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
	memcpy(d, days + (ptrdiff_t)3 * tm.tm_wday, 3);
	memcpy(d + 3, ", ", 2);
	put2(d + 5, tm.tm_mday);
	d[7] = ' ';
	memcpy(d + 8, months + (ptrdiff_t)3 * tm.tm_mon, 3);
	d[11] = ' ';
	y = tm.tm_year + 1900;
	put2(d + 12, (y / 100) % 100);
	put2(d + 14, y % 100);
	d[16] = ' ';
	put2(d + 17, tm.tm_hour);
	d[19] = ':';
	put2(d + 20, tm.tm_min);
	d[22] = ':';
	put2(d + 23, tm.tm_sec);
	memcpy(d + 25, " GMT", 4);
	d[29] = '\0';
	cached_at = now;
	return cached;
}

/* ---- request ids ------------------------------------------------------ */

static uint64_t id_seed, id_counter;

bool http_resp_id_sane(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > HTTP_RESP_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == ':' || c == '-'))
			return false;
	}
	return true;
}

int http_resp_id_seed(void)
{
	struct timespec ts;
	uint64_t seed = 0;
	ssize_t n;

	do {
		n = getrandom(&seed, sizeof(seed), GRND_NONBLOCK);
	} while (n < 0 && errno == EINTR);
	id_counter = 0;
	if (n == (ssize_t)sizeof(seed)) {
		id_seed = seed;
		return 0;
	}
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	id_seed = ((uint64_t)getpid() << 40) ^ (uint64_t)ts.tv_nsec ^
	    ((uint64_t)ts.tv_sec << 20);
	return -1;
}

/* splitmix64's finalizer: a bijection, so distinct counters give distinct
 * ids, and consecutive ones look unrelated in logs. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void http_resp_id_next(char *dst)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v = mix(id_seed + 0x9e3779b97f4a7c15ull * ++id_counter);
	int i;

	for (i = HTTP_RESP_ID_GEN_LEN - 1; i >= 0; i--) {
		dst[i] = hex[v & 0xf];
		v >>= 4;
	}
	dst[HTTP_RESP_ID_GEN_LEN] = '\0';
}
