/*
 * pidfile.h - the master's pidfile: created and locked at start, so a
 * second master refuses to start while the first lives, and a pidfile
 * left by a dead master (no lock held) is detected and taken over.
 *
 * Callers: the master (pidfile_acquire, pidfile_release) and pacerctl
 * (pidfile_read, to signal the master).
 */
#ifndef PACER_PIDFILE_H
#define PACER_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Open path (created 0644), take an exclusive lock on it and write pid.
 * Returns the descriptor, which holds the lock for as long as it stays open
 * (it is close-on-exec, and a forked worker must not keep it: the master
 * closes it in the child). *stale_pid is set to the pid a dead master left
 * there, or 0. Returns -1 with the reason in err, e.g. when another live
 * process holds the lock ("already running as pid N").
 */
int pidfile_acquire(const char *path, pid_t pid, pid_t *stale_pid, char *err,
    size_t errlen);

/* Remove path and close fd (which releases the lock); fd may be -1. Only
 * the master that acquired it calls this. */
void pidfile_release(const char *path, int *fd);

/* Read the pid in path and check that a process holds its lock, i.e. that
 * a master is running. Returns 0, or -1 with the reason in err (no file,
 * garbage, or no master running: "stale pidfile"). */
int pidfile_read(const char *path, pid_t *pid, char *err, size_t errlen);

#endif /* PACER_PIDFILE_H */
