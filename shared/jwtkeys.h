/*
 * jwtkeys.h - the keys that sign access tokens: made, sealed under the
 * master key, stored in jwt_keys, rotated and opened again.
 *
 * A key is HS256 (a 32-byte random secret) or RS256 (a 2048-bit RSA key;
 * the private half is what is sealed, the public half is stored as PEM for
 * /.well-known/jwks.json). Its kid is 20 random base62 characters. The
 * sealed value is AES-256-GCM under the master key with the associated
 * data "jwt_keys:<kid>", so a value copied onto another row does not open.
 *
 * The newest key whose retired_at is unset signs; every key whose
 * retired_at is unset or still in the future verifies. Rotation makes a
 * new key and sets retired_at = now + the longest token lifetime on every
 * other key still live, in one transaction, so tokens already issued stay
 * valid until they expire and no longer.
 *
 * Nothing here logs; errors come back in err and never hold key material.
 * Callers: the master (jwtkeys_ensure at start), pacerctl (rotate, list),
 * workers (jwtkeys_unseal on what they read) and the tests.
 */
#ifndef PACER_JWTKEYS_H
#define PACER_JWTKEYS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "secret.h"

#define JWTKEYS_KID_LEN 20
#define JWTKEYS_HS_SECRET_LEN 32
#define JWTKEYS_RSA_BITS 2048

/* An opened key. secret: the HS256 secret, or the RS256 private key in
 * PEM (NUL-terminated, the NUL not counted); public_pem: RS256 only. */
struct jwt_key {
	char kid[JWTKEYS_KID_LEN + 1];
	int alg; /* enum cfg_jwt_alg */
	unsigned char *secret;
	size_t secret_len;
	char *public_pem;  /* NULL for HS256 */
	int64_t created;   /* unix seconds */
	int64_t retire_at; /* unix seconds; 0: not retiring */
};

/* "HS256" / "RS256" for enum cfg_jwt_alg, and back (-1 when unknown). */
const char *jwtkeys_alg_name(int alg);
int jwtkeys_alg_parse(const char *name);

/* Make a key of alg, seal it and insert it. kid_out: at least
 * JWTKEYS_KID_LEN + 1 bytes. Returns 0 or -1 with the reason in err. */
int jwtkeys_create(PGconn *pg, const struct secret_key *mk, int alg,
    char *kid_out, char *err, size_t errlen);

/* Whether mk opens the newest live signing key. Returns 0 (also when there
 * is none), 1 when it does not open (its kid in kid_out, the reason in
 * err: another master key, or the row was altered), -1 on a database
 * error. kid_out: at least JWTKEYS_KID_LEN + 1 bytes. */
int jwtkeys_check(PGconn *pg, const struct secret_key *mk, char *kid_out,
    char *err, size_t errlen);

/* Make a key when no live one exists (the first start). Returns 1 when it
 * made one (its kid in kid_out), 0 when one existed and mk opens it, -1 on
 * an error or when mk does not open it (the reason in err). */
int jwtkeys_ensure(PGconn *pg, const struct secret_key *mk, int alg,
    char *kid_out, char *err, size_t errlen);

/* Make a new signing key and retire every other live key retire_after_s
 * seconds from now, in one transaction. Returns 0 or -1 (nothing
 * changed). */
int jwtkeys_rotate(PGconn *pg, const struct secret_key *mk, int alg,
    int64_t retire_after_s, char *kid_out, char *err, size_t errlen);

/*
 * Open one stored key: enc is ciphertext and tag, nonce its 12 bytes.
 * public_pem may be NULL. Returns 0 with *out filled (free with
 * jwtkeys_free), or -1 when the value does not open under mk (another
 * master key, or a tampered row) or is malformed.
 */
int jwtkeys_unseal(const struct secret_key *mk, const char *kid,
    const char *alg, const unsigned char *enc, size_t enclen,
    const unsigned char *nonce, size_t noncelen, const char *public_pem,
    struct jwt_key *out, char *err, size_t errlen);

/* Wipe and free what an opened key holds; the struct is zeroed. */
void jwtkeys_free(struct jwt_key *k);

/* The RSA modulus and exponent of a public key in PEM, base64url without
 * padding (for a JWK). Returns 0 or -1. n_out: at least 700 bytes,
 * e_out at least 16. */
int jwtkeys_rsa_jwk(const char *public_pem, char *n_out, size_t nlen,
    char *e_out, size_t elen);

#endif /* PACER_JWTKEYS_H */
