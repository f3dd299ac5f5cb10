/*
 * tuser.c - test accounts; see tuser.h.
 */
#include "tuser.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "tdb.h"

void tuser_new(struct tuser *u, const char *tag)
{
	char rnd[13];

	memset(u, 0, sizeof(*u));
	cr_assert(eq(int, secret_random_base62(rnd, 12), 0));
	(void)snprintf(u->email, sizeof(u->email), "%s.%s@example.org", tag,
	    rnd);
	cr_assert(eq(int, secret_random_base62(rnd, 12), 0));
	(void)snprintf(u->password, sizeof(u->password), "pw-%s-%s", tag, rnd);
}

/* {"email": u's, "password": password} */
static void credentials(const struct tuser *u, const char *password, char *body,
    size_t n)
{
	(void)snprintf(body, n, "{\"email\":\"%s\",\"password\":\"%s\"}",
	    u->email, password);
}

int tuser_register(int port, struct tuser *u, struct th_resp *r)
{
	char body[512];
	struct json_object *o;

	credentials(u, u->password, body, sizeof(body));
	if (th_json_req(port, "POST", "/api/auth/register", NULL, body, r) ==
	    201) {
		o = th_body(r);
		(void)snprintf(u->id, sizeof(u->id), "%s", th_str(o, "id"));
		json_object_put(o);
	}
	return r->status;
}

int tuser_login(int port, struct tuser *u, const char *password,
    struct th_resp *r)
{
	char body[512];
	struct json_object *o;

	credentials(u, password, body, sizeof(body));
	if (th_json_req(port, "POST", "/api/auth/login", NULL, body, r) ==
	    200) {
		o = th_body(r);
		(void)snprintf(u->access, sizeof(u->access), "%s",
		    th_str(o, "access_token"));
		(void)snprintf(u->refresh, sizeof(u->refresh), "%s",
		    th_str(o, "refresh_token"));
		json_object_put(o);
	}
	return r->status;
}

void tuser_active(int port, const char *dburl, struct tuser *u, const char *tag,
    const char *role)
{
	struct th_resp r;

	tuser_new(u, tag);
	cr_assert(eq(int, tuser_register(port, u, &r), 201), "%s", r.body);
	th_free(&r);
	free(tdb_value(dburl,
	    "UPDATE users SET status = 'active', role = coalesce($2, role) "
	    "WHERE id = $1",
	    u->id, role));
	cr_assert(eq(int, tuser_login(port, u, u->password, &r), 200), "%s",
	    r.body);
	th_free(&r);
}
