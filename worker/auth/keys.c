/*
 * keys.c - a user's API keys: create (the key is shown this once), list,
 * revoke; see auth.h and README's API section.
 *
 * A user makes trial keys (pk_trial_, 14 days, 1,000 requests); an
 * administrator may give a tier ("tier") and so makes pk_live_ keys, for
 * themselves here or for another user through the admin API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"
#include "log.h"
#include "secret.h"

/* Make a key of tier for user_id, named name, and answer 201 with it.
 * actor_id: the admin who provisions it for someone else, or NULL. */
void auth_key_provision(const struct router_call *call, struct http_resp *r,
    const char *user_id, const char *name, enum auth_tier tier,
    const char *actor_id)
{
	char key[AUTH_KEY_MAX_LEN + 1], prefix[24], hash[AUTH_BYTEA_HEX_LEN],
	    life[24], countstr[24];
	const char *kind = tier == AUTH_TIER_TRIAL ? "pk_trial_" : "pk_live_";
	const char *params[6];
	size_t klen = strlen(kind);
	struct json_object *doc, *d;
	PGresult *res = NULL;
	enum db_rc rc;

	params[0] = user_id;
	rc = db_exec(auth_g.db, Q_APIKEY_COUNT, params, &res);
	if (rc != DB_OK) {
		auth_db_failed(call, r, rc, res);
		return;
	}
	(void)snprintf(countstr, sizeof(countstr), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	if (strtoll(countstr, NULL, 10) >= AUTH_KEYS_PER_USER) {
		auth_refuse(call, r, 409, "too_many_keys",
		    "A user holds at most 20 live API keys; revoke one first.");
		return;
	}
	memcpy(key, kind, klen);
	if (secret_random_base62(key + klen, AUTH_KEY_RANDOM_LEN) != 0 ||
	    secret_sha256_bytea(key, klen + AUTH_KEY_RANDOM_LEN, hash) != 0) {
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	(void)snprintf(prefix, sizeof(prefix), "%.*s", (int)(klen + 4), key);
	(void)snprintf(life, sizeof(life), "%lld",
	    (long long)auth_tiers[tier].lifetime_s);
	params[0] = user_id;
	params[1] = name;
	params[2] = hash;
	params[3] = prefix;
	params[4] = auth_tiers[tier].name;
	params[5] = life;
	rc = db_exec(auth_g.db, Q_APIKEY_INSERT, params, &res);
	if (rc != DB_OK) {
		if (rc == DB_ERROR)
			log_errx("request %s: could not store an API key: %s",
			    call->request_id, PQresultErrorMessage(res));
		PQclear(res);
		secret_wipe(key, sizeof(key));
		if (rc == DB_UNAVAILABLE)
			auth_unavailable(call, r);
		else
			http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	if ((d = json_object_new_object()) != NULL) {
		json_object_object_add(d, "key_id",
		    json_object_new_string(PQgetvalue(res, 0, 0)));
		json_object_object_add(d, "prefix",
		    json_object_new_string(prefix));
		json_object_object_add(d, "tier",
		    json_object_new_string(auth_tiers[tier].name));
	}
	audit_record(call,
	    actor_id != NULL ? "admin.key_provision" : "apikey.create",
	    AUDIT_SUCCESS, NULL, user_id, actor_id, d);
	if ((doc = json_object_new_object()) != NULL) {
		json_object_object_add(doc, "id",
		    json_object_new_string(PQgetvalue(res, 0, 0)));
		json_object_object_add(doc, "key",
		    json_object_new_string_len(key,
		        (int)(klen + AUTH_KEY_RANDOM_LEN)));
		json_object_object_add(doc, "prefix",
		    json_object_new_string(prefix));
		json_object_object_add(doc, "name",
		    json_object_new_string(name));
		json_object_object_add(doc, "tier",
		    json_object_new_string(auth_tiers[tier].name));
		json_object_object_add(doc, "quota_30d",
		    json_object_new_int64(auth_tiers[tier].quota));
		json_object_object_add(doc, "burst_per_minute",
		    json_object_new_int64(auth_tiers[tier].burst));
		json_object_object_add(doc, "created_at",
		    json_object_new_string(PQgetvalue(res, 0, 1)));
		json_object_object_add(doc, "expires_at",
		    PQgetisnull(res, 0, 2)
		        ? NULL
		        : json_object_new_string(PQgetvalue(res, 0, 2)));
	}
	secret_wipe(key, sizeof(key));
	PQclear(res);
	(void)http_resp_header(r, "Cache-Control", "no-store");
	router_send_json(call, r, 201, doc);
}

void auth_h_keys_create(const struct router_call *call, struct http_resp *r)
{
	const struct auth_principal *who = call->who;
	struct json_object *body = NULL;
	const char *name = "", *tname;
	int tier = AUTH_TIER_TRIAL;

	if (call->body_len > 0 && (body = auth_body_json(call, r)) == NULL)
		return;
	if (body != NULL) {
		if (!auth_key_name(call, r, body, &name))
			goto out;
		if ((tname = auth_json_str(body, "tier")) != NULL &&
		    (tier = auth_tier_parse(tname)) < 0) {
			auth_refuse(call, r, 400, "invalid_tier",
			    "\"tier\" is one of trial, starter, professional, "
			    "enterprise.");
			goto out;
		}
	}
	if (tier != AUTH_TIER_TRIAL && !auth_is_admin(who)) {
		auth_refuse(call, r, 403, "tier_not_allowed",
		    "Users make trial keys; an administrator provisions the "
		    "other tiers.");
		goto out;
	}
	auth_key_provision(call, r, who->user_id, name, (enum auth_tier)tier,
	    NULL);
out:
	json_object_put(body);
}

/* A timestamp column, or JSON null. */
static struct json_object *ts(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col)
	    ? NULL
	    : json_object_new_string(PQgetvalue(res, row, col));
}

void auth_h_keys_list(const struct router_call *call, struct http_resp *r)
{
	const char *params[1] = {call->who->user_id};
	struct json_object *doc, *keys;
	PGresult *res = NULL;
	enum db_rc rc = db_exec(auth_g.db, Q_APIKEY_LIST, params, &res);

	if (rc != DB_OK) {
		auth_db_failed(call, r, rc, res);
		return;
	}
	doc = json_object_new_object();
	keys = json_object_new_array();
	for (int i = 0; keys != NULL && i < PQntuples(res); i++) {
		struct json_object *k = json_object_new_object();

		if (k == NULL)
			break;
		json_object_object_add(k, "id",
		    json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(k, "name",
		    json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_object_add(k, "prefix",
		    json_object_new_string(PQgetvalue(res, i, 2)));
		json_object_object_add(k, "tier",
		    json_object_new_string(PQgetvalue(res, i, 3)));
		json_object_object_add(k, "created_at", ts(res, i, 4));
		json_object_object_add(k, "expires_at", ts(res, i, 5));
		json_object_object_add(k, "revoked_at", ts(res, i, 6));
		json_object_object_add(k, "last_used_at", ts(res, i, 7));
		json_object_array_add(keys, k);
	}
	PQclear(res);
	if (doc != NULL)
		json_object_object_add(doc, "keys", keys);
	else
		json_object_put(keys);
	router_send_json(call, r, 200, doc);
}

/* Revoke key id; owner NULL lets an admin revoke anyone's. Answers 200
 * with the key, or 404. */
void auth_key_revoke(const struct router_call *call, struct http_resp *r,
    const char *id, size_t idlen, const char *owner)
{
	char kid[AUTH_UUID_LEN + 1];
	const char *params[2] = {kid, owner};
	struct json_object *doc, *d;
	PGresult *res = NULL;
	enum db_rc rc;

	if (!auth_uuid_valid(id, idlen)) {
		auth_refuse(call, r, 404, "unknown_key", "No such API key.");
		return;
	}
	memcpy(kid, id, idlen);
	kid[idlen] = '\0';
	rc = db_exec(auth_g.db, Q_APIKEY_REVOKE, params, &res);
	if (rc != DB_OK) {
		auth_db_failed(call, r, rc, res);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		auth_refuse(call, r, 404, "unknown_key", "No such API key.");
		return;
	}
	if ((d = json_object_new_object()) != NULL) {
		json_object_object_add(d, "key_id",
		    json_object_new_string(kid));
		json_object_object_add(d, "prefix",
		    json_object_new_string(PQgetvalue(res, 0, 2)));
	}
	audit_record(call, owner == NULL ? "admin.key_revoke" : "apikey.revoke",
	    AUDIT_SUCCESS, NULL, PQgetvalue(res, 0, 1),
	    owner == NULL ? call->who->user_id : NULL, d);
	if ((doc = json_object_new_object()) != NULL) {
		json_object_object_add(doc, "id", json_object_new_string(kid));
		json_object_object_add(doc, "prefix",
		    json_object_new_string(PQgetvalue(res, 0, 2)));
		json_object_object_add(doc, "revoked_at", ts(res, 0, 3));
	}
	PQclear(res);
	router_send_json(call, r, 200, doc);
}

void auth_h_keys_delete(const struct router_call *call, struct http_resp *r)
{
	size_t len;
	const char *id = router_param(call->match, "id", &len);

	auth_key_revoke(call, r, id != NULL ? id : "", id != NULL ? len : 0,
	    call->who->user_id);
}
