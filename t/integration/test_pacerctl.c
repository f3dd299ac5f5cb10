/*
 * test_pacerctl.c - the built pacerctl's commands that act on a master:
 * configtest, reload, stop, graceful-stop, reopen and pid, run as an
 * operator runs them, against a stand-in master (fakemaster.h) that holds
 * the pidfile's lock and records the signals it gets. What is proved:
 * the exit codes, the messages, which signal each command sends, that it
 * waits for the outcome, and that nothing is signalled when pacerctl
 * refuses (a broken configuration, a stale pidfile, a pid that is not
 * pacerd, a scoreboard naming another master).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakemaster.h"
#include "sb.h"
#include "testutil.h"

static char *ctl, *dir, *conf, *bad, pidfile[512], sbpath[512];
static struct fm fm;

static void setup(void)
{
	char text[2048];

	ctl = tu_buildpath("master/pacerctl");
	dir = tu_tmpdir();
	(void)snprintf(pidfile, sizeof(pidfile), "%s/pacerd.pid", dir);
	(void)snprintf(sbpath, sizeof(sbpath), "%s/%s", dir, SB_FILE_NAME);
	(void)snprintf(text, sizeof(text),
	    "run_dir = '%s'\npidfile = '%s'\nshutdown_timeout = 2s\n", dir,
	    pidfile);
	conf = tu_write(dir, "pacerd.conf", text);
	(void)snprintf(text, sizeof(text),
	    "run_dir = '%s'\npidfile = '%s'\nmax_wokers = 4\n"
	    "request_timeout = 5x\n",
	    dir, pidfile);
	bad = tu_write(dir, "bad.conf", text);
	memset(&fm, 0, sizeof(fm));
}

static void teardown(void)
{
	fm_stop(&fm);
	free(ctl);
	free(dir);
	free(conf);
	free(bad);
}

TestSuite(pacerctl, .init = setup, .fini = teardown, .timeout = 60);

/* Run pacerctl with args (NULL-terminated, at most 8). */
static void run(struct tu_run *r, const char *const *args)
{
	char *argv[10] = {ctl};
	size_t i;

	for (i = 0; args[i] != NULL && i < 8; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	cr_assert(eq(int, tu_run(r, argv, NULL), 0), "could not run %s", ctl);
}

#define RUN(r, ...) run((r), (const char *const[]){__VA_ARGS__, NULL})

static void start_fake(const char *name, bool with_sb, pid_t sb_pid,
    enum fm_reload reload, bool ignore_stop)
{
	struct fm_opts o = {
	    .dir = dir,
	    .name = name,
	    .pidfile = pidfile,
	    .scoreboard = with_sb ? sbpath : NULL,
	    .sb_master_pid = sb_pid,
	    .reload = reload,
	    .ignore_stop = ignore_stop,
	};

	cr_assert(eq(int, fm_start(&fm, &o), 0), "the stand-in did not start");
}

static void expect_no_signal(void)
{
	char *s = fm_signals(&fm);

	cr_expect(eq(str, s, ""), "the process was signalled: %s", s);
	free(s);
	cr_expect(not(fm_exited(&fm, 0)), "the process is gone");
}

static void expect_signals(const char *want)
{
	char *s = fm_signals(&fm);

	cr_expect(eq(str, s, (char *)want), "signals received");
	free(s);
}

Test(pacerctl, configtest_accepts_a_good_file_like_pacerd_t)
{
	struct tu_run r;
	char want[1024];

	RUN(&r, "-f", conf, "configtest");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	(void)snprintf(want, sizeof(want), "pacerctl: configuration ok: %s\n",
	    conf);
	cr_expect(eq(str, r.out, want));
	cr_expect(eq(str, r.err, ""));
	tu_run_free(&r);
}

Test(pacerctl, configtest_reports_every_error_with_file_and_line)
{
	struct tu_run r;
	char want[1024];

	RUN(&r, "-f", bad, "configtest");
	cr_expect(eq(int, r.status, 1));
	cr_expect(eq(str, r.out, ""));
	(void)snprintf(want, sizeof(want), "%s:3: unknown key \"max_wokers\"",
	    bad);
	TU_EXPECT_IN(r.err, want);
	(void)snprintf(want, sizeof(want), "%s:4: request_timeout", bad);
	TU_EXPECT_IN(r.err, want);
	(void)snprintf(want, sizeof(want),
	    "pacerctl: configuration %s has 2 errors\n", bad);
	TU_EXPECT_IN(r.err, want);
	tu_run_free(&r);
}

Test(pacerctl, reload_refuses_a_broken_config_without_signalling)
{
	struct tu_run r;

	start_fake(NULL, true, 0, FM_RELOAD_OK, false);
	RUN(&r, "-f", bad, "reload");
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, ":3: unknown key \"max_wokers\"");
	TU_EXPECT_IN(r.err, "pacerctl: not reloading");
	tu_run_free(&r);
	expect_no_signal();
}

Test(pacerctl, reload_sends_hup_and_prints_the_new_generation)
{
	struct tu_run r;

	start_fake(NULL, true, 0, FM_RELOAD_OK, false);
	RUN(&r, "-f", conf, "reload");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	cr_expect(eq(str, r.out, "pacerctl: reload ok: generation 2\n"));
	tu_run_free(&r);
	expect_signals("HUP\n");
	RUN(&r, "-f", conf, "reload");
	cr_expect(eq(str, r.out, "pacerctl: reload ok: generation 3\n"));
	tu_run_free(&r);
}

Test(pacerctl, reload_refused_by_the_master_prints_its_first_error)
{
	struct tu_run r;

	start_fake(NULL, true, 0, FM_RELOAD_FAIL, false);
	RUN(&r, "-f", conf, "reload");
	cr_expect(eq(int, r.status, 1));
	cr_expect(
	    eq(str, r.err, "pacerctl: reload failed: " FM_RELOAD_ERROR "\n"));
	tu_run_free(&r);
	expect_signals("HUP\n");
}

Test(pacerctl, reload_gives_up_after_w_seconds_without_an_outcome)
{
	struct tu_run r;

	start_fake(NULL, true, 0, FM_RELOAD_SILENT, false);
	RUN(&r, "-f", conf, "-w", "1", "reload");
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "no reload outcome from pacerd");
	TU_EXPECT_IN(r.err, "after 1 s");
	tu_run_free(&r);
	expect_signals("HUP\n");
}

Test(pacerctl, reload_without_a_scoreboard_refuses_unless_w_0)
{
	struct tu_run r;

	start_fake(NULL, false, 0, FM_RELOAD_OK, false);
	RUN(&r, "-f", conf, "reload");
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "not reloading: cannot read the outcome");
	tu_run_free(&r);
	expect_no_signal();
	RUN(&r, "-f", conf, "-w", "0", "reload");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	TU_EXPECT_IN(r.out, "sent SIGHUP to pacerd");
	tu_run_free(&r);
	expect_signals("HUP\n");
}

Test(pacerctl, stop_sends_int_and_waits_until_the_master_is_gone)
{
	struct tu_run r;
	char want[128];

	start_fake(NULL, true, 0, FM_RELOAD_OK, false);
	RUN(&r, "-f", conf, "stop");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	(void)snprintf(want, sizeof(want),
	    "pacerctl: pacerd (pid %ld) stopped\n", (long)fm.pid);
	cr_expect(eq(str, r.out, want));
	tu_run_free(&r);
	expect_signals("INT\n");
	cr_expect(fm_exited(&fm, 1000));
}

Test(pacerctl, graceful_stop_sends_term)
{
	struct tu_run r;

	start_fake(NULL, true, 0, FM_RELOAD_OK, false);
	RUN(&r, "-f", conf, "graceful-stop");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	TU_EXPECT_IN(r.out, "stopped");
	tu_run_free(&r);
	expect_signals("TERM\n");
}

Test(pacerctl, stop_reports_a_master_that_does_not_exit)
{
	struct tu_run r;

	start_fake(NULL, true, 0, FM_RELOAD_OK, true);
	RUN(&r, "-f", conf, "-w", "1", "graceful-stop");
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "is still running 1 s after SIGTERM");
	tu_run_free(&r);
	expect_signals("TERM\n");
}

Test(pacerctl, stop_works_with_a_broken_configuration)
{
	struct tu_run r;

	start_fake(NULL, true, 0, FM_RELOAD_OK, false);
	RUN(&r, "-f", bad, "stop");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	TU_EXPECT_IN(r.err, "going on with what could be read");
	TU_EXPECT_IN(r.out, "stopped");
	tu_run_free(&r);
	expect_signals("INT\n");
}

Test(pacerctl, reopen_sends_usr1)
{
	struct tu_run r;

	start_fake(NULL, true, 0, FM_RELOAD_OK, false);
	RUN(&r, "-f", conf, "reopen");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	TU_EXPECT_IN(r.out, "sent SIGUSR1");
	tu_run_free(&r);
	expect_signals("USR1\n");
}

Test(pacerctl, pid_prints_the_master_pid)
{
	struct tu_run r;
	char want[32];

	start_fake(NULL, true, 0, FM_RELOAD_OK, false);
	RUN(&r, "-f", conf, "pid");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	(void)snprintf(want, sizeof(want), "%ld\n", (long)fm.pid);
	cr_expect(eq(str, r.out, want));
	tu_run_free(&r);
	expect_no_signal();
}

Test(pacerctl, no_pidfile_means_not_running)
{
	struct tu_run r;

	RUN(&r, "-f", conf, "reload");
	cr_expect(eq(int, r.status, 3));
	TU_EXPECT_IN(r.err, "pacerd is not running: no pidfile");
	tu_run_free(&r);
	RUN(&r, "-f", conf, "reopen");
	cr_expect(eq(int, r.status, 3));
	tu_run_free(&r);
	RUN(&r, "-f", conf, "pid");
	cr_expect(eq(int, r.status, 3));
	tu_run_free(&r);
	RUN(&r, "-f", conf, "stop");
	cr_expect(eq(int, r.status, 0), "stop of a stopped server succeeds");
	TU_EXPECT_IN(r.out, "pacerctl: pacerd is not running (no pidfile");
	tu_run_free(&r);
}

Test(pacerctl, stale_pidfile_means_not_running)
{
	struct tu_run r;
	char *p = tu_write(dir, "pacerd.pid", "999999\n");

	RUN(&r, "-f", conf, "reload");
	cr_expect(eq(int, r.status, 3));
	TU_EXPECT_IN(r.err, "stale pidfile");
	tu_run_free(&r);
	RUN(&r, "-f", conf, "pid");
	cr_expect(eq(int, r.status, 1), "LSB: dead, but the pidfile exists");
	tu_run_free(&r);
	RUN(&r, "-f", conf, "graceful-stop");
	cr_expect(eq(int, r.status, 0));
	TU_EXPECT_IN(r.out, "pacerd is not running (stale pidfile");
	tu_run_free(&r);
	free(p);
}

Test(pacerctl, a_lock_holder_that_is_not_pacerd_is_never_signalled)
{
	static const char *const cmds[] = {"stop", "graceful-stop", "reopen",
	    "reload", "pid"};
	struct tu_run r;
	char want[1024];
	size_t i;

	start_fake("impostor", true, 0, FM_RELOAD_OK, false);
	(void)snprintf(want, sizeof(want),
	    "pidfile \"%s\" names pid %ld, which is \"impostor\", not pacerd",
	    pidfile, (long)fm.pid);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		RUN(&r, "-f", conf, cmds[i]);
		cr_expect(eq(int, r.status, strcmp(cmds[i], "pid") ? 1 : 4),
		    "%s", cmds[i]);
		TU_EXPECT_IN(r.err, want);
		tu_run_free(&r);
	}
	expect_no_signal();
}

Test(pacerctl, a_scoreboard_naming_another_master_stops_pacerctl)
{
	struct tu_run r;

	start_fake(NULL, true, 1, FM_RELOAD_OK, false);
	RUN(&r, "-f", conf, "stop");
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "names master pid 1; not signalling");
	tu_run_free(&r);
	expect_no_signal();
}

Test(pacerctl, p_and_s_override_the_configuration)
{
	struct tu_run r;
	char *argv[] = {ctl, "-f", "/nonexistent/pacerd.conf", "-p", pidfile,
	    "-s", sbpath, "reopen", NULL};

	start_fake(NULL, true, 0, FM_RELOAD_OK, false);
	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	cr_expect(eq(str, r.err, ""), "-p given: no warning expected");
	tu_run_free(&r);
	expect_signals("USR1\n");
}

Test(pacerctl, usage_errors_exit_2)
{
	struct tu_run r;

	RUN(&r, "frobnicate");
	cr_expect(eq(int, r.status, 2));
	TU_EXPECT_IN(r.err, "unknown command \"frobnicate\"");
	TU_EXPECT_IN(r.err, "usage: pacerctl");
	tu_run_free(&r);
	RUN(&r, "-w", "soon", "stop");
	cr_expect(eq(int, r.status, 2));
	TU_EXPECT_IN(r.err, "-w: \"soon\" is not a number of seconds");
	tu_run_free(&r);
	RUN(&r, "-f", conf, "stop", "now");
	cr_expect(eq(int, r.status, 2));
	TU_EXPECT_IN(r.err, "stop: unexpected argument \"now\"");
	tu_run_free(&r);
	run(&r, (const char *const[]){NULL});
	cr_expect(eq(int, r.status, 2));
	tu_run_free(&r);
	RUN(&r, "--help");
	cr_expect(eq(int, r.status, 0));
	TU_EXPECT_IN(r.out, "graceful-stop");
	tu_run_free(&r);
}
