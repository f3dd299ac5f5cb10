/*
 * worker.h - a worker process: the entry point the master calls in a
 * freshly forked child, and the contract between the two.
 *
 * The master forks, and the child (after master/ has reset its signals,
 * closed the pidfile, dropped privileges and armed PR_SET_PDEATHSIG) calls
 * worker_main(). From there on only worker/ code runs in it. The worker:
 *
 *   - claims its scoreboard slot, installs its own signal handlers;
 *   - waits with epoll on every inherited listening socket (EPOLLEXCLUSIVE)
 *     and on the connections it holds (at most worker_connections);
 *   - reads request heads and bodies without blocking, serves one complete
 *     request at a time, synchronously, and writes the response (parking
 *     the connection when the client reads slowly);
 *   - leaves with _exit(), never exit(), so the master's atexit hooks and
 *     stdio buffers are never run or flushed twice.
 *
 * Signals a worker understands (sent only by its master):
 *   SIGTERM  graceful: stop accepting, finish what was read, answer the
 *            next request on each keep-alive connection with
 *            "Connection: close", close idle connections after a short
 *            grace, then exit 0.
 *   SIGINT   fast: exit at once (default disposition).
 *   SIGUSR1  reopen the log file and the access log.
 *   SIGHUP   ignored (reload is the master's business).
 *
 * Exit status (the contract of STYLE.md): 0 clean (graceful stop), 1
 * respawn me (an unexpected error), 2 fatal (the configuration cannot
 * work, e.g. the access log cannot be opened: the master stops
 * respawning and exits).
 *
 * Recycling: when the worker has served request_limit requests, or its
 * resident size passed cfg->max_worker_rss after a request, it sets the
 * want-recycle flag of its slot and keeps serving; the master grants
 * recycles one at a time by sending SIGTERM, so the pool never restarts
 * at once.
 *
 * Callers: master/ only (the fork site).
 */
#ifndef PACER_WORKER_H
#define PACER_WORKER_H

#include <stdint.h>
#include <sys/types.h>

#include <openssl/types.h>

#include "cfg.h"
#include "listener.h"
#include "rlshm.h"
#include "sb.h"
#include "secret.h"

struct worker_ctx {
	const struct cfg *cfg;      /* read-only; owned by the master */
	const struct listeners *ls; /* the inherited listening sockets */
	/* The TLS context of the listeners marked tls, built by the master
	 * (NULL: none); each connection gets its own SSL from it. */
	SSL_CTX *tls;
	struct sb *sb; /* the inherited scoreboard mapping */
	/* The instance's rate-limit counters for Redis outages, created by
	 * the master once (kept across reloads); NULL: none. */
	struct rlshm *rlshm;
	/* The master key (never NULL): the master's copy, inherited across
	 * fork and read-only here. Seals and opens stored secrets; never
	 * logged, never put in a response. */
	const struct secret_key *master_key;
	uint32_t slot;          /* this worker's slot */
	uint64_t generation;    /* the generation it belongs to */
	uint64_t request_limit; /* jittered; 0: never by count */
	pid_t master_pid;       /* getppid() must keep returning it */
	int access_log_fd;      /* opened by the master, or -1: off */
	/* The migrations the master applied or found applied before forking
	 * this generation: how many, and the newest version (0, 0: none).
	 * /health/ready compares the database against them. */
	uint32_t schema_count;
	int64_t schema_version;
};

/* Run the worker until it is told to stop; never returns. */
_Noreturn void worker_main(const struct worker_ctx *ctx);

#endif /* PACER_WORKER_H */
