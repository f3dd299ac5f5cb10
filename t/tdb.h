/*
 * tdb.h - SQL from the tests: one statement on a database, its first
 * value. For checking what the server wrote (and setting a row up); and
 * private databases for the tests that need one.
 *
 * Callers: integration tests. Failures (connection, statement) fail the
 * test.
 */
#ifndef PACER_TDB_H
#define PACER_TDB_H

/* The harness's database (PACER_TEST_DATABASE_URL; asserted to be set),
 * the one every server of ts_init uses. */
const char *tdb_url(void);

/* Run q on the database at url with up to two text parameters ($1, $2;
 * as many as q names; NULL is SQL NULL): the first value of the first
 * row, or "" when there is none (caller frees). */
char *tdb_value(const char *url, const char *q, const char *p1, const char *p2);

/* The same as a number (0 for "" or NULL). */
long long tdb_int(const char *url, const char *q, const char *p1,
    const char *p2);

/* Rows of audit_log with action and outcome, about user_id (NULL: any
 * user), in the database at url. outcome is the test's own constant. */
long long tdb_audit_count(const char *url, const char *action,
    const char *user_id, const char *outcome);

/* Room for a private database's name and URL. */
#define TDB_NAME_MAX 64
#define TDB_URL_MAX 512

/* A new empty database of the test's own on the harness's server (pacerd
 * migrates it when it starts), for a test that must not share state:
 * named prefix_<pid>_<n>; its name into name (TDB_NAME_MAX bytes), its URL
 * into url (TDB_URL_MAX bytes). */
void tdb_create(const char *prefix, char *name, char *url);

/* Drop a database tdb_create made, closing its connections; nothing
 * when it is gone. */
void tdb_drop(const char *name);

#endif /* PACER_TDB_H */
