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
