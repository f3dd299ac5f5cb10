/*
 * fakemaster.c - see fakemaster.h. Runs in the test process (fm_*) and in
 * its forked child (child_main), which leaves with _exit() only.
 */
#include "fakemaster.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "pidfile.h"
#include "sb.h"
#include "testutil.h"

static const struct {
	int sig;
	const char *name;
} signames[] = {
    {SIGHUP, "HUP"},
    {SIGINT, "INT"},
    {SIGTERM, "TERM"},
    {SIGQUIT, "QUIT"},
    {SIGUSR1, "USR1"},
};

#define NSIGNAMES (sizeof(signames) / sizeof(signames[0]))

static void record(const char *path, int sig)
{
	char line[16];
	struct buf b;
	size_t i;
	int fd;

	buf_init_fixed(&b, line, sizeof(line));
	for (i = 0; i < NSIGNAMES; i++)
		if (signames[i].sig == sig)
			(void)buf_printf(&b, "%s\n", signames[i].name);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, b.data, b.len) != (ssize_t)b.len)
		_exit(3);
	(void)close(fd);
}

static void child_main(const struct fm_opts *o, const char *signals, int ready)
{
	const char *name = o->name != NULL ? o->name : "pacerd";
	struct sb *sb = NULL;
	uint64_t gen = 1;
	char err[512];
	sigset_t set;
	pid_t stale;
	size_t i;
	int sig;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)sigemptyset(&set);
	for (i = 0; i < NSIGNAMES; i++)
		(void)sigaddset(&set, signames[i].sig);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    prctl(PR_SET_NAME, name) != 0)
		_exit(3);
	if (o->scoreboard != NULL) {
		sb = sb_create(o->scoreboard, 4,
		    o->sb_master_pid != 0 ? o->sb_master_pid : getpid(), err,
		    sizeof(err));
		if (sb == NULL || sb_set_generation(sb, gen) != 0)
			_exit(3);
	}
	if (pidfile_acquire(o->pidfile, getpid(), &stale, err, sizeof(err)) < 0)
		_exit(3);
	if (write(ready, "r", 1) != 1)
		_exit(3);
	(void)close(ready);
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig == -1)
			continue;
		record(signals, sig);
		if (sig == SIGHUP && sb != NULL) {
			if (o->reload == FM_RELOAD_OK) {
				(void)sb_set_generation(sb, ++gen);
				(void)sb_record_reload(sb, true,
				    (int64_t)time(NULL), NULL);
			} else if (o->reload == FM_RELOAD_FAIL) {
				(void)sb_record_reload(sb, false,
				    (int64_t)time(NULL), FM_RELOAD_ERROR);
			}
		}
		if ((sig == SIGINT || sig == SIGTERM || sig == SIGQUIT) &&
		    !o->ignore_stop)
			_exit(0);
	}
}

int fm_start(struct fm *fm, const struct fm_opts *o)
{
	struct buf b;
	char c;
	int p[2];
	ssize_t r;

	memset(fm, 0, sizeof(*fm));
	buf_init_dynamic(&b, 4096);
	(void)buf_printf(&b, "%s/signals", o->dir);
	fm->signals = strdup(buf_str(&b));
	buf_free(&b);
	if (fm->signals == NULL || pipe(p) != 0)
		abort();
	if ((fm->pid = fork()) == -1)
		abort();
	if (fm->pid == 0) {
		(void)close(p[0]);
		child_main(o, fm->signals, p[1]);
		_exit(3);
	}
	(void)close(p[1]);
	do
		r = read(p[0], &c, 1);
	while (r == -1 && errno == EINTR);
	(void)close(p[0]);
	if (r != 1) {
		(void)waitpid(fm->pid, NULL, 0);
		fm->pid = 0;
		return -1;
	}
	return 0;
}

char *fm_signals(const struct fm *fm)
{
	struct timespec ts = {0, 100000000L};
	char *s;

	(void)nanosleep(&ts, NULL);
	s = tu_read(fm->signals, NULL);
	return s != NULL ? s : strdup("");
}

bool fm_exited(struct fm *fm, int ms)
{
	struct timespec ts = {0, 10000000L};
	int i;

	if (fm->pid == 0 || fm->reaped)
		return true;
	for (i = 0; i <= ms / 10; i++) {
		if (waitpid(fm->pid, NULL, WNOHANG) == fm->pid) {
			fm->reaped = true;
			return true;
		}
		(void)nanosleep(&ts, NULL);
	}
	return false;
}

void fm_stop(struct fm *fm)
{
	if (fm->pid > 0 && !fm->reaped) {
		(void)kill(fm->pid, SIGKILL);
		while (waitpid(fm->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	fm->pid = 0;
	free(fm->signals);
	fm->signals = NULL;
}
