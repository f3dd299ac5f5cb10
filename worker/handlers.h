/*
 * handlers.h - pacer's endpoints: the route table every endpoint plugs
 * into, and the handlers themselves.
 *
 * Endpoints now:
 *   GET  /health/live   200 {"status":"ok","pid":N,"generation":G}
 *   GET  /metrics       the scoreboard in Prometheus text format
 *   GET  /health/ready  200 when this worker's database works and the
 *                       schema is current, else 503 (health.h)
 *   GET  /admin/health  the operators' report (admin_allow only)
 * and, only with debug_routes on and only on loopback listeners:
 *   GET  /debug/sleep?ms=N  hold the worker N ms, deaf to SIGTERM (for
 *                           the master's request_timeout watchdog)
 *   GET  /debug/alloc?mb=N  allocate, touch and keep N MB (for
 *                           max_worker_rss recycling)
 *   POST /debug/echo        the request body back (for body tests)
 *   GET  /debug/cache?key=K read K through the cache, storing a value on
 *                           a miss (for the cache's outage tests)
 *
 * The table only grows at its end: a route's index is its identity in
 * the scoreboard's per-route counters (see router.h).
 *
 * Callers: worker processes (worker.c) and the tests.
 */
#ifndef PACER_HANDLERS_H
#define PACER_HANDLERS_H

#include <stddef.h>

#include "cache.h"
#include "db.h"
#include "router.h"
#include "worker.h"

/* Metric label of the requests no route took (404, 405, 501, refused
 * requests); its counter index is the table's length. */
#define HANDLERS_UNMATCHED_LABEL "unmatched"

/* Most time /debug/sleep holds a worker, and most memory one
 * /debug/alloc call keeps. */
#define HANDLERS_SLEEP_MAX_MS (3600LL * 1000)
#define HANDLERS_ALLOC_MAX_MB 4096

/*
 * Set up the route table for the worker of ctx (borrowed until exit) in
 * *r and register every route's metric label, and the unmatched label,
 * in the scoreboard. *unmatched receives the unmatched counter index.
 * Returns 0, or -1 with the reason in err.
 */
int handlers_init(const struct worker_ctx *ctx, struct router *r,
    size_t *unmatched, char *err, size_t errlen);

/* Hand the worker's database connections and cache to the handlers
 * (borrowed until exit), once they are open. */
void handlers_attach(struct db *db, struct cache *cache);

#endif /* PACER_HANDLERS_H */
