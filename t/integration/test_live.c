/*
 * test_live.c - the init script and pacerctl against the real, detached
 * pacerd: start returns once serving and says so, status and a second
 * start see it, reload reports the new generation (and a refused
 * configuration), stop and graceful-stop wait until the master is gone,
 * and start with a port already taken fails with the reason.
 *
 * Needs `pacerd` (without -D) to detach and serve; t/tserver.h starts and
 * cleans up the server's folder, and reaps the detached master.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb.h"
#include "testutil.h"
#include "tserver.h"

static struct ts srv;
static char *script, *pacerd, *pacerctl;
static char env_pacerd[600], env_ctl[600], env_conf[600], env_defaults[600];
static char pidfile[512];

/* A server folder whose master logs to a file: a detached master must not
 * hold the test's pipes. */
static void setup(void)
{
	char extra[1024];

	ts_init(&srv, NULL);
	(void)snprintf(extra, sizeof(extra),
	    "log_destination = file\nlog_file = '%s/pacerd.log'\n"
	    "shutdown_timeout = 5s\n",
	    srv.dir);
	ts_rewrite(&srv, extra);
	(void)snprintf(pidfile, sizeof(pidfile), "%s/pacerd.pid", srv.dir);
	script = tu_buildpath("init/pacerd");
	pacerd = tu_buildpath("master/pacerd");
	pacerctl = tu_buildpath("master/pacerctl");
	(void)snprintf(env_pacerd, sizeof(env_pacerd), "PACERD=%s", pacerd);
	(void)snprintf(env_ctl, sizeof(env_ctl), "PACERCTL=%s", pacerctl);
	(void)snprintf(env_conf, sizeof(env_conf), "PACERD_CONF=%s", srv.conf);
	(void)snprintf(env_defaults, sizeof(env_defaults),
	    "PACERD_DEFAULTS=%s/no-defaults", srv.dir);
}

static void teardown(void)
{
	ts_fini(&srv);
	free(script);
	free(pacerd);
	free(pacerctl);
}

TestSuite(live, .init = setup, .fini = teardown, .timeout = 120);

static void action(struct tu_run *r, const char *act)
{
	char *argv[] = {script, (char *)act, NULL};
	char *env[] = {env_pacerd, env_ctl, env_conf, env_defaults, NULL};

	cr_assert(eq(int, tu_run(r, argv, env), 0));
}

static void ctl(struct tu_run *r, const char *cmd)
{
	char *argv[] = {pacerctl, "-f", srv.conf, (char *)cmd, NULL};

	cr_assert(eq(int, tu_run(r, argv, NULL), 0));
}

static void start_via_init(void)
{
	struct tu_run r;
	char want[64];

	action(&r, "start");
	cr_assert(eq(int, r.status, 0), "start: %s", r.err);
	ts_adopt_pidfile(&srv);
	(void)snprintf(want, sizeof(want), "pacerd: started (pid %ld)\n",
	    (long)srv.pid);
	cr_expect(eq(str, r.out, want));
	tu_run_free(&r);
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200),
	    "serving once start returned");
}

Test(live, init_start_status_reload_stop)
{
	struct tu_run r;
	char want[64];

	start_via_init();
	action(&r, "status");
	cr_expect(eq(int, r.status, 0));
	(void)snprintf(want, sizeof(want), "pacerd is running (pid %ld)\n",
	    (long)srv.pid);
	cr_expect(eq(str, r.out, want));
	tu_run_free(&r);

	action(&r, "start");
	cr_expect(eq(int, r.status, 0), "a second start succeeds");
	(void)snprintf(want, sizeof(want),
	    "pacerd: already running (pid %ld)\n", (long)srv.pid);
	cr_expect(eq(str, r.out, want));
	tu_run_free(&r);

	action(&r, "reload");
	cr_expect(eq(int, r.status, 0), "reload: %s", r.err);
	TU_EXPECT_IN(r.out, "pacerctl: reload ok: generation 2\n");
	tu_run_free(&r);
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200));

	action(&r, "stop");
	cr_expect(eq(int, r.status, 0), "stop: %s", r.err);
	cr_expect(eq(str, r.out, "pacerd: stopped\n"));
	tu_run_free(&r);
	cr_expect(ts_wait_exit(&srv, 2000), "the master is gone after stop");
	action(&r, "status");
	cr_expect(eq(int, r.status, 3));
	tu_run_free(&r);
}

Test(live, pacerctl_reload_shows_each_new_generation)
{
	struct tu_run r;

	ts_start_detached(&srv);
	ctl(&r, "reload");
	cr_expect(eq(int, r.status, 0), "%s", r.err);
	cr_expect(eq(str, r.out, "pacerctl: reload ok: generation 2\n"));
	tu_run_free(&r);
	ctl(&r, "reload");
	cr_expect(eq(str, r.out, "pacerctl: reload ok: generation 3\n"));
	tu_run_free(&r);
	ctl(&r, "status");
	cr_expect(eq(int, r.status, 0), "%s", r.err);
	tu_run_free(&r);
}

Test(live, a_reload_the_master_refuses_is_reported_and_it_keeps_serving)
{
	struct tu_run r;
	char extra[1024], sbpath[600];
	char *good;
	char *argv[] = {pacerctl, "-f", NULL, "-p", pidfile, "-s", sbpath,
	    "reload", NULL};
	struct ts_pool pool;

	ts_start_detached(&srv);
	/* pacerctl checks a good copy; the master re-reads its own file,
	 * now broken, and refuses. */
	good = tu_read(srv.conf, NULL);
	cr_assert(not(eq(ptr, good, NULL)));
	argv[2] = tu_write(srv.dir, "good.conf", good);
	(void)snprintf(sbpath, sizeof(sbpath), "%s/%s", srv.dir, SB_FILE_NAME);
	(void)snprintf(extra, sizeof(extra),
	    "log_destination = file\nlog_file = '%s/pacerd.log'\n"
	    "max_wokers = 4\n",
	    srv.dir);
	ts_rewrite(&srv, extra);
	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "pacerctl: reload failed: ");
	TU_EXPECT_IN(r.err, "max_wokers");
	tu_run_free(&r);
	cr_expect(eq(int, ts_get(srv.port, "/health/live"), 200),
	    "the old configuration keeps serving");
	cr_assert(eq(int, ts_pool(&srv, &pool), 0));
	cr_expect(eq(u64, (uint64_t)pool.generation, 1));
	free(argv[2]);
	free(good);
}

Test(live, pacerctl_refuses_a_broken_config_and_the_master_is_untouched)
{
	struct tu_run r;
	char extra[1024];
	struct ts_pool pool;

	ts_start_detached(&srv);
	(void)snprintf(extra, sizeof(extra),
	    "log_destination = file\nlog_file = '%s/pacerd.log'\n"
	    "keepalive_timeout = 5 parsecs\n",
	    srv.dir);
	ts_rewrite(&srv, extra);
	ctl(&r, "reload");
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "keepalive_timeout");
	TU_EXPECT_IN(r.err, "not reloading");
	tu_run_free(&r);
	cr_assert(eq(int, ts_pool(&srv, &pool), 0));
	cr_expect(eq(int, pool.reload_outcome, SB_RELOAD_NONE),
	    "the master was not asked to reload");
}

Test(live, graceful_stop_returns_once_the_master_is_gone)
{
	struct tu_run r;

	ts_start_detached(&srv);
	ctl(&r, "graceful-stop");
	cr_expect(eq(int, r.status, 0), "%s", r.err);
	TU_EXPECT_IN(r.out, "stopped");
	tu_run_free(&r);
	cr_expect(ts_wait_exit(&srv, 1000), "the master still runs");
	cr_expect(not(eq(int, ts_get(srv.port, "/health/live"), 200)));
	ctl(&r, "graceful-stop");
	cr_expect(eq(int, r.status, 0), "stopping a stopped server");
	TU_EXPECT_IN(r.out, "pacerd is not running");
	tu_run_free(&r);
}

Test(live, stop_is_fast_and_reopen_is_accepted)
{
	struct tu_run r;

	ts_start_detached(&srv);
	ctl(&r, "reopen");
	cr_expect(eq(int, r.status, 0), "%s", r.err);
	tu_run_free(&r);
	ctl(&r, "stop");
	cr_expect(eq(int, r.status, 0), "%s", r.err);
	tu_run_free(&r);
	cr_expect(ts_wait_exit(&srv, 1000));
	ctl(&r, "reopen");
	cr_expect(eq(int, r.status, 3), "reopen of a stopped server");
	tu_run_free(&r);
}

Test(live, start_with_the_port_taken_fails_with_the_reason)
{
	struct tu_run r;
	int fd = ts_occupy_port(srv.port);

	action(&r, "start");
	cr_expect(eq(int, r.status, 1));
	TU_EXPECT_IN(r.err, "ddress already in use");
	TU_EXPECT_IN(r.err, "pacerd: start failed");
	tu_run_free(&r);
	action(&r, "status");
	cr_expect(eq(int, r.status, 3), "nothing left running: %s", r.out);
	tu_run_free(&r);
	(void)close(fd);
}
