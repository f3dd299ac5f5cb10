/*
 * test_services.c - the harness really provides PostgreSQL 15 and Redis:
 * the servers t/harness/services.sh started for this run answer, keep
 * data, and their URLs pass pacer's own configuration checks. Later
 * modules' integration tests build on these servers.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_keys.h"
#include "tserver.h"

Test(services, postgresql_is_a_real_version_15_server)
{
	PGconn *c = PQconnectdb(ts_env("PACER_TEST_DATABASE_URL"));
	PGresult *r;
	int v;

	cr_assert(eq(int, PQstatus(c), CONNECTION_OK), "connect: %s",
	    PQerrorMessage(c));
	v = PQserverVersion(c);
	cr_assert(v >= 150000 && v < 160000, "server version %d, expected 15.x",
	    v);
	r = PQexec(c,
	    "CREATE TEMP TABLE t (id int PRIMARY KEY, name text NOT NULL)");
	cr_assert(eq(int, PQresultStatus(r), PGRES_COMMAND_OK), "%s",
	    PQerrorMessage(c));
	PQclear(r);
	{
		const char *params[2] = {"7", "tempo run"};

		r = PQexecParams(c, "INSERT INTO t VALUES ($1::int, $2)", 2,
		    NULL, params, NULL, NULL, 0);
		cr_assert(eq(int, PQresultStatus(r), PGRES_COMMAND_OK), "%s",
		    PQerrorMessage(c));
		PQclear(r);
		/* The constraint is real: a duplicate key is refused. */
		r = PQexecParams(c, "INSERT INTO t VALUES ($1::int, $2)", 2,
		    NULL, params, NULL, NULL, 0);
		cr_assert(eq(int, PQresultStatus(r), PGRES_FATAL_ERROR));
		cr_assert(
		    eq(str, PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505"));
		PQclear(r);
	}
	r = PQexec(c, "SELECT name FROM t WHERE id = 7");
	cr_assert(eq(int, PQntuples(r), 1));
	cr_assert(eq(str, PQgetvalue(r, 0, 0), "tempo run"));
	PQclear(r);
	PQfinish(c);
}

Test(services, redis_is_a_real_server_with_expiry)
{
	const char *url = ts_env("PACER_TEST_REDIS_URL");
	const char *port = ts_env("PACER_TEST_REDIS_PORT");
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", atoi(port), tv);
	redisReply *r;

	cr_assert(not(eq(ptr, strstr(url, port), NULL)),
	    "%s does not name port %s", url, port);
	cr_assert(c != NULL && c->err == 0, "connect: %s",
	    c ? c->errstr : "no memory");
	r = redisCommand(c, "SET %s %s EX %d", "pacer:test:key", "value", 100);
	cr_assert(r != NULL && r->type == REDIS_REPLY_STATUS, "SET failed");
	freeReplyObject(r);
	r = redisCommand(c, "TTL %s", "pacer:test:key");
	cr_assert(r != NULL && r->type == REDIS_REPLY_INTEGER);
	cr_assert(r->integer > 0 && r->integer <= 100, "TTL %lld", r->integer);
	freeReplyObject(r);
	r = redisCommand(c, "GET %s", "pacer:test:key");
	cr_assert(r != NULL && r->type == REDIS_REPLY_STRING);
	cr_assert(eq(str, r->str, "value"));
	freeReplyObject(r);
	/* No persistence: the harness runs Redis with saving off. */
	r = redisCommand(c, "CONFIG GET %s", "save");
	cr_assert(
	    r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
	cr_assert(eq(str, r->element[1]->str, ""));
	freeReplyObject(r);
	redisFree(c);
}

Test(services, harness_urls_pass_the_config_checks)
{
	char err[256];

	cr_assert(eq(int,
	              cfg_keys_check_pg_url(ts_env("PACER_TEST_DATABASE_URL"),
	                  err, sizeof(err)),
	              0),
	    "%s", err);
	cr_assert(eq(int,
	              cfg_keys_check_redis_url(ts_env("PACER_TEST_REDIS_URL"),
	                  err, sizeof(err)),
	              0),
	    "%s", err);
}
