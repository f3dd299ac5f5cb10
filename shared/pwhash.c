/*
 * pwhash.c - scrypt password hashes in PHC string form (see pwhash.h).
 *
 * Runs in workers and pacerctl. The KDF is OpenSSL's EVP_PBE_scrypt; this
 * file adds the string format, the parameter bounds and a constant-time
 * comparison. Derived keys and decoded hashes are wiped after use.
 */
#include "pwhash.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "secret.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define DEFAULT_R 8
#define DEFAULT_P 1

/* Bounds on what a stored string may ask for. */
#define R_MAX 32
#define P_MAX 16
#define SALT_MIN 8
#define SALT_MAX 64
#define HASH_MIN 16
#define HASH_MAX 64
/* The costliest hash the configuration can make: ln=20, r=8, p=1. */
#define WORK_MAX (((uint64_t)1 << PWHASH_LN_MAX) * DEFAULT_R * DEFAULT_P)
/* What OpenSSL needs for it (128 r (N + 2 + p) bytes), with room. */
#define MEM_MAX (((uint64_t)1 << 30) + ((uint64_t)64 << 20))

struct phc {
	unsigned ln, r, p;
	unsigned char salt[SALT_MAX];
	size_t saltlen;
	unsigned char hash[HASH_MAX];
	size_t hashlen;
};

int pwhash_scrypt(const void *pw, size_t pwlen, const void *salt,
    size_t saltlen, uint64_t n, uint64_t r, uint64_t p, unsigned char *out,
    size_t outlen)
{
	uint64_t mem;

	if (n < 2 || (n & (n - 1)) != 0 || r == 0 || p == 0 || outlen == 0)
		return -1;
	/* Checked one factor at a time so the product cannot overflow. */
	if (n > MEM_MAX / 128 || p > MEM_MAX / 128 ||
	    r > MEM_MAX / 128 / (n + 2 + p))
		return -1;
	mem = 128 * r * (n + 2 + p);
	if (mem > MEM_MAX)
		return -1;
	if (EVP_PBE_scrypt(pw, pwlen, salt, saltlen, n, r, p, mem, out,
	        outlen) != 1) {
		secret_wipe(out, outlen);
		return -1;
	}
	return 0;
}

/* A decimal number of 1 to 3 digits without a leading zero; advances *s. */
static int parse_num(const char **s, unsigned *out)
{
	const char *p = *s;
	unsigned v = 0;
	int digits = 0;

	if (*p == '0')
		return -1;
	while (*p >= '0' && *p <= '9' && digits < 4) {
		v = v * 10 + (unsigned)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || digits > 3)
		return -1;
	*out = v;
	*s = p;
	return 0;
}

static int expect(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return -1;
	*s += n;
	return 0;
}

/* Decode one base64 field ending at '$' or NUL into out; advances *s. */
static int parse_b64(const char **s, unsigned char *out, size_t max, size_t min,
    size_t *len)
{
	const char *end = strchr(*s, '$');
	size_t n = end != NULL ? (size_t)(end - *s) : strlen(*s);
	ssize_t got;

	if (n > SECRET_B64RAW_LEN(max))
		return -1;
	got = secret_b64raw_decode(*s, n, out, max);
	if (got < 0 || (size_t)got < min)
		return -1;
	*len = (size_t)got;
	*s += n;
	return 0;
}

/* Parse and bound a PHC string; 0 or -1. Never reads past its NUL. */
static int phc_parse(const char *s, struct phc *ph)
{
	if (s == NULL || expect(&s, "$scrypt$ln=") != 0 ||
	    parse_num(&s, &ph->ln) != 0 || expect(&s, ",r=") != 0 ||
	    parse_num(&s, &ph->r) != 0 || expect(&s, ",p=") != 0 ||
	    parse_num(&s, &ph->p) != 0 || expect(&s, "$") != 0 ||
	    parse_b64(&s, ph->salt, SALT_MAX, SALT_MIN, &ph->saltlen) != 0 ||
	    expect(&s, "$") != 0 ||
	    parse_b64(&s, ph->hash, HASH_MAX, HASH_MIN, &ph->hashlen) != 0 ||
	    *s != '\0')
		return -1;
	if (ph->ln < PWHASH_LN_MIN || ph->ln > PWHASH_LN_MAX || ph->r > R_MAX ||
	    ph->p > P_MAX)
		return -1;
	if (((uint64_t)1 << ph->ln) * ph->r * ph->p > WORK_MAX ||
	    128 * (uint64_t)ph->r * (((uint64_t)1 << ph->ln) + 2 + ph->p) >
	        MEM_MAX)
		return -1;
	return 0;
}

int pwhash_hash(const char *pw, size_t len, int ln, char *out, size_t outlen)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char salt64[SECRET_B64RAW_LEN(SALT_LEN) + 1];
	char hash64[SECRET_B64RAW_LEN(HASH_LEN) + 1];
	int n, rc = -1;

	if (outlen > 0)
		out[0] = '\0';
	if (ln < PWHASH_LN_MIN || ln > PWHASH_LN_MAX ||
	    len > PWHASH_MAX_PASSWORD)
		return -1;
	if (secret_random(salt, sizeof(salt)) != 0 ||
	    pwhash_scrypt(pw, len, salt, sizeof(salt), (uint64_t)1 << ln,
	        DEFAULT_R, DEFAULT_P, hash, sizeof(hash)) != 0)
		goto done;
	if (secret_b64raw_encode(salt, sizeof(salt), salt64, sizeof(salt64)) <
	        0 ||
	    secret_b64raw_encode(hash, sizeof(hash), hash64, sizeof(hash64)) <
	        0)
		goto done;
	n = snprintf(out, outlen, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", ln,
	    DEFAULT_R, DEFAULT_P, salt64, hash64);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		goto done;
	}
	rc = 0;
done:
	secret_wipe(hash, sizeof(hash));
	secret_wipe(hash64, sizeof(hash64));
	return rc;
}

int pwhash_verify(const char *pw, size_t len, const char *phc)
{
	struct phc ph;
	unsigned char got[HASH_MAX];
	int rc;

	if (phc_parse(phc, &ph) != 0)
		return -1;
	if (len > PWHASH_MAX_PASSWORD)
		return 0;
	if (pwhash_scrypt(pw, len, ph.salt, ph.saltlen, (uint64_t)1 << ph.ln,
	        ph.r, ph.p, got, ph.hashlen) != 0)
		rc = -1;
	else
		rc = secret_equal(got, ph.hash, ph.hashlen) ? 1 : 0;
	secret_wipe(got, sizeof(got));
	secret_wipe(&ph, sizeof(ph));
	return rc;
}

bool pwhash_needs_rehash(const char *phc, int ln)
{
	struct phc ph;

	if (phc_parse(phc, &ph) != 0)
		return true;
	return (int)ph.ln != ln || ph.r != DEFAULT_R || ph.p != DEFAULT_P ||
	    ph.saltlen != SALT_LEN || ph.hashlen != HASH_LEN;
}

void pwhash_dummy(const char *pw, size_t len, int ln)
{
	static const unsigned char salt[SALT_LEN];
	unsigned char hash[HASH_LEN];

	/* pwhash_verify() answers these without hashing; so do we. */
	if (len > PWHASH_MAX_PASSWORD)
		return;
	if (ln < PWHASH_LN_MIN)
		ln = PWHASH_LN_MIN;
	if (ln > PWHASH_LN_MAX)
		ln = PWHASH_LN_MAX;
	/* The result is thrown away: a failure costs the caller nothing. */
	(void)pwhash_scrypt(pw, len, salt, sizeof(salt), (uint64_t)1 << ln,
	    DEFAULT_R, DEFAULT_P, hash, sizeof(hash));
	secret_wipe(hash, sizeof(hash));
}
