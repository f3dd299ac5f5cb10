/*
 * pwhash.h - password hashing with scrypt (OpenSSL), stored as PHC strings:
 *
 *   $scrypt$ln=13,r=8,p=1$<salt>$<hash>
 *
 * ln is log2 of scrypt's N; salt (16 random bytes) and hash (32 bytes) are
 * standard base64 without padding, as the PHC string format and passlib
 * write them. Each stored hash carries its own parameters, so raising
 * password_scrypt_ln affects new hashes only; pwhash_needs_rehash() says
 * when a hash should be replaced after a successful login.
 *
 * A stored string is not trusted: its parameters are bounded (ln 10..20,
 * r 1..32, p 1..16) and no string may ask for more memory or work than the
 * most expensive hash the configuration can make (ln=20, r=8, p=1: 1 GiB,
 * 2^23 block mixes), so a hostile row cannot make a worker allocate more.
 *
 * Nothing here logs, and nothing about a password reaches an error path.
 * Callers: workers (register, login, password change) and pacerctl.
 * Each call costs what its parameters say (about 16 MiB of memory and tens
 * of milliseconds at ln=13); it is synchronous.
 */
#ifndef PACER_PWHASH_H
#define PACER_PWHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest password accepted, in bytes. */
#define PWHASH_MAX_PASSWORD 1024
/* Bounds of ln, inclusive (password_scrypt_ln has the same range). */
#define PWHASH_LN_MIN 10
#define PWHASH_LN_MAX 20
/* A buffer this size holds any string pwhash_hash() makes, with its NUL. */
#define PWHASH_MAX_LEN 128

/* Hash pw[0..len) (any bytes, len <= PWHASH_MAX_PASSWORD) with scrypt at
 * N = 2^ln, r = 8, p = 1 and a fresh 16-byte salt; write the PHC string
 * into out (outlen bytes, PWHASH_MAX_LEN is enough). Returns 0, or -1 when
 * ln is out of range, the password too long, out too small or OpenSSL
 * failed (out is then ""). */
int pwhash_hash(const char *pw, size_t len, int ln, char *out, size_t outlen);

/* Check pw[0..len) against the PHC string phc, with the parameters the
 * string holds. Returns 1 when it matches, 0 when it does not (a password
 * longer than PWHASH_MAX_PASSWORD never matches), -1 when phc is
 * malformed, not scrypt, or asks for parameters out of bounds. The final
 * comparison takes constant time. */
int pwhash_verify(const char *pw, size_t len, const char *phc);

/* Whether phc should be replaced by a fresh pwhash_hash(pw, ln): its
 * parameters or sizes differ from what pwhash_hash() makes now, or it is
 * not a string pwhash_verify() accepts. */
bool pwhash_needs_rehash(const char *phc, int ln);

/* Spend what a pwhash_verify() against a hash made at ln costs, and throw
 * the result away. Call it when a login names an unknown account, so the
 * response time does not tell whether the account exists. */
void pwhash_dummy(const char *pw, size_t len, int ln);

/* The scrypt KDF itself (RFC 7914): derive outlen bytes from pw and salt
 * with N, r, p. For tests and for the wrappers above; it checks only that
 * the parameters are what scrypt accepts and that the memory needed stays
 * under 1 GiB + 64 MiB. Returns 0 or -1. */
int pwhash_scrypt(const void *pw, size_t pwlen, const void *salt,
    size_t saltlen, uint64_t n, uint64_t r, uint64_t p, unsigned char *out,
    size_t outlen);

#endif /* PACER_PWHASH_H */
