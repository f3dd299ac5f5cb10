/*
 * queries.h - every SQL statement a worker runs, by name.
 *
 * A query's index is its identity in the scoreboard's per-query counters
 * (pacer_db_queries_total{query="..."}) and in each connection's set of
 * prepared statements, so the table only grows at its end. Every query
 * takes its values as parameters ($1, $2, ...); none is built from text.
 *
 * Callers: worker/db.c (prepares and runs them), the handlers (name them).
 */
#ifndef PACER_QUERIES_H
#define PACER_QUERIES_H

#include <stdbool.h>

enum query_id {
	Q_PING,         /* SELECT 1: is the connection alive */
	Q_SCHEMA_STATE, /* migrations applied: count and newest version */
	/* identity (worker/auth/) */
	Q_JWT_KEYS,           /* the keys that verify, newest first */
	Q_USER_INSERT,        /* register */
	Q_USER_BY_EMAIL,      /* login */
	Q_USER_BY_ID,         /* a user's row */
	Q_USER_LOGGED_IN,     /* last_login_at (and a stronger hash) */
	Q_USER_STATUS,        /* status and role, for token checks */
	Q_REFRESH_INSERT,     /* a new refresh token, new family */
	Q_REFRESH_ROTATE,     /* spend one, issue its child (one statement) */
	Q_REFRESH_LOOKUP,     /* why a refresh token was not spendable */
	Q_REFRESH_REVOKE_FAM, /* revoke a family (reuse, logout) */
	Q_REFRESH_OWNER_FAM,  /* the family of a user's refresh token */
	Q_JTI_REVOKE,         /* logout: revoke an access token */
	Q_JTI_CHECK,          /* is a jti revoked (Redis down) */
	Q_JTI_ACTIVE,         /* unexpired revocations, to refill Redis */
	Q_APIKEY_INSERT,      /* a new API key */
	Q_APIKEY_AUTH,        /* a key by its hash, with its user */
	Q_APIKEY_LIST,        /* a user's keys */
	Q_APIKEY_REVOKE,      /* revoke one of a user's keys */
	Q_APIKEY_TOUCH,       /* write back last_used_at and quota use */
	Q_APIKEY_COUNT,       /* a user's live keys */
	Q_AUDIT_INSERT,       /* one audit event */
	/* the admin API (worker/auth/admin.c) */
	Q_ADMIN_USER_LIST,   /* users by status, newest first */
	Q_ADMIN_USER_STATUS, /* approve, suspend, activate (one statement) */
	Q_ADMIN_AUDIT_LIST,  /* audit rows, newest first, filtered */
	Q_ADMIN_SETUP,       /* the first admin, once (one statement) */
	Q_NQUERIES,
};

struct query {
	const char *name; /* [a-z0-9_]: statement name and metric label */
	const char *sql;
	int nparams;
	bool read_only; /* may run on the replica */
};

extern const struct query queries_table[Q_NQUERIES];

#endif /* PACER_QUERIES_H */
