/*
 * daemon.h - detach from the terminal without lying to whoever started us.
 *
 * daemon_detach() forks twice and returns in the grandchild, which becomes
 * the master; the original process stays in daemon_detach() waiting on a
 * pipe. The master reports the outcome of its start-up through that pipe
 * with daemon_ready(): on success the original process exits 0, on failure
 * it prints the master's error on its own stderr and exits 1, and if the
 * master dies without a word it says so and exits 1. So an init script's
 * `start` returns only when the server is really serving, or fails with
 * the real reason.
 *
 * Callers: the master only, once, before it forks any worker.
 */
#ifndef PACER_DAEMON_H
#define PACER_DAEMON_H

#include <stddef.h>

/*
 * Detach. Returns in the new master with the write end of the ready pipe
 * (close-on-exec), or -1 with the reason in err when fork/pipe/setsid
 * failed (then nothing was detached). The original process never returns:
 * it exits with the outcome. stdin and stdout of the master become
 * /dev/null; stderr stays until daemon_ready() so early errors are seen.
 */
int daemon_detach(char *err, size_t errlen);

/*
 * Report the outcome on fd (from daemon_detach; -1 is a no-op) and close
 * it. ok true: the server serves, and stderr is pointed at /dev/null: a
 * detached server must not hold the starter's terminal or pipe open (an
 * `ssh host service pacerd start` would never return). Otherwise msg is
 * the error the waiting process prints.
 */
void daemon_ready(int *fd, int ok, const char *msg);

/* Point stderr at /dev/null (in a worker of a detached master, which
 * must not inherit the starter's stderr either). Returns 0 or -1. */
int daemon_null_stderr(void);

#endif /* PACER_DAEMON_H */
