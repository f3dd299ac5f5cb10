/*
 * db.c - a worker's PostgreSQL connections; see db.h for the contract.
 *
 * Each connection (the primary, and the replica when configured) is a
 * small state machine:
 *
 *   NONE/DOWN --attempt due--> CONNECTING --ok--> UP --broken--> DOWN
 *                                  |--failed or timed out--> DOWN
 *
 * A background attempt (from db_tick) is driven without blocking: the
 * socket is polled with a zero timeout each tick and the worker's loop
 * wakes every DB_CONNECT_POLL_MS while one is in progress. Only a request
 * that finds its connection closed by the server while idle waits for a
 * connection, once, bounded by connect_timeout: the server most likely
 * restarted, and the request should not pay for it with a 503; and a
 * request that comes while a background attempt is under way waits for
 * that attempt's end (also bounded by connect_timeout).
 *
 * Queries run with libpq's asynchronous calls (PQsendPrepare,
 * PQsendQueryPrepared) and a poll() bounded by a deadline, so a silent
 * network can never hold a worker past statement_timeout + a second.
 */
#include "db.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

#define DB_RETRY_FIRST_US 100000ULL  /* first pause after a failure */
#define DB_CONNECT_POLL_MS 10        /* loop wake-up while connecting */
#define DB_QUERY_GRACE_US 1000000ULL /* past statement_timeout */
#define DB_NO_TIMEOUT_US 60000000ULL /* query limit without one */
#define DB_REMIND_US 60000000ULL     /* "still unreachable" log period */
#define DB_ERR_MAX 256

static_assert(Q_NQUERIES <= 64, "prepared statements fit a 64-bit mask");

struct dbconn {
	const char *role; /* "primary" or "replica", for logs */
	char *url;
	PGconn *pg;
	enum sb_db_state state; /* NONE, UP or DOWN (also while connecting) */
	bool connecting;
	PostgresPollingStatusType want; /* PQconnectPoll's last answer */
	uint64_t deadline_us;           /* of the attempt in progress */
	uint64_t prepared;              /* bit q: q prepared on pg */
	uint64_t next_try_us;
	uint64_t pause_us;
	uint64_t down_since_us;
	uint64_t reminded_us;
	unsigned failures; /* attempts failed since it was last up */
	bool ever_up;
	char last_error[DB_ERR_MAX];
};

struct db {
	struct dbconn primary;
	struct dbconn replica; /* url NULL: none */
	char *app_name;
	char options[64];
	int64_t connect_timeout_ms;
	int64_t statement_timeout_ms;
	uint64_t retry_max_us;
	struct sb *sb;
	uint32_t slot;
};

/* ------------------------------------------------------------- helpers */

static void count(struct db *db, enum sb_data_counter c)
{
	if (db->sb != NULL)
		(void)sb_data_count(db->sb, c);
}

/* libpq's message, one line, without its trailing newline. */
static void set_error(struct dbconn *c, const char *what, const char *msg)
{
	struct buf b;
	size_t i;

	buf_init_fixed(&b, c->last_error, sizeof(c->last_error));
	(void)buf_printf(&b, "%s%s%s", what, msg != NULL && *msg ? ": " : "",
	    msg != NULL ? msg : "");
	for (i = 0; c->last_error[i] != '\0'; i++)
		if (c->last_error[i] == '\n' || c->last_error[i] == '\r')
			c->last_error[i] = ' ';
	while (i > 0 && c->last_error[i - 1] == ' ')
		c->last_error[--i] = '\0';
}

static void publish_state(struct db *db)
{
	if (db->sb != NULL)
		(void)sb_slot_set_db_state(db->sb, db->slot, db->primary.state);
}

static void drop(struct dbconn *c)
{
	PQfinish(c->pg);
	c->pg = NULL;
	c->connecting = false;
	c->prepared = 0;
}

/* An attempt failed, or a live connection broke: DOWN, next attempt
 * after the current pause (doubling up to the maximum). */
static void went_down(struct db *db, struct dbconn *c, uint64_t now_us,
    bool immediate_retry)
{
	bool was_up = c->state == SB_DB_UP;

	drop(c);
	count(db, SB_DATA_DB_ERRORS);
	if (was_up || c->state == SB_DB_NONE) {
		c->down_since_us = now_us;
		c->reminded_us = now_us;
		c->pause_us = DB_RETRY_FIRST_US;
		log_warnx("database (%s) %s: %s; requests needing it get 503, "
		          "reconnecting",
		    c->role, was_up ? "connection lost" : "unreachable",
		    c->last_error);
	} else {
		if (now_us - c->reminded_us >= DB_REMIND_US) {
			c->reminded_us = now_us;
			log_warnx("database (%s) still unreachable after %u "
			          "attempts: %s",
			    c->role, c->failures + 1, c->last_error);
		}
		c->pause_us = c->pause_us * 2 > db->retry_max_us
		    ? db->retry_max_us
		    : c->pause_us * 2;
	}
	if (!was_up)
		c->failures++;
	c->state = SB_DB_DOWN;
	c->next_try_us = immediate_retry ? now_us : now_us + c->pause_us;
	publish_state(db);
}

static void came_up(struct db *db, struct dbconn *c, uint64_t now_us)
{
	c->connecting = false;
	if (c->ever_up) {
		count(db, SB_DATA_DB_RECONNECTS);
		log_info("database (%s) back after %.1f s and %u failed "
		         "attempts",
		    c->role, (double)(now_us - c->down_since_us) / 1e6,
		    c->failures);
	} else {
		log_debug("database (%s) connected, server version %d", c->role,
		    PQserverVersion(c->pg));
	}
	c->ever_up = true;
	c->failures = 0;
	c->state = SB_DB_UP;
	c->last_error[0] = '\0';
	publish_state(db);
}

/* ---------------------------------------------------------- connecting */

static int start_connect(struct db *db, struct dbconn *c, uint64_t now_us)
{
	const char *keys[] = {"dbname", "application_name", "options", NULL};
	const char *vals[] = {c->url, db->app_name, db->options, NULL};

	drop(c);
	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL) {
		set_error(c, "could not connect", "out of memory");
		went_down(db, c, now_us, false);
		return -1;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		set_error(c, "could not connect", PQerrorMessage(c->pg));
		went_down(db, c, now_us, false);
		return -1;
	}
	c->connecting = true;
	c->want = PGRES_POLLING_WRITING;
	c->deadline_us = now_us + (uint64_t)db->connect_timeout_ms * 1000;
	return 0;
}

/* Advance an attempt, waiting at most wait_ms for its socket (0: only
 * what is ready now). Returns 1 when up, 0 still connecting, -1 failed. */
static int step_connect(struct db *db, struct dbconn *c, int wait_ms)
{
	struct pollfd p;
	uint64_t now_us = sb_clock_us();
	int n;

	for (;;) {
		if (c->want == PGRES_POLLING_OK) {
			came_up(db, c, now_us);
			return 1;
		}
		if (c->want == PGRES_POLLING_FAILED) {
			set_error(c, "could not connect",
			    PQerrorMessage(c->pg));
			went_down(db, c, now_us, false);
			return -1;
		}
		if (now_us >= c->deadline_us) {
			set_error(c, "could not connect",
			    "timed out (database_connect_timeout)");
			went_down(db, c, now_us, false);
			return -1;
		}
		p.fd = PQsocket(c->pg);
		p.events = c->want == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		p.revents = 0;
		if (wait_ms > 0) {
			uint64_t left_ms =
			    (c->deadline_us - now_us + 999) / 1000;

			n = poll(&p, 1,
			    left_ms < (uint64_t)wait_ms ? (int)left_ms
			                                : wait_ms);
		} else {
			n = poll(&p, 1, 0);
		}
		if (n < 0 && errno != EINTR) {
			set_error(c, "could not connect", strerror(errno));
			went_down(db, c, now_us, false);
			return -1;
		}
		now_us = sb_clock_us();
		if (n <= 0) {
			if (wait_ms > 0)
				continue; /* the deadline check ends it */
			return 0;
		}
		c->want = PQconnectPoll(c->pg);
	}
}

/* Connect now, waiting up to connect_timeout. Returns 0 when up. */
static int connect_sync(struct db *db, struct dbconn *c, uint64_t now_us)
{
	if (!c->connecting && start_connect(db, c, now_us) != 0)
		return -1;
	return step_connect(db, c, (int)db->connect_timeout_ms) == 1 ? 0 : -1;
}

/* A connection that is up and idle: did the server close it (restart,
 * terminate) since the last query? Reads what arrived without waiting. */
static bool idle_broken(struct dbconn *c)
{
	struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};

	if (p.fd < 0)
		return true;
	if (poll(&p, 1, 0) <= 0)
		return false;
	if (PQconsumeInput(c->pg) == 0 || PQstatus(c->pg) != CONNECTION_OK) {
		set_error(c, "connection closed by the server",
		    PQerrorMessage(c->pg));
		return true;
	}
	/* Notices and the like: nothing to do with them here. */
	return false;
}

/* ------------------------------------------------------------- queries */

/* Wait for the result of what was sent, until deadline. Returns the last
 * result (an error result wins over later ones) or NULL with the
 * connection broken or timed out (last_error says which). */
static PGresult *wait_result(struct dbconn *c, uint64_t deadline_us)
{
	PGresult *keep = NULL, *r;

	for (;;) {
		struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
		uint64_t now_us;
		int n;

		if (PQconsumeInput(c->pg) == 0)
			break;
		if (!PQisBusy(c->pg)) {
			r = PQgetResult(c->pg);
			if (r == NULL)
				return keep;
			if (keep == NULL ||
			    PQresultStatus(keep) != PGRES_FATAL_ERROR) {
				PQclear(keep);
				keep = r;
			} else {
				PQclear(r);
			}
			continue;
		}
		now_us = sb_clock_us();
		if (now_us >= deadline_us) {
			set_error(c, "query timed out",
			    "no answer from the server");
			PQclear(keep);
			return NULL;
		}
		n = poll(&p, 1, (int)((deadline_us - now_us + 999) / 1000));
		if (n < 0 && errno != EINTR) {
			set_error(c, "query failed", strerror(errno));
			PQclear(keep);
			return NULL;
		}
	}
	set_error(c, "query failed", PQerrorMessage(c->pg));
	PQclear(keep);
	return NULL;
}

static uint64_t query_deadline(const struct db *db, uint64_t now_us)
{
	return now_us +
	    (db->statement_timeout_ms > 0
	            ? (uint64_t)db->statement_timeout_ms * 1000 +
	                DB_QUERY_GRACE_US
	            : DB_NO_TIMEOUT_US);
}

/* After a send (sent: what PQsend* returned): the result, or NULL with
 * the connection broken and taken down. */
static PGresult *await_result(struct db *db, struct dbconn *c, int sent,
    uint64_t deadline_us)
{
	PGresult *r;

	if (sent == 0) {
		set_error(c, "could not send", PQerrorMessage(c->pg));
		went_down(db, c, sb_clock_us(), false);
		return NULL;
	}
	r = wait_result(c, deadline_us);
	if (r == NULL || PQstatus(c->pg) != CONNECTION_OK) {
		PQclear(r);
		went_down(db, c, sb_clock_us(), false);
		return NULL;
	}
	return r;
}

/* Run q on an up connection. Returns DB_OK / DB_ERROR with *res, or
 * DB_UNAVAILABLE when the connection broke (then it is DOWN). */
static enum db_rc run_on(struct db *db, struct dbconn *c, enum query_id q,
    const char *const *params, PGresult **res)
{
	const struct query *qd = &queries_table[q];
	uint64_t bit = 1ULL << q;
	uint64_t deadline_us = query_deadline(db, sb_clock_us());
	PGresult *r;

	if ((c->prepared & bit) == 0) {
		r = await_result(db, c,
		    PQsendPrepare(c->pg, qd->name, qd->sql, qd->nparams, NULL),
		    deadline_us);
		if (r == NULL)
			return DB_UNAVAILABLE;
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			/* E.g. a table the statement names does not exist. */
			count(db, SB_DATA_DB_ERRORS);
			*res = r;
			return DB_ERROR;
		}
		PQclear(r);
		c->prepared |= bit;
	}
	r = await_result(db, c,
	    PQsendQueryPrepared(c->pg, qd->name, qd->nparams, params, NULL,
	        NULL, 0),
	    deadline_us);
	if (r == NULL)
		return DB_UNAVAILABLE;
	if (PQresultStatus(r) == PGRES_TUPLES_OK ||
	    PQresultStatus(r) == PGRES_COMMAND_OK) {
		*res = r;
		return DB_OK;
	}
	count(db, SB_DATA_DB_ERRORS);
	*res = r;
	return DB_ERROR;
}

/* Make c usable for a query now if it can be without a long wait.
 * Returns true when c is up. */
static bool ready_for_query(struct db *db, struct dbconn *c, uint64_t now_us)
{
	if (c->state == SB_DB_UP && !idle_broken(c))
		return true;
	if (c->state == SB_DB_UP) {
		/* Closed while idle: the server probably restarted. Reconnect
		 * once, here, before the request is given up. */
		went_down(db, c, now_us, true);
		return connect_sync(db, c, now_us) == 0;
	}
	if (c->connecting) /* a background attempt: wait for its end */
		return step_connect(db, c, (int)db->connect_timeout_ms) == 1;
	if (c->state == SB_DB_NONE ||
	    (c->state == SB_DB_DOWN && now_us >= c->next_try_us))
		return connect_sync(db, c, now_us) == 0;
	return false;
}

enum db_rc db_exec(struct db *db, enum query_id q, const char *const *params,
    PGresult **res)
{
	uint64_t t0 = sb_clock_us();
	enum db_rc rc = DB_UNAVAILABLE;
	bool done = false;

	*res = NULL;
	if (db == NULL || (unsigned)q >= Q_NQUERIES)
		return DB_UNAVAILABLE;
	if (queries_table[q].read_only && db->replica.url != NULL &&
	    db->replica.state == SB_DB_UP) {
		if (idle_broken(&db->replica)) {
			/* The primary serves until the replica is back. */
			went_down(db, &db->replica, t0, false);
		} else {
			rc = run_on(db, &db->replica, q, params, res);
			done = rc != DB_UNAVAILABLE;
		}
	}
	if (!done && ready_for_query(db, &db->primary, t0))
		rc = run_on(db, &db->primary, q, params, res);
	if (db->sb != NULL)
		(void)sb_query_count(db->sb, (uint32_t)q, rc == DB_OK,
		    sb_clock_us() - t0);
	if (rc == DB_UNAVAILABLE)
		count(db, SB_DATA_DB_UNAVAILABLE);
	return rc;
}

/* ------------------------------------------------------------ lifetime */

static void tick_one(struct db *db, struct dbconn *c, uint64_t now_us)
{
	if (c->url == NULL)
		return;
	if (c->connecting) {
		(void)step_connect(db, c, 0);
		return;
	}
	if (c->state == SB_DB_UP) {
		if (idle_broken(c))
			went_down(db, c, now_us, true);
		else
			return;
	}
	if (now_us >= c->next_try_us && start_connect(db, c, now_us) == 0)
		(void)step_connect(db, c, 0);
}

void db_connect(struct db *db)
{
	uint64_t now_us = sb_clock_us();

	if (db == NULL)
		return;
	(void)connect_sync(db, &db->primary, now_us);
	if (db->replica.url != NULL)
		(void)connect_sync(db, &db->replica, now_us);
}

void db_tick(struct db *db, uint64_t now_us)
{
	if (db == NULL)
		return;
	tick_one(db, &db->primary, now_us);
	tick_one(db, &db->replica, now_us);
}

static int conn_timeout_ms(const struct dbconn *c, uint64_t now_us)
{
	if (c->url == NULL || c->state == SB_DB_UP)
		return -1;
	if (c->connecting)
		return DB_CONNECT_POLL_MS;
	if (now_us >= c->next_try_us)
		return 0;
	return (int)((c->next_try_us - now_us + 999) / 1000);
}

int db_next_timeout_ms(const struct db *db, uint64_t now_us)
{
	int a, b;

	if (db == NULL)
		return -1;
	a = conn_timeout_ms(&db->primary, now_us);
	b = conn_timeout_ms(&db->replica, now_us);
	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

static int conn_init(struct dbconn *c, const char *role, const char *url)
{
	c->role = role;
	c->state = SB_DB_NONE;
	c->pause_us = DB_RETRY_FIRST_US;
	if (url == NULL || url[0] == '\0')
		return 0;
	c->url = strdup(url);
	return c->url == NULL ? -1 : 0;
}

struct db *db_open(const struct db_opts *o)
{
	struct db *db = calloc(1, sizeof(*db));
	struct buf b;
	unsigned q;

	if (db == NULL)
		return NULL;
	if (conn_init(&db->primary, "primary", o->url) != 0 ||
	    conn_init(&db->replica, "replica", o->read_url) != 0 ||
	    (db->app_name = strdup(
	         o->app_name != NULL ? o->app_name : "pacerd")) == NULL) {
		db_close(&db);
		return NULL;
	}
	buf_init_fixed(&b, db->options, sizeof(db->options));
	(void)buf_printf(&b, "-c statement_timeout=%lld",
	    (long long)o->statement_timeout_ms);
	db->connect_timeout_ms = o->connect_timeout_ms;
	db->statement_timeout_ms = o->statement_timeout_ms;
	db->retry_max_us = (uint64_t)o->retry_max_ms * 1000;
	if (db->retry_max_us < DB_RETRY_FIRST_US)
		db->retry_max_us = DB_RETRY_FIRST_US;
	db->sb = o->sb;
	db->slot = o->slot;
	if (db->sb != NULL)
		for (q = 0; q < Q_NQUERIES; q++)
			if (sb_query_register(db->sb, q,
			        queries_table[q].name) != 0)
				log_warn("could not register query \"%s\" in "
				         "the scoreboard",
				    queries_table[q].name);
	publish_state(db);
	return db;
}

void db_close(struct db **dbp)
{
	struct db *db;

	if (dbp == NULL || (db = *dbp) == NULL)
		return;
	drop(&db->primary);
	drop(&db->replica);
	free(db->primary.url);
	free(db->replica.url);
	free(db->app_name);
	free(db);
	*dbp = NULL;
}

enum sb_db_state db_state(const struct db *db)
{
	return db != NULL ? db->primary.state : SB_DB_NONE;
}

enum sb_db_state db_read_state(const struct db *db)
{
	return db == NULL || db->replica.url == NULL ? SB_DB_NONE
	                                             : db->replica.state;
}

unsigned db_retry_after_s(const struct db *db, uint64_t now_us)
{
	const struct dbconn *c;
	uint64_t s;

	if (db == NULL)
		return 1;
	c = &db->primary;
	if (c->state == SB_DB_UP || now_us >= c->next_try_us)
		return 1;
	s = (c->next_try_us - now_us + 999999) / 1000000;
	return s < 1 ? 1 : (unsigned)s;
}

const char *db_last_error(const struct db *db)
{
	return db != NULL ? db->primary.last_error : "not set up";
}

int db_server_version(const struct db *db)
{
	return db != NULL && db->primary.state == SB_DB_UP
	    ? PQserverVersion(db->primary.pg)
	    : 0;
}

/* ------------------------------------------------------- notifications */

int db_notify_fd(const struct db *db)
{
	if (db->primary.pg == NULL || PQstatus(db->primary.pg) != CONNECTION_OK)
		return -1;
	return PQsocket(db->primary.pg);
}

int db_notify_next(struct db *db, const char *channel, char *dst, size_t n)
{
	PGconn *pg = db->primary.pg;
	PGnotify *note;

	if (pg == NULL || PQstatus(pg) != CONNECTION_OK)
		return -1;
	if (PQconsumeInput(pg) != 1)
		return -1;
	while ((note = PQnotifies(pg)) != NULL) {
		bool ours = strcmp(note->relname, channel) == 0;

		if (ours && n > 0)
			(void)snprintf(dst, n, "%s", note->extra);
		PQfreemem(note);
		if (ours)
			return 1;
	}
	return 0;
}
