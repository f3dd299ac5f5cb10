/*
 * migrate.c - SQL migrations; see migrate.h.
 *
 * Runs in the master before it forks (start-up and reload), in pacerctl
 * and in the tests; single-threaded. A migration body is the one SQL text
 * sent unparameterised (PQexec of the whole file, so PostgreSQL's error
 * position is an offset into the file); every other statement here goes
 * through PQexecParams.
 *
 * Why the lock is taken before CREATE TABLE IF NOT EXISTS: two sessions
 * running that statement at once can both pass the "not exists" test and
 * one then fails on pg_type's unique index. Under the lock only one node
 * at a time looks at schema_migrations at all.
 */
#include "migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

#define SQL_CREATE                                                             \
	"CREATE TABLE IF NOT EXISTS schema_migrations ("                       \
	" version bigint PRIMARY KEY CHECK (version > 0),"                     \
	" name text NOT NULL,"                                                 \
	" checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),"         \
	" applied_at timestamptz NOT NULL DEFAULT now(),"                      \
	" duration_ms double precision NOT NULL CHECK (duration_ms >= 0))"
#define SQL_EXISTS "SELECT to_regclass('schema_migrations') IS NOT NULL"
#define SQL_ROWS                                                               \
	"SELECT version, name, checksum, to_char(applied_at AT TIME ZONE "     \
	"'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), duration_ms "               \
	"FROM schema_migrations ORDER BY version"
#define SQL_INSERT                                                             \
	"INSERT INTO schema_migrations (version, name, checksum, "             \
	"duration_ms) "                                                        \
	"VALUES ($1::bigint, $2, $3, $4::double precision)"
#define SQL_SUMMARY                                                            \
	"SELECT count(*), coalesce(max(version), 0) FROM schema_migrations"
#define SQL_LOCK "SELECT pg_advisory_lock($1::bigint)"
#define SQL_UNLOCK "SELECT pg_advisory_unlock($1::bigint)"

/* SQLSTATE of "there is already a transaction in progress" (a BEGIN in a
 * migration file, which PostgreSQL only warns about). */
#define SQLSTATE_ACTIVE_TX "25001"

static unsigned open_conns;

/* Set by the notice receiver while a migration body runs. */
static bool saw_nested_begin;

/* ------------------------------------------------------------ folder */

const char *migrate_dir_of(const struct cfg *cfg)
{
	if (cfg->migrations_dir != NULL && cfg->migrations_dir[0] != '\0')
		return cfg->migrations_dir;
	return PACER_DATADIR "/sql";
}

int migrate_parse_name(const char *file, int64_t *version, const char **name,
    size_t *namelen)
{
	size_t n = strlen(file), digits = 0, i;
	const char *nm;
	int64_t v = 0;

	if (file[0] == '.' || n < 4 || strcmp(file + n - 4, ".sql") != 0)
		return 0;
	while (isdigit((unsigned char)file[digits]))
		digits++;
	/* 18 digits always fit an int64_t. */
	if (digits < 4 || digits > 18 || file[digits] != '_')
		return -1;
	nm = file + digits + 1;
	if (nm >= file + n - 4)
		return -1;
	for (i = 0; nm + i < file + n - 4; i++)
		if (!((nm[i] >= 'a' && nm[i] <= 'z') ||
		        (nm[i] >= '0' && nm[i] <= '9') || nm[i] == '_'))
			return -1;
	*namelen = i;
	for (i = 0; i < digits; i++)
		v = v * 10 + (file[i] - '0');
	if (v == 0)
		return -1;
	*version = v;
	*name = nm;
	return 1;
}

int migrate_sha256_hex(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	out[0] = '\0';
	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return -1;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
	return 0;
}

/* The whole of path, NUL-terminated, into *data (caller frees). */
static int read_whole(const char *path, char **data, size_t *len, char *err,
    size_t errlen)
{
	struct stat st;
	char *p = NULL;
	size_t off = 0;
	ssize_t r;
	int fd;

	*data = NULL;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd == -1 && errno == EINTR);
	if (fd == -1 || fstat(fd, &st) != 0) {
		(void)snprintf(err, errlen, "%s: could not read: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MIGRATE_MAX_FILE_SIZE) {
		(void)snprintf(err, errlen, "%s: %s", path,
		    S_ISREG(st.st_mode) ? "larger than 16MB"
		                        : "not a regular file");
		goto fail;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	while (off < (size_t)st.st_size) {
		r = read(fd, p + off, (size_t)st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			(void)snprintf(err, errlen, "%s: could not read: %s",
			    path, r == 0 ? "file shrank" : strerror(errno));
			goto fail;
		}
		off += (size_t)r;
	}
	p[off] = '\0';
	if (memchr(p, '\0', off) != NULL) {
		(void)snprintf(err, errlen, "%s: holds a NUL byte", path);
		goto fail;
	}
	(void)close(fd);
	*data = p;
	*len = off;
	return 0;
fail:
	if (fd != -1)
		(void)close(fd);
	free(p);
	return -1;
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static char *join_path(const char *dir, const char *file)
{
	struct buf b;
	char *p;

	buf_init_dynamic(&b, (size_t)64 * 1024);
	(void)buf_printf(&b, "%s/%s", dir, file);
	p = b.overflow ? NULL : dup_n(buf_str(&b), b.len);
	buf_free(&b);
	return p;
}

static void file_free(struct migrate_file *f)
{
	free(f->file);
	free(f->name);
	free(f->path);
	free(f->sql);
	memset(f, 0, sizeof(*f));
}

void migrate_set_free(struct migrate_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		file_free(&set->v[i]);
	free(set->v);
	free(set->dir);
	memset(set, 0, sizeof(*set));
}

/* Fill f from dir/file (a migration name); 0 or -1 with err. */
static int load_one(const char *dir, const char *file, int64_t version,
    const char *name, size_t namelen, struct migrate_file *f, char *err,
    size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->version = version;
	f->file = dup_n(file, strlen(file));
	f->name = dup_n(name, namelen);
	f->path = join_path(dir, file);
	if (f->file == NULL || f->name == NULL || f->path == NULL) {
		(void)snprintf(err, errlen, "%s/%s: out of memory", dir, file);
		return -1;
	}
	if (read_whole(f->path, &f->sql, &f->len, err, errlen) != 0)
		return -1;
	if (migrate_sha256_hex(f->sql, f->len, f->sha256) != 0) {
		(void)snprintf(err, errlen, "%s: could not compute its SHA-256",
		    f->path);
		return -1;
	}
	return 0;
}

static int by_version(const void *a, const void *b)
{
	const struct migrate_file *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* Sort set and refuse two files with one version. */
static int sort_check(struct migrate_set *set, char *err, size_t errlen)
{
	size_t i;

	if (set->n > 1)
		qsort(set->v, set->n, sizeof(set->v[0]), by_version);
	for (i = 1; i < set->n; i++)
		if (set->v[i].version == set->v[i - 1].version) {
			(void)snprintf(err, errlen,
			    "%s: version %" PRId64 " is also the version of "
			    "%s; each migration needs its own version",
			    set->v[i].path, set->v[i].version,
			    set->v[i - 1].file);
			return -1;
		}
	return 0;
}

int migrate_read_dir(const char *dir, struct migrate_set *set, char *err,
    size_t errlen)
{
	struct migrate_file *nv;
	const struct dirent *e;
	const char *name;
	size_t namelen, cap = 0;
	int64_t version;
	DIR *d;
	int k;

	memset(set, 0, sizeof(*set));
	if ((d = opendir(dir)) == NULL) {
		(void)snprintf(err, errlen,
		    "%s: could not open the migrations folder: %s", dir,
		    strerror(errno));
		return -1;
	}
	if ((set->dir = dup_n(dir, strlen(dir))) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", dir);
		goto fail;
	}
	while ((e = readdir(d)) != NULL) {
		k = migrate_parse_name(e->d_name, &version, &name, &namelen);
		if (k == 0)
			continue;
		if (k < 0) {
			(void)snprintf(err, errlen,
			    "%s/%s: not a migration name: expected "
			    "NNNN_name.sql (a version of 4 to 18 digits, not "
			    "0, then \"_\" and lowercase letters, digits and "
			    "underscores)",
			    dir, e->d_name);
			goto fail;
		}
		if (set->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nv = realloc(set->v, cap * sizeof(*nv))) == NULL) {
				(void)snprintf(err, errlen, "%s: out of memory",
				    dir);
				goto fail;
			}
			set->v = nv;
		}
		set->n++;
		if (load_one(dir, e->d_name, version, name, namelen,
		        &set->v[set->n - 1], err, errlen) != 0)
			goto fail;
	}
	(void)closedir(d);
	d = NULL;
	if (sort_check(set, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	if (d != NULL)
		(void)closedir(d);
	migrate_set_free(set);
	return -1;
}

int migrate_line_of(const char *sql, size_t len, long pos)
{
	long chars = 0;
	int line = 1;
	size_t i;

	if (pos < 1)
		return 1;
	for (i = 0; i < len; i++) {
		/* UTF-8 continuation bytes do not start a character. */
		if (((unsigned char)sql[i] & 0xC0) == 0x80)
			continue;
		if (++chars == pos)
			return line;
		if (sql[i] == '\n')
			line++;
	}
	/* Past the end: the last line holding text. */
	if (len > 0 && sql[len - 1] == '\n' && line > 1)
		line--;
	return line;
}

/* ------------------------------------------------------------ libpq */

/* Copy libpq's (multi-line) message as one line. */
static void one_line(char *dst, size_t n, const char *msg)
{
	struct buf b;
	bool sep = false;

	buf_init_fixed(&b, dst, n);
	for (; *msg != '\0'; msg++) {
		if (*msg == '\n' || *msg == '\t' || *msg == '\r') {
			sep = sep || *msg == '\n';
			continue;
		}
		if (sep && b.len > 0)
			(void)buf_puts(&b, "; ");
		else if (b.len > 0 && (msg[-1] == '\t'))
			(void)buf_putc(&b, ' ');
		sep = false;
		(void)buf_putc(&b, *msg);
	}
}

/* Notices (IF NOT EXISTS "skipping" lines) are not for stderr; a BEGIN
 * inside a migration is remembered so the migration can be refused. */
static void notice_rx(void *arg, const PGresult *r)
{
	const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	(void)arg;
	if (code != NULL && strcmp(code, SQLSTATE_ACTIVE_TX) == 0)
		saw_nested_begin = true;
}

PGconn *migrate_connect(const char *url, int64_t connect_timeout_ms, char *err,
    size_t errlen)
{
	static const char *const keys[] = {"dbname", "connect_timeout",
	    "application_name", "client_encoding", NULL};
	const char *vals[5];
	char timeout[32];
	PGconn *c;

	(void)snprintf(timeout, sizeof(timeout), "%lld",
	    (long long)((connect_timeout_ms + 999) / 1000));
	vals[0] = url;
	vals[1] = timeout;
	vals[2] = "pacer-migrate";
	vals[3] = "UTF8";
	vals[4] = NULL;
	/* expand_dbname: url is a URI or key=value string; the settings
	 * after it win over the same ones inside it. */
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL) {
		(void)snprintf(err, errlen, "out of memory for a connection");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		one_line(err, errlen, PQerrorMessage(c));
		if (err[0] == '\0')
			(void)snprintf(err, errlen, "could not connect");
		PQfinish(c);
		return NULL;
	}
	(void)PQsetNoticeReceiver(c, notice_rx, NULL);
	open_conns++;
	return c;
}

void migrate_disconnect(PGconn **conn)
{
	if (conn == NULL || *conn == NULL)
		return;
	PQfinish(*conn);
	*conn = NULL;
	if (open_conns > 0)
		open_conns--;
}

unsigned migrate_open_connections(void)
{
	return open_conns;
}

/* PostgreSQL's error of r (or the connection's) on one line. */
static void pg_error(char *dst, size_t n, const PGresult *r, const PGconn *c)
{
	const char *prim = NULL, *state = NULL, *detail = NULL, *hint = NULL;
	char conn_msg[512];
	struct buf b;

	if (r != NULL) {
		prim = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
		hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
	}
	if (prim == NULL) {
		one_line(conn_msg, sizeof(conn_msg), PQerrorMessage(c));
		prim = conn_msg[0] != '\0' ? conn_msg : "unknown error";
	}
	buf_init_fixed(&b, dst, n);
	(void)buf_puts(&b, prim);
	if (state != NULL)
		(void)buf_printf(&b, " (SQLSTATE %s)", state);
	if (detail != NULL)
		(void)buf_printf(&b, "; detail: %s", detail);
	if (hint != NULL)
		(void)buf_printf(&b, "; hint: %s", hint);
}

/* Run a parameterised statement; the result, or NULL with err (prefixed
 * by what) when it did not reach want. */
static PGresult *exec_params(PGconn *c, const char *sql, int n,
    const char *const *params, ExecStatusType want, const char *what, char *err,
    size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	char msg[1024];

	if (r != NULL && PQresultStatus(r) == want)
		return r;
	pg_error(msg, sizeof(msg), r, c);
	(void)snprintf(err, errlen, "%s: %s", what, msg);
	PQclear(r);
	return NULL;
}

static int exec_cmd(PGconn *c, const char *sql, const char *what, char *err,
    size_t errlen)
{
	PGresult *r =
	    exec_params(c, sql, 0, NULL, PGRES_COMMAND_OK, what, err, errlen);

	PQclear(r);
	return r != NULL ? 0 : -1;
}

static void copy_str(char *dst, size_t n, const char *s)
{
	struct buf b;

	buf_init_fixed(&b, dst, n);
	(void)buf_puts(&b, s);
}

/* The rows of schema_migrations (none when the table is absent and
 * may_be_absent) into *rows (caller frees). */
static int load_applied(PGconn *c, bool may_be_absent,
    struct migrate_row **rows, size_t *n, char *err, size_t errlen)
{
	PGresult *r;
	int i, nt;

	*rows = NULL;
	*n = 0;
	if (may_be_absent) {
		r = exec_params(c, SQL_EXISTS, 0, NULL, PGRES_TUPLES_OK,
		    "could not look for schema_migrations", err, errlen);
		if (r == NULL)
			return -1;
		if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
			PQclear(r);
			return 0;
		}
		PQclear(r);
	}
	r = exec_params(c, SQL_ROWS, 0, NULL, PGRES_TUPLES_OK,
	    "could not read schema_migrations", err, errlen);
	if (r == NULL)
		return -1;
	nt = PQntuples(r);
	if (nt > 0 && (*rows = calloc((size_t)nt, sizeof(**rows))) == NULL) {
		PQclear(r);
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < nt; i++) {
		struct migrate_row *w = &(*rows)[i];

		w->version = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		copy_str(w->name, sizeof(w->name), PQgetvalue(r, i, 1));
		copy_str(w->db_sha256, sizeof(w->db_sha256),
		    PQgetvalue(r, i, 2));
		copy_str(w->applied_at, sizeof(w->applied_at),
		    PQgetvalue(r, i, 3));
		w->duration_ms = strtod(PQgetvalue(r, i, 4), NULL);
		w->state = MIGRATE_MISSING;
	}
	*n = (size_t)nt;
	PQclear(r);
	return 0;
}

/* ------------------------------------------------------------ status */

const char *migrate_state_name(enum migrate_state s)
{
	switch (s) {
	case MIGRATE_APPLIED: return "applied";
	case MIGRATE_PENDING: return "pending";
	case MIGRATE_MODIFIED: return "modified";
	case MIGRATE_MISSING: return "missing";
	default: return "?";
	}
}

void migrate_status_free(struct migrate_status *st)
{
	if (st == NULL)
		return;
	free(st->v);
	memset(st, 0, sizeof(*st));
}

static const struct migrate_file *find_file(const struct migrate_set *set,
    int64_t version)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i].version == version)
			return &set->v[i];
	return NULL;
}

static const struct migrate_row *find_row(const struct migrate_row *a,
    size_t na, int64_t version)
{
	size_t j;

	for (j = 0; j < na; j++)
		if (a[j].version == version)
			return &a[j];
	return NULL;
}

static int row_by_version(const void *x, const void *y)
{
	const struct migrate_row *p = x, *q = y;

	return (p->version > q->version) - (p->version < q->version);
}

/* Merge the recorded rows a[0..na) with the files of set, by version. */
static int merge(const struct migrate_set *set, const struct migrate_row *a,
    size_t na, struct migrate_status *st)
{
	const struct migrate_row *w;
	struct migrate_row *o;
	struct buf b;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (set->n + na == 0)
		return 0;
	if ((st->v = calloc(set->n + na, sizeof(*st->v))) == NULL)
		return -1;
	for (i = 0; i < set->n; i++) {
		const struct migrate_file *f = &set->v[i];

		o = &st->v[st->n++];
		if ((w = find_row(a, na, f->version)) != NULL) {
			*o = *w;
			o->state = strcmp(w->name, f->name) == 0 &&
			        strcmp(w->db_sha256, f->sha256) == 0
			    ? MIGRATE_APPLIED
			    : MIGRATE_MODIFIED;
		} else {
			o->version = f->version;
			o->state = MIGRATE_PENDING;
			copy_str(o->name, sizeof(o->name), f->name);
		}
		copy_str(o->file, sizeof(o->file), f->file);
		copy_str(o->file_sha256, sizeof(o->file_sha256), f->sha256);
		st->applied += o->state == MIGRATE_APPLIED;
		st->modified += o->state == MIGRATE_MODIFIED;
		st->pending += o->state == MIGRATE_PENDING;
	}
	for (i = 0; i < na; i++) {
		if (find_file(set, a[i].version) != NULL)
			continue;
		o = &st->v[st->n++];
		*o = a[i]; /* recorded, no file */
		o->state = MIGRATE_MISSING;
		buf_init_fixed(&b, o->file, sizeof(o->file));
		(void)buf_printf(&b, "%04" PRId64 "_%s.sql", a[i].version,
		    a[i].name);
		st->missing++;
	}
	qsort(st->v, st->n, sizeof(st->v[0]), row_by_version);
	return 0;
}

int migrate_status(PGconn *conn, const struct migrate_set *set,
    struct migrate_status *st, char *err, size_t errlen)
{
	struct migrate_row *rows = NULL;
	size_t n = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if (load_applied(conn, true, &rows, &n, err, errlen) != 0)
		return -1;
	rc = merge(set, rows, n, st);
	if (rc != 0)
		(void)snprintf(err, errlen, "out of memory");
	free(rows);
	return rc;
}

/* The first modified or missing migration as an error; -1 if there is. */
static int refuse_changed(const struct migrate_set *set,
    const struct migrate_status *st, char *err, size_t errlen)
{
	const struct migrate_row *o = NULL;
	size_t i, more;
	struct buf b;

	for (i = 0; st->v != NULL && i < st->n && o == NULL; i++)
		if (st->v[i].state == MIGRATE_MODIFIED ||
		    st->v[i].state == MIGRATE_MISSING)
			o = &st->v[i];
	if (o == NULL)
		return 0;
	more = st->modified + st->missing - 1;
	buf_init_fixed(&b, err, errlen);
	if (o->state == MIGRATE_MISSING)
		(void)buf_printf(&b,
		    "migration %s (version %" PRId64 ") was applied at %s but "
		    "no file of version %" PRId64 " is in %s: applied "
		    "migrations must never be removed (restore the file, or "
		    "set migrations_dir to the right folder)",
		    o->file, o->version, o->applied_at, o->version, set->dir);
	else if (strcmp(o->file_sha256, o->db_sha256) == 0)
		(void)buf_printf(&b,
		    "migration %s/%s (version %" PRId64 ") was applied under "
		    "the name \"%s\": applied migrations must never be "
		    "renamed or edited; add a new migration instead",
		    set->dir, o->file, o->version, o->name);
	else
		(void)buf_printf(&b,
		    "migration %s/%s was applied with checksum %.12s... but "
		    "the file now has %.12s...: applied migrations must never "
		    "be edited; add a new migration instead",
		    set->dir, o->file, o->db_sha256, o->file_sha256);
	if (more > 0)
		(void)buf_printf(&b,
		    " (and %zu more changed; see pacerctl migrate status)",
		    more);
	return -1;
}

/* ------------------------------------------------------------ apply */

static double mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Leave whatever state a failed body left (a COPY it started, results
 * not read yet) and roll the transaction back. */
static void abandon(PGconn *c, PGresult *r)
{
	char *row;

	if (r != NULL && PQresultStatus(r) == PGRES_COPY_IN)
		(void)PQputCopyEnd(c,
		    "COPY FROM STDIN is not supported in "
		    "a migration");
	if (r != NULL && PQresultStatus(r) == PGRES_COPY_OUT)
		while (PQgetCopyData(c, &row, 0) > 0)
			PQfreemem(row);
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	r = PQexecParams(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
	PQclear(r);
}

/* The body failed: PostgreSQL's message at file:line. */
static void body_error(const struct migrate_file *f, PGconn *c,
    const PGresult *r, char *err, size_t errlen)
{
	const char *pos = NULL;
	char msg[1024];
	struct buf b;

	buf_init_fixed(&b, err, errlen);
	if (r != NULL &&
	    (PQresultStatus(r) == PGRES_COPY_IN ||
	        PQresultStatus(r) == PGRES_COPY_OUT)) {
		(void)buf_printf(&b,
		    "%s: migration failed and was rolled back: COPY to or "
		    "from the client is not supported in a migration",
		    f->path);
		return;
	}
	pg_error(msg, sizeof(msg), r, c);
	if (r != NULL)
		pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
	if (pos != NULL)
		(void)buf_printf(&b, "%s:%d: ", f->path,
		    migrate_line_of(f->sql, f->len, strtol(pos, NULL, 10)));
	else
		(void)buf_printf(&b, "%s: ", f->path);
	(void)buf_printf(&b, "migration failed and was rolled back: %s", msg);
}

static bool body_ok(const PGresult *r)
{
	ExecStatusType s = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ||
	    s == PGRES_EMPTY_QUERY;
}

/* Apply f in a transaction of its own, with its schema_migrations row. */
static int apply_one(PGconn *c, const struct migrate_file *f, double *ms,
    char *err, size_t errlen)
{
	char version[32], dur[64], what[512];
	const char *params[4];
	PGresult *r;
	double t0;

	if (exec_cmd(c, "BEGIN", "could not begin a transaction", err,
	        errlen) != 0)
		return -1;
	saw_nested_begin = false;
	t0 = mono_ms();
	r = PQexec(c, f->sql); /* the one unparameterised text: the file */
	*ms = mono_ms() - t0;
	if (!body_ok(r)) {
		body_error(f, c, r, err, errlen);
		abandon(c, r);
		return -1;
	}
	PQclear(r);
	if (PQtransactionStatus(c) != PQTRANS_INTRANS) {
		(void)snprintf(err, errlen,
		    "%s: the migration ended its transaction itself (COMMIT or "
		    "ROLLBACK in the file), so what came before that may be "
		    "applied without being recorded: remove it (see "
		    "sql/README), check the database, then start again",
		    f->path);
		abandon(c, NULL);
		return -1;
	}
	if (saw_nested_begin) {
		(void)snprintf(err, errlen,
		    "%s: migration refused and rolled back: it holds its own "
		    "BEGIN, but each migration already runs in a transaction "
		    "of its own (see sql/README)",
		    f->path);
		abandon(c, NULL);
		return -1;
	}
	(void)snprintf(version, sizeof(version), "%" PRId64, f->version);
	(void)snprintf(dur, sizeof(dur), "%.3f", *ms);
	params[0] = version;
	params[1] = f->name;
	params[2] = f->sha256;
	params[3] = dur;
	(void)snprintf(what, sizeof(what),
	    "%s: could not record the migration (rolled back)", f->path);
	r = exec_params(c, SQL_INSERT, 4, params, PGRES_COMMAND_OK, what, err,
	    errlen);
	if (r == NULL) {
		abandon(c, NULL);
		return -1;
	}
	PQclear(r);
	(void)snprintf(what, sizeof(what),
	    "%s: migration failed at COMMIT and was rolled back", f->path);
	return exec_cmd(c, "COMMIT", what, err, errlen);
}

static int summarise(PGconn *c, struct migrate_result *res, char *err,
    size_t errlen)
{
	PGresult *r = exec_params(c, SQL_SUMMARY, 0, NULL, PGRES_TUPLES_OK,
	    "could not count the applied migrations", err, errlen);

	if (r == NULL)
		return -1;
	res->count = (uint32_t)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	res->version = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return 0;
}

int migrate_up(PGconn *conn, const struct migrate_set *set,
    migrate_applied_fn fn, void *arg, struct migrate_result *res, char *err,
    size_t errlen)
{
	struct migrate_status st = {0};
	struct migrate_row *rows = NULL;
	const struct migrate_file *f;
	const char *kp[1];
	bool locked = false;
	char key[32];
	size_t n = 0, i;
	PGresult *r;
	double ms;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	(void)snprintf(key, sizeof(key), "%" PRId64, MIGRATE_LOCK_KEY);
	kp[0] = key;
	/* Waits while another node migrates; it then finds nothing to do. */
	r = exec_params(conn, SQL_LOCK, 1, kp, PGRES_TUPLES_OK,
	    "could not take the migration lock", err, errlen);
	if (r == NULL)
		goto out;
	PQclear(r);
	locked = true;
	if (exec_cmd(conn, SQL_CREATE, "could not create schema_migrations",
	        err, errlen) != 0 ||
	    load_applied(conn, false, &rows, &n, err, errlen) != 0)
		goto out;
	if (merge(set, rows, n, &st) != 0) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (refuse_changed(set, &st, err, errlen) != 0)
		goto out;
	for (i = 0; i < st.n; i++) {
		if (st.v[i].state != MIGRATE_PENDING ||
		    (f = find_file(set, st.v[i].version)) == NULL)
			continue;
		if (apply_one(conn, f, &ms, err, errlen) != 0)
			goto out;
		res->applied++;
		if (fn != NULL)
			fn(f, ms, arg);
	}
	rc = summarise(conn, res, err, errlen);
out:
	if (locked) {
		r = PQexecParams(conn, SQL_UNLOCK, 1, NULL, kp, NULL, NULL, 0);
		PQclear(r);
	}
	migrate_status_free(&st);
	free(rows);
	return rc;
}
