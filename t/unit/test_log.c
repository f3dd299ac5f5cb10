/*
 * test_log.c - log lines carry role and pid, respect the level, keep
 * errno, escape control characters, come out as valid JSON in json
 * format, survive a log file rotation, and fatal() exits with 2.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

static char *dir, *path;

static void to_file(void)
{
	char err[256];

	dir = tu_tmpdir();
	path = tu_write(dir, "pacerd.log", "");
	log_init("master");
	cr_assert(eq(int,
	              log_open(LOG_DEST_FILE, path, 0, NULL, err, sizeof(err)),
	              0),
	    "log_open failed: %s", err);
}

static void done(void)
{
	log_close();
	free(path);
	free(dir);
}

TestSuite(log, .init = to_file, .fini = done);

Test(log, text_line_has_time_role_pid_level_and_message)
{
	char want[64], *s;

	log_info("listening on %s", "127.0.0.1:8080");
	s = tu_read(path, NULL);
	(void)snprintf(want, sizeof(want),
	    " master[%ld]: info: ", (long)getpid());
	cr_assert(not(eq(ptr, strstr(s, want), NULL)), "no \"%s\" in: %s", want,
	    s);
	cr_assert(not(eq(ptr, strstr(s, "listening on 127.0.0.1:8080\n"),
	              NULL)),
	    "message missing in: %s", s);
	cr_assert(eq(chr, s[4], '-'), "no ISO date at the start: %s", s);
	cr_assert(eq(chr, s[23], 'Z'), "no UTC marker: %s", s);
	free(s);
}

Test(log, err_appends_strerror_and_keeps_errno)
{
	char *s;

	errno = ENOENT;
	log_err("could not open \"%s\"", "/nope");
	cr_assert(eq(int, errno, ENOENT), "errno changed by log_err");
	errno = EACCES;
	log_errx("plain");
	cr_assert(eq(int, errno, EACCES), "errno changed by log_errx");
	s = tu_read(path, NULL);
	cr_assert(not(eq(ptr,
	              strstr(s,
	                  "error: could not open \"/nope\": No such file or "
	                  "directory\n"),
	              NULL)),
	    "got: %s", s);
	cr_assert(not(eq(ptr, strstr(s, "error: plain\n"), NULL)), "got: %s",
	    s);
	free(s);
}

Test(log, level_filters_lower_levels)
{
	char *s;

	log_set_level(LOG_LEVEL_WARN);
	log_debug("dbg");
	log_info("inf");
	log_warnx("wrn");
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("dbg2");
	s = tu_read(path, NULL);
	cr_assert(eq(ptr, strstr(s, "inf"), NULL),
	    "info written at warn level: %s", s);
	cr_assert(eq(ptr, strstr(s, "dbg\n"), NULL),
	    "debug written at warn level: %s", s);
	cr_assert(not(eq(ptr, strstr(s, "warning: wrn"), NULL)), "got: %s", s);
	cr_assert(not(eq(ptr, strstr(s, "debug: dbg2"), NULL)), "got: %s", s);
	free(s);
}

Test(log, control_characters_cannot_forge_a_line)
{
	char *s;

	log_info("user agent %s", "x\nfake: error: injected\r\x1b[31m");
	s = tu_read(path, NULL);
	cr_assert(eq(sz, tu_count_lines_with(s, "injected"), 1));
	cr_assert(not(eq(ptr,
	              strstr(s, "x\\x0afake: error: injected\\x0d\\x1b[31m\n"),
	              NULL)),
	    "got: %s", s);
	free(s);
}

Test(log, json_format_is_one_valid_object_per_line)
{
	struct json_object *o, *v;
	char *s;

	log_set_format(LOG_FORMAT_JSON);
	errno = EPIPE;
	log_warn("write to \"%s\" failed\n", "client");
	s = tu_read(path, NULL);
	cr_assert(eq(sz, tu_count_lines_with(s, "{"), 1), "got: %s", s);
	o = json_tokener_parse(s);
	cr_assert(not(eq(ptr, o, NULL)), "not JSON: %s", s);
	cr_assert(json_object_object_get_ex(o, "msg", &v));
	cr_assert(
	    eq(str, json_object_get_string(v), "write to \"client\" failed\n"));
	cr_assert(json_object_object_get_ex(o, "level", &v));
	cr_assert(eq(str, json_object_get_string(v), "warning"));
	cr_assert(json_object_object_get_ex(o, "role", &v));
	cr_assert(eq(str, json_object_get_string(v), "master"));
	cr_assert(json_object_object_get_ex(o, "pid", &v));
	cr_assert(eq(int, json_object_get_int(v), (int)getpid()));
	cr_assert(json_object_object_get_ex(o, "errno", &v));
	cr_assert(eq(int, json_object_get_int(v), EPIPE));
	cr_assert(json_object_object_get_ex(o, "error", &v));
	cr_assert(eq(str, json_object_get_string(v), "Broken pipe"));
	json_object_put(o);
	free(s);
}

Test(log, long_message_is_cut_and_marked)
{
	char *big = malloc(3 * LOG_LINE_MAX), *s;
	size_t len;

	memset(big, 'a', 3 * LOG_LINE_MAX - 1);
	big[3 * LOG_LINE_MAX - 1] = '\0';
	log_info("%s", big);
	s = tu_read(path, &len);
	cr_assert(le(sz, len, (size_t)LOG_LINE_MAX + 64), "line of %zu bytes",
	    len);
	cr_assert(not(eq(ptr, strstr(s, "[truncated]\n"), NULL)),
	    "no truncation mark");
	free(s);
	free(big);
}

Test(log, reopen_follows_a_rotated_file)
{
	char err[256], *rotated, *s;

	rotated = tu_write(dir, "pacerd.log.1", "");
	log_info("before rotation");
	cr_assert(eq(int, rename(path, rotated), 0));
	log_info("still old file");
	cr_assert(eq(int, log_reopen(err, sizeof(err)), 0), "reopen: %s", err);
	log_info("after rotation");
	s = tu_read(rotated, NULL);
	cr_assert(not(eq(ptr, strstr(s, "still old file"), NULL)),
	    "old file: %s", s);
	cr_assert(eq(ptr, strstr(s, "after rotation"), NULL), "old file: %s",
	    s);
	free(s);
	s = tu_read(path, NULL);
	cr_assert(not(eq(ptr, s, NULL)), "no new log file after reopen");
	cr_assert(not(eq(ptr, strstr(s, "after rotation"), NULL)),
	    "new file: %s", s);
	free(s);
	free(rotated);
}

Test(log, open_failure_keeps_the_old_destination)
{
	char err[256], *s;

	cr_assert(eq(int,
	    log_open(LOG_DEST_FILE, "/nonexistent/dir/x.log", 0, NULL, err,
	        sizeof(err)),
	    -1));
	cr_assert(not(eq(ptr, strstr(err, "/nonexistent/dir/x.log"), NULL)),
	    "err: %s", err);
	log_info("still here");
	s = tu_read(path, NULL);
	cr_assert(not(eq(ptr, strstr(s, "still here"), NULL)));
	free(s);
}

Test(log, sigsafe_path_writes_a_tagged_line)
{
	char want[64], *s;

	log_set_role("worker");
	log_sigsafe(LOG_LEVEL_WARN, "received SIGTERM");
	s = tu_read(path, NULL);
	(void)snprintf(want, sizeof(want),
	    " worker[%ld]: warning: received SIGTERM\n", (long)getpid());
	cr_assert(not(eq(ptr, strstr(s, want), NULL)), "want \"%s\" in: %s",
	    want, s);
	free(s);
}

Test(log, fatal_logs_and_exits_with_status_2, .exit_code = 2)
{
	fatalx("invariant broken");
}

Test(log_time, formats_utc_dates)
{
	char s[32];

	log_format_time(s, sizeof(s), 0, 0);
	cr_assert(eq(str, s, "1970-01-01T00:00:00.000Z"));
	log_format_time(s, sizeof(s), 951782400LL + 86399, 999);
	cr_assert(eq(str, s, "2000-02-29T23:59:59.999Z"));
	log_format_time(s, sizeof(s), 1795305600LL, 7);
	cr_assert(eq(str, s, "2026-11-22T00:00:00.007Z"));
	cr_assert(eq(sz, log_format_time(s, 10, 0, 0), 0),
	    "wrote into a short buffer");
}

Test(log_level, names_parse_both_ways)
{
	enum log_level l;

	cr_assert(eq(int, log_level_parse("warn", &l), 0));
	cr_assert(eq(int, l, LOG_LEVEL_WARN));
	cr_assert(eq(int, log_level_parse("warning", &l), 0));
	cr_assert(eq(int, log_level_parse("loud", &l), -1));
	cr_assert(eq(str, log_level_name(LOG_LEVEL_ERROR), "error"));
}

Test(log, sigsafe_path_keeps_json_lines_valid)
{
	struct json_object *o, *v;
	char *s;

	log_set_format(LOG_FORMAT_JSON);
	log_sigsafe(LOG_LEVEL_ERROR, "child \"7\" died\\");
	s = tu_read(path, NULL);
	o = json_tokener_parse(s);
	cr_assert(not(eq(ptr, o, NULL)), "not JSON: %s", s);
	cr_assert(json_object_object_get_ex(o, "msg", &v));
	cr_assert(eq(str, json_object_get_string(v), "child \"7\" died\\"));
	cr_assert(json_object_object_get_ex(o, "level", &v));
	cr_assert(eq(str, json_object_get_string(v), "error"));
	json_object_put(o);
	free(s);
}
