/*
 * common.c - what worker/auth/ shares: refusals, JSON bodies, hashes of
 * stored secrets, roles and tiers, and the audit log; see auth_int.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_int.h"
#include "buf.h"
#include "cfg.h"
#include "email.h"
#include "health.h"
#include "log.h"
#include "pwhash.h"
#include "secret.h"

struct auth_state auth_g;

/* The tiers: quota per 30 days, burst per minute, a trial key's life. */
const struct auth_tier_info auth_tiers[AUTH_NTIERS] = {
    [AUTH_TIER_TRIAL] = {"trial", 1000, 60, 14LL * 86400},
    [AUTH_TIER_STARTER] = {"starter", 10000, 120, 0},
    [AUTH_TIER_PROFESSIONAL] = {"professional", 100000, 600, 0},
    [AUTH_TIER_ENTERPRISE] = {"enterprise", 0, 3000, 0},
};

static const char *const role_names[] = {"user", "admin", "super_admin"};

const char *auth_role_name(enum auth_role role)
{
	return (unsigned)role < 3 ? role_names[role] : "user";
}

int auth_role_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

int auth_tier_parse(const char *s)
{
	for (int i = 0; i < AUTH_NTIERS; i++)
		if (strcmp(s, auth_tiers[i].name) == 0)
			return i;
	return -1;
}

bool auth_is_admin(const struct auth_principal *p)
{
	return p != NULL &&
	    (p->role == AUTH_ROLE_ADMIN || p->role == AUTH_ROLE_SUPER_ADMIN);
}

void auth_refuse(const struct router_call *call, struct http_resp *r,
    int status, const char *reason, const char *message)
{
	auth_refuse_www(call, r, status, reason, message, NULL);
}

void auth_refuse_www(const struct router_call *call, struct http_resp *r,
    int status, const char *reason, const char *message, const char *www)
{
	struct json_object *doc = json_object_new_object();
	char hdr[256];

	if (status == 401 && www == NULL) {
		(void)snprintf(hdr, sizeof(hdr),
		    "Bearer realm=\"pacer\", error=\"invalid_token\", "
		    "error_description=\"%s\"",
		    reason);
		www = hdr;
	}
	if (status == 401 && http_resp_header(r, "WWW-Authenticate", www) != 0)
		log_errx("request %s: could not add WWW-Authenticate",
		    call->request_id);
	if (doc == NULL) {
		http_resp_error(r, status, message, call->request_id);
		return;
	}
	json_object_object_add(doc, "error",
	    json_object_new_string(http_resp_error_code(status)));
	json_object_object_add(doc, "reason", json_object_new_string(reason));
	json_object_object_add(doc, "message", json_object_new_string(message));
	json_object_object_add(doc, "request_id",
	    json_object_new_string(call->request_id));
	router_send_json(call, r, status, doc);
}

void auth_unavailable(const struct router_call *call, struct http_resp *r)
{
	health_db_unavailable(call, r);
}

struct json_object *auth_body_json(const struct router_call *call,
    struct http_resp *r)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t n;

	if (!router_content_type_is(call, "application/json")) {
		auth_refuse(call, r, 415, "unsupported_media_type",
		    "Send the body as Content-Type: application/json.");
		return NULL;
	}
	if ((tok = json_tokener_new_ex(16)) == NULL) {
		http_resp_error(r, 500, NULL, call->request_id);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, call->body, (int)call->body_len);
	if (o != NULL && json_tokener_get_parse_end(tok) != call->body_len) {
		/* Trailing bytes after the object (only white space is
		 * fine). */
		for (n = json_tokener_get_parse_end(tok); n < call->body_len;
		     n++)
			if (!isspace((unsigned char)call->body[n]))
				break;
		if (n < call->body_len) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		auth_refuse(call, r, 400, "bad_json",
		    "The body must be one JSON object.");
		return NULL;
	}
	return o;
}

void auth_db_failed(const struct router_call *call, struct http_resp *r,
    enum db_rc rc, PGresult *res)
{
	if (rc == DB_ERROR)
		log_errx("request %s: query failed: %s", call->request_id,
		    PQresultErrorMessage(res));
	PQclear(res);
	if (rc == DB_UNAVAILABLE)
		auth_unavailable(call, r);
	else
		http_resp_error(r, 500, NULL, call->request_id);
}

bool auth_new_credentials(const struct router_call *call, struct http_resp *r,
    struct json_object *body, const char **email, char *phc, size_t phclen)
{
	const char *pw;
	size_t pwlen;

	*email = auth_json_str(body, "email");
	pw = auth_json_str(body, "password");
	if (*email == NULL || !email_valid(*email)) {
		auth_refuse(call, r, 400, "invalid_email",
		    "Give a valid email address (\"email\").");
		return false;
	}
	pwlen = pw != NULL ? strlen(pw) : 0;
	if (pw == NULL || pwlen < AUTH_PASSWORD_MIN ||
	    pwlen > AUTH_PASSWORD_MAX) {
		auth_refuse(call, r, 400, "invalid_password",
		    "The password (\"password\") must be 8 to 1024 "
		    "characters long.");
		return false;
	}
	if (pwhash_hash(pw, pwlen, (int)auth_g.ctx->cfg->password_scrypt_ln,
	        phc, phclen) != 0) {
		log_errx("request %s: could not hash a password",
		    call->request_id);
		http_resp_error(r, 500, NULL, call->request_id);
		return false;
	}
	return true;
}

bool auth_key_name(const struct router_call *call, struct http_resp *r,
    struct json_object *body, const char **name)
{
	struct json_object *v;

	if (json_object_object_get_ex(body, "name", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	        strlen(json_object_get_string(v)) > 100)) {
		auth_refuse(call, r, 400, "invalid_name",
		    "\"name\" is a string of at most 100 characters.");
		return false;
	}
	if ((*name = auth_json_str(body, "name")) == NULL)
		*name = "";
	return true;
}

const char *auth_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int auth_refresh_new(char out[AUTH_REFRESH_LEN + 1],
    char hash[AUTH_BYTEA_HEX_LEN])
{
	memcpy(out, "rt_", 3);
	out[AUTH_REFRESH_LEN] = '\0';
	if (secret_random_base62(out + 3, AUTH_REFRESH_LEN - 3) != 0)
		return -1;
	return secret_sha256_bytea(out, AUTH_REFRESH_LEN, hash);
}

bool auth_uuid_valid(const char *s, size_t len)
{
	if (len != AUTH_UUID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static const char *const outcome_names[] = {"success", "failure", "denied"};

void audit_record(const struct router_call *call, const char *action,
    enum audit_outcome outcome, const char *reason, const char *user_id,
    const char *actor_id, struct json_object *details)
{
	char ua[256], store[1024];
	const char *params[8];
	const char *dtext = details != NULL
	    ? json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN)
	    : NULL;
	PGresult *res = NULL;
	enum db_rc rc = DB_UNAVAILABLE;
	struct buf line;

	if (call == NULL ||
	    router_header(call, "User-Agent", ua, sizeof(ua)) == NULL)
		ua[0] = '\0';
	params[0] = action;
	params[1] = outcome_names[outcome];
	params[2] = reason;
	params[3] = user_id;
	params[4] = actor_id;
	params[5] = call != NULL && strcmp(call->client, "-") != 0
	    ? call->client
	    : NULL;
	params[6] = ua[0] != '\0' ? ua : NULL;
	params[7] = dtext;
	if (auth_g.db != NULL)
		rc = db_exec(auth_g.db, Q_AUDIT_INSERT, params, &res);
	buf_init_fixed(&line, store, sizeof(store));
	(void)buf_printf(&line, "audit: %s %s", action, outcome_names[outcome]);
	if (reason != NULL)
		(void)buf_printf(&line, " reason=%s", reason);
	if (user_id != NULL)
		(void)buf_printf(&line, " user=%s", user_id);
	if (actor_id != NULL)
		(void)buf_printf(&line, " actor=%s", actor_id);
	if (call != NULL)
		(void)buf_printf(&line, " client=%s request=%s", call->client,
		    call->request_id);
	if (dtext != NULL)
		(void)buf_printf(&line, " %s", dtext);
	if (rc == DB_OK) {
		log_info("%s", buf_str(&line));
	} else {
		/* The line still says it happened; the row is missing. */
		log_warnx("%s (not stored in audit_log: %s)", buf_str(&line),
		    rc == DB_UNAVAILABLE ? "database unavailable"
		                         : PQresultErrorMessage(res));
	}
	PQclear(res);
	json_object_put(details);
}
