/*
 * test_auth.c - identity through a running pacerd: registration, login
 * (JSON and the OAuth password grant), access tokens and every way one is
 * refused, refresh rotation and reuse, logout, API keys with their tiers,
 * quotas and bursts, the per-address limit of the auth endpoints, the
 * audit rows, RS256 with its JWKS, and that no password, token or key
 * the tests used ever reaches the log.
 *
 * Forged tokens are signed for real: the test reads the signing key from
 * jwt_keys and opens it with the master key it gave the server, then
 * changes one thing at a time (expiry, algorithm, kid, issuer ...).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <json-c/json.h>
#include <jwt.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "jwtkeys.h"
#include "secret.h"
#include "tdb.h"
#include "testutil.h"
#include "thttp.h"
#include "tredis.h"
#include "tsecret.h"
#include "tserver.h"
#include "tuser.h"

/* The master key these tests give their servers in master_key (the
 * others use master_key_file): the one every server on the harness's
 * database has, since a key sealed under another would leave the later
 * suites' servers refusing to start. */
#define TEST_KEY TU_MASTER_KEY

static struct ts srv;
static struct tredis rsvc;

static void fini(void)
{
	ts_fini(&srv);
	tredis_fini(&rsvc);
	tsecret_forget();
}

static void start(const char *extra)
{
	ts_start_conf(&srv,
	    "master_key = '" TEST_KEY "'\nrate_limit_auth = 1000\n", extra);
}

/* ------------------------------------------------------------ SQL */

static PGconn *db(void)
{
	PGconn *c = PQconnectdb(tdb_url());

	cr_assert(eq(int, PQstatus(c), CONNECTION_OK), "%s", PQerrorMessage(c));
	return c;
}

static char *sql(const char *q, const char *p1, const char *p2)
{
	return tdb_value(tdb_url(), q, p1, p2);
}

static long long sql_int(const char *q, const char *p1, const char *p2)
{
	return tdb_int(tdb_url(), q, p1, p2);
}

/* ------------------------------------------------------------ users */

/* A new account whose password the log must never show. */
static void new_user(struct tuser *u, const char *tag)
{
	tuser_new(u, tag);
	tsecret_keep(u->password);
}

static int register_user(struct tuser *u, struct th_resp *r)
{
	return tuser_register(srv.port, u, r);
}

static int login(struct tuser *u, const char *password, struct th_resp *r)
{
	return tuser_login(srv.port, u, password, r);
}

/* Register, activate and log in: u gets its id and tokens, which the
 * log must never show. */
static void active_user(struct tuser *u, const char *tag)
{
	tuser_active(srv.port, tdb_url(), u, tag, NULL);
	tsecret_keep_user(u);
}

/* GET /api/me with an Authorization or X-API-Key field. */
static int me(const char *field, struct th_resp *r)
{
	const char *h[2] = {field, NULL};

	return th_req(srv.port, "GET", "/api/me", h, NULL, r);
}

static int me_bearer(const char *token, struct th_resp *r)
{
	char field[4200];

	if (strlen(token) > sizeof(field) - 32)
		token = "too-long";
	(void)snprintf(field, sizeof(field), "Authorization: Bearer %s", token);
	return me(field, r);
}

/* The status of GET /api/me with token, for a caller whose response
 * still holds what token came from. */
static int me_status(const char *token)
{
	struct th_resp r;
	int st = me_bearer(token, &r);

	th_free(&r);
	return st;
}

static long long audit_count(const char *user_id, const char *action,
    const char *outcome)
{
	return tdb_audit_count(tdb_url(), action, user_id, outcome);
}

/* ------------------------------------------------------------ tokens */

/* The newest live signing key, opened with the test's master key. */
static void signing_key(struct jwt_key *k)
{
	PGconn *c = db();
	PGresult *r = PQexec(c,
	    "SELECT kid, alg, secret_enc, nonce, public_key FROM jwt_keys "
	    "WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1");
	unsigned char *enc, *nonce;
	size_t elen = 0, nlen = 0;
	struct secret_key mk;
	char err[256];

	cr_assert(eq(int, PQntuples(r), 1), "no signing key");
	cr_assert(eq(long,
	    (long)secret_b64_decode(TEST_KEY, strlen(TEST_KEY), mk.k,
	        sizeof(mk.k)),
	    32L));
	enc =
	    PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 2), &elen);
	nonce =
	    PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 3), &nlen);
	cr_assert(eq(int,
	              jwtkeys_unseal(&mk, PQgetvalue(r, 0, 0),
	                  PQgetvalue(r, 0, 1), enc, elen, nonce, nlen,
	                  PQgetisnull(r, 0, 4) ? NULL : PQgetvalue(r, 0, 4), k,
	                  err, sizeof(err)),
	              0),
	    "%s", err);
	PQfreemem(enc);
	PQfreemem(nonce);
	PQclear(r);
	PQfinish(c);
}

struct forge {
	const char *kid; /* NULL: the key's */
	const char *iss, *aud;
	long iat, nbf, exp;
	const char *sub;
	bool rs_header_on_hs; /* claim RS256 while signing HS256 */
};

/* A token signed with k, with the claims of f. Caller frees. */
static char *forge(const struct jwt_key *k, const struct forge *f)
{
	jwt_t *j = NULL;
	char *tok;

	cr_assert(eq(int, jwt_new(&j), 0));
	cr_assert(eq(int,
	    jwt_add_header(j, "kid", f->kid != NULL ? f->kid : k->kid), 0));
	(void)jwt_add_grant(j, "sub", f->sub);
	(void)jwt_add_grant(j, "email", "forged@example.org");
	(void)jwt_add_grant(j, "role", "user");
	(void)jwt_add_grant(j, "iss", f->iss != NULL ? f->iss : "pacer");
	(void)jwt_add_grant(j, "aud", f->aud != NULL ? f->aud : "pacer");
	(void)jwt_add_grant(j, "jti", "ForgedForgedForgedFo12");
	(void)jwt_add_grant_int(j, "iat", f->iat);
	(void)jwt_add_grant_int(j, "nbf", f->nbf);
	(void)jwt_add_grant_int(j, "exp", f->exp);
	cr_assert(eq(int,
	    jwt_set_alg(j,
	        k->alg == CFG_JWT_RS256 ? JWT_ALG_RS256 : JWT_ALG_HS256,
	        k->secret, (int)k->secret_len),
	    0));
	tok = jwt_encode_str(j);
	cr_assert(tok != NULL);
	jwt_free(j);
	tsecret_keep(tok);
	return tok;
}

/* base64url of s, for hand-made token parts. */
static void b64u(const char *s, char *out, size_t n)
{
	cr_assert(secret_b64url_encode(s, strlen(s), out, n) > 0);
}

/* ------------------------------------------------------------ tests */

TestSuite(auth, .fini = fini, .timeout = 120);

Test(auth, register_then_login_by_status)
{
	struct tuser u;
	struct th_resp r;
	struct json_object *o;

	start(NULL);
	new_user(&u, "reg");
	cr_assert(eq(int, register_user(&u, &r), 201), "%s", r.body);
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "status"), "pending"));
	cr_expect(eq(str, (char *)th_str(o, "role"), "user"));
	(void)snprintf(u.id, sizeof(u.id), "%s", th_str(o, "id"));
	json_object_put(o);
	th_free(&r);
	/* The hash is a PHC scrypt string, never the password. */
	{
		char *h = sql("SELECT password_hash FROM users WHERE id = $1",
		    u.id, NULL);

		cr_expect(strncmp(h, "$scrypt$ln=", 11) == 0, "%s", h);
		cr_expect(strstr(h, u.password) == NULL);
		free(h);
	}
	/* Same email again, in another case: taken. */
	for (char *p = u.email; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z' && p < u.email + 3)
			*p = (char)(*p - 'a' + 'A');
	(void)register_user(&u, &r);
	th_expect_reason(&r, 409, "email_taken");
	th_free(&r);

	/* Pending: the right password is refused with the reason. */
	(void)login(&u, u.password, &r);
	th_expect_reason(&r, 403, "account_pending");
	th_free(&r);
	/* A wrong password says nothing about the status. */
	(void)login(&u, "not-the-password", &r);
	th_expect_reason(&r, 401, "bad_credentials");
	th_free(&r);

	free(sql("UPDATE users SET status = 'active' WHERE id = $1", u.id,
	    NULL));
	cr_assert(eq(int, login(&u, u.password, &r), 200), "%s", r.body);
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "token_type"), "Bearer"));
	cr_expect(eq(int, atoi(th_str(o, "expires_in")), 900));
	(void)snprintf(u.access, sizeof(u.access), "%s",
	    th_str(o, "access_token"));
	tsecret_keep(u.access);
	tsecret_keep(th_str(o, "refresh_token"));
	json_object_put(o);
	{
		char v[64];

		cr_expect(
		    th_header(&r, "Cache-Control", v, sizeof(v)) != NULL &&
		    strcmp(v, "no-store") == 0);
	}
	th_free(&r);
	cr_expect(eq(int, me_bearer(u.access, &r), 200), "%s", r.body);
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "id"), u.id));
	cr_expect(
	    eq(str, (char *)th_str(o, "authenticated_by"), "access_token"));
	json_object_put(o);
	th_free(&r);

	/* Suspended: refused at login, and the account's token too once
	 * the cached state is gone. */
	free(sql("UPDATE users SET status = 'suspended' WHERE id = $1", u.id,
	    NULL));
	(void)login(&u, u.password, &r);
	th_expect_reason(&r, 403, "account_suspended");
	th_free(&r);

	/* Unknown user: the same answer as a wrong password. */
	{
		struct tuser x;

		new_user(&x, "nobody");
		(void)login(&x, x.password, &r);
		th_expect_reason(&r, 401, "bad_credentials");
		th_free(&r);
	}
	/* The audit log has each attempt, never the password. */
	cr_expect(eq(i64, audit_count(u.id, "user.register", "success"), 1));
	cr_expect(eq(i64, audit_count(u.id, "auth.login", "denied"), 2));
	cr_expect(eq(i64, audit_count(u.id, "auth.login", "failure"), 1));
	cr_expect(eq(i64, audit_count(u.id, "auth.login", "success"), 1));
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM audit_log WHERE details::text LIKE "
	            "'%' || $1 || '%' OR coalesce(reason, '') LIKE '%' || $1 "
	            "|| '%'",
	        u.password, NULL),
	    0));
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM audit_log WHERE reason = "
	            "'bad_password' AND user_id = $1 AND client_addr = "
	            "'127.0.0.1' AND user_agent IS NOT NULL",
	        u.id, NULL),
	    1));
	tsecret_expect_log_clean(&srv);
}

Test(auth, register_refuses_bad_input)
{
	struct th_resp r;
	static const struct {
		const char *ctype, *body, *reason;
		int status;
	} cases[] = {
	    {"application/json",
	        "{\"email\":\"no-at-sign\",\"password\":"
	        "\"long enough\"}",
	        "invalid_email", 400},
	    {"application/json",
	        "{\"email\":\"a@b\",\"password\":\"long "
	        "enough\"}",
	        "invalid_email", 400},
	    {"application/json",
	        "{\"email\":\"x@example.org\",\"password\":"
	        "\"short\"}",
	        "invalid_password", 400},
	    {"application/json", "{\"email\":\"x@example.org\"}",
	        "invalid_password", 400},
	    {"application/json", "{\"email\":\"x@example.org\",\"password\":7}",
	        "invalid_password", 400},
	    {"application/json", "[1,2]", "bad_json", 400},
	    {"application/json", "{\"email\":", "bad_json", 400},
	    {"application/json", "{} trailing", "bad_json", 400},
	    {"text/plain",
	        "{\"email\":\"x@example.org\",\"password\":"
	        "\"long enough\"}",
	        "unsupported_media_type", 415},
	    {"application/jsonx",
	        "{\"email\":\"x@example.org\",\"password\":"
	        "\"long enough\"}",
	        "unsupported_media_type", 415},
	};

	start(NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char ct[64];
		const char *h[2] = {ct, NULL};

		(void)snprintf(ct, sizeof(ct), "Content-Type: %s",
		    cases[i].ctype);
		(void)th_req(srv.port, "POST", "/api/auth/register", h,
		    cases[i].body, &r);
		th_expect_reason(&r, cases[i].status, cases[i].reason);
		th_free(&r);
	}
	/* Nothing was written. */
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM users WHERE email IN "
	            "('x@example.org', 'no-at-sign', 'a@b')",
	        NULL, NULL),
	    0));
}

Test(auth, access_token_refusals)
{
	struct tuser u;
	struct jwt_key k;
	struct th_resp r;
	long now = (long)time(NULL);
	char *tok, hdr[128], pay[1024], bad[4200];
	struct forge f;

	start(NULL);
	active_user(&u, "jwt");
	signing_key(&k);
	f = (struct forge){NULL, NULL, NULL, now, now, now + 600, u.id, false};

	/* A well-made forged token verifies: the forging is right. */
	tok = forge(&k, &f);
	cr_expect(eq(int, me_bearer(tok, &r), 200), "%s", r.body);
	th_free(&r);
	free(tok);

	f.exp = now - 120; /* beyond the 30 s leeway */
	tok = forge(&k, &f);
	(void)me_bearer(tok, &r);
	th_expect_reason(&r, 401, "token_expired");
	{
		char v[256];

		cr_expect(
		    th_header(&r, "WWW-Authenticate", v, sizeof(v)) != NULL);
	}
	th_free(&r);
	free(tok);

	f.exp = now - 10; /* within the leeway: still good */
	tok = forge(&k, &f);
	cr_expect(eq(int, me_bearer(tok, &r), 200), "%s", r.body);
	th_free(&r);
	free(tok);

	f.exp = now + 600;
	f.nbf = now + 300;
	tok = forge(&k, &f);
	(void)me_bearer(tok, &r);
	th_expect_reason(&r, 401, "token_not_yet_valid");
	th_free(&r);
	free(tok);
	f.nbf = now;

	f.iss = "someone-else";
	tok = forge(&k, &f);
	(void)me_bearer(tok, &r);
	th_expect_reason(&r, 401, "wrong_issuer");
	th_free(&r);
	free(tok);
	f.iss = NULL;

	f.aud = "another-api";
	tok = forge(&k, &f);
	(void)me_bearer(tok, &r);
	th_expect_reason(&r, 401, "wrong_audience");
	th_free(&r);
	free(tok);
	f.aud = NULL;

	f.kid = "NoSuchKid0000000000x";
	tok = forge(&k, &f);
	(void)me_bearer(tok, &r);
	th_expect_reason(&r, 401, "unknown_key");
	th_free(&r);
	free(tok);
	f.kid = NULL;

	/* Tampered: one byte of the payload changed, signature kept. */
	tok = forge(&k, &f);
	(void)snprintf(bad, sizeof(bad), "%s", tok);
	{
		char *dot = strchr(bad, '.');

		dot[5] = dot[5] == 'A' ? 'B' : 'A';
	}
	(void)me_bearer(bad, &r);
	th_expect_reason(&r, 401, "bad_signature");
	th_free(&r);
	/* The signature's last characters changed. */
	(void)snprintf(bad, sizeof(bad), "%s", tok);
	bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'x' ? 'y' : 'x';
	(void)me_bearer(bad, &r);
	th_expect_reason(&r, 401, "bad_signature");
	th_free(&r);
	free(tok);

	/* alg "none", unsigned. */
	{
		char h64[256], p64[1024];

		(void)snprintf(hdr, sizeof(hdr),
		    "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}", k.kid);
		(void)snprintf(pay, sizeof(pay),
		    "{\"sub\":\"%s\",\"email\":\"e@example.org\",\"role\":"
		    "\"admin\",\"iss\":\"pacer\",\"aud\":\"pacer\",\"jti\":"
		    "\"NoneNoneNoneNoneNone12\",\"iat\":%ld,\"nbf\":%ld,"
		    "\"exp\":%ld}",
		    u.id, now, now, now + 600);
		b64u(hdr, h64, sizeof(h64));
		b64u(pay, p64, sizeof(p64));
		(void)snprintf(bad, sizeof(bad), "%s.%s.", h64, p64);
		(void)me_bearer(bad, &r);
		th_expect_reason(&r, 401, "unsupported_algorithm");
		th_free(&r);
		/* The same claiming RS256 over an HS256 key. */
		(void)snprintf(hdr, sizeof(hdr),
		    "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
		    k.kid);
		b64u(hdr, h64, sizeof(h64));
		(void)snprintf(bad, sizeof(bad), "%s.%s.c2lnbmF0dXJl", h64,
		    p64);
		(void)me_bearer(bad, &r);
		th_expect_reason(&r, 401,
		    k.alg == CFG_JWT_RS256 ? "bad_signature"
		                           : "algorithm_mismatch");
		th_free(&r);
	}
	/* No credential, a bad scheme, garbage. */
	cr_expect(
	    eq(int, th_req(srv.port, "GET", "/api/me", NULL, NULL, &r), 401));
	th_expect_reason(&r, 401, "missing_credentials");
	th_free(&r);
	(void)me("Authorization: Basic dXNlcjpwYXNz", &r);
	th_expect_reason(&r, 401, "malformed_credentials");
	th_free(&r);
	(void)me_bearer("not.a.token", &r);
	th_expect_reason(&r, 401, "malformed_token");
	th_free(&r);
	jwtkeys_free(&k);
	tsecret_expect_log_clean(&srv);
}

Test(auth, refresh_rotates_and_reuse_revokes_the_family)
{
	struct tuser u;
	struct th_resp r;
	struct json_object *o;
	char body[256], second[64];

	start(NULL);
	active_user(&u, "refresh");
	(void)snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}",
	    u.refresh);
	cr_assert(eq(int,
	              th_json_req(srv.port, "POST", "/api/auth/refresh", NULL,
	                  body, &r),
	              200),
	    "%s", r.body);
	o = th_body(&r);
	(void)snprintf(second, sizeof(second), "%s",
	    th_str(o, "refresh_token"));
	tsecret_keep(second);
	tsecret_keep(th_str(o, "access_token"));
	cr_expect(strcmp(second, u.refresh) != 0);
	cr_expect(eq(int, me_status(th_str(o, "access_token")), 200));
	json_object_put(o);
	th_free(&r);

	/* The first one again: reuse. Its whole family is revoked, so the
	 * second one no longer works either. */
	(void)th_json_req(srv.port, "POST", "/api/auth/refresh", NULL, body,
	    &r);
	th_expect_reason(&r, 401, "refresh_token_reused");
	th_free(&r);
	(void)snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}",
	    second);
	(void)th_json_req(srv.port, "POST", "/api/auth/refresh", NULL, body,
	    &r);
	th_expect_reason(&r, 401, "refresh_token_revoked");
	th_free(&r);
	cr_expect(
	    eq(i64, audit_count(u.id, "auth.refresh_reuse", "denied"), 1));
	cr_expect(eq(i64, audit_count(u.id, "auth.refresh", "success"), 1));
	/* Unknown and malformed. */
	(void)th_json_req(srv.port, "POST", "/api/auth/refresh", NULL,
	    "{\"refresh_token\":\"rt_0000000000000000000000000000000000000000"
	    "000\"}",
	    &r);
	th_expect_reason(&r, 401, "invalid_refresh_token");
	th_free(&r);
	(void)th_json_req(srv.port, "POST", "/api/auth/refresh", NULL,
	    "{\"refresh_token\":\"short\"}", &r);
	th_expect_reason(&r, 401, "invalid_refresh_token");
	th_free(&r);
	/* Expired. */
	{
		struct tuser v;

		active_user(&v, "refresh-exp");
		free(sql("UPDATE refresh_tokens SET created_at = now() - "
		         "interval '2 days', expires_at = now() - interval "
		         "'1 day' WHERE user_id = $1",
		    v.id, NULL));
		(void)snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}",
		    v.refresh);
		(void)th_json_req(srv.port, "POST", "/api/auth/refresh", NULL,
		    body, &r);
		th_expect_reason(&r, 401, "refresh_token_expired");
		th_free(&r);
	}
	tsecret_expect_log_clean(&srv);
}

Test(auth, logout_revokes_the_access_token_everywhere)
{
	struct tuser u;
	struct th_resp r;
	char body[256];
	char *conf;

	/* A private Redis, so it can be killed. */
	tredis_start(&rsvc, NULL);
	conf = malloc(256);
	cr_assert(conf != NULL);
	(void)snprintf(conf, 256,
	    "redis_url = 'redis://127.0.0.1:%d/0'\nstart_workers = 3\n"
	    "redis_retry_max = 200ms\n",
	    rsvc.port);
	start(conf);
	free(conf);
	active_user(&u, "logout");
	(void)snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}",
	    u.refresh);
	cr_assert(eq(int,
	              th_json_req(srv.port, "POST", "/api/auth/logout",
	                  u.access, body, &r),
	              200),
	    "%s", r.body);
	th_free(&r);
	/* Refused on every worker (each request is a new connection). */
	for (int i = 0; i < 9; i++) {
		(void)me_bearer(u.access, &r);
		th_expect_reason(&r, 401, "token_revoked");
		th_free(&r);
	}
	(void)th_json_req(srv.port, "POST", "/api/auth/refresh", NULL, body,
	    &r);
	th_expect_reason(&r, 401, "refresh_token_revoked");
	th_free(&r);
	cr_expect(eq(i64, audit_count(u.id, "auth.logout", "success"), 1));

	/* Redis gone: the database still says revoked. */
	tredis_kill(&rsvc, SIGKILL);
	for (int i = 0; i < 6; i++) {
		(void)me_bearer(u.access, &r);
		th_expect_reason(&r, 401, "token_revoked");
		th_free(&r);
	}
	/* A logout while Redis is away, then Redis back empty: the
	 * revocation is put back into it from the database. */
	{
		struct tuser v;

		active_user(&v, "logout-down");
		cr_assert(eq(int,
		    th_json_req(srv.port, "POST", "/api/auth/logout", v.access,
		        NULL, &r),
		    200));
		th_free(&r);
		tredis_start(&rsvc, NULL);
		ts_sleep_ms(1500); /* every worker reconnects */
		for (int i = 0; i < 9; i++) {
			(void)me_bearer(v.access, &r);
			th_expect_reason(&r, 401, "token_revoked");
			th_free(&r);
		}
	}
	tsecret_expect_log_clean(&srv);
}

/* POST /api/keys with the user's token; the key into key. */
static int make_key(const struct tuser *u, const char *body, char *key,
    size_t n, char *id, struct th_resp *r)
{
	struct json_object *o;
	int st = th_json_req(srv.port, "POST", "/api/keys", u->access, body, r);

	if (st == 201) {
		o = th_body(r);
		(void)snprintf(key, n, "%s", th_str(o, "key"));
		(void)snprintf(id, 64, "%s", th_str(o, "id"));
		tsecret_keep(key);
		json_object_put(o);
	}
	return st;
}

static int me_key(const char *key, bool x_api_key, struct th_resp *r)
{
	char field[128];

	(void)snprintf(field, sizeof(field),
	    x_api_key ? "X-API-Key: %s" : "Authorization: Bearer %s", key);
	return me(field, r);
}

Test(auth, api_keys_made_listed_used_revoked)
{
	struct tuser u;
	struct th_resp r;
	struct json_object *o, *keys;
	char key[64], id[64], v[64], path[128];

	start(NULL);
	active_user(&u, "keys");
	cr_assert(eq(int,
	              make_key(&u, "{\"name\":\"laptop\"}", key, sizeof(key),
	                  id, &r),
	              201),
	    "%s", r.body);
	th_free(&r);
	cr_expect(strncmp(key, "pk_trial_", 9) == 0 && strlen(key) == 41, "%s",
	    key);
	/* Only the hash and the prefix are stored. */
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM api_keys WHERE id = $1 AND "
	            "key_hash = sha256(convert_to($2, 'UTF8')) AND "
	            "key_prefix = left($2, 13) AND expires_at > now() + "
	            "interval '13 days'",
	        id, key),
	    1));
	/* Listed without the key. */
	cr_assert(eq(int,
	    th_json_req(srv.port, "GET", "/api/keys", u.access, NULL, &r),
	    200));
	cr_expect(strstr(r.body, key) == NULL);
	o = th_body(&r);
	cr_assert(json_object_object_get_ex(o, "keys", &keys));
	cr_expect(eq(sz, json_object_array_length(keys), 1));
	json_object_put(o);
	th_free(&r);
	/* Used both ways, with its limits shown. */
	cr_expect(eq(int, me_key(key, false, &r), 200), "%s", r.body);
	cr_expect(th_header(&r, "X-RateLimit-Limit", v, sizeof(v)) != NULL);
	th_free(&r);
	cr_expect(eq(int, me_key(key, true, &r), 200), "%s", r.body);
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "authenticated_by"), "api_key"));
	cr_expect(eq(str, (char *)th_str(o, "tier"), "trial"));
	json_object_put(o);
	th_free(&r);
	/* A key cannot make keys; a user cannot pick a paid tier. */
	{
		const char *h[3] = {"Content-Type: application/json", NULL,
		    NULL};
		char field[128];

		(void)snprintf(field, sizeof(field), "X-API-Key: %s", key);
		h[1] = field;
		(void)th_req(srv.port, "POST", "/api/keys", h, "{}", &r);
		th_expect_reason(&r, 403, "access_token_required");
		th_free(&r);
	}
	(void)make_key(&u, "{\"tier\":\"starter\"}", v, sizeof(v), path, &r);
	th_expect_reason(&r, 403, "tier_not_allowed");
	th_free(&r);
	(void)make_key(&u, "{\"tier\":\"gold\"}", v, sizeof(v), path, &r);
	th_expect_reason(&r, 400, "invalid_tier");
	th_free(&r);
	/* Malformed and unknown keys. */
	(void)me_key("pk_live_short", true, &r);
	th_expect_reason(&r, 401, "malformed_key");
	th_free(&r);
	(void)me_key("pk_live_00000000000000000000000000000000", true, &r);
	th_expect_reason(&r, 401, "unknown_key");
	th_free(&r);
	/* Revoked: refused at once, on every worker. */
	(void)snprintf(path, sizeof(path), "/api/keys/%s", id);
	cr_expect(eq(int,
	              th_json_req(srv.port, "DELETE", path, u.access, NULL, &r),
	              200),
	    "%s", r.body);
	th_free(&r);
	for (int i = 0; i < 4; i++) {
		(void)me_key(key, i % 2 == 0, &r);
		th_expect_reason(&r, 401, "key_revoked");
		th_free(&r);
	}
	(void)th_json_req(srv.port, "DELETE",
	    "/api/keys/00000000-0000-0000-0000-000000000000", u.access, NULL,
	    &r);
	th_expect_reason(&r, 404, "unknown_key");
	th_free(&r);
	cr_expect(eq(i64, audit_count(u.id, "apikey.create", "success"), 1));
	cr_expect(eq(i64, audit_count(u.id, "apikey.revoke", "success"), 1));
	/* An expired trial key. */
	cr_assert(eq(int, make_key(&u, NULL, key, sizeof(key), id, &r), 201));
	th_free(&r);
	free(sql("UPDATE api_keys SET created_at = now() - interval '15 days', "
	         "expires_at = now() - interval '1 day' WHERE id = $1",
	    id, NULL));
	(void)me_key(key, false, &r);
	th_expect_reason(&r, 401, "key_expired");
	th_free(&r);
	tsecret_expect_log_clean(&srv);
}

Test(auth, api_key_burst_and_quota)
{
	struct tuser u;
	struct th_resp r;
	char key[64], id[64], v[64];
	int ok = 0, limited = 0;

	start("start_workers = 3\n");
	active_user(&u, "quota");
	cr_assert(eq(int, make_key(&u, NULL, key, sizeof(key), id, &r), 201));
	th_free(&r);
	/* The trial burst is 60 a minute, shared by the workers. */
	for (int i = 0; i < 61; i++) {
		int st = me_key(key, true, &r);

		if (st == 200)
			ok++;
		if (st == 429) {
			limited++;
			th_expect_reason(&r, 429, "burst_exceeded");
			cr_expect(th_header(&r, "Retry-After", v, sizeof(v)) !=
			        NULL &&
			    atoi(v) >= 1 && atoi(v) <= 60);
			cr_expect(th_header(&r, "X-RateLimit-Limit", v,
			              sizeof(v)) != NULL &&
			    strcmp(v, "60") == 0);
			cr_expect(th_header(&r, "X-RateLimit-Remaining", v,
			              sizeof(v)) != NULL &&
			    strcmp(v, "0") == 0);
		}
		th_free(&r);
	}
	cr_expect(eq(int, ok, 60));
	cr_expect(eq(int, limited, 1));

	/* The quota: a key whose window already counts 1,000 uses (as
	 * written back to the database) is over it. */
	cr_assert(eq(int, make_key(&u, NULL, key, sizeof(key), id, &r), 201));
	th_free(&r);
	free(sql("UPDATE api_keys SET quota_window = 0, quota_used = 1000 "
	         "WHERE id = $1",
	    id, NULL));
	(void)me_key(key, true, &r);
	th_expect_reason(&r, 429, "quota_exceeded");
	cr_expect(th_header(&r, "X-RateLimit-Limit", v, sizeof(v)) != NULL &&
	        strcmp(v, "1000") == 0,
	    "%s", r.head);
	th_free(&r);
	/* Use is written back in batches: a fresh key's count shows. */
	cr_assert(eq(int, make_key(&u, NULL, key, sizeof(key), id, &r), 201));
	th_free(&r);
	for (int i = 0; i < 5; i++) {
		cr_expect(eq(int, me_key(key, false, &r), 200));
		th_free(&r);
	}
	for (int i = 0; i < 150 &&
	     sql_int("SELECT quota_used FROM api_keys WHERE id = $1", id,
	         NULL) < 5;
	     i++)
		ts_sleep_ms(100);
	cr_expect(eq(i64,
	    sql_int("SELECT quota_used FROM api_keys WHERE id = $1 AND "
	            "last_used_at IS NOT NULL",
	        id, NULL),
	    5));
	tsecret_expect_log_clean(&srv);
}

Test(auth, auth_endpoints_limited_per_address)
{
	struct tuser u;
	struct th_resp r;
	char v[64];

	char conf[256];

	/* A Redis of its own: the address's count must start at 0, and
	 * every other test logs in from 127.0.0.1 too. */
	tredis_start(&rsvc, NULL);
	(void)snprintf(conf, sizeof(conf),
	    "master_key = '" TEST_KEY "'\nrate_limit_auth = 3\n"
	    "redis_url = 'redis://127.0.0.1:%d/0'\n",
	    rsvc.port);
	ts_start_conf(&srv, conf, NULL);
	new_user(&u, "flood");
	for (int i = 0; i < 3; i++) {
		cr_expect(eq(int, login(&u, "wrong-password", &r), 401));
		cr_expect(
		    th_header(&r, "X-RateLimit-Limit", v, sizeof(v)) != NULL &&
		    strcmp(v, "3") == 0);
		th_free(&r);
	}
	(void)login(&u, "wrong-password", &r);
	th_expect_reason(&r, 429, "rate_limited");
	cr_expect(th_header(&r, "Retry-After", v, sizeof(v)) != NULL);
	cr_expect(
	    th_header(&r, "X-RateLimit-Remaining", v, sizeof(v)) != NULL &&
	    strcmp(v, "0") == 0);
	cr_expect(th_header(&r, "X-RateLimit-Reset", v, sizeof(v)) != NULL);
	th_free(&r);
	/* Register and the token endpoint share the address's budget. */
	(void)register_user(&u, &r);
	cr_expect(eq(int, r.status, 429));
	th_free(&r);
	cr_expect(sql_int("SELECT count(*) FROM audit_log WHERE action = "
	                  "'ratelimit.denied' AND created_at > now() - "
	                  "interval '1 minute'",
	              NULL, NULL) >= 2);
	/* Other routes are not limited by it. */
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200));
}

Test(auth, oauth_token_password_grant)
{
	struct tuser u;
	struct th_resp r;
	struct json_object *o;
	char form[512];
	const char *h[2] = {"Content-Type: application/x-www-form-urlencoded",
	    NULL};

	start(NULL);
	active_user(&u, "oauth");
	/* '+' and %40 decode: the email is sent encoded. */
	{
		char enc[160], *q = enc;

		for (const char *p = u.email; *p != '\0'; p++) {
			if (*p == '@') {
				memcpy(q, "%40", 3);
				q += 3;
			} else {
				*q++ = *p;
			}
		}
		*q = '\0';
		(void)snprintf(form, sizeof(form),
		    "grant_type=password&username=%s&password=%s&scope=x", enc,
		    u.password);
	}
	cr_assert(eq(int, th_req(srv.port, "POST", "/oauth/token", h, form, &r),
	              200),
	    "%s", r.body);
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "token_type"), "Bearer"));
	tsecret_keep(th_str(o, "access_token"));
	tsecret_keep(th_str(o, "refresh_token"));
	cr_expect(eq(int, me_status(th_str(o, "access_token")), 200));
	json_object_put(o);
	th_free(&r);
	(void)snprintf(form, sizeof(form),
	    "grant_type=password&username=%s&password=wrong-one", u.email);
	(void)th_req(srv.port, "POST", "/oauth/token", h, form, &r);
	cr_expect(eq(int, r.status, 400));
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "error"), "invalid_grant"));
	json_object_put(o);
	th_free(&r);
	(void)th_req(srv.port, "POST", "/oauth/token", h,
	    "grant_type=client_credentials", &r);
	o = th_body(&r);
	cr_expect(eq(int, r.status, 400));
	cr_expect(
	    eq(str, (char *)th_str(o, "error"), "unsupported_grant_type"));
	json_object_put(o);
	th_free(&r);
	(void)th_json_req(srv.port, "POST", "/oauth/token", NULL,
	    "{\"grant_type\":\"password\"}", &r);
	o = th_body(&r);
	cr_expect(eq(int, r.status, 400));
	cr_expect(eq(str, (char *)th_str(o, "error"), "invalid_request"));
	json_object_put(o);
	th_free(&r);
	/* A media type that only begins like the form's is another one. */
	{
		const char *hx[2] = {
		    "Content-Type: application/x-www-form-urlencodedx", NULL};

		(void)th_req(srv.port, "POST", "/oauth/token", hx,
		    "grant_type=password", &r);
		th_expect_reason(&r, 400, "unsupported_media_type");
		th_free(&r);
	}
	tsecret_expect_log_clean(&srv);
}

Test(auth, rs256_tokens_and_jwks)
{
	char name[TDB_NAME_MAX], url[TDB_URL_MAX], conf[1024];
	struct th_resp r;
	struct json_object *o, *keys, *k0;
	struct tuser u;
	PGconn *c;
	PGresult *res;

	/* A database of its own: the first start makes an RS256 key. */
	tdb_create("auth_rs", name, url);
	(void)snprintf(conf, sizeof(conf),
	    "jwt_algorithm = RS256\ndatabase_url = '%s'\n", url);
	start(conf);
	cr_assert(eq(int,
	    th_req(srv.port, "GET", "/.well-known/jwks.json", NULL, NULL, &r),
	    200));
	o = th_body(&r);
	cr_assert(json_object_object_get_ex(o, "keys", &keys));
	cr_assert(eq(sz, json_object_array_length(keys), 1));
	k0 = json_object_array_get_idx(keys, 0);
	cr_expect(eq(str, (char *)th_str(k0, "kty"), "RSA"));
	cr_expect(eq(str, (char *)th_str(k0, "alg"), "RS256"));
	cr_expect(eq(str, (char *)th_str(k0, "e"), "AQAB"));
	cr_expect(strlen(th_str(k0, "n")) > 300);
	cr_expect(strstr(r.body, "PRIVATE") == NULL);
	json_object_put(o);
	th_free(&r);
	/* Register, activate, log in on that database. */
	new_user(&u, "rs");
	cr_assert(eq(int, register_user(&u, &r), 201));
	o = th_body(&r);
	(void)snprintf(u.id, sizeof(u.id), "%s", th_str(o, "id"));
	json_object_put(o);
	th_free(&r);
	c = PQconnectdb(url);
	{
		const char *p[1] = {u.id};

		res = PQexecParams(c,
		    "UPDATE users SET status = 'active' WHERE id = $1", 1, NULL,
		    p, NULL, NULL, 0);
		cr_assert(eq(int, PQresultStatus(res), PGRES_COMMAND_OK));
		PQclear(res);
	}
	cr_assert(eq(int, login(&u, u.password, &r), 200), "%s", r.body);
	o = th_body(&r);
	{
		const char *tok = th_str(o, "access_token");
		unsigned char h[256];
		ssize_t n = secret_b64url_decode(tok, strcspn(tok, "."), h,
		    sizeof(h) - 1);

		tsecret_keep(tok);
		cr_assert(n > 0);
		h[n] = '\0';
		cr_expect(strstr((char *)h, "\"RS256\"") != NULL, "%s", h);
		cr_expect(eq(int, me_status(tok), 200));
	}
	json_object_put(o);
	th_free(&r);
	ts_fini(&srv);
	PQfinish(c);
	tdb_drop(name);
}
