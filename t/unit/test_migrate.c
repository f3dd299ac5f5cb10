/*
 * test_migrate.c - the migrations folder without a database: which file
 * names are migrations, the order, refusals that name the file, checksums,
 * and PostgreSQL's error position mapped to a line of the file.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "migrate.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
	dir = tu_tmpdir();
}

static void teardown(void)
{
	char cmd[600];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
	free(dir);
}

TestSuite(migrate_files, .init = setup, .fini = teardown);

static void put(const char *name, const char *text)
{
	free(tu_write(dir, name, text));
}

/* parse name -> result, and the version and name when it is one. */
static int parse(const char *file, int64_t *v, char *name, size_t n)
{
	const char *nm = NULL;
	size_t len = 0;
	int k = migrate_parse_name(file, v, &nm, &len);

	name[0] = '\0';
	if (k == 1)
		(void)snprintf(name, n, "%.*s", (int)len, nm);
	return k;
}

Test(migrate_files, names_that_are_migrations)
{
	char name[64];
	int64_t v = 0;

	cr_expect(eq(int, parse("0001_users.sql", &v, name, sizeof(name)), 1));
	cr_expect(eq(i64, v, 1));
	cr_expect(eq(str, name, "users"));
	cr_expect(
	    eq(int, parse("12345_jwt_keys2.sql", &v, name, sizeof(name)), 1));
	cr_expect(eq(i64, v, 12345));
	cr_expect(eq(str, name, "jwt_keys2"));
	cr_expect(eq(int,
	    parse("000000000000000042_x.sql", &v, name, sizeof(name)), 1));
	cr_expect(eq(i64, v, 42));
}

Test(migrate_files, other_files_are_ignored_and_bad_sql_names_refused)
{
	static const char *const ignored[] = {"README", "notes.txt",
	    ".0001_users.sql", "0001_users.sql~", "0001_users.sql.orig",
	    "0001_users.SQL"};
	static const char *const bad[] = {"001_users.sql", "0001-users.sql",
	    "0001_Users.sql", "0001_.sql", "0000_zero.sql", "0001_a b.sql",
	    "users.sql", "0001users.sql", "0001_users-2.sql",
	    "1234567890123456789_too_long.sql"};
	char name[64];
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		cr_expect(eq(int, parse(ignored[i], &v, name, sizeof(name)), 0),
		    "%s should be ignored", ignored[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(eq(int, parse(bad[i], &v, name, sizeof(name)), -1),
		    "%s should be refused", bad[i]);
}

Test(migrate_files, a_folder_is_read_in_version_order_with_checksums)
{
	struct migrate_set set;
	char err[1024];

	put("0010_later.sql", "SELECT 10;\n");
	put("0002_second.sql", "abc");
	put("0001_first.sql", "");
	put("README", "not a migration");
	cr_assert(eq(int, migrate_read_dir(dir, &set, err, sizeof(err)), 0),
	    "%s", err);
	cr_assert(eq(sz, set.n, 3));
	cr_expect(eq(i64, set.v[0].version, 1));
	cr_expect(eq(i64, set.v[1].version, 2));
	cr_expect(eq(i64, set.v[2].version, 10));
	cr_expect(eq(str, set.v[0].file, "0001_first.sql"));
	cr_expect(eq(str, set.v[1].name, "second"));
	cr_expect(eq(str, set.v[2].sql, "SELECT 10;\n"));
	cr_expect(eq(sz, set.v[2].len, 11));
	/* SHA-256 of "" and of "abc" (FIPS 180-2 test vector). */
	cr_expect(eq(str, set.v[0].sha256,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"
	    "5"));
	cr_expect(eq(str, set.v[1].sha256,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"
	    "d"));
	TU_EXPECT_IN(set.v[1].path, "/0002_second.sql");
	cr_expect(eq(str, set.dir, dir));
	migrate_set_free(&set);
	cr_expect(eq(sz, set.n, 0));
	migrate_set_free(&set); /* twice is harmless */
}

Test(migrate_files, an_empty_folder_has_no_migrations)
{
	struct migrate_set set;
	char err[256];

	cr_assert(eq(int, migrate_read_dir(dir, &set, err, sizeof(err)), 0));
	cr_expect(eq(sz, set.n, 0));
	migrate_set_free(&set);
}

Test(migrate_files, a_bad_name_is_refused_naming_the_file)
{
	struct migrate_set set;
	char err[1024];

	put("0001_ok.sql", "SELECT 1;");
	put("2_short.sql", "SELECT 2;");
	cr_assert(eq(int, migrate_read_dir(dir, &set, err, sizeof(err)), -1));
	TU_EXPECT_IN(err, "/2_short.sql: not a migration name");
	TU_EXPECT_IN(err, "NNNN_name.sql");
	cr_expect(eq(sz, set.n, 0));
	cr_expect(eq(ptr, set.v, NULL));
}

Test(migrate_files, two_files_with_one_version_are_refused)
{
	struct migrate_set set;
	char err[1024];

	put("0003_a.sql", "SELECT 1;");
	put("0001_first.sql", "SELECT 1;");
	put("003_c.sql.bak", "ignored");
	put("00003_b.sql", "SELECT 2;");
	cr_assert(eq(int, migrate_read_dir(dir, &set, err, sizeof(err)), -1));
	TU_EXPECT_IN(err, "version 3 is also the version of");
	TU_EXPECT_IN(err, "0003_a.sql");
	TU_EXPECT_IN(err, "00003_b.sql");
	cr_expect(eq(sz, set.n, 0));
}

Test(migrate_files, a_missing_folder_or_a_folder_named_sql_is_an_error)
{
	struct migrate_set set;
	char err[1024], path[600];

	(void)snprintf(path, sizeof(path), "%s/nowhere", dir);
	cr_assert(eq(int, migrate_read_dir(path, &set, err, sizeof(err)), -1));
	TU_EXPECT_IN(err, "nowhere: could not open the migrations folder");
	(void)snprintf(path, sizeof(path), "%s/0004_dir.sql", dir);
	cr_assert(eq(int, mkdir(path, 0755), 0));
	cr_assert(eq(int, migrate_read_dir(dir, &set, err, sizeof(err)), -1));
	TU_EXPECT_IN(err, "0004_dir.sql: not a regular file");
}

Test(migrate_files, a_file_with_a_nul_byte_is_refused)
{
	struct migrate_set set;
	char err[1024], path[600];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/0001_nul.sql", dir);
	fp = fopen(path, "w");
	cr_assert(not(eq(ptr, fp, NULL)));
	cr_assert(eq(sz, fwrite("SELECT\0 1;", 1, 10, fp), 10));
	cr_assert(eq(int, fclose(fp), 0));
	cr_assert(eq(int, migrate_read_dir(dir, &set, err, sizeof(err)), -1));
	TU_EXPECT_IN(err, "0001_nul.sql: holds a NUL byte");
}

Test(migrate_files, the_error_position_maps_to_its_line)
{
	const char *s = "CREATE TABLE a (id int);\n"
	                "\n"
	                "INSERT INTO b VALUES (1);\n";
	size_t n = strlen(s);
	long ins = (long)(strstr(s, "INSERT") - s) + 1;

	cr_expect(eq(int, migrate_line_of(s, n, 1), 1));
	cr_expect(eq(int, migrate_line_of(s, n, 24), 1)); /* the ';' */
	cr_expect(eq(int, migrate_line_of(s, n, 25), 1)); /* its newline */
	cr_expect(eq(int, migrate_line_of(s, n, 26), 2)); /* the empty line */
	cr_expect(eq(long, ins, 27));
	cr_expect(eq(int, migrate_line_of(s, n, ins), 3));
	cr_expect(eq(int, migrate_line_of(s, n, ins + 12), 3));
	/* Past the end: the last line with text; nonsense: line 1. */
	cr_expect(eq(int, migrate_line_of(s, n, 10000), 3));
	cr_expect(eq(int, migrate_line_of(s, n, 0), 1));
	cr_expect(eq(int, migrate_line_of(s, n, -5), 1));
	cr_expect(eq(int, migrate_line_of("", 0, 1), 1));
}

Test(migrate_files, the_position_counts_characters_not_bytes)
{
	/* PostgreSQL counts characters: "é" is one, though two bytes. */
	const char *s = "-- café\n"
	                "-- naïve ünïcödé\n"
	                "SELECT x;\n";
	size_t n = strlen(s);

	/* Characters: line 1 has 8 (with its newline), line 2 has 17. */
	cr_expect(eq(int, migrate_line_of(s, n, 8), 1));
	cr_expect(eq(int, migrate_line_of(s, n, 9), 2));
	cr_expect(eq(int, migrate_line_of(s, n, 25), 2));
	cr_expect(eq(int, migrate_line_of(s, n, 26), 3));
}

Test(migrate_files, sha256_is_lowercase_hex)
{
	char out[65];

	cr_assert(eq(int, migrate_sha256_hex("abc", 3, out), 0));
	cr_expect(eq(str, out,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"
	    "d"));
}

Test(migrate_files, the_folder_defaults_to_the_installed_one)
{
	struct cfg *c = cfg_new();
	char *old;

	cr_assert(not(eq(ptr, c, NULL)));
	cr_expect(eq(str, (char *)migrate_dir_of(c), PACER_DATADIR "/sql"));
	old = c->migrations_dir;
	c->migrations_dir = "/srv/pacer/sql";
	cr_expect(eq(str, (char *)migrate_dir_of(c), "/srv/pacer/sql"));
	c->migrations_dir = old;
	cfg_free(&c);
}

Test(migrate_files, state_names)
{
	cr_expect(
	    eq(str, (char *)migrate_state_name(MIGRATE_APPLIED), "applied"));
	cr_expect(
	    eq(str, (char *)migrate_state_name(MIGRATE_PENDING), "pending"));
	cr_expect(
	    eq(str, (char *)migrate_state_name(MIGRATE_MODIFIED), "modified"));
	cr_expect(
	    eq(str, (char *)migrate_state_name(MIGRATE_MISSING), "missing"));
}
