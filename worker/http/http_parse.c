/*
 * http_parse.c - strict, incremental HTTP/1.1 request parser; see
 * http_parse.h for the calling protocol.
 *
 * Runs in worker processes only, on bytes straight from the network: every
 * length, count and character is hostile until checked here. The worker
 * keeps a connection's bytes in one contiguous buffer and calls us each
 * time it grew; we keep our place in struct http_parse_state so a client
 * dribbling one byte per read costs O(n) in total, not O(n^2). The head is
 * handled line by line: memchr finds each LF once, and a line is validated
 * only when it is complete. Every decision therefore depends only on the
 * bytes before the point where it is taken, which is what makes a request
 * split at any boundary parse exactly like the whole request (the fuzz
 * target checks this). The chunked decoder is a byte-level state machine
 * for the same reason.
 *
 * Strictness, and why. An HTTP/1.1 server that is lenient where a proxy in
 * front of it is strict (or the reverse) lets a client smuggle a second
 * request past the proxy. So where RFC 9112 allows "reject or repair", we
 * reject, and we answer 400 and close rather than guess:
 *
 * - Lines end in CRLF. A bare LF (RFC 9112 §2.2 lets a recipient accept
 *   it) and a bare CR are 400. Up to HTTP_LEADING_CRLF_MAX empty lines
 *   before the request line are skipped (§2.2).
 * - Request line (§3): method SP request-target SP HTTP-version, single
 *   spaces. The method is a token of 1..HTTP_METHOD_MAX bytes; unknown
 *   tokens are HTTP_METHOD_OTHER for the router to answer 501. Only
 *   origin-form targets (and "*" for OPTIONS) are accepted (§3.2): we are
 *   an origin server, not a proxy. The target may hold visible ASCII but
 *   no '#', and each '%' must start a %XX escape; other characters RFC
 *   3986 reserves pass, as common clients send them unescaped. "HTTP/1.0"
 *   and "HTTP/1.1" are served, any other well-formed HTTP/x.y gets 505
 *   (§2.3 would let us treat 1.2 as 1.1; no such version exists), anything
 *   else 400.
 * - Field lines (§5): the name is a token directly followed by ':'
 *   (whitespace before the colon is 400, §5.1); the value may hold SP,
 *   HTAB, visible ASCII and obs-text but no other control character (NUL,
 *   CR, LF are 400, RFC 9110 §5.5); obs-fold continuation lines are 400
 *   (§5.2).
 * - Message framing (§6.3): Content-Length is 1*DIGIT within int64 and
 *   sent once (two lines, even equal, or a list is 400); Content-Length
 *   together with Transfer-Encoding is 400; Transfer-Encoding in HTTP/1.0
 *   is 400 (§6.1). We implement one transfer coding, chunked, so any other
 *   coding, wherever it is listed, is 501 (§6.1), and chunked listed twice
 *   is 400 (§7: it must not be applied twice). Without either field the
 *   body is empty (§6.3 rule 7), also for POST.
 * - Host (§3.2): HTTP/1.1 needs exactly one; two are 400 in any version.
 * - Expect (RFC 9110 §10.1.1): "100-continue" is reported, anything else
 *   is 417; in HTTP/1.0 a 100-continue is ignored.
 * - Chunked bodies (§7.1): hex size without sign, prefix or whitespace;
 *   extensions are skipped unparsed but must be visible text (no CTL) and
 *   fit HTTP_CHUNK_LINE_MAX with the size; data ends in CRLF; trailer
 *   fields are validated like header fields, limited like them, and
 *   dropped. The decoded size counts against max_body_size and so does the
 *   framing (size lines, CRLFs), so a client cannot make us buffer
 *   megabytes of 1-byte chunks for a small body.
 *
 * Limits are checked where the data is, not after it all arrived: a head
 * still incomplete at max_header_size bytes is 431 at once, a chunk size
 * that would pass max_body_size is 413 before its data is read.
 */
#include "http_parse.h"

#include <stdint.h>
#include <string.h>

enum phase {
	PH_REQUEST_LINE, /* waiting for the request line */
	PH_FIELDS,       /* reading header fields */
	PH_BODY,         /* head done, body not complete */
	PH_DONE,         /* whole request parsed */
	PH_ERROR,        /* refused; status and reason set */
};

enum chunk_state {
	CH_SIZE,    /* hex digits of a chunk size */
	CH_SIZE_WS, /* whitespace after the size, before ';' */
	CH_EXT,     /* chunk extensions, skipped */
	CH_SIZE_LF, /* the LF ending a chunk-size line */
	CH_DATA,    /* chunk data */
	CH_DATA_CR, /* the CRLF after chunk data */
	CH_DATA_LF,
	CH_TRAILER, /* trailer fields, line by line */
};

/* ------------------------------------------------------------ characters */

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* field-vchar, SP or HTAB: anything but CTLs (obs-text allowed). */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive p[0..n) == s (locale-independent on purpose). */
static bool eq_nocase(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' ||
		    lower((unsigned char)p[i]) != lower((unsigned char)s[i]))
			return false;
	return s[n] == '\0';
}

static bool is_token(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)p[i]))
			return false;
	return true;
}

/*
 * Next element of a comma-separated list (RFC 9110 §5.6.1) in p[*i .. n),
 * OWS trimmed; empty elements are skipped as the RFC asks. Returns false
 * when there is none left.
 */
static bool list_next(const char *p, size_t n, size_t *i, const char **elem,
    size_t *elen)
{
	size_t start, end;

	while (*i < n) {
		start = *i;
		while (*i < n && p[*i] != ',')
			(*i)++;
		end = *i;
		if (*i < n)
			(*i)++; /* the comma */
		while (start < end && is_ows((unsigned char)p[start]))
			start++;
		while (end > start && is_ows((unsigned char)p[end - 1]))
			end--;
		if (end > start) {
			*elem = p + start;
			*elen = end - start;
			return true;
		}
	}
	return false;
}

/* --------------------------------------------------------------- helpers */

/* Internal steps return HTTP_PARSE_NEED_MORE for "go on", or fail(). */

static enum http_parse_result fail(struct http_request *req, int status,
    const char *reason)
{
	req->status = status;
	req->reason = reason;
	req->keep_alive = false;
	req->st.phase = PH_ERROR;
	return HTTP_PARSE_ERROR;
}

static struct http_slice slice(size_t off, size_t len)
{
	struct http_slice s = {off, len};

	return s;
}

void http_limits_default(struct http_limits *lim)
{
	lim->max_header_size = HTTP_DEFAULT_MAX_HEADER_SIZE;
	lim->max_headers = HTTP_DEFAULT_MAX_HEADERS;
	lim->max_body_size = HTTP_DEFAULT_MAX_BODY_SIZE;
	lim->max_uri = HTTP_DEFAULT_MAX_URI;
}

static size_t add_sat(size_t a, size_t b)
{
	return (a > SIZE_MAX - b) ? SIZE_MAX : a + b;
}

/* The framing bytes a chunked body may use: see the file comment. */
static size_t chunk_overhead_max(const struct http_limits *lim)
{
	return add_sat(lim->max_body_size, HTTP_CHUNK_SLACK);
}

size_t http_max_request_size(const struct http_limits *lim)
{
	size_t n;

	n = add_sat(lim->max_header_size, lim->max_header_size); /* trailers */
	n = add_sat(n, lim->max_body_size);
	return add_sat(n, chunk_overhead_max(lim));
}

void http_request_init(struct http_request *req, const struct http_limits *lim,
    struct http_header *headers, size_t nheaders)
{
	memset(req, 0, sizeof(*req));
	req->limits = *lim;
	req->headers = headers;
	req->headers_cap =
	    (nheaders < lim->max_headers) ? nheaders : lim->max_headers;
	req->content_length = -1;
	req->st.phase = PH_REQUEST_LINE;
	req->st.chunk_state = CH_SIZE;
}

/* ---------------------------------------------------------- request line */

static enum http_method method_of(const char *p, size_t n)
{
	static const struct {
		const char *name;
		enum http_method method;
	} methods[] = {{"GET", HTTP_METHOD_GET}, {"HEAD", HTTP_METHOD_HEAD},
	    {"POST", HTTP_METHOD_POST}, {"PUT", HTTP_METHOD_PUT},
	    {"PATCH", HTTP_METHOD_PATCH}, {"DELETE", HTTP_METHOD_DELETE},
	    {"OPTIONS", HTTP_METHOD_OPTIONS}, {"CONNECT", HTTP_METHOD_CONNECT},
	    {"TRACE", HTTP_METHOD_TRACE}};
	size_t i;

	/* Methods are case-sensitive (RFC 9110 §9.1): "get" is OTHER. */
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == n &&
		    memcmp(methods[i].name, p, n) == 0)
			return methods[i].method;
	return HTTP_METHOD_OTHER;
}

/* Visible ASCII but '#', and '%' only as %XX. Returns false otherwise. */
static bool valid_target(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return false;
		if (c == '%') {
			if (n - i < 3 ||
			    hex_value((unsigned char)p[i + 1]) < 0 ||
			    hex_value((unsigned char)p[i + 2]) < 0)
				return false;
			i += 2;
		}
	}
	return true;
}

/* "HTTP/1.0" or "HTTP/1.1" sets version_minor; HTTP/x.y is 505. */
static enum http_parse_result parse_version(struct http_request *req,
    const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' ||
	    p[5] > '9' || p[7] < '0' || p[7] > '9')
		return fail(req, 400, "malformed http version");
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return fail(req, 505, "http version not supported");
	req->version_minor = p[7] - '0';
	return HTTP_PARSE_NEED_MORE;
}

/* The target buf[off .. off + n): origin-form, or "*" for OPTIONS. */
static enum http_parse_result parse_target(struct http_request *req,
    const char *buf, size_t off, size_t n)
{
	const char *p = buf + off, *q;

	if (n > req->limits.max_uri)
		return fail(req, 414, "request target too long");
	if (!valid_target(p, n))
		return fail(req, 400, "invalid character in request target");
	req->target = slice(off, n);
	if (n == 1 && p[0] == '*') {
		if (req->method != HTTP_METHOD_OPTIONS)
			return fail(req, 400,
			    "asterisk-form is only for options");
		req->path = req->target;
		req->query = slice(off + n, 0);
		return HTTP_PARSE_NEED_MORE;
	}
	if (p[0] != '/')
		return fail(req, 400, "request target is not origin-form");
	q = memchr(p, '?', n);
	if (q == NULL) {
		req->path = req->target;
		req->query = slice(off + n, 0);
	} else {
		req->path = slice(off, (size_t)(q - p));
		req->query =
		    slice(off + (size_t)(q - p) + 1, n - (size_t)(q - p) - 1);
	}
	return HTTP_PARSE_NEED_MORE;
}

/* The request line buf[start .. end), CRLF excluded. */
static enum http_parse_result parse_request_line(struct http_request *req,
    const char *buf, size_t start, size_t end)
{
	const char *p = buf + start;
	size_t n = end - start, sp1, sp2;
	enum http_parse_result rc;

	for (sp1 = 0; sp1 < n && is_tchar((unsigned char)p[sp1]); sp1++)
		;
	if (sp1 == 0 || sp1 == n || p[sp1] != ' ')
		return fail(req, 400, "malformed request line");
	if (sp1 > HTTP_METHOD_MAX)
		return fail(req, 400, "method too long");
	req->method_text = slice(start, sp1);
	req->method = method_of(p, sp1);

	for (sp2 = sp1 + 1; sp2 < n && p[sp2] != ' '; sp2++)
		;
	if (sp2 == n || sp2 == sp1 + 1)
		return fail(req, 400, "malformed request line");
	rc = parse_target(req, buf, start + sp1 + 1, sp2 - sp1 - 1);
	if (rc == HTTP_PARSE_ERROR)
		return rc;
	return parse_version(req, p + sp2 + 1, n - sp2 - 1);
}

/*
 * The status for a head that runs past max_header_size: 431, or 414 when
 * what arrived of the request line already shows a target longer than
 * max_uri. Looks only at bytes before max_header_size, so the answer does
 * not depend on how the bytes were split into reads.
 */
static enum http_parse_result over_limit(struct http_request *req,
    const char *buf)
{
	size_t end = req->limits.max_header_size, sp;
	const char *p;

	if (req->st.phase == PH_REQUEST_LINE && req->st.line < end) {
		p = memchr(buf + req->st.line, ' ', end - req->st.line);
		if (p != NULL) {
			sp = (size_t)(p - buf) + 1;
			if (end - sp > req->limits.max_uri &&
			    memchr(buf + sp, ' ', end - sp) == NULL)
				return fail(req, 414,
				    "request target too long");
		}
	}
	return fail(req, 431, "request head too large");
}

/* ---------------------------------------------------------------- fields */

/*
 * Split and check the field line buf[start .. end) (CRLF excluded; not
 * empty). Returns NULL, or why the line is malformed (always a 400).
 */
static const char *split_field(const char *buf, size_t start, size_t end,
    struct http_header *h)
{
	const char *p = buf + start;
	size_t n = end - start, i, v, e;

	if (is_ows((unsigned char)p[0]))
		return "obs-fold or whitespace at start of field line";
	for (i = 0; i < n && is_tchar((unsigned char)p[i]); i++)
		;
	if (i == n)
		return "field line without colon";
	if (is_ows((unsigned char)p[i]))
		return "whitespace between field name and colon";
	if (p[i] != ':')
		return "invalid character in field name";
	if (i == 0)
		return "empty field name";
	for (v = i + 1; v < n && is_ows((unsigned char)p[v]); v++)
		;
	for (e = v; e < n; e++)
		if (!is_field_char((unsigned char)p[e]))
			return "invalid character in field value";
	while (e > v && is_ows((unsigned char)p[e - 1]))
		e--;
	h->name = slice(start, i);
	h->value = slice(start + v, e - v);
	return NULL;
}

/* Content-Length = 1*DIGIT, at most INT64_MAX. Returns 0 or -1. */
static int parse_content_length(const char *p, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v > (INT64_MAX - (p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* uri-host [ ":" port ]: reg-name, IP literal or IPv4 characters only. */
static bool valid_host(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (c == '\0' || strchr("-._~!$&'()*+,;=%:[]", c) == NULL)
			return false;
	}
	return true;
}

static enum http_parse_result take_connection(struct http_request *req,
    const char *p, size_t n)
{
	const char *e;
	size_t i = 0, elen;

	while (list_next(p, n, &i, &e, &elen)) {
		if (!is_token(e, elen))
			return fail(req, 400, "invalid connection option");
		if (eq_nocase(e, elen, "close"))
			req->st.conn_close = true;
		else if (eq_nocase(e, elen, "keep-alive"))
			req->st.conn_keep = true;
	}
	return HTTP_PARSE_NEED_MORE;
}

static void take_transfer_encoding(struct http_parse_state *st, const char *p,
    size_t n)
{
	const char *e;
	size_t i = 0, elen;

	st->te_count++;
	while (list_next(p, n, &i, &e, &elen)) {
		if (!is_token(e, elen))
			st->te_bad = true;
		else if (eq_nocase(e, elen, "chunked"))
			st->te_chunked++;
		else
			st->te_other = true;
	}
}

static void take_expect(struct http_request *req, const char *p, size_t n)
{
	const char *e;
	size_t i = 0, elen;
	bool any = false;

	while (list_next(p, n, &i, &e, &elen)) {
		any = true;
		if (eq_nocase(e, elen, "100-continue"))
			req->expect_continue = true;
		else
			req->st.expect_other = true;
	}
	if (!any)
		req->st.expect_other = true;
}

/* Note what the fields that frame the message or the connection say. */
static enum http_parse_result take_known(struct http_request *req,
    const char *buf, const struct http_header *h)
{
	const char *name = buf + h->name.off, *v = buf + h->value.off;
	size_t nlen = h->name.len, vlen = h->value.len;

	if (eq_nocase(name, nlen, "host")) {
		if (++req->st.host_count > 1)
			return fail(req, 400, "more than one host field");
		if (!valid_host(v, vlen))
			return fail(req, 400, "invalid host field");
		req->has_host = true;
		req->host = h->value;
	} else if (eq_nocase(name, nlen, "content-length")) {
		if (++req->st.cl_count > 1)
			return fail(req, 400, "more than one content-length");
		if (parse_content_length(v, vlen, &req->content_length) != 0)
			return fail(req, 400, "invalid content-length");
	} else if (eq_nocase(name, nlen, "transfer-encoding")) {
		take_transfer_encoding(&req->st, v, vlen);
	} else if (eq_nocase(name, nlen, "connection")) {
		return take_connection(req, v, vlen);
	} else if (eq_nocase(name, nlen, "expect")) {
		take_expect(req, v, vlen);
	}
	return HTTP_PARSE_NEED_MORE;
}

static enum http_parse_result take_field(struct http_request *req,
    const char *buf, size_t start, size_t end)
{
	struct http_header h;
	const char *why;

	why = split_field(buf, start, end, &h);
	if (why != NULL)
		return fail(req, 400, why);
	if (req->nheaders >= req->headers_cap)
		return fail(req, 431, "too many header fields");
	req->headers[req->nheaders++] = h;
	return take_known(req, buf, &h);
}

/* The framing checks of RFC 9112 §6.3, in a fixed order. */
static enum http_parse_result check_framing(struct http_request *req)
{
	const struct http_parse_state *st = &req->st;

	if (st->te_count == 0)
		return HTTP_PARSE_NEED_MORE;
	if (req->version_minor == 0)
		return fail(req, 400, "transfer-encoding in http/1.0");
	if (st->cl_count > 0)
		return fail(req, 400,
		    "both content-length and transfer-encoding");
	if (st->te_bad || (st->te_chunked == 0 && !st->te_other))
		return fail(req, 400, "invalid transfer-encoding");
	if (st->te_chunked > 1)
		return fail(req, 400, "chunked applied more than once");
	if (st->te_other)
		return fail(req, 501, "unsupported transfer coding");
	req->chunked = true;
	return HTTP_PARSE_NEED_MORE;
}

/* The empty line arrived: check the head as a whole. */
static enum http_parse_result finish_head(struct http_request *req,
    size_t head_len)
{
	struct http_parse_state *st = &req->st;

	if (req->version_minor == 1 && st->host_count == 0)
		return fail(req, 400, "missing host field");
	if (check_framing(req) == HTTP_PARSE_ERROR)
		return HTTP_PARSE_ERROR;
	if (req->content_length >= 0 &&
	    (uint64_t)req->content_length > req->limits.max_body_size)
		return fail(req, 413, "request body too large");
	if (st->expect_other)
		return fail(req, 417, "unsupported expectation");
	if (req->version_minor == 0) {
		req->expect_continue = false; /* RFC 9110 §10.1.1 */
		req->keep_alive = st->conn_keep && !st->conn_close;
	} else {
		req->keep_alive = !st->conn_close;
	}
	req->head_len = head_len;
	st->phase = PH_BODY;
	st->cpos = head_len;
	return HTTP_PARSE_DONE;
}

/* One complete head line buf[start .. end), CRLF excluded. */
static enum http_parse_result take_line(struct http_request *req,
    const char *buf, size_t start, size_t end)
{
	struct http_parse_state *st = &req->st;

	st->work += end - start;
	if (st->phase == PH_REQUEST_LINE) {
		if (start == end) {
			if (++st->leading > HTTP_LEADING_CRLF_MAX)
				return fail(req, 400,
				    "too many empty lines before request");
			return HTTP_PARSE_NEED_MORE;
		}
		if (parse_request_line(req, buf, start, end) ==
		    HTTP_PARSE_ERROR)
			return HTTP_PARSE_ERROR;
		st->phase = PH_FIELDS;
		return HTTP_PARSE_NEED_MORE;
	}
	if (start == end)
		return finish_head(req, end + 2);
	return take_field(req, buf, start, end);
}

enum http_parse_result http_parse_head(struct http_request *req,
    const char *buf, size_t len)
{
	struct http_parse_state *st = &req->st;
	const char *lf;
	size_t end;
	enum http_parse_result rc;

	if (st->phase == PH_ERROR)
		return HTTP_PARSE_ERROR;
	if (st->phase >= PH_BODY)
		return HTTP_PARSE_DONE;
	if (len < st->scan)
		return fail(req, 500, "request buffer shrank");
	while (st->scan < len &&
	    (lf = memchr(buf + st->scan, '\n', len - st->scan)) != NULL) {
		end = (size_t)(lf - buf);
		st->work += end + 1 - st->scan;
		st->scan = end + 1;
		if (end + 1 > req->limits.max_header_size)
			return over_limit(req, buf);
		if (end == st->line || buf[end - 1] != '\r')
			return fail(req, 400, "line ends in bare lf");
		rc = take_line(req, buf, st->line, end - 1);
		st->line = end + 1;
		if (rc != HTTP_PARSE_NEED_MORE)
			return rc;
	}
	st->work += len - st->scan;
	st->scan = len;
	if (len >= req->limits.max_header_size)
		return over_limit(req, buf);
	return HTTP_PARSE_NEED_MORE;
}

/* ------------------------------------------------------------------ body */

/*
 * The trailer section (RFC 9112 §7.1.2), line by line from st->line like
 * the head: fields are checked and counted, then dropped.
 */
static enum http_parse_result parse_trailers(struct http_request *req,
    const char *buf, size_t len)
{
	struct http_parse_state *st = &req->st;
	struct http_header h;
	const char *lf, *why;
	size_t end;

	while (st->scan < len &&
	    (lf = memchr(buf + st->scan, '\n', len - st->scan)) != NULL) {
		end = (size_t)(lf - buf);
		st->work += end + 1 - st->scan;
		st->scan = end + 1;
		if (end + 1 - st->trailer_off > req->limits.max_header_size)
			return fail(req, 431, "trailer section too large");
		if (end == st->line || buf[end - 1] != '\r')
			return fail(req, 400, "line ends in bare lf");
		if (end - 1 == st->line) {
			req->consumed = end + 1;
			st->phase = PH_DONE;
			return HTTP_PARSE_DONE;
		}
		why = split_field(buf, st->line, end - 1, &h);
		if (why != NULL)
			return fail(req, 400, why);
		if (++st->ntrailers > req->limits.max_headers)
			return fail(req, 431, "too many trailer fields");
		st->line = end + 1;
	}
	st->work += len - st->scan;
	st->scan = len;
	if (len - st->trailer_off >= req->limits.max_header_size)
		return fail(req, 431, "trailer section too large");
	return HTTP_PARSE_NEED_MORE;
}

/* One hex digit of a chunk size; the size may not pass the body limit. */
static enum http_parse_result chunk_digit(struct http_request *req, int d)
{
	struct http_parse_state *st = &req->st;
	size_t room = req->limits.max_body_size - req->body_len;

	if ((size_t)d > room || st->chunk_left > (room - (size_t)d) / 16)
		return fail(req, 413, "request body too large");
	st->chunk_left = st->chunk_left * 16 + (size_t)d;
	return HTTP_PARSE_NEED_MORE;
}

/* One byte of a chunk-size line. */
static enum http_parse_result chunk_size_byte(struct http_request *req,
    unsigned char c)
{
	struct http_parse_state *st = &req->st;
	bool first = st->chunk_line == 0;
	int d;

	if (c != '\r' && st->chunk_line >= HTTP_CHUNK_LINE_MAX)
		return fail(req, 400, "chunk size line too long");
	st->chunk_line++;
	switch (st->chunk_state) {
	case CH_SIZE:
		d = hex_value(c);
		if (d >= 0)
			return chunk_digit(req, d);
		if (first)
			return fail(req, 400, "invalid chunk size");
		if (is_ows(c))
			st->chunk_state = CH_SIZE_WS;
		else if (c == ';')
			st->chunk_state = CH_EXT;
		else if (c == '\r')
			st->chunk_state = CH_SIZE_LF;
		else
			return fail(req, 400, "invalid chunk size");
		break;
	case CH_SIZE_WS:
		if (c == ';')
			st->chunk_state = CH_EXT;
		else if (!is_ows(c))
			return fail(req, 400, "invalid chunk size");
		break;
	default: /* CH_EXT */
		if (c == '\r')
			st->chunk_state = CH_SIZE_LF;
		else if (!is_field_char(c))
			return fail(req, 400, "invalid chunk extension");
		break;
	}
	return HTTP_PARSE_NEED_MORE;
}

/* One framing byte outside chunk data and trailers. */
static enum http_parse_result chunk_frame_byte(struct http_request *req,
    unsigned char c)
{
	struct http_parse_state *st = &req->st;

	if (++st->overhead > chunk_overhead_max(&req->limits))
		return fail(req, 413, "chunked framing too large");
	switch (st->chunk_state) {
	case CH_SIZE_LF:
		if (c != '\n')
			return fail(req, 400, "chunk size line without crlf");
		st->chunk_line = 0;
		if (st->chunk_left > 0) {
			st->chunk_state = CH_DATA;
			break;
		}
		st->chunk_state = CH_TRAILER;
		st->line = st->scan = st->trailer_off = st->cpos + 1;
		break;
	case CH_DATA_CR:
		if (c != '\r')
			return fail(req, 400, "chunk data without crlf");
		st->chunk_state = CH_DATA_LF;
		break;
	case CH_DATA_LF:
		if (c != '\n')
			return fail(req, 400, "chunk data without crlf");
		st->chunk_state = CH_SIZE;
		break;
	default: return chunk_size_byte(req, c);
	}
	return HTTP_PARSE_NEED_MORE;
}

/* Chunk data from st->cpos, as much as arrived. */
static enum http_parse_result chunk_data(struct http_request *req,
    const char *buf, size_t len, struct buf *out)
{
	struct http_parse_state *st = &req->st;
	size_t n = len - st->cpos;

	if (n > st->chunk_left)
		n = st->chunk_left;
	if (out != NULL && buf_append(out, buf + st->cpos, n) != 0)
		return fail(req, 500, "no room for request body");
	st->work += n;
	st->cpos += n;
	st->chunk_left -= n;
	req->body_len += n;
	if (st->chunk_left == 0)
		st->chunk_state = CH_DATA_CR;
	return HTTP_PARSE_NEED_MORE;
}

static enum http_parse_result parse_chunked(struct http_request *req,
    const char *buf, size_t len, struct buf *out)
{
	struct http_parse_state *st = &req->st;
	enum http_parse_result rc;

	while (st->cpos < len) {
		if (st->chunk_state == CH_TRAILER)
			return parse_trailers(req, buf, len);
		if (st->chunk_state == CH_DATA) {
			rc = chunk_data(req, buf, len, out);
		} else {
			rc =
			    chunk_frame_byte(req, (unsigned char)buf[st->cpos]);
			st->cpos++;
			st->work++;
		}
		if (rc != HTTP_PARSE_NEED_MORE)
			return rc;
	}
	if (st->chunk_state == CH_TRAILER)
		return parse_trailers(req, buf, len);
	return HTTP_PARSE_NEED_MORE;
}

enum http_parse_result http_parse_body(struct http_request *req,
    const char *buf, size_t len, struct buf *out)
{
	struct http_parse_state *st = &req->st;
	size_t cl;

	if (st->phase == PH_ERROR)
		return HTTP_PARSE_ERROR;
	if (st->phase == PH_DONE)
		return HTTP_PARSE_DONE;
	if (st->phase != PH_BODY)
		return fail(req, 500, "body parsed before the head");
	if (len < req->head_len || (req->chunked && len < st->cpos))
		return fail(req, 500, "request buffer shrank");
	if (req->chunked)
		return parse_chunked(req, buf, len, out);
	cl = (req->content_length > 0) ? (size_t)req->content_length : 0;
	if (len - req->head_len < cl)
		return HTTP_PARSE_NEED_MORE;
	req->body_len = cl;
	req->consumed = req->head_len + cl;
	st->phase = PH_DONE;
	return HTTP_PARSE_DONE;
}

/* --------------------------------------------------------------- lookups */

bool http_header_get(const struct http_request *req, const char *buf,
    const char *name, struct http_slice *value)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (eq_nocase(buf + h->name.off, h->name.len, name)) {
			*value = h->value;
			return true;
		}
	}
	return false;
}

const char *http_status_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {{100, "Continue"}, {200, "OK"}, {201, "Created"},
	    {202, "Accepted"}, {204, "No Content"}, {301, "Moved Permanently"},
	    {302, "Found"}, {303, "See Other"}, {304, "Not Modified"},
	    {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
	    {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
	    {404, "Not Found"}, {405, "Method Not Allowed"},
	    {406, "Not Acceptable"}, {408, "Request Timeout"},
	    {409, "Conflict"}, {410, "Gone"}, {411, "Length Required"},
	    {412, "Precondition Failed"}, {413, "Content Too Large"},
	    {414, "URI Too Long"}, {415, "Unsupported Media Type"},
	    {416, "Range Not Satisfiable"}, {417, "Expectation Failed"},
	    {422, "Unprocessable Content"}, {428, "Precondition Required"},
	    {429, "Too Many Requests"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"}, {501, "Not Implemented"},
	    {502, "Bad Gateway"}, {503, "Service Unavailable"},
	    {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"}};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "";
}

ssize_t http_form_get(const char *q, size_t qlen, const char *name, char *out,
    size_t outlen)
{
	size_t nlen = strlen(name), i = 0;
	ssize_t found = -1;

	while (i < qlen) {
		size_t end = i, o = 0, k;

		while (end < qlen && q[end] != '&')
			end++;
		if (end - i > nlen && memcmp(q + i, name, nlen) == 0 &&
		    q[i + nlen] == '=') {
			if (found >= 0)
				return -2;
			for (k = i + nlen + 1; k < end; k++) {
				char c = q[k];

				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					int hi, lo;

					if (k + 2 >= end)
						return -2;
					hi = hex_value((unsigned char)q[k + 1]);
					lo = hex_value((unsigned char)q[k + 2]);
					if (hi < 0 || lo < 0)
						return -2;
					c = (char)(hi * 16 + lo);
					k += 2;
				}
				if (c == '\0' || o + 1 >= outlen)
					return -2;
				out[o++] = c;
			}
			out[o] = '\0';
			found = (ssize_t)o;
		}
		i = end + 1;
	}
	return found;
}
