/*
 * thttp.c - the tests' HTTP client; see thttp.h.
 */
#include "thttp.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sink {
	char *p;
	size_t n;
};

static size_t sink_add(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	char *q = realloc(s->p, s->n + n + 1);

	if (q == NULL)
		return 0;
	memcpy(q + s->n, data, n);
	s->n += n;
	q[s->n] = '\0';
	s->p = q;
	return n;
}

int th_req(int port, const char *method, const char *path,
    const char *const *hdrs, const char *body, struct th_resp *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *list = NULL;
	struct sink head = {NULL, 0}, data = {NULL, 0};
	char url[1024];
	long status = 0;
	CURLcode rc;

	cr_assert(c != NULL);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
		list = curl_slist_append(list, hdrs[i]);
	/* No "Expect: 100-continue" round trip. */
	list = curl_slist_append(list, "Expect:");
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "pacer-tests/1");
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_add);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &data);
	(void)curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_add);
	(void)curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
	if (strcmp(method, "HEAD") == 0)
		(void)curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(body));
	}
	rc = curl_easy_perform(c);
	cr_assert(rc == CURLE_OK, "%s %s: %s", method, path,
	    curl_easy_strerror(rc));
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(list);
	curl_easy_cleanup(c);
	out->status = (int)status;
	out->head = head.p != NULL ? head.p : strdup("");
	out->body = data.p != NULL ? data.p : strdup("");
	out->body_len = data.n;
	cr_assert(out->head != NULL && out->body != NULL);
	return out->status;
}

int th_json_req(int port, const char *method, const char *path,
    const char *bearer, const char *json, struct th_resp *out)
{
	char auth[4200];
	const char *hdrs[3] = {"Content-Type: application/json", NULL, NULL};

	if (bearer != NULL) {
		(void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    bearer);
		hdrs[1] = auth;
	}
	return th_req(port, method, path, hdrs, json, out);
}

void th_free(struct th_resp *r)
{
	free(r->head);
	free(r->body);
	r->head = r->body = NULL;
}

const char *th_header(const struct th_resp *r, const char *name, char *out,
    size_t outlen)
{
	size_t n = strlen(name);

	for (const char *p = r->head; p != NULL && *p != '\0';) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			size_t vl;

			while (*v == ' ')
				v++;
			vl = (size_t)(p + len - v);
			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return out;
		}
		p = eol != NULL ? eol + 2 : NULL;
	}
	return NULL;
}

struct json_object *th_body(const struct th_resp *r)
{
	struct json_object *o = json_tokener_parse(r->body);

	cr_assert(o != NULL, "expected a JSON body, got: %s", r->body);
	return o;
}

const char *th_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return "(absent)";
	return json_object_get_string(v);
}

void th_expect_reason(const struct th_resp *r, int status, const char *reason)
{
	struct json_object *o;

	cr_expect(eq(int, r->status, status), "want %d %s, got %d: %s", status,
	    reason, r->status, r->body);
	o = json_tokener_parse(r->body);
	cr_expect(o != NULL, "not JSON: %s", r->body);
	cr_expect(eq(str, (char *)th_str(o, "reason"), (char *)reason), "%s",
	    r->body);
	json_object_put(o);
}
