/*
 * tdb.h - SQL from the tests: one statement on a database, its first
 * value. For checking what the server wrote (and setting a row up).
 *
 * Callers: integration tests. Failures (connection, statement) fail the
 * test.
 */
#ifndef PACER_TDB_H
#define PACER_TDB_H

/* Run q on the database at url with up to two text parameters ($1, $2;
 * as many as q names; NULL is SQL NULL): the first value of the first
 * row, or "" when there is none (caller frees). */
char *tdb_value(const char *url, const char *q, const char *p1, const char *p2);

/* The same as a number (0 for "" or NULL). */
long long tdb_int(const char *url, const char *q, const char *p1,
    const char *p2);

#endif /* PACER_TDB_H */
