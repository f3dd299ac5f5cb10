/*
 * test_pidfile.c - one master at a time: the pidfile lock refuses a second
 * master, a dead master's pidfile is taken over, and pacerctl's reader
 * tells a running master from a stale file.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidfile.h"
#include "testutil.h"

static char *dir, path[512];

static void setup(void)
{
	dir = tu_tmpdir();
	(void)snprintf(path, sizeof(path), "%s/pacerd.pid", dir);
}

static void teardown(void)
{
	free(dir);
}

TestSuite(pidfile, .init = setup, .fini = teardown);

Test(pidfile, acquire_writes_the_pid_and_read_finds_the_master)
{
	char err[256], *text;
	pid_t stale = -1, got = 0;
	int fd = pidfile_acquire(path, 4242, &stale, err, sizeof(err));

	cr_assert(fd >= 0, "acquire failed: %s", err);
	cr_assert(eq(int, stale, 0), "a fresh pidfile reported stale pid %d",
	    stale);
	text = tu_read(path, NULL);
	cr_assert(eq(str, text, "4242\n"));
	free(text);
	cr_assert(eq(int, pidfile_read(path, &got, err, sizeof(err)), 0), "%s",
	    err);
	cr_assert(eq(int, got, 4242));
	pidfile_release(path, &fd);
	cr_assert(eq(int, fd, -1));
	cr_assert(eq(int, access(path, F_OK), -1), "pidfile left behind");
}

Test(pidfile, second_master_is_refused_while_the_first_holds_the_lock)
{
	char err[256];
	pid_t stale;
	int fd = pidfile_acquire(path, 1111, &stale, err, sizeof(err));

	cr_assert(fd >= 0, "%s", err);
	cr_assert(
	    eq(int, pidfile_acquire(path, 2222, &stale, err, sizeof(err)), -1));
	cr_assert(not(eq(ptr,
	              strstr(err, "pacerd is already running as pid 1111"),
	              NULL)),
	    "got: %s", err);
	pidfile_release(path, &fd);
}

Test(pidfile, dead_masters_file_is_taken_over_and_reported)
{
	char err[256], *text;
	pid_t child, stale = 0;
	int fd, pipefd[2], status;

	cr_assert(eq(int, pipe(pipefd), 0));
	child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		pid_t s;

		/* A master that will die without cleaning up. */
		if (pidfile_acquire(path, getpid(), &s, err, sizeof(err)) < 0)
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	{
		char c;

		cr_assert(eq(int, (int)read(pipefd[0], &c, 1), 1),
		    "child did not start");
	}
	cr_assert(eq(int, pidfile_acquire(path, 3, &stale, err, sizeof(err)),
	              -1),
	    "acquired while the child held the lock");
	cr_assert(eq(int, kill(child, SIGKILL), 0));
	cr_assert(eq(int, waitpid(child, &status, 0), child));
	fd = pidfile_acquire(path, 7777777, &stale, err, sizeof(err));
	cr_assert(fd >= 0, "stale pidfile not taken over: %s", err);
	cr_assert(eq(int, stale, child), "stale pid %d, the dead master was %d",
	    stale, child);
	text = tu_read(path, NULL);
	cr_assert(eq(str, text, "7777777\n"));
	free(text);
	pidfile_release(path, &fd);
}

Test(pidfile, shorter_pid_replaces_a_longer_one_whole)
{
	char err[256], *text, *p;
	pid_t stale;
	int fd;

	p = tu_write(dir, "pacerd.pid", "1234567\n");
	fd = pidfile_acquire(path, 42, &stale, err, sizeof(err));
	cr_assert(fd >= 0, "%s", err);
	cr_assert(eq(int, stale, 1234567));
	text = tu_read(path, NULL);
	cr_assert(eq(str, text, "42\n"), "leftover bytes of the old pid");
	free(text);
	free(p);
	pidfile_release(path, &fd);
}

Test(pidfile, reader_tells_stale_missing_and_garbage_files_apart)
{
	char err[256], *p;
	pid_t got;

	cr_assert(eq(int, pidfile_read(path, &got, err, sizeof(err)), -1));
	cr_assert(not(eq(ptr,
	              strstr(err,
	                  "No such file or directory (is pacerd running?)"),
	              NULL)),
	    "got: %s", err);
	p = tu_write(dir, "pacerd.pid", "31337\n");
	cr_assert(eq(int, pidfile_read(path, &got, err, sizeof(err)), -1));
	cr_assert(not(eq(ptr, strstr(err, "stale pidfile"), NULL)), "got: %s",
	    err);
	free(p);
	p = tu_write(dir, "pacerd.pid", "not a pid\n");
	cr_assert(eq(int, pidfile_read(path, &got, err, sizeof(err)), -1));
	cr_assert(not(eq(ptr, strstr(err, "does not hold a pid"), NULL)),
	    "got: %s", err);
	free(p);
}
