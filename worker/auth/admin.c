/*
 * admin.c - the admin API: list users, approve, suspend and activate
 * them, provision and revoke API keys for them, read the audit log, and
 * the one-time set-up of the first admin; see auth.h and README's Admin
 * API section.
 *
 * Runs in worker processes. The middleware (gate.c) has already checked
 * that the caller is an admin (role admin or super_admin) for every route
 * here but POST /admin/setup, which is open while no admin exists and
 * then closed for good. Every action, done or refused, leaves an audit
 * row whose actor is the admin and whose user is the account concerned
 * (NULL when no such account exists: the row's foreign key needs a real
 * one, so an unknown id goes into the details).
 *
 * A status change is one statement that also checks the status it
 * changes from and, unless the actor is a super_admin, that the target is
 * no super_admin; a suspension revokes the user's refresh tokens in that
 * same statement. When it changes nothing, the user's row says why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "auth_int.h"
#include "cfg.h"
#include "email.h"
#include "log.h"
#include "pwhash.h"
#include "secret.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200
#define OFFSET_MAX 1000000

/* ------------------------------------------------------------ helpers */

/* Query parameter name, decoded (see auth_form_get). */
static ssize_t query_param(const struct router_call *call, const char *name,
    char *out, size_t outlen)
{
	return http_form_get(call->buf + call->req->query.off,
	    call->req->query.len, name, out, outlen);
}

/* A decimal query parameter in [min, max], def when absent. Returns 0,
 * or -1 after answering 400 (reason invalid_<name>). */
static int query_int(const struct router_call *call, struct http_resp *r,
    const char *name, long long min, long long max, long long def,
    long long *out)
{
	char v[24], reason[48], msg[128];
	ssize_t n = query_param(call, name, v, sizeof(v));
	long long x = 0;
	bool ok = n > 0;

	if (n == -1) {
		*out = def;
		return 0;
	}

	for (ssize_t i = 0; ok && i < n; i++) {
		int d = v[i] - '0';

		if (d < 0 || d > 9 || x > (max - d) / 10)
			ok = false;
		else
			x = x * 10 + d;
	}
	if (!ok || x < min) {
		(void)snprintf(reason, sizeof(reason), "invalid_%s", name);
		(void)snprintf(msg, sizeof(msg),
		    "\"%s\" is a whole number from %lld to %lld.", name, min,
		    max);
		auth_refuse(call, r, 400, reason, msg);
		return -1;
	}
	*out = x;
	return 0;
}

/* Answer a failed db_exec: 503 when the database is away, else 500. */
static void db_failed(const struct router_call *call, struct http_resp *r,
    enum db_rc rc, PGresult *res, const char *what)
{
	if (rc == DB_UNAVAILABLE) {
		auth_unavailable(call, r);
		return;
	}
	log_errx("request %s: could not %s: %s", call->request_id, what,
	    res != NULL ? PQresultErrorMessage(res) : "no result");
	http_resp_error(r, 500, NULL, call->request_id);
}

/* A column as a JSON string, or null. */
static struct json_object *col(PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c)
	    ? NULL
	    : json_object_new_string(PQgetvalue(res, row, c));
}

/* A user row of columns id, email, display_name, status, role,
 * created_at, last_login_at from column c0 on. */
static struct json_object *user_row(PGresult *res, int row, int c0)
{
	static const char *const names[] = {"id", "email", "display_name",
	    "status", "role", "created_at", "last_login_at"};
	struct json_object *u = json_object_new_object();

	for (int i = 0; u != NULL && i < 7; i++)
		json_object_object_add(u, names[i], col(res, row, c0 + i));
	return u;
}

static struct json_object *details_of(const char *key, const char *value)
{
	struct json_object *d = json_object_new_object();

	if (d != NULL && value != NULL)
		json_object_object_add(d, key, json_object_new_string(value));
	return d;
}

/* The {id} parameter of the route when it is a uuid, copied into out;
 * false when absent or not a uuid. */
static bool id_param(const struct router_call *call,
    char out[AUTH_UUID_LEN + 1])
{
	size_t len;
	const char *id = router_param(call->match, "id", &len);

	if (id == NULL || !auth_uuid_valid(id, len))
		return false;
	memcpy(out, id, len);
	out[len] = '\0';
	return true;
}

/* ------------------------------------------------------------ users */

void auth_h_admin_users(const struct router_call *call, struct http_resp *r)
{
	char status[16], lim[24], off[24];
	const char *params[3] = {NULL, lim, off};
	long long limit, offset;
	struct json_object *doc, *users;
	PGresult *res = NULL;
	enum db_rc rc;
	ssize_t n;
	int rows;

	n = query_param(call, "status", status, sizeof(status));
	if (n == -2 ||
	    (n >= 0 && strcmp(status, "pending") != 0 &&
	        strcmp(status, "active") != 0 &&
	        strcmp(status, "suspended") != 0)) {
		auth_refuse(call, r, 400, "invalid_status",
		    "\"status\" is pending, active or suspended.");
		return;
	}
	if (n >= 0)
		params[0] = status;
	if (query_int(call, r, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit) !=
	        0 ||
	    query_int(call, r, "offset", 0, OFFSET_MAX, 0, &offset) != 0)
		return;
	(void)snprintf(lim, sizeof(lim), "%lld", limit);
	(void)snprintf(off, sizeof(off), "%lld", offset);
	rc = db_exec(auth_g.db, Q_ADMIN_USER_LIST, params, &res);
	if (rc != DB_OK) {
		db_failed(call, r, rc, res, "list the users");
		PQclear(res);
		return;
	}
	rows = PQntuples(res);
	doc = json_object_new_object();
	users = json_object_new_array();
	for (int i = 0; users != NULL && i < rows; i++)
		json_object_array_add(users, user_row(res, i, 0));
	PQclear(res);
	if (doc == NULL) {
		json_object_put(users);
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	json_object_object_add(doc, "users", users);
	json_object_object_add(doc, "limit", json_object_new_int64(limit));
	json_object_object_add(doc, "offset", json_object_new_int64(offset));
	json_object_object_add(doc, "next_offset",
	    rows == limit ? json_object_new_int64(offset + rows) : NULL);
	router_send_json(call, r, 200, doc);
}

enum change { CH_APPROVE, CH_SUSPEND, CH_ACTIVATE };

static const struct {
	const char *action; /* the audit action */
	const char *to;     /* the new status */
	const char *from;   /* the statuses it may change from */
	const char *wrong;  /* the reason when the status is another */
	const char *wrong_msg;
} changes[] = {
    [CH_APPROVE] = {"admin.user_approve", "active", "pending", "not_pending",
        "Only a pending account can be approved."},
    [CH_SUSPEND] = {"admin.user_suspend", "suspended",
        "pending,active,suspended", NULL, NULL},
    [CH_ACTIVATE] = {"admin.user_activate", "active", "suspended",
        "not_suspended", "Only a suspended account can be activated."},
};

/* Why a status change changed nothing: the user's row as it is now. */
static void change_refused(const struct router_call *call, struct http_resp *r,
    enum change ch, const char *id)
{
	const char *params[1] = {id}, *actor = call->who->user_id;
	PGresult *res = NULL;
	enum db_rc rc = db_exec(auth_g.db, Q_USER_BY_ID, params, &res);

	if (rc != DB_OK) {
		db_failed(call, r, rc, res, "look a user up");
	} else if (PQntuples(res) != 1) {
		audit_record(call, changes[ch].action, AUDIT_FAILURE,
		    "unknown_user", NULL, actor, details_of("user_id", id));
		auth_refuse(call, r, 404, "unknown_user", "No such user.");
	} else if (strcmp(PQgetvalue(res, 0, 3), "super_admin") == 0 &&
	    call->who->role != AUTH_ROLE_SUPER_ADMIN) {
		audit_record(call, changes[ch].action, AUDIT_DENIED,
		    "super_admin_protected", PQgetvalue(res, 0, 0), actor,
		    NULL);
		auth_refuse(call, r, 403, "super_admin_protected",
		    "Only a super_admin may change a super_admin's account.");
	} else {
		const char *why =
		    changes[ch].wrong != NULL ? changes[ch].wrong : "conflict";

		audit_record(call, changes[ch].action, AUDIT_FAILURE, why,
		    PQgetvalue(res, 0, 0), actor,
		    details_of("status", PQgetvalue(res, 0, 2)));
		auth_refuse(call, r, 409, why,
		    changes[ch].wrong_msg != NULL
		        ? changes[ch].wrong_msg
		        : "The account changed meanwhile; try again.");
	}
	PQclear(res);
}

static void change_status(const struct router_call *call, struct http_resp *r,
    enum change ch)
{
	const struct auth_principal *who = call->who;
	char id[AUTH_UUID_LEN + 1];
	const char *params[5];
	struct json_object *doc, *d;
	PGresult *res = NULL;
	enum db_rc rc;

	if (!id_param(call, id)) {
		auth_refuse(call, r, 404, "unknown_user", "No such user.");
		return;
	}
	if (ch == CH_SUSPEND && strcasecmp(id, who->user_id) == 0) {
		audit_record(call, changes[ch].action, AUDIT_DENIED,
		    "cannot_suspend_self", who->user_id, who->user_id, NULL);
		auth_refuse(call, r, 403, "cannot_suspend_self",
		    "An administrator cannot suspend their own account.");
		return;
	}
	params[0] = id;
	params[1] = changes[ch].to;
	params[2] = changes[ch].from;
	params[3] = who->role == AUTH_ROLE_SUPER_ADMIN ? "true" : "false";
	params[4] = ch == CH_SUSPEND ? "true" : "false";
	rc = db_exec(auth_g.db, Q_ADMIN_USER_STATUS, params, &res);
	if (rc != DB_OK) {
		db_failed(call, r, rc, res, "change a user's status");
		PQclear(res);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		change_refused(call, r, ch, id);
		return;
	}
	/* The middleware's copy of the user's state goes at once, so an
	 * access token stops (or starts) working now, not in a minute. */
	(void)cache_del(auth_g.cache, "user", PQgetvalue(res, 0, 0));
	d = details_of("email", PQgetvalue(res, 0, 1));
	if (d != NULL && ch == CH_SUSPEND)
		json_object_object_add(d, "sessions_revoked",
		    json_object_new_int64(
		        strtoll(PQgetvalue(res, 0, 7), NULL, 10)));
	audit_record(call, changes[ch].action, AUDIT_SUCCESS, NULL,
	    PQgetvalue(res, 0, 0), who->user_id, d);
	doc = user_row(res, 0, 0);
	if (doc != NULL && ch == CH_SUSPEND)
		json_object_object_add(doc, "sessions_revoked",
		    json_object_new_int64(
		        strtoll(PQgetvalue(res, 0, 7), NULL, 10)));
	PQclear(res);
	router_send_json(call, r, 200, doc);
}

void auth_h_admin_approve(const struct router_call *call, struct http_resp *r)
{
	change_status(call, r, CH_APPROVE);
}

void auth_h_admin_suspend(const struct router_call *call, struct http_resp *r)
{
	change_status(call, r, CH_SUSPEND);
}

void auth_h_admin_activate(const struct router_call *call, struct http_resp *r)
{
	change_status(call, r, CH_ACTIVATE);
}

/* ------------------------------------------------------------ keys */

void auth_h_admin_key_create(const struct router_call *call,
    struct http_resp *r)
{
	char id[AUTH_UUID_LEN + 1], uid[AUTH_UUID_LEN + 1];
	const char *params[1] = {id}, *name, *tname;
	struct json_object *body;
	PGresult *res = NULL;
	enum db_rc rc;
	int tier;

	if (!id_param(call, id)) {
		auth_refuse(call, r, 404, "unknown_user", "No such user.");
		return;
	}
	if ((body = auth_body_json(call, r)) == NULL)
		return;
	if (!auth_key_name(call, r, body, &name))
		goto out;
	if ((tname = auth_json_str(body, "tier")) == NULL ||
	    (tier = auth_tier_parse(tname)) < 0) {
		auth_refuse(call, r, 400, "invalid_tier",
		    "Give \"tier\": trial, starter, professional or "
		    "enterprise.");
		goto out;
	}
	rc = db_exec(auth_g.db, Q_USER_BY_ID, params, &res);
	if (rc != DB_OK) {
		db_failed(call, r, rc, res, "look a user up");
		goto out;
	}
	if (PQntuples(res) != 1) {
		audit_record(call, "admin.key_provision", AUDIT_FAILURE,
		    "unknown_user", NULL, call->who->user_id,
		    details_of("user_id", id));
		auth_refuse(call, r, 404, "unknown_user", "No such user.");
		goto out;
	}
	(void)snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 0));
	auth_key_provision(call, r, uid, name, (enum auth_tier)tier,
	    call->who->user_id);
out:
	PQclear(res);
	json_object_put(body);
}

void auth_h_admin_key_delete(const struct router_call *call,
    struct http_resp *r)
{
	size_t len;
	const char *id = router_param(call->match, "id", &len);

	auth_key_revoke(call, r, id != NULL ? id : "", id != NULL ? len : 0,
	    NULL);
}

/* ------------------------------------------------------------ audit */

/* The details column (jsonb text) as an object; {} when unreadable. */
static struct json_object *details_json(const char *text)
{
	struct json_tokener *tok = json_tokener_new_ex(32);
	struct json_object *o = NULL;

	if (tok != NULL) {
		o = json_tokener_parse_ex(tok, text, (int)strlen(text));
		json_tokener_free(tok);
	}
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o != NULL ? o : json_object_new_object();
}

static struct json_object *audit_row(PGresult *res, int i)
{
	static const char *const names[] = {"created_at", "action", "outcome",
	    "reason", "user_id", "actor_id", "client_addr", "user_agent"};
	struct json_object *e = json_object_new_object();

	if (e == NULL)
		return NULL;
	json_object_object_add(e, "id",
	    json_object_new_int64(strtoll(PQgetvalue(res, i, 0), NULL, 10)));
	for (int c = 0; c < 8; c++)
		json_object_object_add(e, names[c], col(res, i, c + 1));
	json_object_object_add(e, "details",
	    details_json(PQgetvalue(res, i, 9)));
	return e;
}

void auth_h_admin_audit(const struct router_call *call, struct http_resp *r)
{
	char user[AUTH_UUID_LEN + 1], action[AUDIT_ACTION_MAX + 1], before[24],
	    lim[24];
	const char *params[4] = {NULL, NULL, NULL, lim};
	long long limit, bef;
	struct json_object *doc, *entries;
	PGresult *res = NULL;
	enum db_rc rc;
	ssize_t n;
	int rows;

	n = query_param(call, "user_id", user, sizeof(user));
	if (n == -2 || (n >= 0 && !auth_uuid_valid(user, (size_t)n))) {
		auth_refuse(call, r, 400, "invalid_user_id",
		    "\"user_id\" is a user's id (a uuid).");
		return;
	}
	params[0] = n >= 0 ? user : NULL;
	n = query_param(call, "action", action, sizeof(action));
	if (n == -2 || (n >= 0 && !audit_action_valid(action))) {
		auth_refuse(call, r, 400, "invalid_action",
		    "\"action\" is an action name such as auth.login "
		    "([a-z][a-z0-9_.]*, at most 64 characters).");
		return;
	}
	params[1] = n >= 0 ? action : NULL;
	if (query_int(call, r, "before", 1, 9223372036854775807LL, 0, &bef) !=
	        0 ||
	    query_int(call, r, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit) != 0)
		return;
	if (bef > 0) {
		(void)snprintf(before, sizeof(before), "%lld", bef);
		params[2] = before;
	}
	(void)snprintf(lim, sizeof(lim), "%lld", limit);
	rc = db_exec(auth_g.db, Q_ADMIN_AUDIT_LIST, params, &res);
	if (rc != DB_OK) {
		db_failed(call, r, rc, res, "read the audit log");
		PQclear(res);
		return;
	}
	rows = PQntuples(res);
	doc = json_object_new_object();
	entries = json_object_new_array();
	for (int i = 0; entries != NULL && i < rows; i++)
		json_object_array_add(entries, audit_row(res, i));
	if (doc == NULL) {
		PQclear(res);
		json_object_put(entries);
		http_resp_error(r, 500, NULL, call->request_id);
		return;
	}
	json_object_object_add(doc, "entries", entries);
	json_object_object_add(doc, "next_before",
	    rows == limit ? json_object_new_int64(
	                        strtoll(PQgetvalue(res, rows - 1, 0), NULL, 10))
	                  : NULL);
	PQclear(res);
	router_send_json(call, r, 200, doc);
}

/* ------------------------------------------------------------ setup */

/* SQLSTATE unique_violation. */
static bool unique_violation(PGresult *res)
{
	const char *st =
	    res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return st != NULL && strcmp(st, "23505") == 0;
}

void auth_h_admin_setup(const struct router_call *call, struct http_resp *r)
{
	struct json_object *body = auth_body_json(call, r), *doc;
	const char *email, *params[2];
	char phc[PWHASH_MAX_LEN];
	PGresult *res = NULL;
	enum db_rc rc;

	if (body == NULL)
		return;
	if (!auth_new_credentials(call, r, body, &email, phc, sizeof(phc)))
		goto out;
	params[0] = email;
	params[1] = phc;
	rc = db_exec(auth_g.db, Q_ADMIN_SETUP, params, &res);
	secret_wipe(phc, sizeof(phc));
	if (rc == DB_ERROR && unique_violation(res)) {
		audit_record(call, "admin.setup", AUDIT_FAILURE, "email_taken",
		    NULL, NULL, details_of("email", email));
		auth_refuse(call, r, 409, "email_taken",
		    "An account with this email exists; choose another for "
		    "the first admin.");
		goto out;
	}
	if (rc != DB_OK) {
		db_failed(call, r, rc, res, "set up the first admin");
		goto out;
	}
	if (PQntuples(res) != 1) {
		audit_record(call, "admin.setup", AUDIT_DENIED, "setup_closed",
		    NULL, NULL, details_of("email", email));
		auth_refuse(call, r, 409, "setup_closed",
		    "The set-up is closed: an admin exists or was set up "
		    "before. Ask an admin, or use pacerctl admin create.");
		goto out;
	}
	audit_record(call, "admin.setup", AUDIT_SUCCESS, NULL,
	    PQgetvalue(res, 0, 0), NULL, details_of("email", email));
	if ((doc = json_object_new_object()) != NULL) {
		json_object_object_add(doc, "id", col(res, 0, 0));
		json_object_object_add(doc, "email", col(res, 0, 1));
		json_object_object_add(doc, "status", col(res, 0, 2));
		json_object_object_add(doc, "role", col(res, 0, 3));
		json_object_object_add(doc, "display_name", col(res, 0, 4));
		json_object_object_add(doc, "created_at", col(res, 0, 5));
	}
	router_send_json(call, r, 201, doc);
out:
	PQclear(res);
	json_object_put(body);
}
