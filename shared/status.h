/*
 * status.h - render the scoreboard for people and machines: the text of
 * `pacerctl status` (a summary and a per-worker table, like Apache's
 * mod_status), its --json form, and the Prometheus text that both
 * `pacerctl status --prometheus` and the /metrics endpoint serve.
 *
 * Callers: pacerctl, and workers (for /metrics). Reads the scoreboard only.
 */
#ifndef PACER_STATUS_H
#define PACER_STATUS_H

#include <stdint.h>

#include "buf.h"
#include "sb.h"

enum status_format {
	STATUS_TEXT,
	STATUS_JSON,
	STATUS_PROMETHEUS,
};

/* Append the rendering of sb to out. now_wall is unix seconds, now_us
 * sb_clock_us() (passed in so tests are deterministic). Returns 0, or -1
 * with the reason in err (the header could not be read consistently). */
int status_render(const struct sb *sb, enum status_format fmt, int64_t now_wall,
    uint64_t now_us, struct buf *out, char *err, size_t errlen);

/* The q-quantile (0 < q < 1) of the latency histogram in microseconds,
 * interpolated within its bucket as Prometheus' histogram_quantile does;
 * -1 when the histogram is empty, and the largest finite bound when the
 * quantile falls in the +Inf bucket (*above is then set). */
double status_quantile_us(const struct sb_hist_view *h, double q, int *above);

#endif /* PACER_STATUS_H */
