/*
 * test_cli.c - the built pacerd and pacerctl programs, run as an operator
 * runs them: exit codes, what goes to stdout and stderr.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *pacerd, *pacerctl, *dir;

static void setup(void)
{
	pacerd = tu_buildpath("master/pacerd");
	pacerctl = tu_buildpath("master/pacerctl");
	dir = tu_tmpdir();
}

static void teardown(void)
{
	free(pacerd);
	free(pacerctl);
	free(dir);
}

TestSuite(cli, .init = setup, .fini = teardown);

Test(cli, version_names_the_build_and_the_libraries)
{
	struct tu_run r;
	char *argv[] = {pacerd, "-V", NULL};
	static const char *const want[] = {
	    "pacerd 0.1.0\n",
	    "build: werror=",
	    "libpq 15.",
	    "json-c 0.",
	    "OpenSSL 3.",
	    "libcurl 7.",
	    "hiredis 0.14",
	    "libjwt 1.10",
	};

	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 0), "stderr: %s", r.err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(not(eq(ptr, strstr(r.out, want[i]), NULL)),
		    "no \"%s\" in:\n%s", want[i], r.out);
	tu_run_free(&r);
}

Test(cli, help_lists_the_flags)
{
	struct tu_run r;
	char *argv[] = {pacerd, "--help", NULL};

	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 0));
	cr_expect(not(eq(ptr, strstr(r.out, "-t, --test"), NULL)), "%s", r.out);
	cr_expect(not(eq(ptr, strstr(r.out, "-T, --show-config"), NULL)), "%s",
	    r.out);
	cr_expect(not(eq(ptr, strstr(r.out, "-f, --config FILE"), NULL)), "%s",
	    r.out);
	tu_run_free(&r);
}

Test(cli, unknown_flag_is_a_usage_error)
{
	struct tu_run r;
	char *argv[] = {pacerd, "--frobnicate", NULL};

	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 1));
	cr_expect(not(eq(ptr, strstr(r.err, "usage: pacerd"), NULL)), "%s",
	    r.err);
	tu_run_free(&r);
}

Test(cli, test_flag_accepts_a_good_file)
{
	struct tu_run r;
	char *conf = tu_write(dir, "good.conf",
	    "listen = '127.0.0.1:8081'\nmax_workers = 16\n" TU_MASTER_KEY_CONF);
	char *argv[] = {pacerd, "-t", "-f", conf, NULL};
	char want[600];

	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 0), "stderr: %s", r.err);
	(void)snprintf(want, sizeof(want), "pacerd: configuration ok: %s\n",
	    conf);
	cr_assert(eq(str, r.out, want));
	cr_assert(eq(str, r.err, ""));
	tu_run_free(&r);
	free(conf);
}

Test(cli, test_flag_reports_five_mistakes_with_file_and_line)
{
	struct tu_run r;
	char *conf = tu_write(dir, "bad.conf",
	    "# five mistakes\n"
	    "max_wokers = 10\n"
	    "keepalive_timeout = 5 parsecs\n"
	    "include \"x.conf\"\n"
	    "log_format = xml\n"
	    "max_workers = 100000\n");
	char *argv[] = {pacerd, "-t", "-f", conf, NULL};
	char want[600];
	static const int lines[] = {2, 3, 4, 5, 6};

	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 1), "stdout: %s", r.out);
	cr_assert(eq(str, r.out, ""));
	for (size_t i = 0; i < 5; i++) {
		(void)snprintf(want, sizeof(want), "%s:%d: ", conf, lines[i]);
		cr_expect(eq(sz, tu_count_lines_with(r.err, want), 1),
		    "no error for line %d in:\n%s", lines[i], r.err);
	}
	(void)snprintf(want, sizeof(want),
	    "pacerd: configuration %s has 5 errors\n", conf);
	cr_expect(not(eq(ptr, strstr(r.err, want), NULL)), "%s", r.err);
	tu_run_free(&r);
	free(conf);
}

Test(cli, missing_config_file_is_reported)
{
	struct tu_run r;
	char *argv[] = {pacerd, "-t", "-f", "/nonexistent/pacerd.conf", NULL};

	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 1));
	cr_expect(
	    not(eq(ptr,
	        strstr(r.err,
	            "/nonexistent/pacerd.conf: No such file or directory\n"),
	        NULL)),
	    "%s", r.err);
	tu_run_free(&r);
}

Test(cli, show_config_gives_values_sources_and_masks_secrets)
{
	struct tu_run r;
	char *conf = tu_write(dir, "show.conf", "max_workers = 16\n");
	char *argv[] = {pacerd, "-T", "-f", conf, NULL};
	char *env[] = {"DATABASE_URL=postgresql://"
	               "pacer:hunter2@db.internal:5432/pacer",
	    "STRAVA_CLIENT_SECRET=topsecretvalue", NULL};
	char want[600];

	cr_assert(eq(int, tu_run(&r, argv, env), 0));
	cr_assert(eq(int, r.status, 0), "stderr: %s", r.err);
	(void)snprintf(want, sizeof(want), "# %s:1\n", conf);
	cr_expect(eq(sz, tu_count_lines_with(r.out, "max_workers = 16 "), 1),
	    "%s", r.out);
	cr_expect(not(eq(ptr, strstr(r.out, want), NULL)), "%s", r.out);
	cr_expect(
	    not(eq(ptr,
	        strstr(r.out,
	            "database_url = "
	            "'postgresql://pacer:********@db.internal:5432/pacer'"),
	        NULL)),
	    "%s", r.out);
	cr_expect(not(eq(ptr, strstr(r.out, "# environment DATABASE_URL\n"),
	              NULL)),
	    "%s", r.out);
	cr_expect(not(eq(ptr,
	              strstr(r.out, "strava_client_secret = '********'"),
	              NULL)),
	    "%s", r.out);
	cr_expect(eq(ptr, strstr(r.out, "hunter2"), NULL), "password leaked");
	cr_expect(eq(ptr, strstr(r.out, "topsecretvalue"), NULL),
	    "secret leaked");
	cr_expect(not(eq(ptr, strstr(r.out, "request_timeout = 1min"), NULL)),
	    "%s", r.out);
	tu_run_free(&r);
	free(conf);
}

Test(cli, show_config_refuses_an_invalid_file)
{
	struct tu_run r;
	char *conf = tu_write(dir, "bad.conf",
	    "start_workers = 100\nmax_workers = 10\n");
	char *argv[] = {pacerd, "-T", "-f", conf, NULL};

	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 1));
	cr_assert(eq(str, r.out, ""), "printed a config that is invalid");
	cr_expect(
	    not(eq(ptr,
	        strstr(r.err,
	            "start_workers (100) must not exceed max_workers (10)"),
	        NULL)),
	    "%s", r.err);
	tu_run_free(&r);
	free(conf);
}

Test(cli, a_start_that_cannot_work_exits_1_with_the_reason)
{
	struct tu_run r;
	char *conf = tu_write(dir, "ok.conf",
	    "listen = 127.0.0.1:1\nrun_dir = /proc/pacer-run\n"
	    "pidfile = /proc/pacer-run/pacerd.pid\n" TU_MASTER_KEY_CONF);
	char *argv[] = {pacerd, "-f", conf, NULL};

	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_expect(eq(int, r.status, 1));
	cr_expect(not(eq(ptr,
	              strstr(r.err, "could not create run_dir /proc/pacer-run"),
	              NULL)),
	    "%s", r.err);
	tu_run_free(&r);
	free(conf);
}

Test(cli, pacerctl_reports_its_version_and_refuses_unknown_commands)
{
	struct tu_run r;
	char *v[] = {pacerctl, "-V", NULL};
	char *s[] = {pacerctl, "restart", NULL};

	cr_assert(eq(int, tu_run(&r, v, NULL), 0));
	cr_expect(eq(int, r.status, 0));
	cr_expect(not(eq(ptr, strstr(r.out, "pacerctl 0.1.0\n"), NULL)), "%s",
	    r.out);
	tu_run_free(&r);
	cr_assert(eq(int, tu_run(&r, s, NULL), 0));
	cr_expect(eq(int, r.status, 2));
	cr_expect(not(eq(ptr, strstr(r.err, "unknown command \"restart\""),
	              NULL)),
	    "%s", r.err);
	tu_run_free(&r);
}
