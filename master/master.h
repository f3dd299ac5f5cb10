/*
 * master.h - the master process: start-up, the worker pool, signals,
 * reload and stop.
 *
 * master_run() takes a loaded, valid configuration and does the rest of
 * DESIGN.md's master: logs, the pidfile, the listening sockets, detaching
 * (unless foreground), the scoreboard, forking and supervising workers,
 * and the signals of pacerd(8). It is the one place in pacer that calls
 * fork() for a worker.
 *
 * Callers: pacerd's main() only.
 */
#ifndef PACER_MASTER_H
#define PACER_MASTER_H

#include <stdbool.h>

#include "cfg.h"

/* Exit codes of pacerd when serving. */
#define MASTER_EXIT_OK 0    /* stopped on request */
#define MASTER_EXIT_START 1 /* could not start (reason printed) */
#define MASTER_EXIT_FATAL 2 /* a worker reported a fatal error */

/*
 * Serve with cfg (owned by the master from here on; freed before return)
 * read from config_path (re-read on SIGHUP). foreground: stay attached and
 * log to stderr. Returns a MASTER_EXIT_* code.
 */
int master_run(const char *config_path, struct cfg *cfg, bool foreground);

#endif /* PACER_MASTER_H */
