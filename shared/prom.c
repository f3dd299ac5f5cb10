/*
 * prom.c - Prometheus text format writer; see prom.h.
 *
 * Written by hand on purpose (STYLE.md): the format is a few lines of
 * grammar and no C library for it ships in Debian. Numbers use %.17g so a
 * double survives the round trip, and the special values are spelt as the
 * format wants (+Inf, -Inf, NaN).
 */
#include "prom.h"

#include <math.h>

void prom_escape(struct buf *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			(void)buf_puts(out, "\\\\");
		else if (*v == '"')
			(void)buf_puts(out, "\\\"");
		else if (*v == '\n')
			(void)buf_puts(out, "\\n");
		else
			(void)buf_putc(out, *v);
	}
}

/* HELP text escapes only backslash and newline. */
static void help_escape(struct buf *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			(void)buf_puts(out, "\\\\");
		else if (*v == '\n')
			(void)buf_puts(out, "\\n");
		else
			(void)buf_putc(out, *v);
	}
}

void prom_family(struct buf *out, const char *name, const char *type,
    const char *help)
{
	(void)buf_printf(out, "# HELP %s ", name);
	help_escape(out, help);
	(void)buf_printf(out, "\n# TYPE %s %s\n", name, type);
}

static void put_labels(struct buf *out, const struct prom_labels *l,
    const char *le)
{
	size_t i;

	if ((l == NULL || l->n == 0) && le == NULL)
		return;
	(void)buf_putc(out, '{');
	for (i = 0; l != NULL && i < l->n; i++) {
		(void)buf_printf(out, "%s%s=\"", i ? "," : "", l->names[i]);
		prom_escape(out, l->values[i]);
		(void)buf_putc(out, '"');
	}
	if (le != NULL)
		(void)buf_printf(out, "%sle=\"%s\"",
		    (l != NULL && l->n) ? "," : "", le);
	(void)buf_putc(out, '}');
}

static void put_double(struct buf *out, double v)
{
	if (isnan(v))
		(void)buf_puts(out, "NaN");
	else if (isinf(v))
		(void)buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	else
		(void)buf_printf(out, "%.17g", v);
}

void prom_u64(struct buf *out, const char *name,
    const struct prom_labels *labels, uint64_t value)
{
	(void)buf_puts(out, name);
	put_labels(out, labels, NULL);
	(void)buf_printf(out, " %llu\n", (unsigned long long)value);
}

void prom_double(struct buf *out, const char *name,
    const struct prom_labels *labels, double value)
{
	(void)buf_puts(out, name);
	put_labels(out, labels, NULL);
	(void)buf_putc(out, ' ');
	put_double(out, value);
	(void)buf_putc(out, '\n');
}

void prom_histogram_series(struct buf *out, const char *name,
    const struct prom_labels *labels, const double *bounds,
    const uint64_t *counts, size_t n, double sum)
{
	char le[40];
	struct buf lb;
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i <= n; i++) {
		cum += counts[i];
		buf_init_fixed(&lb, le, sizeof(le));
		if (i < n)
			(void)buf_printf(&lb, "%g", bounds[i]);
		else
			(void)buf_puts(&lb, "+Inf");
		(void)buf_printf(out, "%s_bucket", name);
		put_labels(out, labels, buf_str(&lb));
		(void)buf_printf(out, " %llu\n", (unsigned long long)cum);
	}
	(void)buf_printf(out, "%s_sum", name);
	put_labels(out, labels, NULL);
	(void)buf_putc(out, ' ');
	put_double(out, sum);
	(void)buf_printf(out, "\n%s_count", name);
	put_labels(out, labels, NULL);
	(void)buf_printf(out, " %llu\n", (unsigned long long)cum);
}

void prom_histogram(struct buf *out, const char *name, const char *help,
    const double *bounds, const uint64_t *counts, size_t n, double sum)
{
	prom_family(out, name, "histogram", help);
	prom_histogram_series(out, name, NULL, bounds, counts, n, sum);
}
