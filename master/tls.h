/*
 * tls.h - the server's TLS context (OpenSSL), built by the master.
 *
 * The master builds one SSL_CTX from tls_cert_file and tls_key_file
 * before it forks, and again on each reload; workers inherit it and make
 * their own per-connection SSL objects from it (never an SSL across
 * fork()). The context: TLS 1.2 at least; for TLS 1.2 only ECDHE key
 * exchange with AES-GCM or ChaCha20-Poly1305, the server's preference
 * first; TLS 1.3 with OpenSSL's default suites; no compression, no
 * renegotiation; stateless session tickets (their key is made with the
 * context, so every worker of a generation resumes the others' sessions).
 *
 * Callers: the master (master.c, pacerd.c for -t) and the tests.
 */
#ifndef PACER_TLS_H
#define PACER_TLS_H

#include <stddef.h>

#include <openssl/types.h>

/* TLS 1.2 suites (TLS 1.3 keeps OpenSSL's defaults). */
#define TLS_CIPHERS_12                                                         \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"           \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/*
 * Build a server context from cert_file (PEM: the certificate, then any
 * intermediates) and key_file (its PEM private key), and check that the
 * key matches the certificate. Returns the context (free it with
 * tls_ctx_free()), or NULL with the reason in err, naming the file and
 * OpenSSL's reason ("tls_cert_file /etc/pacer/cert.pem: no start line").
 * Never puts key material in err.
 */
SSL_CTX *tls_ctx_new(const char *cert_file, const char *key_file, char *err,
    size_t errlen);

/* Free *ctx (NULL-safe) and set it to NULL. */
void tls_ctx_free(SSL_CTX **ctx);

/* A one-line description of ctx's certificate for the log: subject,
 * serial and expiry ("subject CN=example.org, serial 1A2B, expires Jan  1
 * 00:00:00 2030 GMT"), into dst (n bytes). */
void tls_ctx_describe(SSL_CTX *ctx, char *dst, size_t n);

#endif /* PACER_TLS_H */
