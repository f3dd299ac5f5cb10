/*
 * db.h - a worker's PostgreSQL connections: the primary, and optionally a
 * read-only replica for read-only queries.
 *
 * Each worker opens its own connections after fork (libpq connections
 * must never cross a fork), with application_name "pacerd worker <slot>
 * gen <generation>", a statement_timeout, and connect_timeout as the
 * limit on opening one. Queries are the named rows of queries.h: each is
 * prepared once per connection, the first time it runs, and always runs
 * with parameters (PQsendQueryPrepared), never with text pasted into SQL.
 *
 * Never a hang: a connect waits at most database_connect_timeout, a
 * query at most statement_timeout plus a second (the server cancels it
 * first; past that the connection is taken for broken and dropped). While
 * the primary is down, db_exec answers DB_UNAVAILABLE at once, without
 * trying, until the next reconnect attempt is due; attempts start 100 ms
 * apart and the pause doubles up to database_retry_max. A connection that
 * breaks between queries (the server restarted) is re-opened once on the
 * spot before a query gives up, so a restart costs no request. The
 * worker's loop calls db_tick(), which notices a connection closed by the
 * server while idle and reconnects when an attempt is due, so service
 * resumes on its own without any request arriving. The worker never exits
 * because the database is away: the pool stays as it is.
 *
 * The slot's db_state shows the primary's state; every query's count,
 * errors and latency go to the scoreboard under the query's name, with
 * the data-layer counters (errors, reconnects, 503s).
 *
 * Ownership: struct db is owned by the worker that opened it (db_close).
 * Results (PGresult) belong to the caller (PQclear). Messages never hold
 * the connection string (it may hold a password).
 * Callers: worker processes only, one thread.
 */
#ifndef PACER_DB_H
#define PACER_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queries.h"
#include "sb.h"

struct db_opts {
	const char *url;      /* primary: URI or key=value (libpq) */
	const char *read_url; /* replica for read-only queries; NULL or "" */
	int64_t connect_timeout_ms;
	int64_t statement_timeout_ms; /* 0: none */
	int64_t retry_max_ms;         /* longest pause between attempts */
	const char *app_name;         /* application_name */
	struct sb *sb;                /* counters; NULL for none */
	uint32_t slot;                /* this worker's slot */
};

/* What db_exec gives back. */
enum db_rc {
	DB_OK = 0,          /* *res holds the result (tuples or command ok) */
	DB_UNAVAILABLE = 1, /* no connection: answer 503 + Retry-After */
	DB_ERROR = 2,       /* the server refused the query: *res holds the
	                       error (PQresultErrorField for SQLSTATE) */
};

struct db;

/* Set up the connections (the first attempt happens in db_tick or the
 * first query). Returns NULL only when out of memory. */
struct db *db_open(const struct db_opts *o);

/* Close the connections and free; *dbp becomes NULL. NULL-safe. */
void db_close(struct db **dbp);

/*
 * Run query q with its parameters (text format; NULL for SQL NULL;
 * queries_table[q].nparams of them). Read-only queries go to the
 * replica when one is configured and up, else to the primary. On DB_OK
 * and DB_ERROR *res is set (the caller PQclears it); on DB_UNAVAILABLE
 * *res is NULL.
 */
enum db_rc db_exec(struct db *db, enum query_id q, const char *const *params,
    PGresult **res);

/* Connect now (primary, then replica), each waiting at most
 * connect_timeout: the worker calls it once before it accepts clients. A
 * failure leaves the connection down with its first retry scheduled. */
void db_connect(struct db *db);

/* Periodic work from the worker's loop: notice a connection the server
 * closed, reconnect when an attempt is due. now_us: sb_clock_us(). */
void db_tick(struct db *db, uint64_t now_us);

/* Milliseconds until db_tick has something to do (-1: nothing). */
int db_next_timeout_ms(const struct db *db, uint64_t now_us);

/* The primary's state (SB_DB_*), and the replica's (SB_DB_NONE when no
 * replica is configured). */
enum sb_db_state db_state(const struct db *db);
enum sb_db_state db_read_state(const struct db *db);

/* Seconds a client should wait before retrying (the Retry-After of a
 * 503): until the next attempt, at least 1. */
unsigned db_retry_after_s(const struct db *db, uint64_t now_us);

/* The last connect or query failure of the primary, for /admin/health
 * and logs ("" when none); never holds the connection string. */
const char *db_last_error(const struct db *db);

/* The primary's server version (PQserverVersion), 0 when down. */
int db_server_version(const struct db *db);

/*
 * Notifications (LISTEN/NOTIFY) on the primary, for a handler that waits
 * for another worker: run Q_MCP_LISTEN (or another LISTEN query) first,
 * poll db_notify_fd() for input, then call db_notify_next() until it
 * gives 0. db_notify_fd is -1 while the primary is down.
 */
int db_notify_fd(const struct db *db);

/* Read what arrived and take the next notification on channel: 1 with
 * its payload in dst (n bytes, truncated), 0 when none is queued, -1
 * when the connection broke (the loop reconnects it later). */
int db_notify_next(struct db *db, const char *channel, char *dst, size_t n);

#endif /* PACER_DB_H */
