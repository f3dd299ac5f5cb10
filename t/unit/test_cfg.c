/*
 * test_cfg.c - the pacerd.conf parser: syntax, quoting, includes, error
 * places, environment overrides, cross-key checks and the -T dump.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "cfg_keys.h"
#include "testutil.h"

static struct cfg *cfg;
static struct cfg_errs errs;

static void setup(void)
{
	tu_clear_pacer_env();
	cfg = cfg_new();
	cr_assert(not(eq(ptr, cfg, NULL)));
	memset(&errs, 0, sizeof(errs));
}

static void teardown(void)
{
	cfg_errs_free(&errs);
	cfg_free(&cfg);
}

TestSuite(cfg, .init = setup, .fini = teardown);

static int load(const char *text)
{
	return cfg_load_buffer(cfg, "pacerd.conf", text, strlen(text),
	    CFG_NO_ENV, &errs);
}

static char *all_errors(void)
{
	static char store[8192];
	struct buf b;
	size_t i;

	buf_init_fixed(&b, store, sizeof(store));
	for (i = 0; i < errs.n; i++)
		(void)buf_printf(&b, "%s\n", errs.msg[i]);
	return store;
}

static const struct cfg_origin *origin(const char *key)
{
	return &cfg->origin[cfg_keys_find(key) - cfg_keys_table];
}

/* Expect exactly the n errors want, in order. */
static void expect_errors(const char *const want[], size_t n)
{
	cr_assert(eq(sz, errs.n, n), "errors: %s", all_errors());
	for (size_t i = 0; i < n; i++)
		cr_expect(eq(str, errs.msg[i], (char *)want[i]), "error %zu",
		    i);
}

/* Assert that e holds an error and that the first one contains needle. */
static void assert_first_error_has(const struct cfg_errs *e, const char *needle)
{
	cr_assert(not(eq(sz, e->n, 0)), "no error, expected \"%s\"", needle);
	cr_assert(not(eq(ptr, strstr(e->msg[0], needle), NULL)),
	    "expected \"%s\", got %s", needle, e->msg[0]);
}

Test(cfg, comments_blank_lines_optional_equals_and_crlf)
{
	const char *text = "# a comment\n"
	                   "\n"
	                   "   \t\n"
	                   "max_workers = 32   # trailing comment\n"
	                   "start_workers 3\r\n"
	                   "\tlog_format=json\n"
	                   "listen = 0.0.0.0:9000"; /* no final newline */

	cr_assert(eq(int, load(text), 0), "errors: %s", all_errors());
	cr_assert(eq(i64, cfg->max_workers, 32));
	cr_assert(eq(i64, cfg->start_workers, 3));
	cr_assert(eq(int, cfg->log_format, 1));
	cr_assert(eq(str, cfg->listen, "0.0.0.0:9000"));
	cr_assert(eq(int, origin("start_workers")->line, 5));
	cr_assert(eq(str, (char *)origin("listen")->file, "pacerd.conf"));
}

Test(cfg, quoted_values_keep_hashes_spaces_and_escapes)
{
	const char *text =
	    "syslog_ident = 'pacer-api'\n"
	    "strava_client_id = 'it''s # not a comment'\n"
	    "fitbit_client_id = \"tab\\there \\\"quoted\\\"\"  # comment\n"
	    "user = ''\n";

	cr_assert(eq(int, load(text), 0), "errors: %s", all_errors());
	cr_assert(eq(str, cfg->syslog_ident, "pacer-api"));
	cr_assert(eq(str, cfg->strava_client_id, "it's # not a comment"));
	cr_assert(eq(str, cfg->fitbit_client_id, "tab\there \"quoted\""));
	cr_assert(eq(str, cfg->user, ""));
}

Test(cfg, units_with_and_without_a_blank)
{
	cr_assert(
	    eq(int,
	        load("request_timeout = 2min\nkeepalive_timeout = '250 ms'\n"
	             "max_body_size = 64kB\nmax_worker_rss = 2GB\n"
	             "shutdown_timeout = 0\nmax_header_size = 2048\n"),
	        0),
	    "errors: %s", all_errors());
	cr_assert(eq(i64, cfg->request_timeout, 120000));
	cr_assert(eq(i64, cfg->keepalive_timeout, 250));
	cr_assert(eq(i64, cfg->max_body_size, 65536));
	cr_assert(eq(i64, cfg->max_worker_rss, 2LL << 30));
	cr_assert(eq(i64, cfg->shutdown_timeout, 0));
	cr_assert(eq(i64, cfg->max_header_size, 2048));
}

Test(cfg, later_setting_wins_and_records_its_line)
{
	cr_assert(eq(int, load("max_workers = 10\nmax_workers = 20\n"), 0));
	cr_assert(eq(i64, cfg->max_workers, 20));
	cr_assert(eq(int, origin("max_workers")->line, 2));
	cr_assert(eq(int, origin("max_workers")->source, CFG_SRC_FILE));
}

Test(cfg, five_mistakes_are_all_reported_with_their_lines)
{
	const char *text = "listen = 127.0.0.1:8080\n"
	                   "max_wokers = 10\n"
	                   "keepalive_timeout = 5 parsecs\n"
	                   "log_format = xml\n"
	                   "\n"
	                   "max_workers = 100000\n"
	                   "= 3\n"
	                   "user = 'unterminated\n";

	static const char *const want[] = {
	    "pacerd.conf:2: unknown key \"max_wokers\" (did you mean "
	    "\"max_workers\"?)",
	    "pacerd.conf:3: keepalive_timeout: \"5 parsecs\" is not a duration "
	    "(a whole number and a unit: ms, s, min, h, d)",
	    "pacerd.conf:4: log_format: \"xml\" is not one of: text, json",
	    "pacerd.conf:6: max_workers: 100000 is out of range (1 to 4096)",
	    "pacerd.conf:7: syntax error: expected a key name at \"= 3\"",
	    "pacerd.conf:8: user: unterminated quoted string"};

	cr_assert(eq(int, load(text), -1));
	expect_errors(want, 6);
}

Test(cfg, missing_value_and_text_after_quotes_are_errors)
{
	static const char *const want[] = {
	    "pacerd.conf:1: listen: missing value (write '' for an empty one)",
	    "pacerd.conf:2: syslog_ident: unexpected text after the quoted "
	    "value: \"b\""};

	cr_assert(eq(int,
	    load("listen =\nsyslog_ident = 'a' b\nsyslog_ident = 'x' # ok\n"),
	    -1));
	expect_errors(want, 2);
	cr_expect(eq(str, cfg->syslog_ident, "x"));
}

Test(cfg, control_characters_in_errors_are_escaped)
{
	cr_assert(eq(int, load("log_level = \"a\\nb\x01\"\n"), -1));
	cr_assert(eq(str, errs.msg[0],
	    "pacerd.conf:1: log_level: \"a\\x0ab\\x01\" is not one of: debug, "
	    "info, warn, error"));
}

Test(cfg, nul_byte_in_a_value_is_refused)
{
	static const char text[] = "syslog_ident = 'ab\0cd'\n";

	cr_assert(eq(int,
	    cfg_load_buffer(cfg, "pacerd.conf", text, sizeof(text) - 1,
	        CFG_NO_ENV, &errs),
	    -1));
	assert_first_error_has(&errs, "NUL byte");
}

Test(cfg, include_reads_a_file_relative_to_the_includer)
{
	char *dir = tu_tmpdir(), *sub, *main_path;
	char subdir[512];

	(void)snprintf(subdir, sizeof(subdir), "%s/conf.d", dir);
	cr_assert(eq(int, mkdir(subdir, 0700), 0));
	sub = tu_write(subdir, "workers.conf",
	    "max_workers = 12\n\nstart_workers = 2\n");
	main_path = tu_write(dir, "pacerd.conf",
	    "max_workers = 50\ninclude 'conf.d/workers.conf'\n"
	    "include_if_exists 'conf.d/absent.conf'\nlisten = 9999\n");
	cr_assert(eq(int, cfg_load(cfg, main_path, CFG_NO_ENV, &errs), 0),
	    "errors: %s", all_errors());
	cr_assert(eq(i64, cfg->max_workers, 12));
	cr_assert(eq(int, origin("start_workers")->line, 3));
	cr_assert(not(eq(ptr,
	    strstr(origin("start_workers")->file, "conf.d/workers.conf"),
	    NULL)));
	cr_assert(eq(str, cfg->listen, "9999"));
	free(sub);
	free(main_path);
	free(dir);
}

Test(cfg, missing_include_names_the_file_and_the_reason)
{
	char *dir = tu_tmpdir(), *p;
	char want[600];

	p = tu_write(dir, "pacerd.conf",
	    "# header\n\ninclude \"x.conf\"\nmax_workers = 5\n");
	cr_assert(eq(int, cfg_load(cfg, p, CFG_NO_ENV, &errs), -1));
	(void)snprintf(want, sizeof(want),
	    "%s:3: include \"x.conf\": No such file or directory", p);
	cr_assert(eq(str, errs.msg[0], want));
	cr_assert(eq(i64, cfg->max_workers, 5),
	    "parsing stopped at the bad include");
	free(p);
	free(dir);
}

Test(cfg, include_loop_is_detected_and_shown)
{
	char *dir = tu_tmpdir(), *a, *b;

	a = tu_write(dir, "a.conf", "include 'b.conf'\n");
	b = tu_write(dir, "b.conf", "max_workers = 70\ninclude 'a.conf'\n");
	cr_assert(eq(int, cfg_load(cfg, a, CFG_NO_ENV, &errs), -1));
	cr_assert(eq(sz, errs.n, 1), "errors: %s", all_errors());
	assert_first_error_has(&errs,
	    "b.conf:2: include \"a.conf\": include loop (");
	assert_first_error_has(&errs, "a.conf -> ");
	free(a);
	free(b);
	free(dir);
}

Test(cfg, self_include_is_a_loop)
{
	char *dir = tu_tmpdir(), *a;

	a = tu_write(dir, "a.conf", "include 'a.conf'\n");
	cr_assert(eq(int, cfg_load(cfg, a, CFG_NO_ENV, &errs), -1));
	assert_first_error_has(&errs, "include loop");
	free(a);
	free(dir);
}

Test(cfg, include_of_a_directory_is_refused)
{
	cr_assert(eq(int, load("include '/'\n"), -1));
	cr_assert(eq(str, errs.msg[0],
	    "pacerd.conf:1: include \"/\": not a regular file"));
}

Test(cfg, includes_can_be_forbidden)
{
	cr_assert(eq(int,
	    cfg_load_buffer(cfg, "f", "include 'x'\n", 12,
	        CFG_NO_ENV | CFG_NO_INCLUDE, &errs),
	    -1));
	cr_assert(eq(str, errs.msg[0],
	    "f:1: include \"x\": includes are not allowed here"));
}

Test(cfg, unreadable_main_file_is_one_clear_error)
{
	cr_assert(eq(int,
	    cfg_load(cfg, "/nonexistent/pacerd.conf", CFG_NO_ENV, &errs), -1));
	cr_assert(eq(str, errs.msg[0],
	    "/nonexistent/pacerd.conf: No such file or directory"));
}

Test(cfg, error_count_is_capped)
{
	struct buf text;
	int i;

	buf_init_dynamic(&text, 1 << 20);
	for (i = 0; i < CFG_MAX_ERRORS + 20; i++)
		(void)buf_puts(&text, "nope = 1\n");
	cr_assert(eq(int, load(buf_str(&text)), -1));
	cr_assert(eq(sz, errs.n, CFG_MAX_ERRORS));
	cr_assert(eq(sz, errs.dropped, 20));
	buf_free(&text);
}

Test(cfg, environment_wins_over_the_file)
{
	const char *text =
	    "database_url = 'postgresql://file@db/pacer'\nredis_url = "
	    "'redis://file:6379/0'\n";

	cr_assert(
	    eq(int, setenv("DATABASE_URL", "postgresql://env@db/pacer", 1), 0));
	cr_assert(
	    eq(int, setenv("REDIS_URL", "", 1), 0)); /* empty counts as unset */
	cr_assert(eq(int,
	              cfg_load_buffer(cfg, "pacerd.conf", text, strlen(text), 0,
	                  &errs),
	              0),
	    "errors: %s", all_errors());
	cr_assert(eq(str, cfg->database_url, "postgresql://env@db/pacer"));
	cr_assert(eq(int, origin("database_url")->source, CFG_SRC_ENV));
	cr_assert(eq(str, cfg->redis_url, "redis://file:6379/0"));
	cr_assert(eq(int, origin("redis_url")->source, CFG_SRC_FILE));
}

Test(cfg, bad_environment_value_names_the_variable)
{
	cr_assert(eq(int, setenv("PACER_MASTER_KEY", "tooshort", 1), 0));
	cr_assert(
	    eq(int, cfg_load_buffer(cfg, "pacerd.conf", "", 0, 0, &errs), -1));
	assert_first_error_has(&errs,
	    "environment variable PACER_MASTER_KEY: master_key: must be the "
	    "base64 of 32 bytes");
	cr_assert(eq(ptr, strstr(errs.msg[0], "tooshort"), NULL),
	    "a secret was echoed: %s", errs.msg[0]);
}

Test(cfg, no_env_flag_ignores_the_environment)
{
	cr_assert(eq(int, setenv("REDIS_URL", "redis://elsewhere:1/0", 1), 0));
	cr_assert(eq(int, load(""), 0));
	cr_assert(eq(str, cfg->redis_url, "redis://127.0.0.1:6379/0"));
}

Test(cfg, secret_errors_never_echo_the_value)
{
	cr_assert(eq(int,
	    load("database_url = 'postgresql://u:hunter2@[::1/db'\n"), -1));
	cr_assert(eq(ptr, strstr(errs.msg[0], "hunter2"), NULL),
	    "secret in: %s", errs.msg[0]);
}

Test(cfg, cross_checks_point_at_the_later_line)
{
	static const char *const want[] = {
	    "pacerd.conf:2: start_workers (9) must not exceed max_workers (8)",
	    "pacerd.conf:3: min_spare_workers (8) must be less than "
	    "max_spare_workers (8)",
	    "pacerd.conf:4: group is set but user is not (workers change both "
	    "or neither)"};

	cr_assert(eq(int,
	    load("max_workers = 8\nstart_workers = 9\nmin_spare_workers = 8\n"
	         "group = staff\n"),
	    -1));
	expect_errors(want, 3);
}

Test(cfg, spare_workers_cannot_exceed_the_cap)
{
	cr_assert(
	    eq(int, load("max_workers = 4\nmax_spare_workers = 6\n"), -1));
	cr_assert(eq(sz, errs.n, 1), "errors: %s", all_errors());
	cr_expect(eq(str, errs.msg[0],
	    "pacerd.conf:2: max_spare_workers (6) must not exceed max_workers "
	    "(4)"));
}

/* key = on (a switch for tests only) loads next to loopback listeners,
 * and is refused with the message want next to listen, which has an
 * address that is not loopback. */
static void expect_loopback_only(const char *key, const char *listen,
    const char *want)
{
	char ok[256], bad[256];

	(void)snprintf(ok, sizeof(ok),
	    "listen = '127.0.0.1:8080, [::1]:8080'\n%s = on\n", key);
	(void)snprintf(bad, sizeof(bad), "%s = on\nlisten = '%s'\n", key,
	    listen);
	cr_assert(eq(int, load(ok), 0), "%s: errors: %s", ok, all_errors());
	teardown();
	setup();
	cr_assert(eq(int, load(bad), -1), "%s", bad);
	cr_assert(eq(sz, errs.n, 1), "errors: %s", all_errors());
	cr_expect(eq(str, errs.msg[0], (char *)want));
}

Test(cfg, debug_routes_only_on_loopback_listeners)
{
	expect_loopback_only("debug_routes", "127.0.0.1:8080, *:8081",
	    "pacerd.conf:2: debug_routes is on but listen (127.0.0.1:8080, "
	    "*:8081) has an address that is not loopback; the debug routes "
	    "can tie up workers and are for tests only");
}

Test(cfg, mcp_fixtures_only_on_loopback_listeners)
{
	expect_loopback_only("mcp_fixtures", "0.0.0.0:8080",
	    "pacerd.conf:2: mcp_fixtures is on but listen (0.0.0.0:8080) has "
	    "an address that is not loopback; the conformance fixtures let "
	    "anonymous clients in and are for tests only");
}

Test(cfg, file_destination_needs_a_file)
{
	cr_assert(eq(int, load("log_file = ''\nlog_destination = file\n"), -1));
	cr_assert(
	    eq(str, errs.msg[0], "pacerd.conf:1: log_file: must not be empty"));
}

Test(cfg, dump_lists_every_key_with_its_source_and_masks_secrets)
{
	const char *text =
	    "max_workers = 9\n"
	    "database_url = "
	    "'postgresql://pacer:hunter2@db:5432/pacer?password=x2'\n"
	    "strava_client_secret = 'abc123'\n"
	    "strava_client_id = 'it''s'\n";
	static const char *const secrets[][2] = {{"hunter2", "password"},
	    {"x2", "query password"}, {"s3cret", "redis password"},
	    {"AAECAwQF", "master key"}, {"abc123", "client secret"}};
	static const char *const shown[] = {
	    "postgresql://pacer:********@db:5432/pacer?********",
	    "# environment REDIS_URL", "# pacerd.conf:1\n",
	    "strava_client_id = 'it\\'s'", "listen_backlog = 511"};
	struct buf out;
	size_t i;

	cr_assert(
	    eq(int, setenv("REDIS_URL", "redis://:s3cret@cache:6380/1", 1), 0));
	cr_assert(eq(int,
	    setenv("PACER_MASTER_KEY",
	        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 1),
	    0));
	cr_assert(eq(int,
	              cfg_load_buffer(cfg, "pacerd.conf", text, strlen(text), 0,
	                  &errs),
	              0),
	    "errors: %s", all_errors());
	buf_init_dynamic(&out, 1 << 20);
	cr_assert(eq(int, cfg_dump(cfg, &out), 0));
	for (i = 0; i < cfg_keys_count; i++) {
		char want[64];

		(void)snprintf(want, sizeof(want),
		    "%s = ", cfg_keys_table[i].name);
		cr_expect(eq(sz, tu_count_lines_starting(buf_str(&out), want),
		              1),
		    "%s missing", want);
	}
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		cr_expect(eq(ptr, strstr(buf_str(&out), secrets[i][0]), NULL),
		    "%s shown:\n%s", secrets[i][1], buf_str(&out));
	for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		TU_EXPECT_IN(buf_str(&out), shown[i]);
	cr_expect(
	    eq(sz, tu_count_lines_with(buf_str(&out), "max_workers = 9 "), 1));
	buf_free(&out);
}

Test(cfg, dump_output_reads_back_to_the_same_values)
{
	struct cfg *again = cfg_new();
	struct cfg_errs errs2 = {0};
	struct buf out;
	char av[9000], bv[9000];
	const char *key;

	cr_assert(eq(int,
	    load("max_workers = 9\nrequest_timeout = 90s\nlog_level = debug\n"
	         "listen = '[::1]:8080, 127.0.0.1:8080'\n"),
	    0));
	buf_init_dynamic(&out, 1 << 20);
	(void)cfg_dump(cfg, &out);
	cr_assert(eq(int,
	              cfg_load_buffer(again, "dump", buf_str(&out), out.len,
	                  CFG_NO_ENV, &errs2),
	              0),
	    "-T output does not load: %s", errs2.n ? errs2.msg[0] : "?");
	key = tu_cfg_diff(cfg, again, av, bv, sizeof(av));
	cr_expect(eq(ptr, (void *)key, NULL), "%s: wrote %s, read back %s", key,
	    av, bv);
	buf_free(&out);
	cfg_errs_free(&errs2);
	cfg_free(&again);
}

struct seen {
	char hosts[8][64], ports[8][8];
	int n;
};

/* Record an address; a tls one as "<host> tls". */
static int collect_tls(const char *host, const char *port, bool tls, void *arg)
{
	struct seen *s = arg;

	(void)snprintf(s->hosts[s->n], sizeof(s->hosts[0]), "%s%s", host,
	    tls ? " tls" : "");
	(void)snprintf(s->ports[s->n], sizeof(s->ports[0]), "%s", port);
	s->n++;
	return 0;
}

static int collect(const char *host, const char *port, void *arg)
{
	return collect_tls(host, port, false, arg);
}

/* Expect exactly n addresses in s: want[i] is {host, port}. */
static void expect_seen(const struct seen *s, const char *const want[][2],
    int n)
{
	cr_assert(eq(int, s->n, n));
	for (int i = 0; i < n; i++) {
		cr_expect(eq(str, (char *)s->hosts[i], (char *)want[i][0]),
		    "host of address %d", i);
		cr_expect(eq(str, (char *)s->ports[i], (char *)want[i][1]),
		    "port of address %d", i);
	}
}

Test(cfg, listen_splits_into_hosts_and_ports)
{
	static const char *const want[][2] = {{"127.0.0.1", "80"},
	    {"::1", "443"}, {"", "8080"}, {"", "9000"}};
	struct seen s = {0};

	cr_assert(eq(int,
	    cfg_listen_foreach(" 127.0.0.1:80,[::1]:443  *:8080,9000 ", collect,
	        &s),
	    0));
	expect_seen(&s, want, 4);
}

Test(cfg, listen_tls_marker_belongs_to_the_address_before_it)
{
	static const char *const want[][2] = {{"127.0.0.1", "8080"},
	    {"0.0.0.0 tls", "8443"}, {"::1 tls", "443"}, {"", "9000"}};
	struct seen s = {0};
	char err[256];

	cr_assert(eq(int,
	    cfg_listen_each("127.0.0.1:8080, 0.0.0.0:8443 tls,[::1]:443\ttls "
	                    "9000",
	        collect_tls, &s),
	    0));
	expect_seen(&s, want, 4);
	cr_assert(cfg_listen_has_tls("8080, 8443 tls"));
	cr_assert(not(cfg_listen_has_tls("8080, 8443")));
	cr_assert(not(cfg_listen_has_tls("tls:8080")));
	/* The marker-blind walk still sees every address. */
	memset(&s, 0, sizeof(s));
	cr_assert(eq(int, cfg_listen_foreach("8443 tls, 80", collect, &s), 0));
	cr_assert(eq(int, s.n, 2));
	cr_assert(eq(int,
	    cfg_keys_check_listen("8443 tls, 80", err, sizeof(err)), 0));
	cr_assert(
	    eq(int, cfg_keys_check_listen("80, tls", err, sizeof(err)), -1));
	cr_assert(not(eq(ptr, strstr(err, "tls marker must follow"), NULL)),
	    "%s", err);
	cr_assert(
	    eq(int, cfg_keys_check_listen("80 tls tls", err, sizeof(err)), -1));
}

Test(cfg, tls_listener_without_cert_or_key_is_refused)
{
	struct cfg *c = cfg_new();
	struct cfg_errs e = {0};
	static const char text[] = "listen = '127.0.0.1:8443 tls'\n"
	                           "tls_cert_file = '/etc/pacer/cert.pem'\n";

	cr_assert(not(eq(ptr, c, NULL)));
	cr_assert(eq(int,
	    cfg_load_buffer(c, "t.conf", text, sizeof(text) - 1, CFG_NO_ENV,
	        &e),
	    -1));
	cr_assert(eq(sz, e.n, 1));
	assert_first_error_has(&e,
	    "has a tls address but tls_key_file is not set");
	cfg_errs_free(&e);
	cfg_free(&c);
}

Test(cfg, oversized_file_is_refused)
{
	char *dir = tu_tmpdir(), *p;
	char *big = malloc(CFG_MAX_FILE_SIZE + 2);

	memset(big, '#', CFG_MAX_FILE_SIZE + 1);
	big[CFG_MAX_FILE_SIZE + 1] = '\0';
	p = tu_write(dir, "big.conf", big);
	cr_assert(eq(int, cfg_load(cfg, p, CFG_NO_ENV, &errs), -1));
	assert_first_error_has(&errs, ": larger than 1048576 bytes");
	free(big);
	free(p);
	free(dir);
}

Test(cfg, errors_are_written_one_a_line_with_the_overflow_counted)
{
	struct buf text;
	char *out = NULL;
	size_t outlen = 0, n;
	FILE *fp;
	int i;

	buf_init_dynamic(&text, 64 * 1024);
	for (i = 0; i < CFG_MAX_ERRORS + 3; i++)
		(void)buf_printf(&text, "no_such_key_%d = 1\n", i);
	cr_assert(eq(int, load(buf_str(&text)), -1));
	buf_free(&text);
	fp = open_memstream(&out, &outlen);
	cr_assert(not(eq(ptr, fp, NULL)));
	n = cfg_errs_write(&errs, "pacerd.conf", fp);
	cr_assert(eq(int, fclose(fp), 0));
	cr_expect(eq(sz, n, (size_t)CFG_MAX_ERRORS + 3));
	cr_expect(eq(sz, tu_count_lines_starting(out, "pacerd.conf:"),
	    (size_t)CFG_MAX_ERRORS + 1));
	cr_expect(eq(sz,
	    tu_count_lines_starting(out,
	        "pacerd.conf: 3 more errors not shown"),
	    1));
	free(out);
}
