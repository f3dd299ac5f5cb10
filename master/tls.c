/*
 * tls.c - build and describe the server's TLS context; see tls.h.
 *
 * Runs in the master (and in pacerd -t), before any fork and on reload.
 * OpenSSL's error queue is per thread and sticky: it is cleared before
 * each step, and the reason of the first failure is copied out. The
 * error text only ever names files and OpenSSL's reason, never bytes of
 * the key.
 */
#include "tls.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include "buf.h"

/* OpenSSL's reason for the last failure ("no start line"), or why. */
static void ssl_reason(char *dst, size_t n, const char *why)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	(void)snprintf(dst, n, "%s", r != NULL ? r : why);
	ERR_clear_error();
}

/* Whether path can be opened for reading; the reason in err if not
 * (OpenSSL's own message for a missing file is less plain). */
static int readable(const char *key, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");

	if (fp == NULL) {
		(void)snprintf(err, errlen, "%s %s: %s", key, path,
		    strerror(errno));
		return -1;
	}
	(void)fclose(fp);
	return 0;
}

static int set_policy(SSL_CTX *ctx, char *err, size_t errlen)
{
	static const unsigned char sid[] = "pacer";
	char why[256];

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1) {
		ssl_reason(why, sizeof(why), "unknown error");
		(void)snprintf(err, errlen,
		    "could not set the TLS protocol policy: %s", why);
		return -1;
	}
	(void)SSL_CTX_set_options(ctx,
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	        SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Partial writes and a moving buffer: a reply that does not fit the
	 * socket is kept and sent later from another address (conn.c). */
	(void)SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* Each worker's cache would be its own: resumption goes by tickets,
	 * whose key all workers inherit. */
	(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return 0;
}

SSL_CTX *tls_ctx_new(const char *cert_file, const char *key_file, char *err,
    size_t errlen)
{
	SSL_CTX *ctx = NULL;
	char why[256];
	bool loaded, mismatch;

	ERR_clear_error();
	if (readable("tls_cert_file", cert_file, err, errlen) != 0 ||
	    readable("tls_key_file", key_file, err, errlen) != 0)
		return NULL;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ssl_reason(why, sizeof(why), "out of memory");
		(void)snprintf(err, errlen,
		    "could not create a TLS context: %s", why);
		return NULL;
	}
	if (set_policy(ctx, err, errlen) != 0)
		goto fail;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ssl_reason(why, sizeof(why), "not a PEM certificate");
		(void)snprintf(err, errlen, "tls_cert_file %s: %s", cert_file,
		    why);
		goto fail;
	}
	/* OpenSSL checks the key against the certificate as it loads it. */
	loaded =
	    SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) == 1;
	mismatch = loaded ? SSL_CTX_check_private_key(ctx) != 1
	                  : ERR_GET_REASON(ERR_peek_last_error()) ==
	        X509_R_KEY_VALUES_MISMATCH;
	if (mismatch) {
		ERR_clear_error();
		(void)snprintf(err, errlen,
		    "tls_key_file %s does not match the certificate of "
		    "tls_cert_file %s",
		    key_file, cert_file);
		goto fail;
	}
	if (!loaded) {
		ssl_reason(why, sizeof(why), "not a PEM private key");
		(void)snprintf(err, errlen, "tls_key_file %s: %s", key_file,
		    why);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void tls_ctx_free(SSL_CTX **ctx)
{
	if (ctx == NULL || *ctx == NULL)
		return;
	SSL_CTX_free(*ctx);
	*ctx = NULL;
}

void tls_ctx_describe(SSL_CTX *ctx, char *dst, size_t n)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	BIO *bio = NULL;
	BIGNUM *bn = NULL;
	char *serial = NULL, *text = NULL;
	long len;
	struct buf b;

	buf_init_fixed(&b, dst, n);
	if (x == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	(void)BIO_puts(bio, "subject ");
	(void)X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
	    XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	        NULL &&
	    (serial = BN_bn2hex(bn)) != NULL)
		(void)BIO_printf(bio, ", serial %s", serial);
	(void)BIO_puts(bio, ", expires ");
	(void)ASN1_TIME_print(bio, X509_get0_notAfter(x));
	len = BIO_get_mem_data(bio, &text);
	if (len > 0 && text != NULL)
		(void)buf_append(&b, text, (size_t)len);
out:
	if (b.len == 0)
		(void)buf_puts(&b, "(no certificate)");
	OPENSSL_free(serial);
	BN_free(bn);
	BIO_free(bio);
	ERR_clear_error();
}
