/*
 * jwtkeys.c - signing keys: make, seal, store, rotate, open; see
 * jwtkeys.h.
 */
#include "jwtkeys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

/* The associated data that binds a sealed key to its row. */
static void key_aad(const char *kid, char *out, size_t n)
{
	(void)snprintf(out, n, "jwt_keys:%s", kid);
}

const char *jwtkeys_alg_name(int alg)
{
	return alg == CFG_JWT_RS256 ? "RS256" : "HS256";
}

int jwtkeys_alg_parse(const char *name)
{
	if (strcmp(name, "HS256") == 0)
		return CFG_JWT_HS256;
	if (strcmp(name, "RS256") == 0)
		return CFG_JWT_RS256;
	return -1;
}

static void ssl_reason(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	char why[160];

	ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	(void)snprintf(err, errlen, "%s: %s", what, e != 0 ? why : "failed");
}

/* A memory BIO's bytes as a NUL-terminated heap string. */
static char *bio_string(BIO *b, size_t *len)
{
	char *p = NULL, *s;
	long n = BIO_get_mem_data(b, &p);

	if (n <= 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return s;
}

/* A new RSA key: private PEM into *priv (len *plen), public PEM into
 * *pub. Returns 0 or -1. */
static int rsa_new(char **priv, size_t *plen, char **pub, char *err,
    size_t errlen)
{
	EVP_PKEY *pk =
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)JWTKEYS_RSA_BITS);
	BIO *bp = NULL, *bu = NULL;
	int rc = -1;

	*priv = *pub = NULL;
	if (pk == NULL) {
		ssl_reason("RSA key generation", err, errlen);
		return -1;
	}
	if ((bp = BIO_new(BIO_s_mem())) == NULL ||
	    (bu = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bp, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(bu, pk) != 1) {
		ssl_reason("RSA key encoding", err, errlen);
		goto out;
	}
	if ((*priv = bio_string(bp, plen)) == NULL ||
	    (*pub = bio_string(bu, NULL)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		if (*priv != NULL)
			secret_wipe(*priv, strlen(*priv));
		free(*priv);
		free(*pub);
		*priv = *pub = NULL;
	}
	if (bp != NULL) {
		char *p = NULL;
		long n = BIO_get_mem_data(bp, &p);

		if (n > 0 && p != NULL)
			secret_wipe(p, (size_t)n);
	}
	BIO_free(bp);
	BIO_free(bu);
	EVP_PKEY_free(pk);
	return rc;
}

static int pg_failed(PGresult *res, const char *what, char *err, size_t errlen)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	(void)snprintf(err, errlen, "%s: %s", what,
	    m != NULL ? m : "the query failed");
	PQclear(res);
	return -1;
}

/* Run a statement without parameters that returns no rows. */
static int pg_command(PGconn *pg, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(pg, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_failed(res, sql, err, errlen);
	PQclear(res);
	return 0;
}

int jwtkeys_create(PGconn *pg, const struct secret_key *mk, int alg,
    char *kid_out, char *err, size_t errlen)
{
	unsigned char hs[JWTKEYS_HS_SECRET_LEN], nonce[SECRET_NONCE_LEN];
	unsigned char *plain = hs, *enc = NULL, *enc_esc = NULL,
	              *nonce_esc = NULL;
	char *priv = NULL, *pub = NULL, aad[64];
	size_t plen = sizeof(hs), elen, n1 = 0, n2 = 0;
	const char *params[5];
	PGresult *res;
	int rc = -1;

	if (secret_random_base62(kid_out, JWTKEYS_KID_LEN) != 0) {
		(void)snprintf(err, errlen, "no randomness for a key id");
		return -1;
	}
	if (alg == CFG_JWT_RS256) {
		if (rsa_new(&priv, &plen, &pub, err, errlen) != 0)
			return -1;
		plain = (unsigned char *)priv;
	} else if (secret_random(hs, sizeof(hs)) != 0) {
		(void)snprintf(err, errlen, "no randomness for a key");
		return -1;
	}
	elen = plen + SECRET_TAG_LEN;
	key_aad(kid_out, aad, sizeof(aad));
	if ((enc = malloc(elen)) == NULL ||
	    secret_seal(mk, plain, plen, aad, strlen(aad), nonce, enc) != 0) {
		(void)snprintf(err, errlen, "could not seal the new key");
		goto out;
	}
	enc_esc = PQescapeByteaConn(pg, enc, elen, &n1);
	nonce_esc = PQescapeByteaConn(pg, nonce, sizeof(nonce), &n2);
	if (enc_esc == NULL || nonce_esc == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	params[0] = kid_out;
	params[1] = jwtkeys_alg_name(alg);
	params[2] = (const char *)enc_esc;
	params[3] = (const char *)nonce_esc;
	params[4] = pub;
	res = PQexecParams(pg,
	    "INSERT INTO jwt_keys (kid, alg, secret_enc, nonce, public_key) "
	    "VALUES ($1, $2, $3::bytea, $4::bytea, $5)",
	    5, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		(void)pg_failed(res, "could not store the new signing key", err,
		    errlen);
		goto out;
	}
	PQclear(res);
	rc = 0;
out:
	secret_wipe(hs, sizeof(hs));
	if (priv != NULL) {
		secret_wipe(priv, plen);
		free(priv);
	}
	free(pub);
	free(enc);
	PQfreemem(enc_esc);
	PQfreemem(nonce_esc);
	return rc;
}

int jwtkeys_check(PGconn *pg, const struct secret_key *mk, char *kid_out,
    char *err, size_t errlen)
{
	PGresult *res = PQexec(pg,
	    "SELECT kid, alg, secret_enc, nonce, public_key FROM jwt_keys "
	    "WHERE retired_at IS NULL OR retired_at > now() "
	    "ORDER BY created_at DESC, kid LIMIT 1");
	unsigned char *enc = NULL, *nonce = NULL;
	size_t elen = 0, nlen = 0;
	struct jwt_key k;
	char why[256];
	int rc = -1;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_failed(res, "could not read the signing keys", err,
		    errlen);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	(void)snprintf(kid_out, JWTKEYS_KID_LEN + 1, "%s",
	    PQgetvalue(res, 0, 0));
	enc = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 2),
	    &elen);
	nonce = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 3),
	    &nlen);
	if (enc == NULL || nonce == NULL) {
		(void)snprintf(err, errlen, "out of memory");
	} else if (jwtkeys_unseal(mk, PQgetvalue(res, 0, 0),
	               PQgetvalue(res, 0, 1), enc, elen, nonce, nlen,
	               PQgetisnull(res, 0, 4) ? NULL : PQgetvalue(res, 0, 4),
	               &k, why, sizeof(why)) != 0) {
		(void)snprintf(err, errlen,
		    "the current signing key cannot be used: %s; start with "
		    "the master key that made it",
		    why);
		rc = 1;
	} else {
		jwtkeys_free(&k);
		rc = 0;
	}
	PQfreemem(enc);
	PQfreemem(nonce);
	PQclear(res);
	return rc;
}

int jwtkeys_ensure(PGconn *pg, const struct secret_key *mk, int alg,
    char *kid_out, char *err, size_t errlen)
{
	PGresult *res;
	long live;

	/* Two masters starting together may both find none and both make
	 * one: harmless, the newer one signs and both verify. */
	res = PQexec(pg,
	    "SELECT count(*) FROM jwt_keys WHERE retired_at IS NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		return pg_failed(res, "could not read the signing keys", err,
		    errlen);
	live = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (live == 0)
		return jwtkeys_create(pg, mk, alg, kid_out, err, errlen) == 0
		    ? 1
		    : -1;
	/* A key that this master key cannot open would leave every login
	 * failing: refuse now, saying why. */
	return jwtkeys_check(pg, mk, kid_out, err, errlen) == 0 ? 0 : -1;
}

int jwtkeys_rotate(PGconn *pg, const struct secret_key *mk, int alg,
    int64_t retire_after_s, char *kid_out, char *err, size_t errlen)
{
	char secs[32];
	const char *params[2];
	PGresult *res;

	if (pg_command(pg, "BEGIN", err, errlen) != 0)
		return -1;
	(void)snprintf(secs, sizeof(secs), "%lld", (long long)retire_after_s);
	if (jwtkeys_create(pg, mk, alg, kid_out, err, errlen) != 0)
		goto fail;
	params[0] = kid_out;
	params[1] = secs;
	res = PQexecParams(pg,
	    "UPDATE jwt_keys SET retired_at = now() + make_interval(secs => "
	    "$2::bigint) WHERE kid <> $1 AND (retired_at IS NULL OR "
	    "retired_at > now() + make_interval(secs => $2::bigint))",
	    2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		(void)pg_failed(res, "could not retire the old keys", err,
		    errlen);
		goto fail;
	}
	PQclear(res);
	if (pg_command(pg, "COMMIT", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	res = PQexec(pg, "ROLLBACK");
	PQclear(res);
	return -1;
}

int jwtkeys_unseal(const struct secret_key *mk, const char *kid,
    const char *alg, const unsigned char *enc, size_t enclen,
    const unsigned char *nonce, size_t noncelen, const char *public_pem,
    struct jwt_key *out, char *err, size_t errlen)
{
	char aad[64];
	int a = jwtkeys_alg_parse(alg);

	memset(out, 0, sizeof(*out));
	if (a < 0 || strlen(kid) >= sizeof(out->kid) ||
	    noncelen != SECRET_NONCE_LEN || enclen <= SECRET_TAG_LEN ||
	    (a == CFG_JWT_RS256 && public_pem == NULL)) {
		(void)snprintf(err, errlen, "key %.64s: malformed row", kid);
		return -1;
	}
	(void)snprintf(out->kid, sizeof(out->kid), "%s", kid);
	out->alg = a;
	out->secret_len = enclen - SECRET_TAG_LEN;
	/* One more byte: an RS256 key is PEM text, used as a C string. */
	if ((out->secret = calloc(1, out->secret_len + 1)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	key_aad(kid, aad, sizeof(aad));
	if (secret_open(mk, enc, enclen, nonce, aad, strlen(aad),
	        out->secret) != 0) {
		(void)snprintf(err, errlen,
		    "key %s does not open under this master key (another "
		    "master key, or the row was altered)",
		    kid);
		jwtkeys_free(out);
		return -1;
	}
	if (public_pem != NULL && a == CFG_JWT_RS256 &&
	    (out->public_pem = strdup(public_pem)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		jwtkeys_free(out);
		return -1;
	}
	return 0;
}

void jwtkeys_free(struct jwt_key *k)
{
	if (k->secret != NULL) {
		secret_wipe(k->secret, k->secret_len);
		free(k->secret);
	}
	free(k->public_pem);
	memset(k, 0, sizeof(*k));
}

/* A BIGNUM as base64url without padding. */
static int bn_b64url(const BIGNUM *bn, char *out, size_t outlen)
{
	unsigned char raw[512];
	int n = BN_num_bytes(bn);

	if (n <= 0 || (size_t)n > sizeof(raw) || BN_bn2bin(bn, raw) != n)
		return -1;
	return secret_b64url_encode(raw, (size_t)n, out, outlen) < 0 ? -1 : 0;
}

int jwtkeys_rsa_jwk(const char *public_pem, char *n_out, size_t nlen,
    char *e_out, size_t elen)
{
	BIO *b = BIO_new_mem_buf(public_pem, -1);
	EVP_PKEY *pk =
	    b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	BIGNUM *n = NULL, *e = NULL;
	int rc = -1;

	if (pk != NULL &&
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
	    bn_b64url(n, n_out, nlen) == 0 && bn_b64url(e, e_out, elen) == 0)
		rc = 0;
	ERR_clear_error();
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
	BIO_free(b);
	return rc;
}
