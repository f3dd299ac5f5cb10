/*
 * secret.h - the master key and the crypto primitives built on OpenSSL:
 * AES-256-GCM sealing of stored secrets, random bytes and tokens, SHA-256,
 * constant-time comparison, wiping, and strict base64 / base64url.
 *
 * The master key (32 bytes) encrypts every secret pacer stores in
 * PostgreSQL (JWT signing keys, provider OAuth tokens). It comes from
 * master_key (PACER_MASTER_KEY) or from the file named by master_key_file;
 * pacerd refuses to start without one. It is loaded once by the master
 * before fork, inherited by the workers, and never reloaded on SIGHUP.
 *
 * Nothing here logs. Error messages never hold key material, plaintext or
 * the content of a key file.
 *
 * Callers: the master, the workers and pacerctl. RAND_bytes is fork-safe in
 * OpenSSL 3 (it reseeds in a child), so workers may draw random numbers
 * without extra care.
 */
#ifndef PACER_SECRET_H
#define PACER_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cfg;

#define SECRET_KEY_LEN 32
#define SECRET_NONCE_LEN 12
#define SECRET_TAG_LEN 16
#define SECRET_SHA256_LEN 32

struct secret_key {
	unsigned char k[SECRET_KEY_LEN];
};

/* Load the master key: from cfg->master_key when it is set (it already
 * holds PACER_MASTER_KEY from the environment), else from the file
 * cfg->master_key_file. The file must be a regular file owned by root or by
 * the effective user, with no permission bits for group or others, holding
 * the base64 of 32 bytes (surrounding whitespace allowed).
 *
 * Returns 0, or -1 with a message in err saying what is wrong and how to
 * make a key ("... openssl rand -base64 32"); out is then zeroed. The
 * message names the file and its mode or owner where that is the problem,
 * never the key or the file's content. Wipe out with secret_wipe() when
 * done with it. */
int secret_key_load(const struct cfg *cfg, struct secret_key *out, char *err,
    size_t errlen);

/* Seal len bytes of pt with AES-256-GCM under k and a fresh random 96-bit
 * nonce, which is written to nonce. out receives the ciphertext followed by
 * the 16-byte tag: len + SECRET_TAG_LEN bytes. aad (additional data, may be
 * NULL when aadlen is 0) is authenticated but not stored: pass what binds
 * the value to its place, e.g. "jwt_keys:<kid>", so a sealed value copied
 * to another row does not open. len and aadlen are at most INT_MAX.
 * Returns 0 or -1. */
int secret_seal(const struct secret_key *k, const void *pt, size_t len,
    const void *aad, size_t aadlen, unsigned char nonce[SECRET_NONCE_LEN],
    unsigned char *out);

/* Open what secret_seal() made: ct is ciphertext||tag (ctlen >= 16), out
 * receives ctlen - SECRET_TAG_LEN bytes. Returns 0, or -1 when anything was
 * changed (ciphertext, tag, nonce, aad) or the key is not the one that
 * sealed; out is then zeroed, never left holding unauthenticated bytes. */
int secret_open(const struct secret_key *k, const unsigned char *ct,
    size_t ctlen, const unsigned char nonce[SECRET_NONCE_LEN], const void *aad,
    size_t aadlen, unsigned char *out);

/* n bytes from OpenSSL's CSPRNG. Returns 0 or -1. */
int secret_random(void *buf, size_t n);

/* n uniformly random characters of [0-9A-Za-z] (rejection sampling, no
 * modulo bias) followed by a NUL: out holds n + 1 bytes. About 5.95 bits
 * per character: 22 characters carry 128 bits. Returns 0 or -1. */
int secret_random_base62(char *out, size_t n);

/* SHA-256 of p[0..n). Returns 0, or -1 only when OpenSSL cannot allocate
 * (out is then zeroed). */
int secret_sha256(const void *p, size_t n,
    unsigned char out[SECRET_SHA256_LEN]);

/* The SHA-256 of p[0..n) as the text of a PostgreSQL bytea parameter:
 * "\\x" and 64 lowercase hex digits. Returns 0, or -1 (see secret_sha256;
 * out is then ""). */
#define SECRET_BYTEA_HEX_LEN (2 + 2 * SECRET_SHA256_LEN + 1)
int secret_sha256_bytea(const void *p, size_t n,
    char out[SECRET_BYTEA_HEX_LEN]);

/* Lowercase hex of p[0..n) into out, which holds 2n + 1 bytes. */
void secret_hex(const unsigned char *p, size_t n, char *out);

/* Whether a[0..n) equals b[0..n), in time that depends on n only. */
bool secret_equal(const void *a, const void *b, size_t n);

/* Overwrite p[0..n) with zeros in a way the compiler cannot drop. */
void secret_wipe(void *p, size_t n);

/*
 * Base64 (RFC 4648). Three forms:
 *   secret_b64_*     standard alphabet (+/), padded with '='   (section 4)
 *   secret_b64raw_*  standard alphabet, no padding       (PHC strings)
 *   secret_b64url_*  URL alphabet (-_), no padding        (JWT, tokens)
 *
 * Encoders write the text and a NUL into out (outsize bytes) and return its
 * length, or -1 when outsize is too small. SECRET_B64_LEN(n) and
 * SECRET_B64RAW_LEN(n) give the length without the NUL (base64url has the
 * raw length).
 *
 * Decoders read exactly s[0..len) (no whitespace, no line breaks) and write
 * the bytes into out (outsize bytes); they return the number of bytes, or -1
 * when the text is not canonical base64 of the form: a character outside
 * the alphabet, padding missing, misplaced or present where none is
 * allowed, an impossible length, non-zero unused bits in the last
 * character, or out too small. SECRET_B64_DECODED_MAX(len) bytes always
 * suffice.
 */
#define SECRET_B64_LEN(n) ((((size_t)(n) + 2) / 3) * 4)
#define SECRET_B64RAW_LEN(n)                                                   \
	(((size_t)(n) / 3) * 4 +                                               \
	    ((size_t)(n) % 3 == 0 ? 0 : (size_t)(n) % 3 + 1))
#define SECRET_B64_DECODED_MAX(len) ((((size_t)(len) + 3) / 4) * 3)

ssize_t secret_b64_encode(const void *p, size_t n, char *out, size_t outsize);
ssize_t secret_b64_decode(const char *s, size_t len, unsigned char *out,
    size_t outsize);
ssize_t secret_b64raw_encode(const void *p, size_t n, char *out,
    size_t outsize);
ssize_t secret_b64raw_decode(const char *s, size_t len, unsigned char *out,
    size_t outsize);
ssize_t secret_b64url_encode(const void *p, size_t n, char *out,
    size_t outsize);
ssize_t secret_b64url_decode(const char *s, size_t len, unsigned char *out,
    size_t outsize);

#endif /* PACER_SECRET_H */
