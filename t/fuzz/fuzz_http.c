/*
 * fuzz_http.c - libFuzzer target for the HTTP/1.1 request parser.
 *
 * Parses the input as one request (head, then body once the head is done)
 * three ways: whole; in two reads split at a point taken from the input,
 * the first read from a heap copy of exactly that many bytes (so ASan sees
 * any read past len); and, for short inputs, one byte per call. Aborts if
 * the three disagree in any field, because the worker relies on a request
 * parsing the same however the network cut it, and checks the invariants
 * the worker trusts: slices inside the head, consumed within the input,
 * a status and reason on every error. Small limits let the fuzzer reach
 * 413, 414 and 431 with short inputs. The same input, read as an
 * application/x-www-form-urlencoded text (a token request's body, an
 * admin query string), goes through http_form_get for a few names with a
 * heap buffer of exactly the allowed size, which must hold a NUL-ended
 * value no longer than it says. Built by `make fuzz` with clang
 * -fsanitize=fuzzer,address,undefined.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http_parse.h"

#define FUZZ_NHDRS 16
#define FUZZ_BYTEWISE_MAX 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The form decoder on the input, for a few names and a tight buffer. */
static void fuzz_form(const char *in, size_t size)
{
	static const char *const names[] = {"grant_type", "a", "password", ""};
	size_t cap = size % 64 + 1;
	char *out = malloc(cap);

	if (out == NULL)
		abort();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ssize_t n = http_form_get(in, size, names[i], out, cap);

		if (n < -2 || n >= (ssize_t)cap ||
		    (n >= 0 && (out[n] != '\0' || strlen(out) != (size_t)n)))
			abort();
	}
	free(out);
}

struct run {
	struct http_request req;
	struct http_header hdrs[FUZZ_NHDRS];
	struct buf body;
	enum http_parse_result rc;
};

static const struct http_limits fuzz_limits = {
    .max_header_size = 1024,
    .max_headers = 12,
    .max_body_size = 256,
    .max_uri = 128,
};

static void run_start(struct run *r)
{
	http_request_init(&r->req, &fuzz_limits, r->hdrs, FUZZ_NHDRS);
	buf_init_dynamic(&r->body, fuzz_limits.max_body_size + 1);
	r->rc = HTTP_PARSE_NEED_MORE;
}

/* One read: buf[0 .. len) is everything received so far. */
static void run_feed(struct run *r, const char *buf, size_t len)
{
	if (r->rc != HTTP_PARSE_NEED_MORE)
		return;
	r->rc = http_parse_head(&r->req, buf, len);
	if (r->rc == HTTP_PARSE_DONE)
		r->rc = http_parse_body(&r->req, buf, len, &r->body);
}

static void check_slice(struct http_slice s, size_t limit)
{
	if (s.off > limit || s.len > limit - s.off)
		abort();
}

/* The lookup finds Host exactly when the parser saw one, with its value. */
static void check_lookup(const struct http_request *q, const char *in)
{
	struct http_slice v;
	bool found = http_header_get(q, in, "HOST", &v);

	if (found != q->has_host ||
	    (found && (v.off != q->host.off || v.len != q->host.len)))
		abort();
}

/* What the worker relies on after a parse. */
static void check_invariants(const struct run *r, const char *in, size_t size)
{
	const struct http_request *q = &r->req;

	if (r->rc == HTTP_PARSE_ERROR) {
		if (q->status < 400 || q->status > 599 || q->reason == NULL ||
		    q->keep_alive || http_status_reason(q->status)[0] == '\0')
			abort();
		return;
	}
	if (r->rc != HTTP_PARSE_DONE)
		return;
	if (q->head_len > size || q->head_len > fuzz_limits.max_header_size ||
	    q->consumed > size || q->consumed < q->head_len ||
	    q->body_len > fuzz_limits.max_body_size ||
	    q->nheaders > fuzz_limits.max_headers ||
	    (q->version_minor != 0 && q->version_minor != 1) ||
	    q->target.len > fuzz_limits.max_uri ||
	    (q->chunked && q->content_length >= 0))
		abort();
	check_slice(q->method_text, q->head_len);
	check_slice(q->target, q->head_len);
	check_slice(q->path, q->head_len);
	check_slice(q->query, q->head_len);
	check_slice(q->host, q->head_len);
	for (size_t i = 0; i < q->nheaders; i++) {
		check_slice(q->headers[i].name, q->head_len);
		check_slice(q->headers[i].value, q->head_len);
	}
	check_lookup(q, in);
	if (!q->chunked && q->consumed != q->head_len + q->body_len)
		abort();
	if (q->chunked && r->body.len != q->body_len)
		abort();
}

static bool slice_eq(struct http_slice a, struct http_slice b)
{
	return a.off == b.off && a.len == b.len;
}

static void check_same(const struct run *a, const struct run *b)
{
	const struct http_request *p = &a->req, *q = &b->req;

	if (a->rc != b->rc || p->status != q->status ||
	    (a->rc == HTTP_PARSE_ERROR && strcmp(p->reason, q->reason) != 0))
		abort();
	if (a->rc != HTTP_PARSE_DONE)
		return;
	if (p->method != q->method || p->version_minor != q->version_minor ||
	    !slice_eq(p->method_text, q->method_text) ||
	    !slice_eq(p->target, q->target) || !slice_eq(p->path, q->path) ||
	    !slice_eq(p->query, q->query) || !slice_eq(p->host, q->host) ||
	    p->has_host != q->has_host || p->nheaders != q->nheaders ||
	    p->content_length != q->content_length ||
	    p->chunked != q->chunked || p->keep_alive != q->keep_alive ||
	    p->expect_continue != q->expect_continue ||
	    p->head_len != q->head_len || p->body_len != q->body_len ||
	    p->consumed != q->consumed || a->body.len != b->body.len ||
	    memcmp(buf_str(&a->body), buf_str(&b->body), a->body.len) != 0)
		abort();
	for (size_t i = 0; i < p->nheaders; i++)
		if (!slice_eq(p->headers[i].name, q->headers[i].name) ||
		    !slice_eq(p->headers[i].value, q->headers[i].value))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, split, bytewise;
	const char *in = (const char *)data;
	size_t k = 0;
	char *first;

	run_start(&whole);
	run_feed(&whole, in, size);
	check_invariants(&whole, in, size);

	if (size > 0)
		k = ((size_t)data[0] * 257 + (size_t)data[size - 1]) %
		    (size + 1);
	first = malloc(k > 0 ? k : 1);
	if (first == NULL)
		abort();
	if (k > 0)
		memcpy(first, in, k);
	run_start(&split);
	run_feed(&split, first, k);
	free(first);
	run_feed(&split, in, size);
	check_invariants(&split, in, size);
	check_same(&whole, &split);

	if (size <= FUZZ_BYTEWISE_MAX) {
		run_start(&bytewise);
		for (size_t len = 0; len <= size; len++)
			run_feed(&bytewise, in, len);
		check_same(&whole, &bytewise);
		buf_free(&bytewise.body);
	}
	buf_free(&whole.body);
	buf_free(&split.body);
	fuzz_form(in, size);
	return 0;
}
