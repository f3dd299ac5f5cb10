/*
 * test_master_key.c - pacerd and its master key: it refuses to start (and
 * -t refuses the configuration) without a usable key, saying how to make
 * one; it takes the key from master_key, PACER_MASTER_KEY or a private
 * master_key_file; it refuses to start when the signing key in the
 * database does not open under its key; and the key never shows in a
 * message, the log, -T or a response.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tdb.h"
#include "testutil.h"
#include "tserver.h"

#define NO_KEY_MSG                                                             \
	"no master key: set PACER_MASTER_KEY or master_key_file (make one "    \
	"with: openssl rand -base64 32)"
/* The bytes of TU_MASTER_KEY in hex, should a bug print them so. */
#define KEY_HEX "000102030405060708090a0b0c0d0e0f"

static struct ts srv;

static void teardown(void)
{
	ts_fini(&srv);
}

TestSuite(master_key, .fini = teardown, .timeout = 60);

static void expect_no_key_in(const char *what, const char *text)
{
	cr_expect(strstr(text, TU_MASTER_KEY) == NULL, "the key is in %s:\n%s",
	    what, text);
	cr_expect(strstr(text, "AAECAwQFBgcICQoL") == NULL,
	    "part of the key is in %s:\n%s", what, text);
	cr_expect(strstr(text, KEY_HEX) == NULL, "the key (hex) is in %s:\n%s",
	    what, text);
}

/* Run pacerd with args on srv's config (env may be NULL). */
static void run(struct tu_run *r, const char *flag, char *const env[])
{
	char *argv[5] = {NULL, (char *)flag, "-f", srv.conf, NULL};

	argv[0] = tu_buildpath("master/pacerd");
	if (flag == NULL) {
		argv[1] = "-f";
		argv[2] = srv.conf;
		argv[3] = NULL;
	}
	cr_assert(eq(int, tu_run(r, argv, env), 0));
	free(argv[0]);
}

Test(master_key, test_flag_without_a_key_fails_saying_how_to_make_one)
{
	struct tu_run r;

	ts_init(&srv, "master_key_file = ''\n");
	run(&r, "-t", NULL);
	cr_expect(eq(int, r.status, 1));
	cr_expect(eq(str, r.out, ""));
	cr_expect(eq(str, r.err, "pacerd: " NO_KEY_MSG "\n"));
	tu_run_free(&r);
}

Test(master_key, start_without_a_key_exits_1_saying_how_to_make_one)
{
	char path[600];
	struct tu_run r;

	ts_init(&srv, "master_key_file = ''\n");
	run(&r, "-D", NULL);
	cr_expect(eq(int, r.status, 1), "status %d: %s", r.status, r.err);
	TU_EXPECT_IN(r.err, NO_KEY_MSG);
	tu_run_free(&r);
	/* Detached start: the starter hears the reason too. */
	run(&r, NULL, NULL);
	cr_expect(eq(int, r.status, 1), "status %d: %s", r.status, r.err);
	TU_EXPECT_IN(r.err, NO_KEY_MSG);
	tu_run_free(&r);
	(void)snprintf(path, sizeof(path), "%s/pacerd.pid", srv.dir);
	cr_expect(eq(int, access(path, F_OK), -1), "a pidfile was left");
}

Test(master_key, the_key_can_come_from_the_environment)
{
	char *env[] = {"PACER_MASTER_KEY=" TU_MASTER_KEY, NULL};
	struct tu_run r;

	ts_init(&srv, "master_key_file = ''\n");
	run(&r, "-t", env);
	cr_expect(eq(int, r.status, 0), "%s", r.err);
	TU_EXPECT_IN(r.out, "configuration ok");
	tu_run_free(&r);
}

Test(master_key, a_bad_key_is_refused_without_showing_it)
{
	char *env[] = {"PACER_MASTER_KEY=c2VjcmV0LXRoYXQtaXMtbm90LWEta2V5",
	    NULL};
	struct tu_run r;

	ts_init(&srv, "master_key_file = ''\n");
	run(&r, "-t", env);
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "openssl rand -base64 32");
	cr_expect(strstr(r.err, "c2VjcmV0") == NULL, "the value is shown: %s",
	    r.err);
	tu_run_free(&r);
}

Test(master_key, a_key_file_others_can_read_is_refused_naming_its_mode)
{
	char key[600], want[700];
	struct tu_run r;

	ts_init(&srv, NULL);
	(void)snprintf(key, sizeof(key), "%s/master.key", srv.dir);
	cr_assert(eq(int, chmod(key, 0644), 0));
	run(&r, "-t", NULL);
	cr_expect(eq(int, r.status, 1));
	(void)snprintf(want, sizeof(want), "master_key_file %s has mode 0644",
	    key);
	TU_EXPECT_IN(r.err, want);
	expect_no_key_in("the -t message", r.err);
	tu_run_free(&r);
	run(&r, "-D", NULL);
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, want);
	expect_no_key_in("the start-up message", r.err);
	tu_run_free(&r);
}

Test(master_key, a_missing_key_file_is_named)
{
	struct tu_run r;

	ts_init(&srv, "master_key_file = '/nonexistent/master.key'\n");
	run(&r, "-t", NULL);
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "/nonexistent/master.key does not exist");
	TU_EXPECT_IN(r.err, "openssl rand -base64 32");
	tu_run_free(&r);
}

Test(master_key, show_config_never_shows_the_key)
{
	char *env[] = {"PACER_MASTER_KEY=" TU_MASTER_KEY, NULL};
	struct tu_run r;

	ts_init(&srv, TU_MASTER_KEY_CONF);
	run(&r, "-T", NULL);
	cr_expect(eq(int, r.status, 0), "%s", r.err);
	TU_EXPECT_IN(r.out, "master_key = '********'");
	TU_EXPECT_IN(r.out, "master_key_file = '");
	expect_no_key_in("-T", r.out);
	tu_run_free(&r);
	run(&r, "-T", env);
	cr_expect(eq(int, r.status, 0), "%s", r.err);
	expect_no_key_in("-T", r.out);
	tu_run_free(&r);
}

Test(master_key, a_server_with_a_key_file_serves_and_never_logs_the_key)
{
	char *body = NULL, *log;

	ts_init(&srv, "log_level = debug\n");
	ts_start(&srv);
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200));
	cr_expect(eq(int,
	    ts_http(srv.port,
	        "GET /admin/health HTTP/1.1\r\nHost: t\r\n"
	        "Connection: close\r\n\r\n",
	        &body, 5000),
	    200));
	if (body != NULL)
		expect_no_key_in("/admin/health", body);
	free(body);
	ts_signal(&srv, SIGHUP);
	cr_expect(ts_log_wait(&srv, "reload ok: generation 2", 10000));
	ts_signal(&srv, SIGTERM);
	cr_assert(ts_wait_exit(&srv, 15000));
	log = ts_log(&srv);
	cr_assert(not(eq(ptr, log, NULL)));
	expect_no_key_in("the log", log);
	free(log);
}

Test(master_key, a_signing_key_of_another_master_key_stops_the_start)
{
	static const char other[] =
	    "b3RoZXIgb3RoZXIgb3RoZXIgb3RoZXIgb3RoZXIgMzI=";
	char name[TDB_NAME_MAX], url[TDB_URL_MAX], conf[1024], *kid;
	struct tu_run r;

	/* The first start makes a key sealed under the key file's key. */
	tdb_create("pacer_mk", name, url);
	(void)snprintf(conf, sizeof(conf), "database_url = '%s'\n", url);
	ts_init(&srv, conf);
	ts_start(&srv);
	ts_signal(&srv, SIGTERM);
	cr_assert(ts_wait_exit(&srv, 15000));
	kid = tdb_value(url, "SELECT kid FROM jwt_keys", NULL, NULL);
	cr_assert(strlen(kid) > 0);

	/* Another master key could not sign a token: no start, and the
	 * reason names the key. */
	(void)snprintf(conf, sizeof(conf),
	    "database_url = '%s'\nmaster_key = '%s'\n", url, other);
	ts_rewrite(&srv, conf);
	run(&r, "-D", NULL);
	cr_expect(eq(int, r.status, 1), "status %d: %s", r.status, r.err);
	TU_EXPECT_IN(r.err, "the current signing key cannot be used: key ");
	TU_EXPECT_IN(r.err, kid);
	TU_EXPECT_IN(r.err, "does not open under this master key");
	TU_EXPECT_IN(r.err, "start with the master key that made it");
	cr_expect(strstr(r.err, other) == NULL, "the key is shown: %s", r.err);
	tu_run_free(&r);
	cr_expect(eq(i64,
	    tdb_int(url, "SELECT count(*) FROM jwt_keys", NULL, NULL), 1));
	free(kid);
	tdb_drop(name);
}
