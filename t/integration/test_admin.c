/*
 * test_admin.c - the admin API and pacerctl's identity commands through a
 * running pacerd, each test on a fresh database of its own (created here,
 * dropped at the end), so the one-time set-up can be tried and the
 * signing keys rotated without touching other tests:
 *
 *   admin      listing, approving, suspending (the user's access token is
 *              refused at once, sessions revoked) and activating users,
 *              who may do what, API keys provisioned and revoked for a
 *              user, the audit log's filters and pages, /admin/setup once
 *              (and exactly one of several racing), /admin/health by
 *              address or by an admin's credential
 *   admin_ctl  pacerctl admin create (the printed password logs in),
 *              jwt rotate and list (old tokens still verify, new ones
 *              carry the new kid), audit
 *
 * The servers take the master key tserver gives them (a master_key_file
 * in their folder), which pacerctl reads from the same configuration.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "secret.h"
#include "tdb.h"
#include "testutil.h"
#include "thttp.h"
#include "tsecret.h"
#include "tserver.h"
#include "tuser.h"

static struct ts srv;
static char dbname[TDB_NAME_MAX], dburl[TDB_URL_MAX], conf[2048];

/* ------------------------------------------------------------ set-up */

static void setup(void)
{
	tdb_create("pacer_adm", dbname, dburl);
}

static void teardown(void)
{
	ts_fini(&srv);
	tdb_drop(dbname);
	tsecret_forget();
}

TestSuite(admin, .init = setup, .fini = teardown, .timeout = 90);
TestSuite(admin_ctl, .init = setup, .fini = teardown, .timeout = 120);

/* Start pacerd on the test's database: no auth rate limit (the tests log
 * in often), cheap password hashes, no in-process cache (so a change is
 * seen by every worker at once), then extra. */
static void start(const char *extra)
{
	(void)snprintf(conf, sizeof(conf),
	    "database_url = '%s'\nrate_limit_auth = 0\n"
	    "password_scrypt_ln = 10\ncache_local_ttl = 0\n%s",
	    dburl, extra != NULL ? extra : "");
	ts_start_conf(&srv, conf, NULL);
}

/* ------------------------------------------------------------ SQL */

static long long sql_int(const char *q, const char *p1, const char *p2)
{
	return tdb_int(dburl, q, p1, p2);
}

/* Audit rows of action about user (may be NULL: any) with outcome. */
static long long audit_rows(const char *action, const char *user,
    const char *outcome)
{
	return tdb_audit_count(dburl, action, user, outcome);
}

/* ------------------------------------------------------------ users */

static void new_user(struct tuser *u, const char *tag)
{
	tuser_new(u, tag);
}

/* Register u (pending: auto_approve_users is off); u->id is set. */
static void register_user(struct tuser *u, const char *tag)
{
	struct th_resp r;

	new_user(u, tag);
	cr_assert(eq(int, tuser_register(srv.port, u, &r), 201), "%s", r.body);
	th_free(&r);
}

/* POST /api/auth/login; on 200 u gets its tokens. Returns the status;
 * r is freed unless kept. */
static int login(struct tuser *u, struct th_resp *keep)
{
	struct th_resp r;
	int st = tuser_login(srv.port, u, u->password, &r);

	if (keep != NULL)
		*keep = r;
	else
		th_free(&r);
	return st;
}

/* A logged-in user with role ("user", "admin", "super_admin"). */
static void logged_in(struct tuser *u, const char *tag, const char *role)
{
	tuser_active(srv.port, dburl, u, tag, role);
}

/* An admin API call with an access token (NULL: none); body may be NULL.
 * The caller frees r. */
static int call(const char *method, const char *path, const char *bearer,
    const char *body, struct th_resp *r)
{
	return th_json_req(srv.port, method, path, bearer, body, r);
}

/* call() that expects a refusal and frees the response. */
static void call_refused(const char *method, const char *path,
    const char *bearer, const char *body, int status, const char *reason)
{
	struct th_resp r;

	(void)call(method, path, bearer, body, &r);
	th_expect_reason(&r, status, reason);
	th_free(&r);
}

/* call() that expects status and frees the response. */
static void call_expect(const char *method, const char *path,
    const char *bearer, int status)
{
	struct th_resp r;

	cr_expect(eq(int, call(method, path, bearer, NULL, &r), status),
	    "%s %s: %s", method, path, r.body);
	th_free(&r);
}

/* call() that asserts status and returns the parsed body (the caller
 * puts it). */
static struct json_object *call_json(const char *method, const char *path,
    const char *bearer, const char *body, int status)
{
	struct th_resp r;
	struct json_object *o;

	cr_assert(eq(int, call(method, path, bearer, body, &r), status),
	    "%s %s: %s", method, path, r.body);
	o = th_body(&r);
	th_free(&r);
	return o;
}

/* A login of u that is refused with 403 and reason. */
static void login_refused(struct tuser *u, const char *reason)
{
	struct th_resp r;

	cr_assert(eq(int, login(u, &r), 403), "%s", r.body);
	th_expect_reason(&r, 403, reason);
	th_free(&r);
}

static void user_path(char *out, size_t n, const char *id, const char *what)
{
	(void)snprintf(out, n, "/admin/users/%s/%s", id, what);
}

/* GET /api/me with the access token: the status. */
static int me(const char *bearer, struct th_resp *keep)
{
	struct th_resp r;
	int st = call("GET", "/api/me", bearer, NULL, &r);

	if (keep != NULL)
		*keep = r;
	else
		th_free(&r);
	return st;
}

/* The members of array key of o. */
static size_t array_len(struct json_object *o, const char *key)
{
	struct json_object *a;

	cr_assert(json_object_object_get_ex(o, key, &a) &&
	        json_object_is_type(a, json_type_array),
	    "no array \"%s\"", key);
	return json_object_array_length(a);
}

static struct json_object *array_at(struct json_object *o, const char *key,
    size_t i)
{
	struct json_object *a;

	cr_assert(json_object_object_get_ex(o, key, &a));
	return json_object_array_get_idx(a, i);
}

/* ------------------------------------------------------------ users */

Test(admin, lists_users_by_status_newest_first_in_pages)
{
	struct tuser adm, u[3];
	struct json_object *o;

	start(NULL);
	logged_in(&adm, "adm", "admin");
	for (int i = 0; i < 3; i++)
		register_user(&u[i], "pend");

	o = call_json("GET", "/admin/users?status=pending", adm.access, NULL,
	    200);
	cr_assert(eq(sz, array_len(o, "users"), 3));
	/* newest first */
	for (int i = 0; i < 3; i++) {
		struct json_object *e = array_at(o, "users", (size_t)i);

		cr_expect(eq(str, (char *)th_str(e, "id"), u[2 - i].id));
		cr_expect(eq(str, (char *)th_str(e, "status"), "pending"));
		cr_expect(eq(str, (char *)th_str(e, "role"), "user"));
		cr_expect(eq(str, (char *)th_str(e, "email"), u[2 - i].email));
	}
	cr_expect(eq(str, (char *)th_str(o, "next_offset"), "(absent)"));
	json_object_put(o);

	o = call_json("GET", "/admin/users?status=pending&limit=2", adm.access,
	    NULL, 200);
	cr_expect(eq(sz, array_len(o, "users"), 2));
	cr_expect(eq(str, (char *)th_str(o, "next_offset"), "2"));
	json_object_put(o);
	o = call_json("GET", "/admin/users?status=pending&limit=2&offset=2",
	    adm.access, NULL, 200);
	cr_assert(eq(sz, array_len(o, "users"), 1));
	cr_expect(
	    eq(str, (char *)th_str(array_at(o, "users", 0), "id"), u[0].id));
	json_object_put(o);

	/* every status: the admin too */
	o = call_json("GET", "/admin/users", adm.access, NULL, 200);
	cr_expect(eq(sz, array_len(o, "users"), 4));
	cr_expect(eq(str, (char *)th_str(o, "limit"), "50"));
	json_object_put(o);

	call_refused("GET", "/admin/users?status=gone", adm.access, NULL, 400,
	    "invalid_status");
	call_refused("GET", "/admin/users?limit=0", adm.access, NULL, 400,
	    "invalid_limit");
	call_refused("GET", "/admin/users?limit=201", adm.access, NULL, 400,
	    "invalid_limit");
	call_refused("GET", "/admin/users?limit=x", adm.access, NULL, 400,
	    "invalid_limit");
	call_refused("GET", "/admin/users?offset=-1", adm.access, NULL, 400,
	    "invalid_offset");
	call_refused("GET", "/admin/users?limit=1&limit=2", adm.access, NULL,
	    400, "invalid_limit");
}

Test(admin, approving_a_pending_user_lets_them_log_in)
{
	struct tuser adm, u;
	struct json_object *o;
	char path[160];

	start(NULL);
	logged_in(&adm, "adm", "admin");
	register_user(&u, "pend");
	login_refused(&u, "account_pending");

	user_path(path, sizeof(path), u.id, "approve");
	o = call_json("POST", path, adm.access, NULL, 200);
	cr_expect(eq(str, (char *)th_str(o, "status"), "active"));
	cr_expect(eq(str, (char *)th_str(o, "id"), u.id));
	json_object_put(o);
	cr_expect(eq(int, login(&u, NULL), 200));
	cr_expect(
	    eq(i64, audit_rows("admin.user_approve", u.id, "success"), 1));
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM audit_log WHERE action = "
	            "'admin.user_approve' AND actor_id = $1",
	        adm.id, NULL),
	    1));

	/* only a pending account; unknown or malformed ids are 404 */
	call_refused("POST", path, adm.access, NULL, 409, "not_pending");
	cr_expect(
	    eq(i64, audit_rows("admin.user_approve", u.id, "failure"), 1));
	call_refused("POST",
	    "/admin/users/00000000-0000-4000-8000-000000000000/approve",
	    adm.access, NULL, 404, "unknown_user");
	call_refused("POST", "/admin/users/nope/approve", adm.access, NULL, 404,
	    "unknown_user");
	call_refused("POST", "/admin/users/nope/activate", adm.access, NULL,
	    404, "unknown_user");
}

Test(admin, suspending_refuses_the_users_token_and_sessions_at_once)
{
	struct tuser adm, u;
	struct th_resp r;
	struct json_object *o;
	char path[160], body[128];

	start(NULL);
	logged_in(&adm, "adm", "admin");
	logged_in(&u, "victim", "user");
	cr_assert(eq(int, me(u.access, NULL), 200));

	user_path(path, sizeof(path), u.id, "suspend");
	o = call_json("POST", path, adm.access, NULL, 200);
	cr_expect(eq(str, (char *)th_str(o, "status"), "suspended"));
	cr_expect(eq(str, (char *)th_str(o, "sessions_revoked"), "1"));
	json_object_put(o);

	/* every worker refuses the token now (no in-process cache here) */
	for (int i = 0; i < 6; i++)
		call_refused("GET", "/api/me", u.access, NULL, 403,
		    "account_suspended");
	login_refused(&u, "account_suspended");
	(void)snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}",
	    u.refresh);
	(void)call("POST", "/api/auth/refresh", NULL, body, &r);
	cr_expect(r.status == 401 || r.status == 403, "refresh gave %d: %s",
	    r.status, r.body);
	th_free(&r);
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM refresh_tokens WHERE user_id = $1 "
	            "AND revoked_at IS NULL",
	        u.id, NULL),
	    0));
	cr_expect(
	    eq(i64, audit_rows("admin.user_suspend", u.id, "success"), 1));

	/* suspending again is fine; activating brings the account back */
	call_expect("POST", path, adm.access, 200);
	user_path(path, sizeof(path), u.id, "activate");
	o = call_json("POST", path, adm.access, NULL, 200);
	cr_expect(eq(str, (char *)th_str(o, "status"), "active"));
	json_object_put(o);
	cr_expect(eq(int, me(u.access, NULL), 200));
	cr_expect(eq(int, login(&u, NULL), 200));
	call_refused("POST", path, adm.access, NULL, 409, "not_suspended");
	cr_expect(
	    eq(i64, audit_rows("admin.user_activate", u.id, "success"), 1));
}

Test(admin, who_may_suspend_whom)
{
	struct tuser adm, other, sup;
	char path[160];

	start(NULL);
	logged_in(&adm, "adm", "admin");
	logged_in(&other, "adm2", "admin");
	logged_in(&sup, "sup", "super_admin");

	user_path(path, sizeof(path), adm.id, "suspend");
	call_refused("POST", path, adm.access, NULL, 403,
	    "cannot_suspend_self");
	user_path(path, sizeof(path), sup.id, "suspend");
	call_refused("POST", path, adm.access, NULL, 403,
	    "super_admin_protected");
	call_refused("POST", path, sup.access, NULL, 403,
	    "cannot_suspend_self");
	cr_expect(
	    eq(i64, audit_rows("admin.user_suspend", sup.id, "denied"), 2));
	/* an admin may suspend another admin; a super_admin anyone */
	user_path(path, sizeof(path), other.id, "suspend");
	call_expect("POST", path, adm.access, 200);
	user_path(path, sizeof(path), adm.id, "suspend");
	call_expect("POST", path, sup.access, 200);
	/* and a suspended admin is no admin any more */
	call_refused("GET", "/admin/users", adm.access, NULL, 403,
	    "account_suspended");
}

Test(admin, the_api_is_for_admins_only)
{
	static const char *const routes[][2] = {
	    {"GET", "/admin/users"},
	    {"GET", "/admin/audit"},
	    {"POST",
	        "/admin/users/00000000-0000-4000-8000-000000000000/approve"},
	    {"POST",
	        "/admin/users/00000000-0000-4000-8000-000000000000/suspend"},
	    {"POST",
	        "/admin/users/00000000-0000-4000-8000-000000000000/activate"},
	    {"DELETE", "/admin/keys/00000000-0000-4000-8000-000000000000"},
	};
	struct tuser u;
	struct th_resp r;

	start(NULL);
	logged_in(&u, "plain", "user");
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		call_refused(routes[i][0], routes[i][1], u.access, NULL, 403,
		    "admin_required");
		call_refused(routes[i][0], routes[i][1], NULL, NULL, 401,
		    "missing_credentials");
		call_refused(routes[i][0], routes[i][1], "not-a-token", NULL,
		    401, "malformed_token");
	}
	call_refused("POST",
	    "/admin/users/00000000-0000-4000-8000-000000000000/keys", u.access,
	    "{\"tier\":\"starter\"}", 403, "admin_required");
	/* a user's own trial key is no way in either */
	cr_assert(eq(int, call("POST", "/api/keys", u.access, NULL, &r), 201));
	{
		struct json_object *o = th_body(&r);
		char field[128];
		const char *h[2] = {field, NULL};
		struct th_resp k;

		(void)snprintf(field, sizeof(field), "X-API-Key: %s",
		    th_str(o, "key"));
		(void)th_req(srv.port, "GET", "/admin/users", h, NULL, &k);
		th_expect_reason(&k, 403, "admin_required");
		th_free(&k);
		json_object_put(o);
	}
	th_free(&r);
}

/* ------------------------------------------------------------ keys */

Test(admin, provisions_and_revokes_a_users_key)
{
	struct tuser adm, u;
	struct th_resp r;
	struct json_object *o;
	char path[160], key[64], kid[64], field[128];
	const char *h[2] = {field, NULL};

	start(NULL);
	logged_in(&adm, "adm", "admin");
	logged_in(&u, "cust", "user");

	user_path(path, sizeof(path), u.id, "keys");
	o = call_json("POST", path, adm.access,
	    "{\"name\":\"ci\",\"tier\":\"starter\"}", 201);
	(void)snprintf(key, sizeof(key), "%s", th_str(o, "key"));
	(void)snprintf(kid, sizeof(kid), "%s", th_str(o, "id"));
	cr_expect(eq(int, strncmp(key, "pk_live_", 8), 0), "%s", key);
	cr_expect(eq(str, (char *)th_str(o, "tier"), "starter"));
	cr_expect(eq(str, (char *)th_str(o, "name"), "ci"));
	json_object_put(o);

	/* the key is the user's, not the admin's */
	(void)snprintf(field, sizeof(field), "X-API-Key: %s", key);
	cr_assert(eq(int, th_req(srv.port, "GET", "/api/me", h, NULL, &r), 200),
	    "%s", r.body);
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "id"), u.id));
	cr_expect(eq(str, (char *)th_str(o, "tier"), "starter"));
	json_object_put(o);
	th_free(&r);
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM audit_log WHERE action = "
	            "'admin.key_provision' AND outcome = 'success' AND "
	            "user_id = $1 AND actor_id = $2",
	        u.id, adm.id),
	    1));

	(void)snprintf(path, sizeof(path), "/admin/keys/%s", kid);
	cr_assert(eq(int, call("DELETE", path, adm.access, NULL, &r), 200),
	    "%s", r.body);
	th_free(&r);
	(void)th_req(srv.port, "GET", "/api/me", h, NULL, &r);
	th_expect_reason(&r, 401, "key_revoked");
	th_free(&r);
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM audit_log WHERE action = "
	            "'admin.key_revoke' AND user_id = $1 AND actor_id = $2",
	        u.id, adm.id),
	    1));

	/* refusals */
	call_refused("DELETE",
	    "/admin/keys/00000000-0000-4000-8000-00000000000a", adm.access,
	    NULL, 404, "unknown_key");
	call_refused("DELETE", "/admin/keys/x", adm.access, NULL, 404,
	    "unknown_key");
	user_path(path, sizeof(path), u.id, "keys");
	call_refused("POST", path, adm.access, "{\"tier\":\"gold\"}", 400,
	    "invalid_tier");
	call_refused("POST", path, adm.access, "{\"name\":\"no tier\"}", 400,
	    "invalid_tier");
	call_refused("POST", path, adm.access,
	    "{\"name\":7,\"tier\":\"trial\"}", 400, "invalid_name");
	call_refused("POST",
	    "/admin/users/00000000-0000-4000-8000-00000000000b/keys",
	    adm.access, "{\"tier\":\"starter\"}", 404, "unknown_user");
}

/* ------------------------------------------------------------ audit */

Test(admin, audit_lists_newest_first_with_filters_and_pages)
{
	struct tuser adm, u;
	struct json_object *o;
	char path[256], before[32];
	long long want, seen = 0, last = -1;

	start(NULL);
	logged_in(&adm, "adm", "admin");
	logged_in(&u, "aud", "user");
	for (int i = 0; i < 4; i++)
		cr_assert(eq(int, login(&u, NULL), 200));
	want = audit_rows("auth.login", u.id, "success");
	cr_assert(eq(i64, want, 5));

	/* one row a page, following next_before to the end */
	before[0] = '\0';
	for (;;) {
		struct json_object *e;

		(void)snprintf(path, sizeof(path),
		    "/admin/audit?user_id=%s&action=auth.login&limit=1%s%s",
		    u.id, before[0] != '\0' ? "&before=" : "", before);
		o = call_json("GET", path, adm.access, NULL, 200);
		if (array_len(o, "entries") == 0) {
			json_object_put(o);
			break;
		}
		cr_assert(eq(sz, array_len(o, "entries"), 1));
		e = array_at(o, "entries", 0);
		cr_expect(eq(str, (char *)th_str(e, "action"), "auth.login"));
		cr_expect(eq(str, (char *)th_str(e, "user_id"), u.id));
		cr_expect(eq(str, (char *)th_str(e, "outcome"), "success"));
		cr_expect(
		    eq(str, (char *)th_str(e, "client_addr"), "127.0.0.1"));
		cr_expect(
		    eq(str, (char *)th_str(e, "user_agent"), "pacer-tests/1"));
		{
			struct json_object *d;

			cr_assert(json_object_object_get_ex(e, "details", &d) &&
			    json_object_is_type(d, json_type_object));
			cr_expect(eq(str, (char *)th_str(d, "email"), u.email));
		}
		/* newest first: the ids go down */
		{
			long long id = strtoll(th_str(e, "id"), NULL, 10);

			cr_expect(last < 0 || id < last, "%lld after %lld", id,
			    last);
			last = id;
		}
		seen++;
		(void)snprintf(before, sizeof(before), "%s",
		    th_str(o, "next_before"));
		json_object_put(o);
		cr_assert(seen <= want);
	}
	cr_expect(eq(i64, seen, want));

	/* by user only: the registration is there too, nothing of others */
	(void)snprintf(path, sizeof(path), "/admin/audit?user_id=%s", u.id);
	o = call_json("GET", path, adm.access, NULL, 200);
	cr_expect(eq(sz, array_len(o, "entries"),
	    (size_t)sql_int("SELECT count(*) FROM audit_log WHERE user_id = $1",
	        u.id, NULL)));
	for (size_t i = 0; i < array_len(o, "entries"); i++)
		cr_expect(eq(str,
		    (char *)th_str(array_at(o, "entries", i), "user_id"),
		    u.id));
	cr_expect(eq(str, (char *)th_str(o, "next_before"), "(absent)"));
	json_object_put(o);

	call_refused("GET", "/admin/audit?user_id=123", adm.access, NULL, 400,
	    "invalid_user_id");
	call_refused("GET", "/admin/audit?action=Auth.login", adm.access, NULL,
	    400, "invalid_action");
	call_refused("GET", "/admin/audit?action=a%20b", adm.access, NULL, 400,
	    "invalid_action");
	call_refused("GET", "/admin/audit?before=0", adm.access, NULL, 400,
	    "invalid_before");
	call_refused("GET", "/admin/audit?limit=500", adm.access, NULL, 400,
	    "invalid_limit");
}

/* ------------------------------------------------------------ setup */

static int setup_call(const char *email, const char *password,
    struct th_resp *keep)
{
	char body[512];
	struct th_resp r;
	int st;

	(void)snprintf(body, sizeof(body),
	    "{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
	st = call("POST", "/admin/setup", NULL, body, &r);
	if (keep != NULL)
		*keep = r;
	else
		th_free(&r);
	return st;
}

/* A set-up call refused with status and reason. */
static void setup_refused(const char *email, const char *password, int status,
    const char *reason)
{
	struct th_resp r;

	(void)setup_call(email, password, &r);
	th_expect_reason(&r, status, reason);
	th_free(&r);
}

Test(admin, setup_makes_the_first_super_admin_once)
{
	struct tuser first, taken;
	struct th_resp r;
	struct json_object *o;

	start(NULL);
	register_user(&taken, "taken");
	/* an email in use leaves the set-up open */
	setup_refused(taken.email, "long enough pw", 409, "email_taken");
	setup_refused("not-an-email", "long enough pw", 400, "invalid_email");
	setup_refused("boss@example.org", "short", 400, "invalid_password");

	new_user(&first, "boss");
	cr_assert(eq(int, setup_call(first.email, first.password, &r), 201),
	    "%s", r.body);
	o = th_body(&r);
	cr_expect(eq(str, (char *)th_str(o, "role"), "super_admin"));
	cr_expect(eq(str, (char *)th_str(o, "status"), "active"));
	(void)snprintf(first.id, sizeof(first.id), "%s", th_str(o, "id"));
	json_object_put(o);
	th_free(&r);
	cr_assert(eq(int, login(&first, NULL), 200));
	call_expect("GET", "/admin/users", first.access, 200);

	setup_refused("second@example.org", "long enough pw", 409,
	    "setup_closed");
	cr_expect(eq(i64, audit_rows("admin.setup", first.id, "success"), 1));
	cr_expect(eq(i64, audit_rows("admin.setup", NULL, "denied"), 1));
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM users WHERE role <> 'user'", NULL,
	        NULL),
	    1));
	tsecret_keep(first.password);
	tsecret_expect_log_clean(&srv);
}

Test(admin, setup_is_closed_once_any_admin_exists)
{
	struct tuser adm;

	start(NULL);
	logged_in(&adm, "adm", "admin");
	setup_refused("late@example.org", "long enough pw", 409,
	    "setup_closed");
}

static size_t discard(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/* POST /admin/setup RACERS times at once, over as many connections. */
#define RACERS 6
Test(admin, of_racing_setups_exactly_one_wins)
{
	CURLM *m = curl_multi_init();
	CURL *e[RACERS];
	struct curl_slist *hdrs = NULL;
	char url[128], body[RACERS][160];
	int running_n = 1, won = 0, closed = 0;

	start("start_workers = 4\nmax_spare_workers = 6\n");
	cr_assert(m != NULL);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d/admin/setup",
	    srv.port);
	for (int i = 0; i < RACERS; i++) {
		(void)snprintf(body[i], sizeof(body[i]),
		    "{\"email\":\"racer%d@example.org\",\"password\":\"racer "
		    "password %d\"}",
		    i, i);
		e[i] = curl_easy_init();
		cr_assert(e[i] != NULL);
		(void)curl_easy_setopt(e[i], CURLOPT_URL, url);
		(void)curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, hdrs);
		(void)curl_easy_setopt(e[i], CURLOPT_POSTFIELDS, body[i]);
		(void)curl_easy_setopt(e[i], CURLOPT_TIMEOUT_MS, 20000L);
		(void)curl_easy_setopt(e[i], CURLOPT_NOSIGNAL, 1L);
		(void)curl_easy_setopt(e[i], CURLOPT_FORBID_REUSE, 1L);
		/* only the status counts */
		(void)curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard);
		cr_assert(eq(int, curl_multi_add_handle(m, e[i]), CURLM_OK));
	}
	while (running_n > 0) {
		cr_assert(eq(int, curl_multi_perform(m, &running_n), CURLM_OK));
		if (running_n > 0)
			cr_assert(eq(int,
			    curl_multi_poll(m, NULL, 0, 500, NULL), CURLM_OK));
	}
	for (int i = 0; i < RACERS; i++) {
		long st = 0;

		(void)curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &st);
		won += st == 201;
		closed += st == 409;
		(void)curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	cr_expect(eq(int, won, 1));
	cr_expect(eq(int, closed, RACERS - 1));
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM users WHERE role = 'super_admin'",
	        NULL, NULL),
	    1));
}

/* ------------------------------------------------------------ health */

Test(admin, health_needs_the_allow_list_or_an_admin)
{
	struct tuser adm, u;

	start("admin_allow = ''\n");
	logged_in(&adm, "adm", "admin");
	logged_in(&u, "plain", "user");
	call_expect("GET", "/admin/health", NULL, 403);
	call_expect("GET", "/admin/health", u.access, 403);
	call_expect("GET", "/admin/health", adm.access, 200);
	call_refused("GET", "/admin/health", "bogus", NULL, 401,
	    "malformed_token");
}

Test(admin, health_serves_the_allow_list_without_a_credential)
{
	start(NULL); /* admin_allow: loopback */
	call_expect("GET", "/admin/health", NULL, 200);
	/* a credential, when sent, must still be a valid one */
	call_refused("GET", "/admin/health", "bogus", NULL, 401,
	    "malformed_token");
}

/* ------------------------------------------------------------ pacerctl */

/* Run pacerctl -f <the server's config> with args (NULL-terminated, at
 * most 8). */
static int ctl(struct tu_run *r, const char *const *args)
{
	char *argv[12] = {NULL, "-f", srv.conf};
	size_t n = 3;

	argv[0] = tu_buildpath("master/pacerctl");
	for (size_t i = 0; args[i] != NULL && n < 11; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	cr_assert(eq(int, tu_run(r, argv, NULL), 0));
	free(argv[0]);
	return r->status;
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* The value after "password: " in out. */
static void printed_password(const char *out, char *pw, size_t n)
{
	const char *p = strstr(out, "\npassword: ");

	cr_assert(p != NULL, "no password in:\n%s", out);
	p += strlen("\npassword: ");
	(void)snprintf(pw, n, "%.*s", (int)strcspn(p, "\n"), p);
}

Test(admin_ctl, admin_create_prints_a_password_that_logs_in)
{
	struct tuser a;
	struct tu_run r;
	struct json_object *o;
	struct th_resp h;

	start(NULL);
	new_user(&a, "ops");
	{
		const char *args[] = {"admin", "create", "--email", a.email,
		    "--role", "super_admin", NULL};

		cr_assert(eq(int, ctl(&r, args), 0), "%s", r.err);
	}
	TU_EXPECT_IN(r.out, a.email);
	printed_password(r.out, a.password, sizeof(a.password));
	cr_expect(eq(sz, strlen(a.password), 20));
	tu_run_free(&r);
	cr_assert(eq(int, login(&a, &h), 200), "%s", h.body);
	o = th_body(&h);
	cr_expect(
	    eq(str, (char *)th_str(json_object_object_get(o, "user"), "role"),
	        "super_admin"));
	json_object_put(o);
	th_free(&h);
	call_expect("GET", "/admin/users", a.access, 200);
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM audit_log WHERE action = "
	            "'admin.create' AND outcome = 'success' AND actor_id IS "
	            "NULL AND details->>'via' = 'pacerctl' AND user_id = "
	            "(SELECT id FROM users WHERE email = $1)",
	        a.email, NULL),
	    1));
	/* the hash is stored, never the password */
	cr_expect(eq(i64,
	    sql_int("SELECT count(*) FROM users WHERE password_hash LIKE "
	            "'$scrypt$%' AND email = $1",
	        a.email, NULL),
	    1));

	/* the same email again: refused, audited */
	{
		const char *args[] = {"admin", "create", "--email", a.email,
		    NULL};

		cr_expect(eq(int, ctl(&r, args), 1));
		TU_EXPECT_IN(r.err, "exists");
		cr_expect(eq(str, r.out, ""));
		tu_run_free(&r);
	}
	cr_expect(eq(i64, audit_rows("admin.create", NULL, "failure"), 1));
	/* /admin/setup is closed now */
	setup_refused("late@example.org", "long enough pw", 409,
	    "setup_closed");
	tsecret_keep(a.password);
	tsecret_expect_log_clean(&srv);
}

Test(admin_ctl, usage_errors_exit_2)
{
	static const char *const cases[][6] = {
	    {"admin", NULL},
	    {"admin", "create", NULL},
	    {"admin", "create", "--email", NULL},
	    {"admin", "create", "--email", "nope", NULL},
	    {"admin", "create", "--email", "a@b.org", "--role", "root"},
	    {"admin", "delete", "--email", "a@b.org", NULL},
	    {"jwt", NULL},
	    {"jwt", "spin", NULL},
	    {"audit", "--limit", "0", NULL},
	    {"audit", "--limit", "x", NULL},
	    {"audit", "--user", "nobody", NULL},
	    {"audit", "--action", "Bad", NULL},
	    {"audit", "extra", NULL},
	};
	struct tu_run r;

	/* no server needed: the arguments are checked first */
	ts_init(&srv, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[7] = {NULL};

		for (size_t k = 0; k < 6 && cases[i][k] != NULL; k++)
			args[k] = cases[i][k];
		cr_expect(eq(int, ctl(&r, args), 2), "%s %s: %s", args[0],
		    args[1] != NULL ? args[1] : "", r.err);
		cr_expect(eq(str, r.out, ""));
		tu_run_free(&r);
	}
}

/* The kid in an access token's header. */
static void token_kid(const char *tok, char *kid, size_t n)
{
	unsigned char head[512];
	size_t len = strcspn(tok, ".");
	ssize_t got = secret_b64url_decode(tok, len, head, sizeof(head) - 1);
	struct json_object *o;

	cr_assert(got > 0, "a token header that does not decode");
	head[got] = '\0';
	o = json_tokener_parse((const char *)head);
	cr_assert(o != NULL);
	(void)snprintf(kid, n, "%s", th_str(o, "kid"));
	json_object_put(o);
}

Test(admin_ctl, jwt_rotate_keeps_old_tokens_and_signs_with_the_new_key)
{
	struct tuser u;
	struct tu_run r;
	char old_kid[64], new_kid[64], kid[64];
	const char *rotate[] = {"jwt", "rotate", NULL},
	           *list[] = {"jwt", "list", NULL};
	const char *p;
	time_t deadline;

	start(NULL);
	logged_in(&u, "rot", "user");
	token_kid(u.access, old_kid, sizeof(old_kid));

	/* another master key than the server's: refused, nothing changed */
	{
		char other[2200];

		(void)snprintf(other, sizeof(other),
		    "%smaster_key = "
		    "'b3RoZXIgb3RoZXIgb3RoZXIgb3RoZXIgb3RoZXIgMzI='\n",
		    conf);
		ts_rewrite(&srv, other);
		cr_expect(eq(int, ctl(&r, rotate), 1));
		TU_EXPECT_IN(r.err, "does not open the current signing key");
		tu_run_free(&r);
		ts_rewrite(&srv, conf);
		cr_expect(eq(i64,
		    sql_int("SELECT count(*) FROM jwt_keys", NULL, NULL), 1));
	}

	cr_assert(eq(int, ctl(&r, rotate), 0), "%s", r.err);
	p = strstr(r.out, "new signing key ");
	cr_assert(p != NULL, "%s", r.out);
	p += strlen("new signing key ");
	(void)snprintf(new_kid, sizeof(new_kid), "%.*s", (int)strcspn(p, " "),
	    p);
	cr_expect(eq(sz, strlen(new_kid), 20));
	cr_expect(not(eq(str, new_kid, old_kid)));
	TU_EXPECT_IN(r.out, "retire at ");
	tu_run_free(&r);

	/* the token issued before still verifies */
	cr_expect(eq(int, me(u.access, NULL), 200));
	/* new tokens carry the new kid once the workers re-read the keys
	 * (every 30 s), and verify */
	deadline = time(NULL) + 40;
	do {
		cr_assert(eq(int, login(&u, NULL), 200));
		token_kid(u.access, kid, sizeof(kid));
		if (strcmp(kid, new_kid) != 0)
			ts_sleep_ms(1000);
	} while (strcmp(kid, new_kid) != 0 && time(NULL) < deadline);
	cr_expect(eq(str, kid, new_kid));
	cr_expect(eq(int, me(u.access, NULL), 200));

	cr_assert(eq(int, ctl(&r, list), 0), "%s", r.err);
	{
		const char *n = strstr(r.out, new_kid),
		           *o = strstr(r.out, old_kid);

		cr_assert(n != NULL && o != NULL, "%s", r.out);
		cr_expect(eq(int,
		              strncmp(n + strcspn(n, "\n") - 7, "signing", 7),
		              0),
		    "%s", r.out);
		cr_expect(strstr(o, "retires ") != NULL &&
		        strstr(o, "retires ") < o + strcspn(o, "\n"),
		    "%s", r.out);
	}
	cr_expect(strstr(r.out, "secret") == NULL);
	tu_run_free(&r);
}

Test(admin_ctl, audit_prints_the_newest_rows_filtered)
{
	struct tuser adm, u;
	struct tu_run r;
	char path[160];

	start(NULL);
	logged_in(&adm, "adm", "admin");
	register_user(&u, "pend");
	user_path(path, sizeof(path), u.id, "approve");
	json_object_put(call_json("POST", path, adm.access, NULL, 200));
	{
		const char *args[] = {"audit", "--limit", "1", NULL};

		cr_assert(eq(int, ctl(&r, args), 0), "%s", r.err);
		cr_expect(eq(sz, lines(r.out), 1), "%s", r.out);
		TU_EXPECT_IN(r.out, " admin.user_approve success user=");
		TU_EXPECT_IN(r.out, adm.id);
		TU_EXPECT_IN(r.out, "client=127.0.0.1");
		tu_run_free(&r);
	}
	{
		const char *args[] = {"audit", "--user", u.id, NULL};

		cr_assert(eq(int, ctl(&r, args), 0), "%s", r.err);
		/* newest first: the approval, then the registration */
		cr_expect(eq(sz, tu_count_lines_with(r.out, u.id), 2), "%s",
		    r.out);
		cr_expect(strstr(r.out, "admin.user_approve") <
		        strstr(r.out, "user.register"),
		    "%s", r.out);
		tu_run_free(&r);
	}
	{
		const char *args[] = {"audit", "--action=auth.login", NULL};

		cr_assert(eq(int, ctl(&r, args), 0), "%s", r.err);
		cr_expect(eq(sz, tu_count_lines_with(r.out, " auth.login "),
		              tu_count_lines_with(r.out, "Z ")),
		    "%s", r.out);
		cr_expect(eq(sz, tu_count_lines_with(r.out, " auth.login "),
		    (size_t)audit_rows("auth.login", NULL, "success") +
		        (size_t)audit_rows("auth.login", NULL, "failure") +
		        (size_t)audit_rows("auth.login", NULL, "denied")));
		tu_run_free(&r);
	}
}
