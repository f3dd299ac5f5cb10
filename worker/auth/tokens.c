/*
 * tokens.c - access tokens (JWT through libjwt): the verifying keys, the
 * signing, the checks, revocation, and /.well-known/jwks.json.
 *
 * libjwt verifies a signature with the key it is given; choosing that key
 * is ours. A token's header is read first: its alg must be HS256 or
 * RS256 (never "none"), its kid must name a key we hold, and the alg must
 * be that key's own, so an RS256 public key can never be used as an
 * HS256 secret. Only then is the token decoded and verified, and libjwt's
 * view of the alg is checked once more.
 */
#include <errno.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "cfg.h"
#include "jwtkeys.h"
#include "log.h"
#include "secret.h"

#define MAX_KEYS 16
#define TOKEN_MAX 4096
/* A token names an unknown kid: re-read the keys at most this often. */
#define UNKNOWN_KID_RELOAD_S 1

struct ring_key {
	struct jwt_key k;
	char jwk_n[700], jwk_e[16]; /* RS256 */
};

static struct ring_key ring[MAX_KEYS];
static size_t nring;
static int64_t ring_loaded; /* when the keys were last read; 0: never */
/* cache_connects() when the revocations were last put into Redis. */
static uint64_t refilled_at;

static void ring_clear(void)
{
	for (size_t i = 0; i < nring; i++)
		jwtkeys_free(&ring[i].k);
	nring = 0;
}

/* Read the keys that verify. Returns 0, or 503 when the database is
 * away, or 500. The old ring stays when reading fails. */
static int ring_load(int64_t now)
{
	PGresult *res = NULL;
	enum db_rc rc = db_exec(auth_g.db, Q_JWT_KEYS, NULL, &res);
	struct ring_key fresh[MAX_KEYS];
	size_t n = 0;
	int rows;

	if (rc != DB_OK) {
		if (rc == DB_ERROR)
			log_errx("could not read the signing keys: %s",
			    PQresultErrorMessage(res));
		PQclear(res);
		return rc == DB_UNAVAILABLE ? 503 : 500;
	}
	rows = PQntuples(res);
	for (int i = 0; i < rows && n < MAX_KEYS; i++) {
		size_t elen = 0, nlen = 0;
		unsigned char *enc = PQunescapeBytea(
		    (const unsigned char *)PQgetvalue(res, i, 2), &elen);
		unsigned char *nonce = PQunescapeBytea(
		    (const unsigned char *)PQgetvalue(res, i, 3), &nlen);
		char err[256];
		struct ring_key *rk = &fresh[n];

		memset(rk, 0, sizeof(*rk));
		if (enc != NULL && nonce != NULL &&
		    jwtkeys_unseal(auth_g.ctx->master_key,
		        PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), enc, elen,
		        nonce, nlen,
		        PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
		        &rk->k, err, sizeof(err)) == 0) {
			rk->k.created =
			    strtoll(PQgetvalue(res, i, 5), NULL, 10);
			rk->k.retire_at =
			    strtoll(PQgetvalue(res, i, 6), NULL, 10);
			if (rk->k.alg == CFG_JWT_RS256 &&
			    jwtkeys_rsa_jwk(rk->k.public_pem, rk->jwk_n,
			        sizeof(rk->jwk_n), rk->jwk_e,
			        sizeof(rk->jwk_e)) != 0)
				rk->jwk_n[0] = '\0';
			n++;
		} else {
			log_errx("signing key skipped: %s",
			    enc == NULL || nonce == NULL ? "out of memory"
			                                 : err);
		}
		PQfreemem(enc);
		PQfreemem(nonce);
	}
	PQclear(res);
	ring_clear();
	memcpy(ring, fresh, n * sizeof(fresh[0]));
	nring = n;
	ring_loaded = now;
	return 0;
}

static const struct ring_key *ring_find(const char *kid)
{
	for (size_t i = 0; i < nring; i++)
		if (strcmp(ring[i].k.kid, kid) == 0)
			return &ring[i];
	return NULL;
}

/* The signing key: the newest not retiring (the ring is newest first);
 * failing that the newest. */
static const struct ring_key *ring_signer(void)
{
	for (size_t i = 0; i < nring; i++)
		if (ring[i].k.retire_at == 0)
			return &ring[i];
	return nring > 0 ? &ring[0] : NULL;
}

static jwt_alg_t lib_alg(int alg)
{
	return alg == CFG_JWT_RS256 ? JWT_ALG_RS256 : JWT_ALG_HS256;
}

/* The claims and header of a token; 0, or -1 when libjwt refused one. */
static int add_claims(jwt_t *jwt, const char *kid, const char *user_id,
    const char *email, enum auth_role role, const struct auth_token_opts *o,
    const char *jti, int64_t now, int64_t exp)
{
	const struct cfg *cfg = auth_g.ctx->cfg;
	const char *aud =
	    o != NULL && o->aud != NULL ? o->aud : cfg->jwt_audience;

	if (jwt_add_header(jwt, "kid", kid) != 0 ||
	    jwt_add_grant(jwt, "sub", user_id) != 0 ||
	    jwt_add_grant(jwt, "email", email) != 0 ||
	    jwt_add_grant(jwt, "role", auth_role_name(role)) != 0 ||
	    jwt_add_grant(jwt, "iss", cfg->jwt_issuer) != 0 ||
	    jwt_add_grant(jwt, "aud", aud) != 0 ||
	    jwt_add_grant(jwt, "jti", jti) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "nbf", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)exp) != 0)
		return -1;
	if (o != NULL && o->scope != NULL &&
	    jwt_add_grant(jwt, "scope", o->scope) != 0)
		return -1;
	if (o != NULL && o->client_id != NULL &&
	    jwt_add_grant(jwt, "client_id", o->client_id) != 0)
		return -1;
	return 0;
}

int auth_token_issue_ex(const char *user_id, const char *email,
    enum auth_role role, const struct auth_token_opts *o, char *out,
    size_t outlen, char *jti_out, int64_t *exp_out)
{
	const struct cfg *cfg = auth_g.ctx->cfg;
	int64_t now = (int64_t)time(NULL);
	int64_t exp = now + cfg->access_token_ttl / 1000;
	const struct ring_key *rk;
	char jti[AUTH_JTI_LEN + 1], *tok;
	jwt_t *jwt = NULL;
	int rc = 500;

	if (nring == 0 || now - ring_loaded >= AUTH_KEYS_REFRESH_S) {
		int lr = ring_load(now);

		if (lr != 0 && nring == 0) {
			log_errx("no signing key could be read (%d)", lr);
			return lr;
		}
	}
	if ((rk = ring_signer()) == NULL) {
		log_errx("no signing key: the master makes one at start");
		return 500;
	}
	if (o != NULL && o->jti != NULL && strlen(o->jti) == AUTH_JTI_LEN)
		memcpy(jti, o->jti, sizeof(jti));
	else if (secret_random_base62(jti, AUTH_JTI_LEN) != 0) {
		log_errx("could not draw a token id");
		return 500;
	}
	if (jwt_new(&jwt) != 0) {
		log_errx("could not start an access token: %s",
		    strerror(errno));
		return 500;
	}
	if (add_claims(jwt, rk->k.kid, user_id, email, role, o, jti, now,
	        exp) != 0 ||
	    jwt_set_alg(jwt, lib_alg(rk->k.alg), rk->k.secret,
	        (int)rk->k.secret_len) != 0) {
		log_errx("could not build an access token");
		goto out;
	}
	if ((tok = jwt_encode_str(jwt)) == NULL) {
		log_errx("could not sign an access token: %s", strerror(errno));
		goto out;
	}
	if (strlen(tok) < outlen) {
		memcpy(out, tok, strlen(tok) + 1);
		memcpy(jti_out, jti, sizeof(jti));
		*exp_out = exp;
		rc = 0;
	} else {
		log_errx("an access token of %zu bytes does not fit in %zu",
		    strlen(tok), outlen);
	}
	secret_wipe(tok, strlen(tok));
	free(tok);
out:
	jwt_free(jwt);
	return rc;
}

/* The token's header: alg and kid, copied out. Returns 0 or -1. */
static int read_header(const char *tok, size_t len, char *alg, size_t alen,
    char *kid, size_t klen)
{
	const char *dot = memchr(tok, '.', len);
	unsigned char raw[1024];
	ssize_t n;
	struct json_object *h = NULL;
	const char *a, *k;
	int rc = -1;

	if (dot == NULL ||
	    (n = secret_b64url_decode(tok, (size_t)(dot - tok), raw,
	         sizeof(raw) - 1)) <= 0)
		return -1;
	raw[n] = '\0';
	h = json_tokener_parse((const char *)raw);
	if (h != NULL && json_object_is_type(h, json_type_object) &&
	    (a = auth_json_str(h, "alg")) != NULL && strlen(a) < alen) {
		k = auth_json_str(h, "kid");
		(void)snprintf(alg, alen, "%s", a);
		(void)snprintf(kid, klen, "%s", k != NULL ? k : "");
		rc = 0;
	}
	json_object_put(h);
	return rc;
}

/* A claim that must be a string. */
static const char *claim(jwt_t *jwt, const char *name)
{
	const char *v = jwt_get_grant(jwt, name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static void refill_revocations(int64_t now);

/* Whether jti was revoked: 1 yes, 0 no, -1 cannot tell (Redis and the
 * database both away). Redis answers only while it holds every
 * revocation: after each new connection (it may have restarted empty)
 * the database's are put back first, and until then the database
 * answers. */
static int jti_revoked(const char *jti)
{
	char store[16];
	struct buf v;
	PGresult *res = NULL;
	const char *params[1] = {jti};
	enum db_rc rc;
	int hit;

	buf_init_fixed(&v, store, sizeof(store));
	hit = cache_get(auth_g.cache, "jti", jti, &v);
	if (hit == 1)
		return 1;
	if (cache_redis_state(auth_g.cache) == CACHE_REDIS_UP &&
	    refilled_at != cache_connects(auth_g.cache))
		refill_revocations((int64_t)time(NULL));
	if (hit == 0 && cache_redis_state(auth_g.cache) == CACHE_REDIS_UP &&
	    refilled_at == cache_connects(auth_g.cache))
		return 0;
	rc = db_exec(auth_g.db, Q_JTI_CHECK, params, &res);
	hit = rc == DB_OK ? PQntuples(res) > 0 : -1;
	PQclear(res);
	return hit;
}

/* Whether the space-separated scope list holds want. */
static bool scope_has(const char *scope, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = scope; *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len == n && strncmp(p, want, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* The token's audience: the first-party one (jwt_audience), or, only
 * where resource is given (an MCP route), resource itself with the scope
 * "mcp" and the OAuth client it was issued to. 0 with *mcp set, or -1. */
static int check_audience(jwt_t *jwt, const char *resource, bool *mcp,
    char client_id[AUTH_UUID_LEN + 1])
{
	const char *aud = claim(jwt, "aud"), *scope, *client;

	*mcp = false;
	client_id[0] = '\0';
	if (aud == NULL)
		return -1;
	if (strcmp(aud, auth_g.ctx->cfg->jwt_audience) == 0)
		return 0;
	if (resource == NULL || strcmp(aud, resource) != 0)
		return -1;
	scope = claim(jwt, "scope");
	client = claim(jwt, "client_id");
	if (scope == NULL || !scope_has(scope, "mcp") || client == NULL ||
	    !auth_uuid_valid(client, strlen(client)))
		return -1;
	memcpy(client_id, client, AUTH_UUID_LEN + 1);
	*mcp = true;
	return 0;
}

#define FAIL(st, why, msg)                                                     \
	do {                                                                   \
		*reason = (why);                                               \
		*message = (msg);                                              \
		rc = (st);                                                     \
		goto out;                                                      \
	} while (0)

int auth_jwt_verify(const char *tok, size_t len, const char *resource,
    struct auth_principal *p, const char **reason, const char **message)
{
	const struct cfg *cfg = auth_g.ctx->cfg;
	int64_t now = (int64_t)time(NULL), leeway = cfg->jwt_leeway / 1000;
	char copy[TOKEN_MAX + 1], alg[16], kid[128];
	char client_id[AUTH_UUID_LEN + 1];
	const struct ring_key *rk;
	const char *sub, *email, *role, *jti, *iss;
	bool mcp = false;
	const unsigned char *vkey;
	jwt_t *jwt = NULL;
	long exp, nbf;
	int rc = 0, ro;
	static int64_t last_unknown_reload;

	if (len == 0 || len > TOKEN_MAX)
		FAIL(401, "malformed_token", "The access token is malformed.");
	memcpy(copy, tok, len);
	copy[len] = '\0';
	if (read_header(copy, len, alg, sizeof(alg), kid, sizeof(kid)) != 0)
		FAIL(401, "malformed_token", "The access token is malformed.");
	if (strcmp(alg, "HS256") != 0 && strcmp(alg, "RS256") != 0)
		FAIL(401, "unsupported_algorithm",
		    "The access token's algorithm is not accepted.");
	if (nring == 0 || now - ring_loaded >= AUTH_KEYS_REFRESH_S)
		(void)ring_load(now);
	if ((rk = ring_find(kid)) == NULL &&
	    now - last_unknown_reload >= UNKNOWN_KID_RELOAD_S) {
		last_unknown_reload = now;
		if (ring_load(now) == 0)
			rk = ring_find(kid);
	}
	if (rk == NULL) {
		if (nring == 0)
			FAIL(503, "keys_unavailable",
			    "The signing keys cannot be read; retry later.");
		FAIL(401, "unknown_key",
		    "The access token was signed by a key this server does "
		    "not hold.");
	}
	if (strcmp(alg, jwtkeys_alg_name(rk->k.alg)) != 0)
		FAIL(401, "algorithm_mismatch",
		    "The access token's algorithm is not its key's.");
	if (rk->k.retire_at != 0 && rk->k.retire_at <= now)
		FAIL(401, "unknown_key", "The access token's key was retired.");
	vkey = rk->k.alg == CFG_JWT_RS256
	    ? (const unsigned char *)rk->k.public_pem
	    : rk->k.secret;
	if (jwt_decode(&jwt, copy, vkey,
	        rk->k.alg == CFG_JWT_RS256 ? (int)strlen(rk->k.public_pem)
	                                   : (int)rk->k.secret_len) != 0 ||
	    jwt == NULL || jwt_get_alg(jwt) != lib_alg(rk->k.alg))
		FAIL(401, "bad_signature",
		    "The access token's signature does not verify.");
	iss = claim(jwt, "iss");
	if (iss == NULL || strcmp(iss, cfg->jwt_issuer) != 0)
		FAIL(401, "wrong_issuer",
		    "The access token was issued by someone else.");
	if (check_audience(jwt, resource, &mcp, client_id) != 0)
		FAIL(401, "wrong_audience",
		    "The access token is meant for another audience.");
	errno = 0;
	exp = jwt_get_grant_int(jwt, "exp");
	if (errno != 0)
		FAIL(401, "malformed_token", "The access token has no exp.");
	errno = 0;
	nbf = jwt_get_grant_int(jwt, "nbf");
	if (errno != 0)
		FAIL(401, "malformed_token", "The access token has no nbf.");
	if ((int64_t)exp + leeway <= now)
		FAIL(401, "token_expired", "The access token has expired.");
	if ((int64_t)nbf - leeway > now)
		FAIL(401, "token_not_yet_valid",
		    "The access token is not valid yet.");
	sub = claim(jwt, "sub");
	email = claim(jwt, "email");
	role = claim(jwt, "role");
	jti = claim(jwt, "jti");
	if (sub == NULL || !auth_uuid_valid(sub, strlen(sub)) ||
	    email == NULL || strlen(email) > AUTH_EMAIL_MAX || role == NULL ||
	    (ro = auth_role_parse(role)) < 0 || jti == NULL ||
	    strlen(jti) != AUTH_JTI_LEN)
		FAIL(401, "malformed_token",
		    "The access token lacks a claim it needs.");
	switch (jti_revoked(jti)) {
	case 1: FAIL(401, "token_revoked", "The access token was revoked.");
	case -1:
		FAIL(503, "unavailable",
		    "Revocations cannot be checked now; retry later.");
	default: break;
	}
	memset(p, 0, sizeof(*p));
	p->via = AUTH_VIA_JWT;
	(void)snprintf(p->user_id, sizeof(p->user_id), "%s", sub);
	(void)snprintf(p->email, sizeof(p->email), "%s", email);
	(void)snprintf(p->jti, sizeof(p->jti), "%s", jti);
	p->role = (enum auth_role)ro;
	p->exp = exp;
	p->mcp_audience = mcp;
	memcpy(p->client_id, client_id, sizeof(p->client_id));
out:
	jwt_free(jwt);
	secret_wipe(copy, sizeof(copy));
	return rc;
}

int auth_jti_revoke(const char *jti, const char *user_id, int64_t exp)
{
	char sexp[24];
	const char *params[3] = {jti, user_id, sexp};
	PGresult *res = NULL;
	enum db_rc rc;
	int64_t ttl =
	    exp - (int64_t)time(NULL) + auth_g.ctx->cfg->jwt_leeway / 1000 + 1;

	(void)snprintf(sexp, sizeof(sexp), "%lld", (long long)exp);
	rc = db_exec(auth_g.db, Q_JTI_REVOKE, params, &res);
	PQclear(res);
	if (rc != DB_OK)
		return 503;
	if (ttl > 0)
		(void)cache_set(auth_g.cache, "jti", jti, "1", 1,
		    (unsigned)ttl);
	return 0;
}

/* Put the unexpired revocations the database holds into Redis, after a
 * new connection to it (it may have restarted empty). */
static void refill_revocations(int64_t now)
{
	uint64_t conn = cache_connects(auth_g.cache);
	PGresult *res = NULL;
	int n = 0;

	if (db_exec(auth_g.db, Q_JTI_ACTIVE, NULL, &res) != DB_OK) {
		PQclear(res);
		return; /* again at the next check */
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t exp = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		int64_t ttl =
		    exp - now + auth_g.ctx->cfg->jwt_leeway / 1000 + 1;

		if (ttl > 0 &&
		    cache_set(auth_g.cache, "jti", PQgetvalue(res, i, 0), "1",
		        1, (unsigned)ttl) == 0)
			n++;
	}
	PQclear(res);
	/* Redis must still be the same connection, and up. */
	if (cache_redis_state(auth_g.cache) == CACHE_REDIS_UP &&
	    cache_connects(auth_g.cache) == conn)
		refilled_at = conn;
	if (n > 0)
		log_info("put %d token revocations into Redis", n);
}

void auth_tokens_tick(int64_t now)
{
	if (ring_loaded != 0 && now - ring_loaded >= AUTH_KEYS_REFRESH_S)
		(void)ring_load(now);
	if (cache_redis_state(auth_g.cache) == CACHE_REDIS_UP &&
	    refilled_at != cache_connects(auth_g.cache))
		refill_revocations(now);
}

void auth_h_jwks(const struct router_call *call, struct http_resp *r)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *keys = json_object_new_array();
	int64_t now = (int64_t)time(NULL);

	if (nring == 0 || now - ring_loaded >= AUTH_KEYS_REFRESH_S)
		(void)ring_load(now);
	if (doc == NULL || keys == NULL) {
		json_object_put(doc);
		json_object_put(keys);
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	/* Only public keys: an HS256 secret is never published. */
	for (size_t i = 0; i < nring; i++) {
		struct json_object *k;

		if (ring[i].k.alg != CFG_JWT_RS256 ||
		    ring[i].jwk_n[0] == '\0' ||
		    (k = json_object_new_object()) == NULL)
			continue;
		json_object_object_add(k, "kty", json_object_new_string("RSA"));
		json_object_object_add(k, "use", json_object_new_string("sig"));
		json_object_object_add(k, "alg",
		    json_object_new_string("RS256"));
		json_object_object_add(k, "kid",
		    json_object_new_string(ring[i].k.kid));
		json_object_object_add(k, "n",
		    json_object_new_string(ring[i].jwk_n));
		json_object_object_add(k, "e",
		    json_object_new_string(ring[i].jwk_e));
		json_object_array_add(keys, k);
	}
	json_object_object_add(doc, "keys", keys);
	(void)http_resp_header(r, "Cache-Control", "public, max-age=300");
	router_send_json(call, r, 200, doc);
}
