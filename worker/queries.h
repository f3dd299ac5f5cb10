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
	Q_MCP_SESSION_NEW,   /* a new MCP session (sweeps dead ones) */
	Q_MCP_SESSION_USE,   /* a live session of this caller, touched */
	Q_MCP_SESSION_END,   /* DELETE /mcp */
	Q_MCP_SESSION_LEVEL, /* logging/setLevel */
	Q_MCP_SESSION_SUB,   /* resources/subscribe and unsubscribe */
	Q_MCP_WAIT_ADD,      /* a server-to-client request now waits */
	Q_MCP_WAIT_ANSWER,   /* the client's answer, and NOTIFY */
	Q_MCP_WAIT_TAKE,     /* the answer, if it came (row deleted) */
	Q_MCP_WAIT_DROP,     /* give up waiting */
	Q_MCP_LISTEN,        /* LISTEN pacer_mcp */
	Q_MCP_UNLISTEN,      /* UNLISTEN pacer_mcp */
	Q_MCP_CANCEL,        /* NOTIFY a waiting call of its cancellation */
	/* OAuth for MCP clients (worker/oauth/) */
	Q_OAUTH_CLIENT_INSERT,  /* a dynamic registration */
	Q_OAUTH_CLIENT_GET,     /* a client, with its owner */
	Q_OAUTH_CODE_INSERT,    /* a code (and the consent; sweeps old ones) */
	Q_OAUTH_CODE_CLAIM,     /* spend a code (one statement, single use) */
	Q_OAUTH_CODE_LOOKUP,    /* why a code was not spendable */
	Q_OAUTH_REFRESH_INSERT, /* a client's refresh token, given family */
	Q_OAUTH_REFRESH_ROTATE, /* spend a client's one, issue its child */
	Q_OAUTH_SESSION_INSERT, /* a browser signed in (sweeps old ones) */
	Q_OAUTH_SESSION_GET,    /* a browser's session, and the consent */
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
