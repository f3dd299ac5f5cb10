/*
 * test_tls.c - HTTPS on listeners marked tls, against the real pacerd: a
 * throwaway CA and server certificates made with the openssl command in
 * the test's folder, a tls listener beside a plain one; requests through
 * libcurl trusting only that CA (200 with HSTS over TLS, none over plain
 * HTTP), TLS 1.1 refused, the certificate swapped on SIGHUP, a broken
 * certificate on SIGHUP keeping the old one (and the log saying why),
 * plain HTTP on the TLS port closed without harm to the worker, a stalled
 * handshake closed after header_timeout, and the configuration checks
 * (pacerd -t) for a tls listener.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "tserver.h"

/* ---- certificates -------------------------------------------------------- */

static void openssl_run(const char *const *args)
{
	char *argv[32];
	struct tu_run r;
	size_t i;

	argv[0] = (char *)"/usr/bin/openssl";
	for (i = 0; args[i] != NULL && i < 30; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 0), "openssl %s failed: %s", args[0],
	    r.err);
	tu_run_free(&r);
}

static char *path_in(const char *dir, const char *name)
{
	char p[512];

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	return strdup(p);
}

/* dir/ca.pem and dir/ca.key: a self-signed test CA. */
static void make_ca(const char *dir)
{
	char *key = path_in(dir, "ca.key"), *crt = path_in(dir, "ca.pem");
	const char *args[] = {"req", "-x509", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
	    crt, "-days", "2", "-subj", "/CN=pacer test CA", NULL};

	openssl_run(args);
	free(key);
	free(crt);
}

/* dir/<name>.pem and dir/<name>.key: a certificate for 127.0.0.1 signed by
 * the test CA, with the given hex serial. */
static void make_cert(const char *dir, const char *name, const char *serial)
{
	char f[64];
	char *key, *csr, *crt, *ext, *ca = path_in(dir, "ca.pem"),
	                             *cakey = path_in(dir, "ca.key");

	(void)snprintf(f, sizeof(f), "%s.key", name);
	key = path_in(dir, f);
	(void)snprintf(f, sizeof(f), "%s.csr", name);
	csr = path_in(dir, f);
	(void)snprintf(f, sizeof(f), "%s.pem", name);
	crt = path_in(dir, f);
	ext = tu_write(dir, "ext.cnf",
	    "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
	{
		const char *a1[] = {"req", "-newkey", "ec", "-pkeyopt",
		    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
		    "-out", csr, "-subj", "/CN=localhost", NULL};
		const char *a2[] = {"x509", "-req", "-in", csr, "-CA", ca,
		    "-CAkey", cakey, "-set_serial", serial, "-days", "2",
		    "-extfile", ext, "-out", crt, NULL};

		openssl_run(a1);
		openssl_run(a2);
	}
	free(key);
	free(csr);
	free(crt);
	free(ext);
	free(ca);
	free(cakey);
}

/* Copy dir/from to dir/to through a rename, as a deploy would. */
static void install(const char *dir, const char *from, const char *to)
{
	char *src = path_in(dir, from), *text = tu_read(src, NULL), *tmp;
	char *dst = path_in(dir, to);

	cr_assert(not(eq(ptr, text, NULL)));
	tmp = tu_write(dir, "install.tmp", text);
	cr_assert(eq(int, rename(tmp, dst), 0));
	free(src);
	free(text);
	free(tmp);
	free(dst);
}

/* ---- the server ----------------------------------------------------------- */

static struct ts srv;
static int tls_port;

static void start(void)
{
	char extra[2048];

	ts_init(&srv, NULL);
	make_ca(srv.dir);
	make_cert(srv.dir, "one", "0x1001");
	make_cert(srv.dir, "two", "0x1002");
	install(srv.dir, "one.pem", "server.pem");
	install(srv.dir, "one.key", "server.key");
	tls_port = ts_free_port();
	(void)snprintf(extra, sizeof(extra),
	    "listen = 127.0.0.1:%d, 127.0.0.1:%d tls\n"
	    "tls_cert_file = '%s/server.pem'\n"
	    "tls_key_file = '%s/server.key'\n"
	    "header_timeout = 1s\n"
	    "debug_routes = on\n"
	    "log_level = debug\n",
	    srv.port, tls_port, srv.dir, srv.dir);
	ts_rewrite(&srv, extra);
	ts_start(&srv);
}

static void stop(void)
{
	ts_fini(&srv);
}

TestSuite(tls, .init = start, .fini = stop, .timeout = 90);

/* ---- clients -------------------------------------------------------------- */

struct reply {
	long status;
	char head[8192];
	size_t len;
};

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;

	if (r->len + len < sizeof(r->head)) {
		memcpy(r->head + r->len, p, len);
		r->len += len;
		r->head[r->len] = '\0';
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* GET scheme://127.0.0.1:port/path with libcurl, trusting only the test
 * CA; status 0 when the exchange failed. */
static void curl_get(const char *scheme, int port, const char *path,
    struct reply *r)
{
	char *ca = path_in(srv.dir, "ca.pem"), url[128];
	CURL *c = curl_easy_init();

	(void)snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", scheme, port,
	    path);
	memset(r, 0, sizeof(*r));
	cr_assert(not(eq(ptr, c, NULL)));
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	(void)curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	(void)curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	(void)curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	free(ca);
}

/* A TLS client of the test CA, up to version max (0: any). */
static SSL_CTX *client_ctx(int max)
{
	char *ca = path_in(srv.dir, "ca.pem");
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	cr_assert(not(eq(ptr, ctx, NULL)));
	cr_assert(eq(int, SSL_CTX_load_verify_locations(ctx, ca, NULL), 1));
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (max != 0) {
		/* Let the client offer old versions: the server must be the
		 * one saying no. */
		cr_assert(eq(int,
		    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0"), 1));
		cr_assert(eq(int, SSL_CTX_set_min_proto_version(ctx, 0), 1));
		cr_assert(eq(int, SSL_CTX_set_max_proto_version(ctx, max), 1));
	}
	free(ca);
	return ctx;
}

static void io_timeout(int fd, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A client connection to the TLS port, before its handshake. */
struct tls_conn {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
};

static void conn_open(struct tls_conn *t, int max)
{
	t->ctx = client_ctx(max);
	t->ssl = SSL_new(t->ctx);
	t->fd = ts_connect(tls_port);
	cr_assert(t->fd >= 0 && t->ssl != NULL);
	io_timeout(t->fd, 5000);
	(void)SSL_set_fd(t->ssl, t->fd);
}

static void conn_close(struct tls_conn *t)
{
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	(void)close(t->fd);
}

/* Handshake with the TLS port: the serial of the server's certificate,
 * or -1 when the handshake failed (OpenSSL's reason in why). */
static long handshake(int max, char *why, size_t n)
{
	struct tls_conn t;
	SSL *ssl;
	long serial = -1;

	conn_open(&t, max);
	ssl = t.ssl;
	ERR_clear_error();
	if (SSL_connect(ssl) == 1) {
		X509 *x = SSL_get1_peer_certificate(ssl);

		cr_assert(not(eq(ptr, x, NULL)));
		serial = ASN1_INTEGER_get(X509_get0_serialNumber(x));
		X509_free(x);
		(void)SSL_shutdown(ssl);
	} else if (why != NULL) {
		unsigned long e = ERR_peek_last_error();

		(void)snprintf(why, n, "%s",
		    e != 0 ? ERR_reason_error_string(e) : "(no reason)");
	}
	conn_close(&t);
	return serial;
}

/* Wait up to ms for the TLS port to serve a certificate with serial. */
static bool serves_serial(long serial, int ms)
{
	long got = -1;

	for (; ms > 0; ms -= 100) {
		if ((got = handshake(0, NULL, 0)) == serial)
			return true;
		ts_sleep_ms(100);
	}
	cr_log_error("last serial seen: %lx", (unsigned long)got);
	return false;
}

static bool has_field(const struct reply *r, const char *line)
{
	return strstr(r->head, line) != NULL;
}

/* ---- tests ---------------------------------------------------------------- */

Test(tls, https_request_gets_200_with_hsts)
{
	struct reply r;

	curl_get("https", tls_port, "/health/live", &r);
	cr_assert(eq(long, r.status, 200), "head:\n%s", r.head);
	cr_expect(has_field(&r,
	              "Strict-Transport-Security: max-age=31536000\r\n"),
	    "head:\n%s", r.head);
	cr_expect(has_field(&r, "X-Content-Type-Options: nosniff\r\n"));
	cr_expect(has_field(&r, "X-Frame-Options: DENY\r\n"));
	curl_get("https", tls_port, "/no/such/path", &r);
	cr_assert(eq(long, r.status, 404));
	cr_expect(has_field(&r, "Strict-Transport-Security: "));
}

/* Many records in, a large reply out, three requests pipelined on one
 * connection: the bytes OpenSSL holds past what one read took are served
 * too, in order. */
Test(tls, pipelined_requests_and_large_bodies)
{
	enum { BODY = 200 * 1024 };
	struct tls_conn t;
	SSL *ssl;
	int k;
	char head[256], *req, *got, *p;
	size_t hl, len = 0, cap = 4 * BODY, n = 0;

	conn_open(&t, 0);
	ssl = t.ssl;
	cr_assert(eq(int, SSL_connect(ssl), 1));
	hl = (size_t)snprintf(head, sizeof(head),
	    "POST /debug/echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: %d\r\n\r\n",
	    BODY);
	req = malloc(hl + BODY + 256);
	got = malloc(cap + 1);
	cr_assert(req != NULL && got != NULL);
	memcpy(req, head, hl);
	memset(req + hl, 'x', BODY);
	len = hl + BODY;
	len += (size_t)snprintf(req + len, 256,
	    "GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /health/live HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n");
	cr_assert(eq(int, SSL_write(ssl, req, (int)len), (int)len));
	ts_sleep_ms(200); /* let the reply back up in the server */
	while (n < cap && (k = SSL_read(ssl, got + n, (int)(cap - n))) > 0)
		n += (size_t)k;
	got[n] = '\0';
	for (k = 0, p = got; (p = strstr(p, "HTTP/1.1 200 OK\r\n")) != NULL;
	     p++)
		k++;
	cr_assert(eq(int, k, 3), "got %zu bytes", n);
	p = strstr(got, "\r\n\r\n");
	cr_assert(not(eq(ptr, p, NULL)));
	cr_assert(eq(int, strncmp(p + 4, req + hl, BODY), 0));
	cr_assert(
	    not(eq(ptr, strstr(p + 4 + BODY, "\"status\":\"ok\""), NULL)));
	free(req);
	free(got);
	conn_close(&t);
}

Test(tls, plain_port_unchanged_and_without_hsts)
{
	struct reply r;

	curl_get("http", srv.port, "/health/live", &r);
	cr_assert(eq(long, r.status, 200), "head:\n%s", r.head);
	cr_expect(not(has_field(&r, "Strict-Transport-Security")), "head:\n%s",
	    r.head);
	cr_expect(has_field(&r, "Referrer-Policy: no-referrer\r\n"));
	cr_expect(has_field(&r,
	    "Content-Security-Policy: default-src 'none'; "
	    "frame-ancestors 'none'\r\n"));
}

Test(tls, tls_1_1_is_refused_by_the_server)
{
	char why[256] = "";

	cr_assert(eq(long, handshake(TLS1_1_VERSION, why, sizeof(why)), -1));
	/* The server's protocol_version alert, not the client giving up. */
	cr_expect(not(eq(ptr, strstr(why, "protocol version"), NULL)),
	    "handshake failed for another reason: %s", why);
	cr_assert(eq(long, handshake(TLS1_2_VERSION, NULL, 0), 0x1001));
}

Test(tls, certificate_swapped_on_sighup)
{
	cr_assert(eq(long, handshake(0, NULL, 0), 0x1001));
	install(srv.dir, "two.pem", "server.pem");
	install(srv.dir, "two.key", "server.key");
	ts_signal(&srv, SIGHUP);
	cr_assert(ts_log_wait(&srv, "reload ok", 10000));
	cr_assert(serves_serial(0x1002, 10000));
}

Test(tls, broken_certificate_on_sighup_keeps_the_old_one)
{
	char *log, *cert = path_in(srv.dir, "server.pem");
	char want[600];
	int i;

	cr_assert(eq(long, handshake(0, NULL, 0), 0x1001));
	free(tu_write(srv.dir, "server.pem", "not a certificate\n"));
	ts_signal(&srv, SIGHUP);
	cr_assert(
	    ts_log_wait(&srv, "keeping the previous TLS certificate", 10000));
	cr_assert(ts_log_wait(&srv, "reload ok", 10000));
	log = ts_log(&srv);
	(void)snprintf(want, sizeof(want), "tls_cert_file %s: ", cert);
	TU_EXPECT_IN(log, want);
	cr_expect(eq(ptr, strstr(log, "PRIVATE KEY"), NULL));
	free(log);
	/* The new generation serves the old certificate. */
	for (i = 0; i < 10; i++)
		cr_assert(eq(long, handshake(0, NULL, 0), 0x1001));
	free(cert);
}

Test(tls, plain_http_on_the_tls_port_is_closed)
{
	pid_t before[16], after[16];
	size_t nb = ts_workers(&srv, before, 16), na, i, j;
	int status;

	status = ts_http(tls_port,
	    "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    NULL, 3000);
	cr_assert(eq(int, status, -1));
	/* Every worker is still there, and TLS still works. */
	cr_assert(eq(long, handshake(0, NULL, 0), 0x1001));
	na = ts_workers(&srv, after, 16);
	for (i = 0; i < nb; i++) {
		bool found = false;

		for (j = 0; j < na; j++)
			found = found || after[j] == before[i];
		cr_expect(found, "worker %d is gone", (int)before[i]);
	}
}

Test(tls, stalled_handshake_is_closed_after_header_timeout)
{
	/* The first bytes of a ClientHello record, and then nothing. */
	static const char partial[] = "\x16\x03\x01\x02\x00\x01";
	int fd = ts_connect(tls_port);
	char buf[64];
	ssize_t n;

	struct timespec t0, t1;
	long ms;

	cr_assert(fd >= 0);
	io_timeout(fd, 5000);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert(
	    eq(sz, (size_t)send(fd, partial, sizeof(partial) - 1, MSG_NOSIGNAL),
	        sizeof(partial) - 1));
	n = recv(fd, buf, sizeof(buf), 0);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_expect(n == 0 || (n < 0 && errno == ECONNRESET),
	    "expected the server to close within 5 s, got %zd (%s)", n,
	    n < 0 ? strerror(errno) : "bytes");
	/* header_timeout is 1 s: closed by the timer, not at once. */
	cr_expect(ms >= 800, "closed after %ld ms", ms);
	(void)close(fd);
	cr_assert(eq(long, handshake(0, NULL, 0), 0x1001));
}

/* ---- configuration -------------------------------------------------------- */

/* Run pacerd -t on s's configuration: expect status, and want (unless
 * NULL) in what it wrote to stderr. */
static void expect_pacerd_t(const struct ts *s, int status, const char *want)
{
	char *argv[5] = {NULL, "-t", "-f", NULL, NULL};
	struct tu_run r;

	argv[0] = tu_buildpath("master/pacerd");
	argv[3] = s->conf;
	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	free(argv[0]);
	cr_assert(eq(int, r.status, status), "pacerd -t: %s%s", r.out, r.err);
	if (want != NULL)
		TU_EXPECT_IN(r.err, want);
	tu_run_free(&r);
}

/* Rewrite s's configuration with a tls listener on its port that serves
 * cert with key (both file names in s's folder). */
static void rewrite_tls(struct ts *s, const char *cert, const char *key)
{
	char extra[1024];

	(void)snprintf(extra, sizeof(extra),
	    "listen = 127.0.0.1:%d tls\ntls_cert_file = '%s/%s'\n"
	    "tls_key_file = '%s/%s'\n",
	    s->port, s->dir, cert, s->dir, key);
	ts_rewrite(s, extra);
}

Test(tls_config, tls_listener_needs_cert_and_key)
{
	struct ts s;
	char extra[256];

	ts_init(&s, NULL);
	(void)snprintf(extra, sizeof(extra), "listen = 127.0.0.1:%d tls\n",
	    s.port);
	ts_rewrite(&s, extra);
	expect_pacerd_t(&s, 1,
	    "has a tls address but tls_cert_file is not set");
	ts_fini(&s);
}

Test(tls_config, a_stray_marker_is_refused)
{
	struct ts s;

	ts_init(&s, "listen = 8080, tls\n");
	expect_pacerd_t(&s, 1, "the tls marker must follow an address");
	ts_fini(&s);
}

Test(tls_config, unreadable_or_mismatched_files_fail_the_test)
{
	struct ts s;

	ts_init(&s, NULL);
	make_ca(s.dir);
	make_cert(s.dir, "one", "0x1001");
	make_cert(s.dir, "two", "0x1002");
	rewrite_tls(&s, "one.pem", "two.key");
	expect_pacerd_t(&s, 1, "does not match the certificate");
	rewrite_tls(&s, "none.pem", "one.key");
	expect_pacerd_t(&s, 1, "none.pem: No such file or directory");
	rewrite_tls(&s, "one.pem", "one.key");
	expect_pacerd_t(&s, 0, NULL);
	ts_fini(&s);
}
