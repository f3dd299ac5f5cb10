/*
 * migrate.h - pacer's SQL migrations: the folder of NNNN_name.sql files,
 * the schema_migrations table, and applying what is pending.
 *
 * A migration is a file NNNN_name.sql in the migrations folder: at least
 * four digits of version (not 0), an underscore, a name of lowercase
 * letters, digits and underscores. Files not ending in .sql (a README) and
 * hidden files are ignored; a .sql file with another name, or two files
 * with one version, make the whole folder invalid. Each applied migration
 * is a row of schema_migrations with the SHA-256 of the file it came from,
 * so an applied migration that was edited, renamed or removed is found and
 * refused: applied migrations are never changed, a new one is added.
 *
 * migrate_up() applies the pending files in version order, each in its own
 * transaction together with its schema_migrations row, while holding the
 * session advisory lock MIGRATE_LOCK_KEY, so several pacerd nodes starting
 * together against one database apply each migration exactly once (the
 * others wait for the lock, then find nothing pending). A failed migration
 * is rolled back as a whole and reported with PostgreSQL's message and the
 * file:line it points at. A migration file must not hold its own BEGIN,
 * COMMIT or ROLLBACK (sql/README).
 *
 * Nothing here logs or exits: errors come back in (err, errlen), without
 * the database URL (which may hold a password). Callers: the master
 * (before it forks any worker; every connection is closed again before a
 * fork, see migrate_open_connections()), pacerctl and the tests.
 */
#ifndef PACER_MIGRATE_H
#define PACER_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

/* The key of the session advisory lock held while migrating: the ASCII
 * bytes of "pacermig" as a bigint (8097862892351482215). Documented in
 * pacerd(8); other software on the same database must not use it. */
#define MIGRATE_LOCK_KEY INT64_C(0x70616365726d6967)

/* Largest migration file read. */
#define MIGRATE_MAX_FILE_SIZE (16L * 1024 * 1024)

/* Longest file name of a migration (NAME_MAX). */
#define MIGRATE_NAME_MAX 255

struct migrate_file {
	int64_t version;
	char *file;      /* "0001_users.sql" */
	char *name;      /* "users": what schema_migrations.name records */
	char *path;      /* folder/file */
	char *sql;       /* the whole file, NUL-terminated */
	size_t len;      /* bytes in sql */
	char sha256[65]; /* of the file, lowercase hex */
};

/* The migrations of a folder, sorted by version. Owned; free with
 * migrate_set_free(). */
struct migrate_set {
	char *dir;
	struct migrate_file *v;
	size_t n;
};

/* The folder cfg names: migrations_dir, or the installed PACER_DATADIR/sql
 * when that is empty. Borrowed from cfg or static. */
const char *migrate_dir_of(const struct cfg *cfg);

/*
 * Whether file (a name, no folder) is a migration: 1 with *version, the
 * name's start and length set; 0 when it is not meant to be one (does not
 * end in .sql, or is hidden: ignored); -1 when it ends in .sql but is not
 * named NNNN_name.sql (an error for the caller to report).
 */
int migrate_parse_name(const char *file, int64_t *version, const char **name,
    size_t *namelen);

/* Read every migration of dir into set (sorted, checksummed). Returns 0,
 * or -1 with the reason, naming the file, in err (set is then empty). */
int migrate_read_dir(const char *dir, struct migrate_set *set, char *err,
    size_t errlen);
void migrate_set_free(struct migrate_set *set);

/* The 1-based line of sql[0..len) holding the pos-th character (1-based,
 * counted in UTF-8 characters as PostgreSQL's PG_DIAG_STATEMENT_POSITION
 * is); the last line when pos is past the end, 1 when pos < 1. */
int migrate_line_of(const char *sql, size_t len, long pos);

/* SHA-256 of p[0..n) as lowercase hex into out. Returns 0 or -1. */
int migrate_sha256_hex(const void *p, size_t n, char out[65]);

/*
 * Connect to url (libpq URI or key=value string) for migrating, with
 * connect_timeout_ms (rounded up to whole seconds). Returns the open
 * connection (close with migrate_disconnect()), or NULL with libpq's
 * reason in err on one line. The URL is never copied into err.
 */
PGconn *migrate_connect(const char *url, int64_t connect_timeout_ms, char *err,
    size_t errlen);
void migrate_disconnect(PGconn **conn);

/* Connections made by migrate_connect() and not yet closed: the master
 * checks it is 0 before every fork. */
unsigned migrate_open_connections(void);

enum migrate_state {
	MIGRATE_APPLIED,  /* recorded, and the file is unchanged */
	MIGRATE_PENDING,  /* a file not applied yet */
	MIGRATE_MODIFIED, /* recorded, but the file was edited or renamed */
	MIGRATE_MISSING,  /* recorded, but no file has its version */
};

const char *migrate_state_name(enum migrate_state s);

struct migrate_row {
	int64_t version;
	enum migrate_state state;
	char file[MIGRATE_NAME_MAX + 1]; /* the file, or the recorded name
	                                    as NNNN_name.sql when missing */
	char name[MIGRATE_NAME_MAX + 1]; /* recorded name, else the file's */
	char applied_at[40];             /* UTC, ISO 8601; "" when pending */
	char db_sha256[65];              /* recorded checksum; "" pending */
	char file_sha256[65];            /* the file's; "" when missing */
	double duration_ms;              /* recorded; 0 when pending */
};

/* Every migration, applied or in the folder, by version. Owned; free with
 * migrate_status_free(). */
struct migrate_status {
	struct migrate_row *v;
	size_t n;
	size_t applied, pending, modified, missing; /* rows in each state */
};

/* Compare set with the database's schema_migrations (absent: everything
 * pending). Read-only, no lock. Returns 0, or -1 with err. */
int migrate_status(PGconn *conn, const struct migrate_set *set,
    struct migrate_status *st, char *err, size_t errlen);
void migrate_status_free(struct migrate_status *st);

/* Called after each migration committed, with its duration. */
typedef void (*migrate_applied_fn)(const struct migrate_file *f,
    double duration_ms, void *arg);

struct migrate_result {
	unsigned applied; /* migrations this call applied */
	uint32_t count;   /* rows of schema_migrations afterwards */
	int64_t version;  /* newest version recorded afterwards; 0: none */
};

/*
 * Under the advisory lock: create schema_migrations if missing, refuse a
 * modified or missing applied migration (err names the file), then apply
 * each pending file of set in version order, each in its own transaction,
 * calling fn (may be NULL) after each commit. res is filled on success,
 * and res->applied also on failure (what committed before it). Returns 0,
 * or -1 with err (a failed file: PostgreSQL's message and file:line).
 */
int migrate_up(PGconn *conn, const struct migrate_set *set,
    migrate_applied_fn fn, void *arg, struct migrate_result *res, char *err,
    size_t errlen);

#endif /* PACER_MIGRATE_H */
