/*
 * fakemaster.h - a stand-in for the pacerd master, for the tests of
 * pacerctl and of the init script that need no real server.
 *
 * fm_start() forks a child of the test that does what pacerctl can see of
 * a master: it names itself (/proc/PID/comm) "pacerd" or an impostor's
 * name, optionally creates a scoreboard naming a master pid, holds the
 * pidfile's lock, and then records every signal it gets, one name a line
 * ("HUP", "INT", "TERM", "QUIT", "USR1"), in a file. It answers HUP with a
 * reload record in its scoreboard as the master does (or not at all), and
 * INT, TERM and QUIT by exiting (or not). It dies with the test
 * (PR_SET_PDEATHSIG). Test-only: aborts on impossible failures.
 */
#ifndef PACER_FAKEMASTER_H
#define PACER_FAKEMASTER_H

#include <stdbool.h>
#include <sys/types.h>

enum fm_reload {
	FM_RELOAD_OK,     /* generation + 1, reload record "ok" */
	FM_RELOAD_FAIL,   /* reload record "failed" with FM_RELOAD_ERROR */
	FM_RELOAD_SILENT, /* records the signal, writes nothing */
};

#define FM_RELOAD_ERROR "pacerd.conf:3: unknown key \"max_wokers\""

struct fm_opts {
	const char *dir;        /* where the signals file goes */
	const char *name;       /* comm; NULL: "pacerd" */
	const char *pidfile;    /* locked and written like the master's */
	const char *scoreboard; /* created at start; NULL: none */
	pid_t sb_master_pid;    /* master pid the scoreboard names; 0: own */
	enum fm_reload reload;
	bool ignore_stop; /* INT, TERM, QUIT are recorded, not obeyed */
};

struct fm {
	pid_t pid;
	char *signals; /* path of the file of signals received */
	bool reaped;
};

/* Start the child and return once it holds the pidfile's lock; returns
 * 0, or -1 when the child could not start (then fm->pid is 0). */
int fm_start(struct fm *fm, const struct fm_opts *o);

/* The signals received so far, one name a line (caller frees; "" when
 * none). Waits up to 100 ms for a signal still in flight to be written. */
char *fm_signals(const struct fm *fm);

/* Wait up to ms for the child to exit. Returns true once it has (reaped),
 * false when it still runs. */
bool fm_exited(struct fm *fm, int ms);

/* Kill the child if it still runs, reap it, free fm's strings. */
void fm_stop(struct fm *fm);

#endif
