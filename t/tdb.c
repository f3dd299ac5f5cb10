/*
 * tdb.c - the tests' SQL; see tdb.h.
 */
#include "tdb.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

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
