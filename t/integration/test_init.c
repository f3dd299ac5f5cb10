/*
 * test_init.c - the LSB init script (init/pacerd, generated in the build
 * tree), run against the built pacerd and pacerctl through its PACERD,
 * PACERCTL and PACERD_CONF variables: the actions and their LSB exit
 * codes that need no serving master. The "running" cases use the
 * stand-in master of fakemaster.h; start with a real server is in
 * test_live.c.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakemaster.h"
#include "sb.h"
#include "testutil.h"

static char *script, *pacerd, *pacerctl, *dir, *conf, *bad;
static char pidfile[512], sbpath[512];
static char env_pacerd[600], env_ctl[600], env_conf[600], env_defaults[600];
static struct fm fm;

static void setup(void)
{
	char text[2048];

	script = tu_buildpath("init/pacerd");
	pacerd = tu_buildpath("master/pacerd");
	pacerctl = tu_buildpath("master/pacerctl");
	dir = tu_tmpdir();
	(void)snprintf(pidfile, sizeof(pidfile), "%s/pacerd.pid", dir);
	(void)snprintf(sbpath, sizeof(sbpath), "%s/%s", dir, SB_FILE_NAME);
	(void)snprintf(text, sizeof(text),
	    "run_dir = '%s'\npidfile = '%s'\nshutdown_timeout = 2s\n%s", dir,
	    pidfile, TU_MASTER_KEY_CONF);
	conf = tu_write(dir, "pacerd.conf", text);
	(void)snprintf(text, sizeof(text),
	    "run_dir = '%s'\npidfile = '%s'\nmax_wokers = 4\n", dir, pidfile);
	bad = tu_write(dir, "bad.conf", text);
	(void)snprintf(env_pacerd, sizeof(env_pacerd), "PACERD=%s", pacerd);
	(void)snprintf(env_ctl, sizeof(env_ctl), "PACERCTL=%s", pacerctl);
	(void)snprintf(env_conf, sizeof(env_conf), "PACERD_CONF=%s", conf);
	(void)snprintf(env_defaults, sizeof(env_defaults),
	    "PACERD_DEFAULTS=%s/no-defaults", dir);
	memset(&fm, 0, sizeof(fm));
}

static void teardown(void)
{
	fm_stop(&fm);
	free(script);
	free(pacerd);
	free(pacerctl);
	free(dir);
	free(conf);
	free(bad);
}

TestSuite(init, .init = setup, .fini = teardown, .timeout = 60);

/* Run the script with one action, the build tree's programs and
 * conf_var ("PACERD_CONF=...") naming the configuration. */
static void action_conf(struct tu_run *r, const char *act, char *conf_var)
{
	char *argv[] = {script, (char *)act, NULL};
	char *env[] = {env_pacerd, env_ctl, conf_var, env_defaults, NULL};

	cr_assert(eq(int, tu_run(r, argv, env), 0), "could not run %s", script);
}

static void action(struct tu_run *r, const char *act)
{
	action_conf(r, act, env_conf);
}

/* The same with bad.conf as the configuration. */
static void action_bad_conf(struct tu_run *r, const char *act)
{
	char env_bad[600];

	(void)snprintf(env_bad, sizeof(env_bad), "PACERD_CONF=%s", bad);
	action_conf(r, act, env_bad);
}

/* With no server: act exits with status and says so on stdout. */
static void expect_not_running(const char *act, int status)
{
	struct tu_run r;

	action(&r, act);
	cr_expect(eq(int, r.status, status), "%s: stderr: %s", act, r.err);
	cr_expect(eq(str, r.out, "pacerd is not running\n"), "%s", act);
	tu_run_free(&r);
}

static void start_fake(enum fm_reload reload)
{
	struct fm_opts o = {
	    .dir = dir,
	    .pidfile = pidfile,
	    .scoreboard = sbpath,
	    .reload = reload,
	};

	cr_assert(eq(int, fm_start(&fm, &o), 0), "the stand-in did not start");
}

static void expect_signals(const char *want)
{
	char *s = fm_signals(&fm);

	cr_expect(eq(str, s, (char *)want), "signals received");
	free(s);
}

/* With the stand-in running: act exits 0, prints says followed by the
 * stand-in's pid, and sends it no signal. */
static void expect_running(const char *act, const char *says)
{
	struct tu_run r;
	char want[128];

	start_fake(FM_RELOAD_OK);
	action(&r, act);
	cr_expect(eq(int, r.status, 0), "%s: stderr: %s", act, r.err);
	(void)snprintf(want, sizeof(want), "%s (pid %ld)\n", says,
	    (long)fm.pid);
	cr_expect(eq(str, r.out, want), "%s", act);
	tu_run_free(&r);
	expect_signals("");
}

Test(init, has_an_lsb_header)
{
	char *text = tu_read(script, NULL);

	cr_assert(not(eq(ptr, text, NULL)), "no %s", script);
	cr_expect(eq(int, strncmp(text, "#!/bin/sh\n", 10), 0));
	TU_EXPECT_IN(text,
	    "### BEGIN INIT INFO\n# Provides:          pacerd\n");
	TU_EXPECT_IN(text, "### END INIT INFO\n");
	free(text);
}

Test(init, status_without_a_server_is_3)
{
	expect_not_running("status", 3);
}

Test(init, status_with_a_stale_pidfile_is_1)
{
	struct tu_run r;
	char *p = tu_write(dir, "pacerd.pid", "999999\n");

	action(&r, "status");
	cr_expect(eq(int, r.status, 1), "stderr: %s", r.err);
	TU_EXPECT_IN(r.out, "dead, but its pidfile exists");
	tu_run_free(&r);
	free(p);
}

Test(init, status_of_a_running_master_is_0_with_its_pid)
{
	expect_running("status", "pacerd is running");
}

Test(init, unknown_action_is_2_with_usage)
{
	struct tu_run r;

	action(&r, "frobnicate");
	cr_expect(eq(int, r.status, 2));
	TU_EXPECT_IN(r.err, "usage: ");
	TU_EXPECT_IN(r.err,
	    "start|stop|restart|try-restart|reload|force-reload|"
	    "status");
	tu_run_free(&r);
	action(&r, NULL);
	cr_expect(eq(int, r.status, 2));
	tu_run_free(&r);
}

Test(init, stop_when_not_running_is_0)
{
	expect_not_running("stop", 0);
}

Test(init, stop_sends_term_and_waits)
{
	struct tu_run r;

	start_fake(FM_RELOAD_OK);
	action(&r, "stop");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	cr_expect(eq(str, r.out, "pacerd: stopped\n"));
	tu_run_free(&r);
	expect_signals("TERM\n");
	cr_expect(fm_exited(&fm, 1000));
}

Test(init, reload_when_not_running_is_7)
{
	struct tu_run r;

	action(&r, "reload");
	cr_expect(eq(int, r.status, 7));
	TU_EXPECT_IN(r.err, "pacerd is not running");
	tu_run_free(&r);
}

Test(init, force_reload_and_try_restart_when_not_running_are_0)
{
	struct tu_run r;

	action(&r, "force-reload");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	tu_run_free(&r);
	action(&r, "try-restart");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	tu_run_free(&r);
}

Test(init, reload_tests_the_config_then_sends_hup)
{
	struct tu_run r;

	start_fake(FM_RELOAD_OK);
	action(&r, "reload");
	cr_expect(eq(int, r.status, 0), "stderr: %s", r.err);
	TU_EXPECT_IN(r.out, "pacerctl: reload ok: generation 2");
	tu_run_free(&r);
	expect_signals("HUP\n");
}

Test(init, reload_with_a_bad_config_is_6_and_signals_nothing)
{
	struct tu_run r;

	start_fake(FM_RELOAD_OK);
	action_bad_conf(&r, "reload");
	cr_expect(eq(int, r.status, 6));
	TU_EXPECT_IN(r.err, ":3: unknown key \"max_wokers\"");
	TU_EXPECT_IN(r.err, "invalid configuration");
	tu_run_free(&r);
	expect_signals("");
}

Test(init, reload_refused_by_the_master_is_1)
{
	struct tu_run r;

	start_fake(FM_RELOAD_FAIL);
	action(&r, "reload");
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "pacerctl: reload failed: " FM_RELOAD_ERROR);
	TU_EXPECT_IN(r.err, "the old configuration keeps serving");
	tu_run_free(&r);
}

Test(init, start_when_running_is_0)
{
	expect_running("start", "pacerd: already running");
}

Test(init, start_with_a_bad_config_is_6)
{
	struct tu_run r;

	action_bad_conf(&r, "start");
	cr_expect(eq(int, r.status, 6));
	TU_EXPECT_IN(r.err, ":3: unknown key \"max_wokers\"");
	tu_run_free(&r);
}

Test(init, restart_with_a_bad_config_leaves_the_server_alone)
{
	struct tu_run r;

	start_fake(FM_RELOAD_OK);
	action_bad_conf(&r, "restart");
	cr_expect(eq(int, r.status, 6));
	tu_run_free(&r);
	expect_signals("");
}

Test(init, missing_programs_are_5_and_status_4)
{
	struct tu_run r;
	char *start[] = {script, "start", NULL};
	char *status[] = {script, "status", NULL};
	char *env[] = {"PACERD=/nonexistent/pacerd",
	    "PACERCTL=/nonexistent/pacerctl", env_conf, env_defaults, NULL};

	cr_assert(eq(int, tu_run(&r, start, env), 0));
	cr_expect(eq(int, r.status, 5));
	TU_EXPECT_IN(r.err, "/nonexistent/pacerd is not installed");
	tu_run_free(&r);
	cr_assert(eq(int, tu_run(&r, status, env), 0));
	cr_expect(eq(int, r.status, 4));
	tu_run_free(&r);
}

Test(init, the_defaults_file_is_read_and_the_environment_wins)
{
	struct tu_run r;
	char text[2048], env_d[600];
	char *argv[] = {script, "status", NULL};
	char *env[] = {env_pacerd, env_ctl, env_d, NULL};
	char env_other[600];
	char *env2[] = {env_pacerd, env_ctl, env_d, env_other, NULL};
	char *defaults, *other;

	(void)snprintf(text, sizeof(text),
	    "run_dir = '%s'\npidfile = '%s/other.pid'\n" TU_MASTER_KEY_CONF,
	    dir, dir);
	other = tu_write(dir, "other.conf", text);
	(void)snprintf(env_other, sizeof(env_other), "PACERD_CONF=%s", other);
	(void)snprintf(text, sizeof(text), "PACERD_CONF=%s\n", conf);
	defaults = tu_write(dir, "defaults", text);
	(void)snprintf(env_d, sizeof(env_d), "PACERD_DEFAULTS=%s", defaults);
	start_fake(FM_RELOAD_OK);
	cr_assert(eq(int, tu_run(&r, argv, env), 0));
	cr_expect(eq(int, r.status, 0), "the defaults file named the config");
	tu_run_free(&r);
	cr_assert(eq(int, tu_run(&r, argv, env2), 0));
	cr_expect(eq(int, r.status, 3), "the environment's config wins");
	tu_run_free(&r);
	free(defaults);
	free(other);
}
