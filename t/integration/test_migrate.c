/*
 * test_migrate.c - migrations against the harness's real PostgreSQL, each
 * test on a fresh database of its own (created here, dropped at the end):
 * masters starting together apply each migration once; an edited, removed
 * or broken migration stops start-up naming the file, with nothing half
 * applied; an unreachable database stops start-up after
 * database_startup_wait; a reload applies new migrations or is refused;
 * pacerctl migrate status and up.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "migrate.h"
#include "sb.h"
#include "tdb.h"
#include "testutil.h"
#include "tserver.h"

/* The newest migration shipped in sql/; the tests add theirs from 0901. */
#define LAST_REAL "8"
/* The shipped ones and one test migration. */
#define WITH_EXTRA "9"

static struct ts a, b;
static char dbname[TDB_NAME_MAX], dburl[TDB_URL_MAX], sqldir[512];
static char *tmp;

/* The first value of a query on the test's database, or "" for no row
 * (caller frees). */
static char *query(const char *sql)
{
	PGconn *c = PQconnectdb(dburl);
	PGresult *r;
	char *v;

	cr_assert(eq(int, PQstatus(c), CONNECTION_OK), "%s", PQerrorMessage(c));
	r = PQexec(c, sql);
	cr_assert(eq(int, PQresultStatus(r), PGRES_TUPLES_OK), "%s: %s", sql,
	    PQerrorMessage(c));
	v = strdup(PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	cr_assert(not(eq(ptr, v, NULL)));
	PQclear(r);
	PQfinish(c);
	return v;
}

static void expect_query(const char *sql, const char *want)
{
	char *got = query(sql);

	cr_expect(eq(str, got, (char *)want), "%s", sql);
	free(got);
}

/* The source tree's migrations, copied into tmp/sql so a test may change
 * them. */
static void copy_sql(void)
{
	char *src = tu_srcpath("sql"), path[1024], *text;
	const struct dirent *e;
	DIR *d = opendir(src);

	cr_assert(not(eq(ptr, d, NULL)));
	(void)snprintf(sqldir, sizeof(sqldir), "%s/sql", tmp);
	cr_assert(eq(int, mkdir(sqldir, 0755), 0));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", src, e->d_name);
		text = tu_read(path, NULL);
		cr_assert(not(eq(ptr, text, NULL)));
		free(tu_write(sqldir, e->d_name, text));
		free(text);
	}
	(void)closedir(d);
	free(src);
}

static void put_sql(const char *name, const char *text)
{
	free(tu_write(sqldir, name, text));
}

/* How many migrations the source tree has. */
static size_t nsql(void)
{
	struct migrate_set set;
	char err[512], *src = tu_srcpath("sql");
	size_t n;

	cr_assert(eq(int, migrate_read_dir(src, &set, err, sizeof(err)), 0),
	    "%s", err);
	n = set.n;
	migrate_set_free(&set);
	free(src);
	return n;
}

static void setup(void)
{
	tmp = tu_tmpdir();
	tdb_create("pacer_mig", dbname, dburl);
	(void)snprintf(sqldir, sizeof(sqldir), "%s/sql", PACER_TOP_SRCDIR);
}

static void teardown(void)
{
	char cmd[600];

	ts_fini(&a);
	ts_fini(&b);
	tdb_drop(dbname);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", tmp);
	free(tmp);
}

TestSuite(migrate, .init = setup, .fini = teardown, .timeout = 90);

/* The config lines that point pacerd at this test's database and folder,
 * after ts's basics (later lines win). */
static const char *db_conf(const char *more)
{
	static char text[2048];

	(void)snprintf(text, sizeof(text),
	    "database_url = '%s'\nmigrations_dir = '%s'\n%s", dburl, sqldir,
	    more != NULL ? more : "");
	return text;
}

static double mono_s(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Run pacerd in the foreground on s's config until it exits. */
static void run_pacerd(const struct ts *s, bool foreground, struct tu_run *r)
{
	char *argv[5] = {NULL, "-f", s->conf, NULL, NULL};

	argv[0] = tu_buildpath("master/pacerd");
	if (foreground) {
		argv[1] = "-D";
		argv[2] = "-f";
		argv[3] = s->conf;
	}
	cr_assert(eq(int, tu_run(r, argv, NULL), 0));
	free(argv[0]);
}

/* Apply the folder's migrations from the test, as pacerctl migrate up. */
static void migrate_now(void)
{
	struct migrate_result res;
	struct migrate_set set;
	char err[1024];
	PGconn *c;

	cr_assert(eq(int, migrate_read_dir(sqldir, &set, err, sizeof(err)), 0),
	    "%s", err);
	c = migrate_connect(dburl, 5000, err, sizeof(err));
	cr_assert(not(eq(ptr, c, NULL)), "%s", err);
	cr_assert(eq(int,
	              migrate_up(c, &set, NULL, NULL, &res, err, sizeof(err)),
	              0),
	    "%s", err);
	cr_expect(eq(u32, res.count, (uint32_t)set.n));
	migrate_disconnect(&c);
	cr_expect(eq(u32, migrate_open_connections(), 0));
	migrate_set_free(&set);
}

/* ------------------------------------------------------------ start-up */

Test(migrate, two_masters_starting_together_apply_each_migration_once)
{
	char *la, *lb, want[64];
	size_t n = nsql();

	ts_init(&a, db_conf(NULL));
	ts_init(&b, db_conf(NULL));
	ts_launch(&a);
	ts_launch(&b);
	ts_await(&a);
	ts_await(&b);
	(void)snprintf(want, sizeof(want), "%zu", n);
	expect_query("SELECT count(*) FROM schema_migrations", want);
	expect_query("SELECT count(DISTINCT version) FROM schema_migrations",
	    want);
	expect_query("SELECT string_agg(name, ',' ORDER BY version) FROM "
	             "schema_migrations",
	    "users,jwt_keys,api_keys,refresh_tokens,audit_log,identity_extras,"
	    "oauth,mcp");
	expect_query("SELECT count(*) FROM schema_migrations WHERE checksum "
	             "!~ '^[0-9a-f]{64}$' OR duration_ms < 0",
	    "0");
	la = ts_log(&a);
	lb = ts_log(&b);
	cr_assert(la != NULL && lb != NULL);
	/* Between them, one "applied" line per migration. */
	cr_expect(eq(sz,
	              tu_count_lines_with(la, "applied migration ") +
	                  tu_count_lines_with(lb, "applied migration "),
	              n),
	    "log a:\n%s\nlog b:\n%s", la, lb);
	cr_expect(eq(sz,
	    tu_count_lines_with(la, "applied migration 0001_users.sql") +
	        tu_count_lines_with(lb, "applied migration 0001_users.sql"),
	    1));
	cr_expect(eq(sz,
	              tu_count_lines_with(la, "]: error: ") +
	                  tu_count_lines_with(lb, "]: error: ") +
	                  tu_count_lines_with(la, "migration lock") +
	                  tu_count_lines_with(lb, "migration lock"),
	              0),
	    "log a:\n%s\nlog b:\n%s", la, lb);
	TU_EXPECT_IN(la, "database schema at version " LAST_REAL);
	TU_EXPECT_IN(lb, "database schema at version " LAST_REAL);
	cr_expect(eq(int, ts_get(a.port, "/health/live"), 200));
	cr_expect(eq(int, ts_get(b.port, "/health/live"), 200));
	free(la);
	free(lb);
	/* The tables are there, with their constraints. */
	expect_query("SELECT count(*) FROM pg_class WHERE relname IN "
	             "('users', 'jwt_keys', 'api_keys', 'refresh_tokens', "
	             "'audit_log', 'users_email_lower_key') AND relkind IN "
	             "('r', 'i')",
	    "6");
}

Test(migrate, an_edited_applied_migration_stops_start_up_naming_it)
{
	struct tu_run r;
	char path[1024];
	FILE *fp;

	copy_sql();
	migrate_now();
	(void)snprintf(path, sizeof(path), "%s/0002_jwt_keys.sql", sqldir);
	fp = fopen(path, "a");
	cr_assert(not(eq(ptr, fp, NULL)));
	cr_assert(fputs("-- an innocent-looking edit\n", fp) >= 0);
	cr_assert(eq(int, fclose(fp), 0));
	ts_init(&a, db_conf(NULL));
	run_pacerd(&a, true, &r);
	cr_expect(eq(int, r.status, 1), "stderr: %s", r.err);
	TU_EXPECT_IN(r.err, "0002_jwt_keys.sql was applied with checksum");
	TU_EXPECT_IN(r.err, "applied migrations must never be edited");
	TU_EXPECT_IN(r.err, "add a new migration instead");
	cr_expect(eq(sz, tu_count_lines_with(r.err, "serving on"), 0));
	tu_run_free(&r);
}

Test(migrate, a_removed_applied_migration_stops_start_up_naming_it)
{
	struct tu_run r;
	char path[1024];

	copy_sql();
	migrate_now();
	(void)snprintf(path, sizeof(path), "%s/0003_api_keys.sql", sqldir);
	cr_assert(eq(int, unlink(path), 0));
	ts_init(&a, db_conf(NULL));
	run_pacerd(&a, true, &r);
	cr_expect(eq(int, r.status, 1), "stderr: %s", r.err);
	TU_EXPECT_IN(r.err,
	    "migration 0003_api_keys.sql (version 3) was "
	    "applied at");
	TU_EXPECT_IN(r.err, "must never be removed");
	tu_run_free(&r);
}

Test(migrate, a_broken_migration_is_rolled_back_whole_with_file_and_line)
{
	struct tu_run r;

	copy_sql();
	put_sql("0901_broken.sql",
	    "-- first a table, then a mistake\n"
	    "CREATE TABLE mig_first (id int);\n"
	    "INSERT INTO mig_nowhere VALUES (1);\n");
	ts_init(&a, db_conf(NULL));
	run_pacerd(&a, true, &r);
	cr_expect(eq(int, r.status, 1), "stderr: %s", r.err);
	TU_EXPECT_IN(r.err,
	    "/0901_broken.sql:3: migration failed and was "
	    "rolled back");
	TU_EXPECT_IN(r.err, "relation \"mig_nowhere\" does not exist");
	TU_EXPECT_IN(r.err, "SQLSTATE 42P01");
	/* Nothing of it: neither its first table nor its row; the ones
	 * before it were applied (each has its own transaction). */
	expect_query(
	    "SELECT coalesce(to_regclass('mig_first')::text, 'absent')",
	    "absent");
	expect_query(
	    "SELECT count(*) FROM schema_migrations WHERE version = 901", "0");
	expect_query("SELECT max(version) FROM schema_migrations", LAST_REAL);
	tu_run_free(&r);
}

Test(migrate, a_migration_with_its_own_commit_or_begin_is_refused)
{
	struct tu_run r;

	copy_sql();
	put_sql("0901_begin.sql", "BEGIN;\nCREATE TABLE mig_begin (id int);\n");
	ts_init(&a, db_conf(NULL));
	run_pacerd(&a, true, &r);
	cr_expect(eq(int, r.status, 1), "stderr: %s", r.err);
	TU_EXPECT_IN(r.err,
	    "0901_begin.sql: migration refused and rolled "
	    "back: it holds its own BEGIN");
	expect_query(
	    "SELECT coalesce(to_regclass('mig_begin')::text, 'absent')",
	    "absent");
	tu_run_free(&r);
}

Test(migrate, an_unreachable_database_stops_start_up_after_the_wait)
{
	char extra[1024];
	struct tu_run r;
	double t0, took;
	int port = ts_free_port();

	/* A password in the URL must never reach a message. */
	(void)snprintf(extra, sizeof(extra),
	    "database_url = 'postgresql://pacer:s3cr3t-pw@127.0.0.1:%d/pacer'\n"
	    "database_startup_wait = 2s\n"
	    "database_connect_timeout = 1s\n",
	    port);
	ts_init(&a, extra);
	t0 = mono_s();
	run_pacerd(&a, true, &r);
	took = mono_s() - t0;
	cr_expect(eq(int, r.status, 1), "stderr: %s", r.err);
	cr_expect(took >= 1.9 && took < 5.0, "exited after %.2f s", took);
	TU_EXPECT_IN(r.err, "the database is unreachable (attempt 1;");
	TU_EXPECT_IN(r.err, "the database is unreachable after");
	TU_EXPECT_IN(r.err, "(database_startup_wait)");
	TU_EXPECT_IN(r.err, "Connection refused");
	cr_expect(eq(ptr, strstr(r.err, "s3cr3t-pw"), NULL), "%s", r.err);
	tu_run_free(&r);
}

Test(migrate, a_detached_start_reports_an_unreachable_database_to_the_starter)
{
	char extra[1024];
	struct tu_run r;

	(void)snprintf(extra, sizeof(extra),
	    "database_url = 'postgresql://pacer@127.0.0.1:%d/pacer'\n"
	    "database_startup_wait = 500ms\n"
	    "log_destination = file\nlog_file = '/dev/null'\n",
	    ts_free_port());
	ts_init(&a, extra);
	run_pacerd(&a, false, &r);
	cr_expect(eq(int, r.status, 1), "stderr: %s", r.err);
	TU_EXPECT_IN(r.err, "pacerd: the database is unreachable after");
	tu_run_free(&r);
}

Test(migrate, the_configuration_test_never_connects)
{
	char extra[512], *argv[5] = {NULL, "-t", "-f", NULL, NULL};
	struct tu_run r;
	double t0;

	(void)snprintf(extra, sizeof(extra),
	    "database_url = 'postgresql://pacer@127.0.0.1:%d/pacer'\n"
	    "database_startup_wait = 10s\n",
	    ts_free_port());
	ts_init(&a, extra);
	argv[0] = tu_buildpath("master/pacerd");
	argv[3] = a.conf;
	t0 = mono_s();
	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_expect(eq(int, r.status, 0), "%s", r.err);
	cr_expect(mono_s() - t0 < 2.0, "pacerd -t waited for the database");
	TU_EXPECT_IN(r.out, "configuration ok");
	cr_expect(eq(str, r.err, ""));
	free(argv[0]);
	tu_run_free(&r);
}

/* ------------------------------------------------------------ reload */

static int ctl(const struct ts *s, const char *c1, const char *c2,
    struct tu_run *r)
{
	char *argv[6] = {NULL, "-f", s->conf, (char *)c1, (char *)c2, NULL};

	argv[0] = tu_buildpath("master/pacerctl");
	cr_assert(eq(int, tu_run(r, argv, NULL), 0));
	free(argv[0]);
	return r->status;
}

Test(migrate, a_reload_applies_new_migrations_or_is_refused)
{
	struct ts_pool p;
	struct tu_run r;

	copy_sql();
	ts_init(&a, db_conf(NULL));
	ts_start(&a);
	/* A SIGHUP before the master reported ready would be ignored. */
	cr_assert(ts_log_wait(&a, "serving on", 5000));
	cr_assert(eq(int, ts_pool(&a, &p), 0));
	cr_expect(eq(u64, p.generation, 1));

	put_sql("0901_reload.sql",
	    "CREATE TABLE IF NOT EXISTS mig_reload "
	    "(id int PRIMARY KEY);\n");
	cr_expect(eq(int, ctl(&a, "reload", NULL, &r), 0), "%s%s", r.out,
	    r.err);
	TU_EXPECT_IN(r.out, "reload ok: generation 2");
	tu_run_free(&r);
	cr_expect(
	    ts_log_wait(&a, "applied migration 0901_reload.sql in", 2000));
	expect_query("SELECT max(version) FROM schema_migrations", "901");
	expect_query(
	    "SELECT coalesce(to_regclass('mig_reload')::text, 'absent')",
	    "mig_reload");

	put_sql("0902_bad.sql", "\nSELECT * FROM mig_nowhere;\n");
	cr_expect(eq(int, ctl(&a, "reload", NULL, &r), 1), "%s%s", r.out,
	    r.err);
	TU_EXPECT_IN(r.err, "reload failed");
	TU_EXPECT_IN(r.err, "0902_bad.sql:2:");
	tu_run_free(&r);
	cr_assert(eq(int, ts_pool(&a, &p), 0));
	cr_expect(eq(u64, p.generation, 2));
	cr_expect(eq(int, p.reload_outcome, SB_RELOAD_FAILED));
	TU_EXPECT_IN(p.reload_error, "0902_bad.sql");
	cr_expect(eq(int, ts_get(a.port, "/health/live"), 200));
	expect_query("SELECT max(version) FROM schema_migrations", "901");
	/* pacerctl status shows the refusal. */
	cr_expect(eq(int, ctl(&a, "status", NULL, &r), 0), "%s", r.err);
	TU_EXPECT_IN(r.out, "0902_bad.sql");
	tu_run_free(&r);
}

/* ------------------------------------------------------------ pacerctl */

Test(migrate, pacerctl_migrate_status_and_up)
{
	struct tu_run r;

	copy_sql();
	put_sql("0901_extra.sql",
	    "CREATE TABLE IF NOT EXISTS mig_extra (id "
	    "int);\n");
	ts_init(&a, db_conf(NULL));

	cr_expect(eq(int, ctl(&a, "migrate", "status", &r), 3), "%s%s", r.out,
	    r.err);
	TU_EXPECT_IN(r.out, "version  name");
	TU_EXPECT_IN(r.out, "state     applied_at\n");
	TU_EXPECT_IN(r.out, "0001     users ");
	TU_EXPECT_IN(r.out, " pending   -\n");
	TU_EXPECT_IN(r.out,
	    "0 applied, " WITH_EXTRA " pending, 0 modified, 0 missing");
	tu_run_free(&r);

	cr_expect(eq(int, ctl(&a, "migrate", "up", &r), 0), "%s%s", r.out,
	    r.err);
	TU_EXPECT_IN(r.out, "pacerctl: applied 0001_users.sql in ");
	TU_EXPECT_IN(r.out, "pacerctl: applied 0901_extra.sql in ");
	TU_EXPECT_IN(r.out,
	    "database schema at version 901 (" WITH_EXTRA " migrations)");
	cr_expect(eq(sz, tu_count_lines_with(r.out, "pacerctl: applied "),
	    (size_t)atoi(WITH_EXTRA)));
	tu_run_free(&r);

	cr_expect(eq(int, ctl(&a, "migrate", "up", &r), 0), "%s%s", r.out,
	    r.err);
	TU_EXPECT_IN(r.out, "nothing to apply");
	tu_run_free(&r);

	cr_expect(eq(int, ctl(&a, "migrate", "status", &r), 0), "%s%s", r.out,
	    r.err);
	TU_EXPECT_IN(r.out, " applied   20");
	TU_EXPECT_IN(r.out,
	    WITH_EXTRA " applied, 0 pending, 0 modified, 0 missing");
	tu_run_free(&r);

	/* An edit shows as modified (exit 1), and up refuses. */
	put_sql("0901_extra.sql", "-- edited\nSELECT 1;\n");
	cr_expect(eq(int, ctl(&a, "migrate", "status", &r), 1), "%s%s", r.out,
	    r.err);
	TU_EXPECT_IN(r.out, " modified ");
	TU_EXPECT_IN(r.out,
	    LAST_REAL " applied, 0 pending, 1 modified, 0 missing");
	tu_run_free(&r);
	cr_expect(eq(int, ctl(&a, "migrate", "up", &r), 1), "%s%s", r.out,
	    r.err);
	TU_EXPECT_IN(r.err, "0901_extra.sql was applied with checksum");
	tu_run_free(&r);

	cr_expect(eq(int, ctl(&a, "migrate", "sideways", &r), 2));
	tu_run_free(&r);
}

Test(migrate, pacerctl_migrate_reports_an_unreachable_database)
{
	char extra[512];
	struct tu_run r;

	(void)snprintf(extra, sizeof(extra),
	    "database_url = "
	    "'postgresql://pacer:pw-never-shown@127.0.0.1:%d/x'\n",
	    ts_free_port());
	ts_init(&a, extra);
	cr_expect(eq(int, ctl(&a, "migrate", "status", &r), 1));
	TU_EXPECT_IN(r.err, "pacerctl: the database is unreachable: ");
	cr_expect(eq(ptr, strstr(r.err, "pw-never-shown"), NULL), "%s", r.err);
	tu_run_free(&r);
}
