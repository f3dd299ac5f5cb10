/*
 * tdb.c - the tests' SQL; see tdb.h.
 */
#include "tdb.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tserver.h"

const char *tdb_url(void)
{
	return ts_env("PACER_TEST_DATABASE_URL");
}

char *tdb_value(const char *url, const char *q, const char *p1, const char *p2)
{
	PGconn *c = PQconnectdb(url);
	const char *params[2] = {p1, p2};
	int n = strstr(q, "$2") != NULL ? 2 : strstr(q, "$1") != NULL ? 1 : 0;
	PGresult *r;
	char *v;

	cr_assert(eq(int, PQstatus(c), CONNECTION_OK), "%s", PQerrorMessage(c));
	r = PQexecParams(c, q, n, NULL, params, NULL, NULL, 0);
	cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK ||
	        PQresultStatus(r) == PGRES_COMMAND_OK,
	    "%s: %s", q, PQerrorMessage(c));
	v = strdup(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
	            !PQgetisnull(r, 0, 0)
	        ? PQgetvalue(r, 0, 0)
	        : "");
	cr_assert(v != NULL);
	PQclear(r);
	PQfinish(c);
	return v;
}

long long tdb_int(const char *url, const char *q, const char *p1,
    const char *p2)
{
	char *v = tdb_value(url, q, p1, p2);
	long long n = strtoll(v, NULL, 10);

	free(v);
	return n;
}

long long tdb_audit_count(const char *url, const char *action,
    const char *user_id, const char *outcome)
{
	char q[256];

	(void)snprintf(q, sizeof(q),
	    "SELECT count(*) FROM audit_log WHERE action = $1 AND "
	    "($2::uuid IS NULL OR user_id = $2) AND outcome = '%s'",
	    outcome);
	return tdb_int(url, q, action, user_id);
}

/* A statement on the harness's own database (CREATE/DROP DATABASE may not
 * run in the transaction PQexecParams opens). */
static void harness_exec(const char *q)
{
	PGconn *c = PQconnectdb(tdb_url());
	PGresult *r;

	cr_assert(eq(int, PQstatus(c), CONNECTION_OK), "%s", PQerrorMessage(c));
	r = PQexec(c, q);
	cr_assert(eq(int, PQresultStatus(r), PGRES_COMMAND_OK), "%s: %s", q,
	    PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

void tdb_create(const char *prefix, char *name, char *url)
{
	static unsigned seq;
	const char *base = tdb_url();
	const char *slash = strrchr(base, '/');
	char q[TDB_NAME_MAX + 32];
	int n;

	n = snprintf(name, TDB_NAME_MAX, "%s_%ld_%u", prefix, (long)getpid(),
	    seq++);
	cr_assert(n > 0 && n < TDB_NAME_MAX);
	cr_assert(slash != NULL, "no database in %s", base);
	n = snprintf(url, TDB_URL_MAX, "%.*s/%s", (int)(slash - base), base,
	    name);
	cr_assert(n > 0 && n < TDB_URL_MAX);
	(void)snprintf(q, sizeof(q), "CREATE DATABASE %s", name);
	harness_exec(q);
}

void tdb_drop(const char *name)
{
	char q[TDB_NAME_MAX + 48];

	(void)snprintf(q, sizeof(q), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    name);
	harness_exec(q);
}
