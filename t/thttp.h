/*
 * thttp.h - a small HTTP client for the tests, on libcurl: one request,
 * its status, response header fields and body, and the body as JSON.
 *
 * Callers: integration tests. Failures to connect fail the test.
 */
#ifndef PACER_THTTP_H
#define PACER_THTTP_H

#include <json-c/json.h>
#include <stddef.h>

struct th_resp {
	int status;
	char *head; /* the response's header section, as received */
	char *body; /* NUL-terminated */
	size_t body_len;
};

/*
 * Send method path to 127.0.0.1:port with the extra header lines in hdrs
 * (a NULL-terminated list of "Name: value", may be NULL) and body (may be
 * NULL; sent as is). Fills *out (free with th_free). Returns the status.
 */
int th_req(int port, const char *method, const char *path,
    const char *const *hdrs, const char *body, struct th_resp *out);

/* The same with "Content-Type: application/json" and, when bearer is not
 * NULL, "Authorization: Bearer <bearer>". */
int th_json_req(int port, const char *method, const char *path,
    const char *bearer, const char *json, struct th_resp *out);

void th_free(struct th_resp *r);

/* The value of a response header field (case-insensitive name), copied
 * into out; NULL when absent. */
const char *th_header(const struct th_resp *r, const char *name, char *out,
    size_t outlen);

/* The body as a JSON document (fails the test when it is not one); the
 * caller puts it. */
struct json_object *th_body(const struct th_resp *r);

/* A string member of a JSON object, or "(absent)". */
const char *th_str(struct json_object *o, const char *key);

/* Expect that r is status with a JSON body whose "reason" is reason
 * (pacer's refusals). */
void th_expect_reason(const struct th_resp *r, int status, const char *reason);

#endif /* PACER_THTTP_H */
