/*
 * queries.c - the table of named SQL statements; see queries.h.
 */
#include "queries.h"

#include <assert.h>

#include "sb.h"

static_assert(Q_NQUERIES <= SB_MAX_QUERIES,
    "every query needs a scoreboard record");

const struct query queries_table[Q_NQUERIES] = {
    [Q_PING] = {"ping", "SELECT 1", 0, true},
    /* Read from the primary: readiness is about the database the writes
     * go to, and a replica may lag behind a migration. */
    [Q_SCHEMA_STATE] = {"schema_state",
        "SELECT count(*), coalesce(max(version), 0) FROM schema_migrations", 0,
        false},
};
