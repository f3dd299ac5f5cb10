/*
 * prom.h - Prometheus text exposition format (version 0.0.4) writer.
 *
 * Used by the worker's /metrics endpoint and by `pacerctl status
 * --prometheus`, which print the same scoreboard data. Everything goes
 * into a struct buf; a full buffer shows as buf->overflow.
 *
 * Callers: any process.
 */
#ifndef PACER_PROM_H
#define PACER_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A label set: n pairs of names (metric-name syntax, not checked) and
 * values (escaped here). */
struct prom_labels {
	size_t n;
	const char *const *names;
	const char *const *values;
};

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge,
 * histogram). Write once per metric family, before its samples. */
void prom_family(struct buf *out, const char *name, const char *type,
    const char *help);

/* One sample line: name{labels} value. labels may be NULL. */
void prom_u64(struct buf *out, const char *name,
    const struct prom_labels *labels, uint64_t value);
void prom_double(struct buf *out, const char *name,
    const struct prom_labels *labels, double value);

/*
 * A whole histogram family: HELP/TYPE, then name_bucket{le="b"} lines
 * (cumulative), name_sum and name_count. bounds are the n finite upper
 * bounds in seconds, ascending; counts has n + 1 entries, per bucket (not
 * cumulative), the last being the +Inf bucket.
 */
void prom_histogram(struct buf *out, const char *name, const char *help,
    const double *bounds, const uint64_t *counts, size_t n, double sum);

/* One labelled series of a histogram family (after prom_family(...,
 * "histogram", ...)): its buckets, sum and count, each with labels. */
void prom_histogram_series(struct buf *out, const char *name,
    const struct prom_labels *labels, const double *bounds,
    const uint64_t *counts, size_t n, double sum);

/* Append v as a label value: backslash, double quote and newline escaped. */
void prom_escape(struct buf *out, const char *v);

#endif /* PACER_PROM_H */
