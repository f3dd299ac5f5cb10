/*
 * secret.c - the master key and crypto primitives (see secret.h).
 *
 * Runs in any process. Everything cryptographic is OpenSSL's; only base64
 * is written here, because EVP_DecodeBlock is too lenient for values we
 * authenticate with (it skips whitespace, does not say how much padding it
 * read, accepts non-canonical trailing bits) and knows no URL alphabet.
 * Buffers that held key material are wiped before they go out of scope.
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cfg.h"

/* A key file is one line of base64; anything much larger is not a key. */
#define KEY_FILE_MAX 4096

#define HOWTO "make one with: openssl rand -base64 32"
/* The same for a file: the umask keeps the new file private. */
#define HOWTO_FILE "make one with: (umask 077; openssl rand -base64 32 > %s)"

/* ------------------------------------------------------------ base64 */

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static ssize_t b64_encode(const char *alpha, bool pad, const void *p, size_t n,
    char *out, size_t outsize)
{
	const unsigned char *in = p;
	size_t need, i, o = 0;

	if (n > (SIZE_MAX - 4) / 4 * 3)
		return -1;
	need = pad ? SECRET_B64_LEN(n) : SECRET_B64RAW_LEN(n);
	if (outsize < need + 1 || need > SSIZE_MAX)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];

		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		out[o++] = alpha[in[i] >> 2];
		out[o++] = alpha[(in[i] & 3) << 4];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[o++] = alpha[v >> 10];
		out[o++] = alpha[(v >> 4) & 63];
		out[o++] = alpha[(v & 15) << 2];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return (ssize_t)o;
}

/* The 6-bit value of c in the alphabet, or -1. */
static int b64_value(bool url, unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static ssize_t b64_decode(bool url, bool pad, const char *s, size_t len,
    unsigned char *out, size_t outsize)
{
	size_t i, o = 0, rem, need;
	uint32_t acc = 0;
	int bits = 0;

	if (pad) {
		if (len % 4 != 0)
			return -1;
		/* Strip at most two '=' at the very end; none may remain. */
		if (len > 0 && s[len - 1] == '=')
			len--;
		if (len > 0 && s[len - 1] == '=')
			len--;
	}
	rem = len % 4;
	if (rem == 1)
		return -1;
	need = len / 4 * 3 + (rem == 0 ? 0 : rem - 1);
	if (need > outsize || need > SSIZE_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		int v = b64_value(url, (unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Canonical form only: the bits past the last byte are zero. */
	if (acc != 0)
		return -1;
	return (ssize_t)o;
}

ssize_t secret_b64_encode(const void *p, size_t n, char *out, size_t outsize)
{
	return b64_encode(b64_std, true, p, n, out, outsize);
}

ssize_t secret_b64_decode(const char *s, size_t len, unsigned char *out,
    size_t outsize)
{
	return b64_decode(false, true, s, len, out, outsize);
}

ssize_t secret_b64raw_encode(const void *p, size_t n, char *out, size_t outsize)
{
	return b64_encode(b64_std, false, p, n, out, outsize);
}

ssize_t secret_b64raw_decode(const char *s, size_t len, unsigned char *out,
    size_t outsize)
{
	return b64_decode(false, false, s, len, out, outsize);
}

ssize_t secret_b64url_encode(const void *p, size_t n, char *out, size_t outsize)
{
	return b64_encode(b64_url, false, p, n, out, outsize);
}

ssize_t secret_b64url_decode(const char *s, size_t len, unsigned char *out,
    size_t outsize)
{
	return b64_decode(true, false, s, len, out, outsize);
}

/* ------------------------------------------------------------ small tools */

int secret_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(p, chunk) != 1)
			return -1;
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

int secret_random_base62(char *out, size_t n)
{
	static const char alpha[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char pool[64];
	size_t o = 0, i = sizeof(pool);

	while (o < n) {
		if (i == sizeof(pool)) {
			if (secret_random(pool, sizeof(pool)) != 0) {
				secret_wipe(pool, sizeof(pool));
				out[0] = '\0';
				return -1;
			}
			i = 0;
		}
		/* 248 = 4 * 62: bytes above it would favour the first
		 * characters, so they are thrown away. */
		if (pool[i] < 248)
			out[o++] = alpha[pool[i] % 62];
		i++;
	}
	out[n] = '\0';
	secret_wipe(pool, sizeof(pool));
	return 0;
}

int secret_sha256(const void *p, size_t n, unsigned char out[SECRET_SHA256_LEN])
{
	if (EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) != 1) {
		memset(out, 0, SECRET_SHA256_LEN);
		return -1;
	}
	return 0;
}

int secret_sha256_bytea(const void *p, size_t n, char out[SECRET_BYTEA_HEX_LEN])
{
	unsigned char h[SECRET_SHA256_LEN];

	out[0] = '\0';
	if (secret_sha256(p, n, h) != 0)
		return -1;
	out[0] = '\\';
	out[1] = 'x';
	secret_hex(h, sizeof(h), out + 2);
	return 0;
}

void secret_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

bool secret_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void secret_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

/* ------------------------------------------------------------ AES-256-GCM */

int secret_seal(const struct secret_key *k, const void *pt, size_t len,
    const void *aad, size_t aadlen, unsigned char nonce[SECRET_NONCE_LEN],
    unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, rc = -1;

	if (len > INT_MAX - SECRET_TAG_LEN || aadlen > INT_MAX)
		return -1;
	if (secret_random(nonce, SECRET_NONCE_LEN) != 0)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto fail;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->k, nonce) != 1)
		goto fail;
	if (aadlen > 0 &&
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		goto fail;
	if (len > 0 &&
	    (EVP_EncryptUpdate(ctx, out, &n, pt, (int)len) != 1 ||
	        (size_t)n != len))
		goto fail;
	if (EVP_EncryptFinal_ex(ctx, out + len, &n) != 1 || n != 0)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRET_TAG_LEN,
	        out + len) != 1)
		goto fail;
	rc = 0;
fail:
	EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
	if (rc != 0)
		secret_wipe(out, len + SECRET_TAG_LEN);
	return rc;
}

int secret_open(const struct secret_key *k, const unsigned char *ct,
    size_t ctlen, const unsigned char nonce[SECRET_NONCE_LEN], const void *aad,
    size_t aadlen, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char tag[SECRET_TAG_LEN];
	size_t len;
	int n, rc = -1;

	if (ctlen < SECRET_TAG_LEN || ctlen > INT_MAX || aadlen > INT_MAX)
		return -1;
	len = ctlen - SECRET_TAG_LEN;
	memcpy(tag, ct + len, SECRET_TAG_LEN);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto fail;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->k, nonce) != 1)
		goto fail;
	if (aadlen > 0 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		goto fail;
	if (len > 0 &&
	    (EVP_DecryptUpdate(ctx, out, &n, ct, (int)len) != 1 ||
	        (size_t)n != len))
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRET_TAG_LEN,
	        tag) != 1)
		goto fail;
	/* The tag is checked here; until it passes, out is not plaintext. */
	if (EVP_DecryptFinal_ex(ctx, out + len, &n) != 1 || n != 0)
		goto fail;
	rc = 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	if (rc != 0)
		secret_wipe(out, len);
	return rc;
}

/* ------------------------------------------------------------ master key */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* Decode base64 text (whitespace around it ignored) into a 32-byte key. */
static int key_from_text(const char *s, size_t len, struct secret_key *out)
{
	unsigned char tmp[SECRET_B64_DECODED_MAX(64)];
	ssize_t n;

	while (len > 0 && is_space(s[0])) {
		s++;
		len--;
	}
	while (len > 0 && is_space(s[len - 1]))
		len--;
	if (len != SECRET_B64_LEN(SECRET_KEY_LEN))
		return -1;
	n = secret_b64_decode(s, len, tmp, sizeof(tmp));
	if (n == SECRET_KEY_LEN)
		memcpy(out->k, tmp, SECRET_KEY_LEN);
	secret_wipe(tmp, sizeof(tmp));
	return n == SECRET_KEY_LEN ? 0 : -1;
}

/* Open path and check what it is before reading a byte of it. The checks
 * run on the open descriptor (fstat), so the file cannot be swapped between
 * check and read. O_NONBLOCK keeps a FIFO from hanging us. */
static int key_file_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	while (fd == -1 && errno == EINTR);
	if (fd == -1 && errno == ENOENT) {
		(void)snprintf(err, errlen,
		    "master_key_file %s does not exist; " HOWTO_FILE, path,
		    path);
		return -1;
	}
	if (fd == -1) {
		(void)snprintf(err, errlen,
		    "cannot open master_key_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		(void)snprintf(err, errlen,
		    "cannot stat master_key_file %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(err, errlen,
		    "master_key_file %s is not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		(void)snprintf(err, errlen,
		    "master_key_file %s has mode %04o: group and others must "
		    "have no access to it (chmod 600 %s)",
		    path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		(void)snprintf(err, errlen,
		    "master_key_file %s is owned by uid %lu: it must be owned "
		    "by root or by the user pacerd runs as (uid %lu)",
		    path, (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto fail;
	}
	return fd;
fail:
	(void)close(fd);
	return -1;
}

static int key_from_file(const char *path, struct secret_key *out, char *err,
    size_t errlen)
{
	char text[KEY_FILE_MAX + 1];
	size_t len = 0;
	int fd, rc = -1;

	if ((fd = key_file_open(path, err, errlen)) == -1)
		return -1;
	while (len < sizeof(text)) {
		ssize_t n = read(fd, text + len, sizeof(text) - len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)snprintf(err, errlen,
			    "cannot read master_key_file %s: %s", path,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > KEY_FILE_MAX || key_from_text(text, len, out) != 0) {
		(void)snprintf(err, errlen,
		    "master_key_file %s does not hold the base64 of 32 "
		    "bytes; " HOWTO_FILE,
		    path, path);
		goto done;
	}
	rc = 0;
done:
	secret_wipe(text, sizeof(text));
	(void)close(fd);
	return rc;
}

int secret_key_load(const struct cfg *cfg, struct secret_key *out, char *err,
    size_t errlen)
{
	const char *key = cfg->master_key, *path = cfg->master_key_file;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (key != NULL && key[0] != '\0') {
		rc = key_from_text(key, strlen(key), out);
		if (rc != 0)
			(void)snprintf(err, errlen,
			    "master_key (PACER_MASTER_KEY) is not the base64 "
			    "of "
			    "32 bytes; " HOWTO);
	} else if (path != NULL && path[0] != '\0') {
		rc = key_from_file(path, out, err, errlen);
	} else {
		(void)snprintf(err, errlen,
		    "no master key: set PACER_MASTER_KEY or master_key_file "
		    "(" HOWTO ")");
		rc = -1;
	}
	if (rc != 0)
		secret_wipe(out, sizeof(*out));
	return rc;
}
