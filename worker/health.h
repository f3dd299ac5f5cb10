/*
 * health.h - the health endpoints that look past the process:
 *
 *   GET /health/ready   200 when this worker's database connection works
 *                       and the schema has every migration the master
 *                       applied before forking it; else 503 (with
 *                       Retry-After when the database is unreachable).
 *                       For load balancers: take the node out, keep it.
 *   GET /admin/health   the full report for operators: database, redis,
 *                       migrations and workers checks, each with status,
 *                       message, duration and metadata; the overall
 *                       status is healthy, degraded (Redis away: the
 *                       service works without its cache; or some workers
 *                       without the database) or unhealthy (503). For
 *                       clients in admin_allow, and for an admin's
 *                       access token or API key from anywhere; others
 *                       get 403.
 *
 * Callers: the route table (handlers.c), in worker processes.
 */
#ifndef PACER_HEALTH_H
#define PACER_HEALTH_H

#include "cache.h"
#include "db.h"
#include "router.h"
#include "worker.h"

/* Borrow what the checks look at, for the worker's lifetime. Returns 0,
 * or -1 with the reason in err (admin_allow does not parse). */
int health_init(const struct worker_ctx *ctx, char *err, size_t errlen);
void health_attach(struct db *db, struct cache *cache);

void health_ready(const struct router_call *call, struct http_resp *r);
void health_admin(const struct router_call *call, struct http_resp *r);

/* A 503 for a request whose database is unreachable: Retry-After and a
 * JSON error. For every handler that needs the database. */
void health_db_unavailable(const struct router_call *call, struct http_resp *r);

#endif /* PACER_HEALTH_H */
