/*
 * account.c - accounts and sessions: register, login (JSON and the OAuth
 * password grant), refresh, logout, who am I; see auth.h and README's API
 * section.
 *
 * A login checks the password before it looks at the account's status, so
 * only someone who knows the password learns that an account is pending
 * or suspended; an unknown email costs the same scrypt work as a wrong
 * password and gets the same answer. Every attempt is audited.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth_int.h"
#include "cfg.h"
#include "log.h"
#include "pwhash.h"
#include "secret.h"

#define TOKEN_OUT 4096

static struct json_object *user_json(const char *id, const char *email,
    const char *status, const char *role)
{
	struct json_object *u = json_object_new_object();

	if (u == NULL)
		return NULL;
	json_object_object_add(u, "id", json_object_new_string(id));
	json_object_object_add(u, "email", json_object_new_string(email));
	json_object_object_add(u, "status", json_object_new_string(status));
	json_object_object_add(u, "role", json_object_new_string(role));
	return u;
}

static struct json_object *audit_email(const char *email)
{
	struct json_object *d = json_object_new_object();

	if (d != NULL && email != NULL)
		json_object_object_add(d, "email",
		    json_object_new_string_len(email,
		        (int)strnlen(email, AUTH_EMAIL_MAX)));
	return d;
}

void auth_h_register(const struct router_call *call, struct http_resp *r)
{
	const struct cfg *cfg = auth_g.ctx->cfg;
	struct json_object *body = auth_body_json(call, r), *doc;
	const char *email, *name, *params[4];
	char phc[PWHASH_MAX_LEN];
	PGresult *res = NULL;
	enum db_rc rc;

	if (body == NULL)
		return;
	name = auth_json_str(body, "display_name");
	if (!auth_new_credentials(call, r, body, &email, phc, sizeof(phc)))
		goto out;
	if (name != NULL && strlen(name) > 200) {
		auth_refuse(call, r, 400, "invalid_display_name",
		    "The display name is at most 200 characters long.");
		goto out;
	}
	params[0] = email;
	params[1] = phc;
	params[2] = name;
	params[3] = cfg->auto_approve_users ? "active" : "pending";
	rc = db_exec(auth_g.db, Q_USER_INSERT, params, &res);
	secret_wipe(phc, sizeof(phc));
	if (rc == DB_UNAVAILABLE) {
		auth_unavailable(call, r);
		goto out;
	}
	if (rc != DB_OK) {
		log_errx("request %s: could not create a user: %s",
		    call->request_id, PQresultErrorMessage(res));
		http_resp_error(r, 500, NULL, call->request_id);
		goto out;
	}
	if (PQntuples(res) != 1) {
		audit_record(call, "user.register", AUDIT_FAILURE,
		    "email_taken", NULL, NULL, audit_email(email));
		auth_refuse(call, r, 409, "email_taken",
		    "An account with this email exists.");
		goto out;
	}
	audit_record(call, "user.register", AUDIT_SUCCESS, NULL,
	    PQgetvalue(res, 0, 0), NULL, audit_email(email));
	doc = user_json(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
	    PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
	if (doc != NULL)
		json_object_object_add(doc, "created_at",
		    json_object_new_string(PQgetvalue(res, 0, 5)));
	router_send_json(call, r, 201, doc);
out:
	PQclear(res);
	json_object_put(body);
}

int auth_refresh_issue(const char *user_id, char *out)
{
	char hash[AUTH_BYTEA_HEX_LEN], ttl[24];
	const char *params[3] = {user_id, hash, ttl};
	PGresult *res = NULL;
	enum db_rc rc;

	if (auth_refresh_new(out, hash) != 0)
		return 500;
	(void)snprintf(ttl, sizeof(ttl), "%lld",
	    (long long)(auth_g.ctx->cfg->refresh_token_ttl / 1000));
	rc = db_exec(auth_g.db, Q_REFRESH_INSERT, params, &res);
	if (rc == DB_ERROR)
		log_errx("could not store a refresh token: %s",
		    PQresultErrorMessage(res));
	PQclear(res);
	return rc == DB_OK ? 0 : rc == DB_UNAVAILABLE ? 503 : 500;
}

struct json_object *auth_token_doc(const struct router_call *call,
    struct http_resp *r, const char *user_id, const char *email,
    const char *role, const struct auth_token_opts *o, const char *refresh,
    char jti_out[AUTH_JTI_LEN + 1])
{
	char tok[TOKEN_OUT];
	int64_t exp;
	int rl = auth_role_parse(role), rc;
	struct json_object *doc;

	rc = auth_token_issue_ex(user_id, email,
	    rl < 0 ? AUTH_ROLE_USER : (enum auth_role)rl, o, tok, sizeof(tok),
	    jti_out, &exp);
	if (rc == 503) {
		auth_unavailable(call, r);
		return NULL;
	}
	if (rc != 0 || (doc = json_object_new_object()) == NULL) {
		if (rc == 0)
			secret_wipe(tok, sizeof(tok));
		http_resp_error(r, 500, "The access token could not be made.",
		    call->request_id);
		return NULL;
	}
	json_object_object_add(doc, "access_token",
	    json_object_new_string(tok));
	secret_wipe(tok, sizeof(tok));
	json_object_object_add(doc, "token_type",
	    json_object_new_string("Bearer"));
	json_object_object_add(doc, "expires_in",
	    json_object_new_int64(auth_g.ctx->cfg->access_token_ttl / 1000));
	if (refresh != NULL)
		json_object_object_add(doc, "refresh_token",
		    json_object_new_string(refresh));
	return doc;
}

void auth_send_token(const struct router_call *call, struct http_resp *r,
    struct json_object *doc)
{
	(void)http_resp_header(r, "Cache-Control", "no-store");
	(void)http_resp_header(r, "Pragma", "no-cache");
	router_send_json(call, r, 200, doc);
}

/* Answer the tokens of a session: an access token and refresh (already
 * made, may be NULL for none). */
static void send_tokens(const struct router_call *call, struct http_resp *r,
    const char *user_id, const char *email, const char *role_s,
    const char *refresh)
{
	char jti[AUTH_JTI_LEN + 1];
	struct json_object *doc =
	    auth_token_doc(call, r, user_id, email, role_s, NULL, refresh, jti);

	if (doc == NULL)
		return;
	if (refresh != NULL)
		json_object_object_add(doc, "refresh_expires_in",
		    json_object_new_int64(
		        auth_g.ctx->cfg->refresh_token_ttl / 1000));
	json_object_object_add(doc, "user",
	    user_json(user_id, email, "active", role_s));
	auth_send_token(call, r, doc);
}

void auth_oauth_error(const struct router_call *call, struct http_resp *r,
    int status, const char *error, const char *reason, const char *desc)
{
	struct json_object *doc = json_object_new_object();

	if (doc == NULL) {
		http_resp_error(r, status, desc, call->request_id);
		return;
	}
	json_object_object_add(doc, "error", json_object_new_string(error));
	json_object_object_add(doc, "reason", json_object_new_string(reason));
	json_object_object_add(doc, "error_description",
	    json_object_new_string(desc));
	json_object_object_add(doc, "request_id",
	    json_object_new_string(call->request_id));
	(void)http_resp_header(r, "Cache-Control", "no-store");
	router_send_json(call, r, status, doc);
}

/* A successful sign-in of the user in row 0 of res: last_login_at, a
 * hash made again when it was made at a lower cost than configured, the
 * audit row, and *u. */
static void login_record(const struct router_call *call, PGresult *res,
    const char *pw, const char *email, struct auth_login *u)
{
	const struct cfg *cfg = auth_g.ctx->cfg;
	char phc[PWHASH_MAX_LEN];
	const char *up[2];
	PGresult *ures = NULL;

	phc[0] = '\0';
	if (pwhash_needs_rehash(PQgetvalue(res, 0, 2),
	        (int)cfg->password_scrypt_ln) &&
	    pwhash_hash(pw, strlen(pw), (int)cfg->password_scrypt_ln, phc,
	        sizeof(phc)) != 0)
		phc[0] = '\0';
	up[0] = PQgetvalue(res, 0, 0);
	up[1] = phc[0] != '\0' ? phc : NULL;
	(void)db_exec(auth_g.db, Q_USER_LOGGED_IN, up, &ures);
	PQclear(ures);
	secret_wipe(phc, sizeof(phc));
	audit_record(call, "auth.login", AUDIT_SUCCESS, NULL,
	    PQgetvalue(res, 0, 0), NULL, audit_email(email));
	(void)snprintf(u->id, sizeof(u->id), "%s", PQgetvalue(res, 0, 0));
	(void)snprintf(u->email, sizeof(u->email), "%s", PQgetvalue(res, 0, 1));
	(void)snprintf(u->role, sizeof(u->role), "%s", PQgetvalue(res, 0, 4));
}

int auth_login_check(const struct router_call *call, const char *email,
    const char *pw, struct auth_login *u, const char **reason,
    const char **message)
{
	const struct cfg *cfg = auth_g.ctx->cfg;
	const char *params[2] = {email, NULL}, *id, *status;
	PGresult *res = NULL;
	size_t pwlen = strlen(pw);
	enum db_rc rc;
	int ok;

	memset(u, 0, sizeof(*u));
	*reason = "bad_credentials";
	*message = "The email or password is wrong.";
	if (strlen(email) > AUTH_EMAIL_MAX || pwlen > AUTH_PASSWORD_MAX) {
		pwhash_dummy(pw, pwlen > AUTH_PASSWORD_MAX ? 0 : pwlen,
		    (int)cfg->password_scrypt_ln);
		return 401;
	}
	rc = db_exec(auth_g.db, Q_USER_BY_EMAIL, params, &res);
	if (rc != DB_OK) {
		if (rc == DB_ERROR)
			log_errx("request %s: could not look a user up: %s",
			    call->request_id, PQresultErrorMessage(res));
		PQclear(res);
		return rc == DB_UNAVAILABLE ? 503 : 500;
	}
	if (PQntuples(res) != 1) {
		pwhash_dummy(pw, pwlen, (int)cfg->password_scrypt_ln);
		audit_record(call, "auth.login", AUDIT_FAILURE, "unknown_user",
		    NULL, NULL, audit_email(email));
		PQclear(res);
		return 401;
	}
	id = PQgetvalue(res, 0, 0);
	status = PQgetvalue(res, 0, 3);
	ok = pwhash_verify(pw, pwlen, PQgetvalue(res, 0, 2));
	if (ok != 1) {
		audit_record(call, "auth.login", AUDIT_FAILURE,
		    ok == 0 ? "bad_password" : "unreadable_hash", id, NULL,
		    audit_email(email));
		PQclear(res);
		return 401;
	}
	if (strcmp(status, "active") != 0) {
		bool pending = strcmp(status, "pending") == 0;

		*reason = pending ? "account_pending" : "account_suspended";
		*message = pending
		    ? "This account waits for an administrator's approval."
		    : "This account is suspended.";
		audit_record(call, "auth.login", AUDIT_DENIED, *reason, id,
		    NULL, audit_email(email));
		PQclear(res);
		return 403;
	}
	login_record(call, res, pw, email, u);
	PQclear(res);
	return 0;
}

/* The login of both endpoints. */
static void login(const struct router_call *call, struct http_resp *r,
    const char *email, const char *pw, bool oauth)
{
	char refresh[AUTH_REFRESH_LEN + 1];
	const char *reason = NULL, *msg = NULL;
	struct auth_login u;
	int st;

	st = auth_login_check(call, email, pw, &u, &reason, &msg);
	if (st == 0)
		st = auth_refresh_issue(u.id, refresh);
	if (st == 401 && oauth)
		auth_oauth_error(call, r, 400, "invalid_grant", reason, msg);
	else if (st == 403 && oauth)
		auth_oauth_error(call, r, 403, "access_denied", reason, msg);
	else if (st == 401 || st == 403)
		auth_refuse(call, r, st, reason, msg);
	else if (st == 503)
		auth_unavailable(call, r);
	else if (st != 0)
		http_resp_error(r, 500, NULL, call->request_id);
	else
		send_tokens(call, r, u.id, u.email, u.role, refresh);
	secret_wipe(refresh, sizeof(refresh));
}

void auth_h_login(const struct router_call *call, struct http_resp *r)
{
	struct json_object *body = auth_body_json(call, r);
	const char *email, *pw;

	if (body == NULL)
		return;
	email = auth_json_str(body, "email");
	pw = auth_json_str(body, "password");
	if (email == NULL || pw == NULL)
		auth_refuse(call, r, 400, "missing_field",
		    "Give \"email\" and \"password\".");
	else
		login(call, r, email, pw, false);
	json_object_put(body);
}

void auth_h_oauth_token(const struct router_call *call, struct http_resp *r)
{
	char grant[64], user[AUTH_EMAIL_MAX + 2], pw[AUTH_PASSWORD_MAX + 2];

	if (!router_content_type_is(call,
	        "application/x-www-form-urlencoded")) {
		auth_oauth_error(call, r, 400, "invalid_request",
		    "unsupported_media_type",
		    "Send the form as application/x-www-form-urlencoded.");
		return;
	}
	if (http_form_get(call->body, call->body_len, "grant_type", grant,
	        sizeof(grant)) < 0) {
		auth_oauth_error(call, r, 400, "invalid_request",
		    "missing_field", "Give grant_type.");
		return;
	}
	if (strcmp(grant, "password") != 0) {
		auth_oauth_error(call, r, 400, "unsupported_grant_type",
		    "unsupported_grant_type",
		    "This endpoint takes grant_type=password.");
		return;
	}
	if (http_form_get(call->body, call->body_len, "username", user,
	        sizeof(user)) < 0 ||
	    http_form_get(call->body, call->body_len, "password", pw,
	        sizeof(pw)) < 0) {
		auth_oauth_error(call, r, 400, "invalid_request",
		    "missing_field", "Give username and password.");
		secret_wipe(pw, sizeof(pw));
		return;
	}
	login(call, r, user, pw, true);
	secret_wipe(pw, sizeof(pw));
}

void auth_h_refresh(const struct router_call *call, struct http_resp *r)
{
	struct json_object *body = auth_body_json(call, r);
	char old[AUTH_BYTEA_HEX_LEN], fresh_h[AUTH_BYTEA_HEX_LEN], ttl[24],
	    fresh[AUTH_REFRESH_LEN + 1];
	const char *tok, *params[3] = {old, fresh_h, ttl};
	PGresult *res = NULL;
	enum db_rc rc;

	if (body == NULL)
		return;
	tok = auth_json_str(body, "refresh_token");
	if (tok == NULL || strlen(tok) != AUTH_REFRESH_LEN ||
	    strncmp(tok, "rt_", 3) != 0) {
		auth_refuse(call, r, 401, "invalid_refresh_token",
		    "The refresh token is malformed.");
		goto out;
	}
	if (secret_sha256_bytea(tok, strlen(tok), old) != 0 ||
	    auth_refresh_new(fresh, fresh_h) != 0) {
		http_resp_error(r, 500, NULL, call->request_id);
		goto out;
	}
	(void)snprintf(ttl, sizeof(ttl), "%lld",
	    (long long)(auth_g.ctx->cfg->refresh_token_ttl / 1000));
	rc = db_exec(auth_g.db, Q_REFRESH_ROTATE, params, &res);
	if (rc == DB_UNAVAILABLE) {
		auth_unavailable(call, r);
		goto out;
	}
	if (rc == DB_OK && PQntuples(res) == 1) {
		audit_record(call, "auth.refresh", AUDIT_SUCCESS, NULL,
		    PQgetvalue(res, 0, 0), NULL, NULL);
		send_tokens(call, r, PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), fresh);
		goto out;
	}
	/* A unique violation: another refresh spent it at the same moment,
	 * which is reuse as well. Otherwise find out why. */
	PQclear(res);
	res = NULL;
	rc = db_exec(auth_g.db, Q_REFRESH_LOOKUP, params, &res);
	if (rc != DB_OK) {
		if (rc == DB_UNAVAILABLE)
			auth_unavailable(call, r);
		else
			http_resp_error(r, 500, NULL, call->request_id);
		goto out;
	}
	if (PQntuples(res) != 1 || !PQgetisnull(res, 0, 6)) {
		/* Unknown, or an OAuth client's (POST /oauth2/token). */
		auth_refuse(call, r, 401, "invalid_refresh_token",
		    "The refresh token is not known.");
	} else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
		/* Spent before: someone replays it. The whole family goes. */
		const char *fam[1] = {PQgetvalue(res, 0, 1)};
		PGresult *fres = NULL;

		(void)db_exec(auth_g.db, Q_REFRESH_REVOKE_FAM, fam, &fres);
		PQclear(fres);
		audit_record(call, "auth.refresh_reuse", AUDIT_DENIED,
		    "refresh_token_reused", PQgetvalue(res, 0, 0), NULL, NULL);
		auth_refuse(call, r, 401, "refresh_token_reused",
		    "This refresh token was used already; every token of its "
		    "session is revoked. Log in again.");
	} else if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
		auth_refuse(call, r, 401, "refresh_token_revoked",
		    "The refresh token was revoked.");
	} else if (strcmp(PQgetvalue(res, 0, 4), "t") == 0) {
		auth_refuse(call, r, 401, "refresh_token_expired",
		    "The refresh token has expired.");
	} else {
		bool pending = strcmp(PQgetvalue(res, 0, 5), "pending") == 0;

		auth_refuse(call, r, 403,
		    pending ? "account_pending" : "account_suspended",
		    pending ? "This account waits for an administrator's "
		              "approval."
		            : "This account is suspended.");
	}
out:
	secret_wipe(fresh, sizeof(fresh));
	PQclear(res);
	json_object_put(body);
}

void auth_h_logout(const struct router_call *call, struct http_resp *r)
{
	const struct auth_principal *who = call->who;
	struct json_object *body = NULL, *doc;
	const char *tok = NULL;
	char hash[AUTH_BYTEA_HEX_LEN];

	if (call->body_len > 0 && (body = auth_body_json(call, r)) == NULL)
		return;
	if (body != NULL)
		tok = auth_json_str(body, "refresh_token");
	if (auth_jti_revoke(who->jti, who->user_id, who->exp) != 0) {
		auth_unavailable(call, r);
		goto out;
	}
	if (tok != NULL && strlen(tok) == AUTH_REFRESH_LEN &&
	    secret_sha256_bytea(tok, strlen(tok), hash) == 0) {
		const char *params[2] = {hash, who->user_id};
		PGresult *res = NULL;

		if (db_exec(auth_g.db, Q_REFRESH_OWNER_FAM, params, &res) ==
		        DB_OK &&
		    PQntuples(res) == 1) {
			const char *fam[1] = {PQgetvalue(res, 0, 0)};
			PGresult *fres = NULL;

			(void)db_exec(auth_g.db, Q_REFRESH_REVOKE_FAM, fam,
			    &fres);
			PQclear(fres);
		}
		PQclear(res);
	}
	audit_record(call, "auth.logout", AUDIT_SUCCESS, NULL, who->user_id,
	    NULL, NULL);
	if ((doc = json_object_new_object()) != NULL)
		json_object_object_add(doc, "status",
		    json_object_new_string("logged_out"));
	router_send_json(call, r, 200, doc);
out:
	json_object_put(body);
}

void auth_h_me(const struct router_call *call, struct http_resp *r)
{
	const struct auth_principal *who = call->who;
	struct json_object *doc = user_json(who->user_id, who->email, "active",
	    auth_role_name(who->role));

	if (doc != NULL) {
		json_object_object_add(doc, "authenticated_by",
		    json_object_new_string(
		        who->via == AUTH_VIA_JWT ? "access_token" : "api_key"));
		if (who->via == AUTH_VIA_API_KEY) {
			json_object_object_add(doc, "key_id",
			    json_object_new_string(who->key_id));
			json_object_object_add(doc, "tier",
			    json_object_new_string(auth_tiers[who->tier].name));
		}
	}
	router_send_json(call, r, 200, doc);
}
