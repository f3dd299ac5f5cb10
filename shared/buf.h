/*
 * buf.h - a bounded, always NUL-terminated string builder.
 *
 * Every formatted string in pacer goes through a struct buf: no sprintf,
 * strcpy or strcat anywhere else. A buf either borrows fixed storage (for a
 * log line or an error message on the stack) or owns heap storage that grows
 * up to a hard limit (for responses). Writes past the limit are dropped and
 * remembered in ->overflow, so the caller checks once at the end instead of
 * after every append.
 *
 * Callers: any process (master, workers, pacerctl). Not thread-safe; pacer
 * has no threads. buf_sigsafe_* functions are async-signal-safe.
 */
#ifndef PACER_BUF_H
#define PACER_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct buf {
	char *data;    /* always NUL-terminated while cap > 0 */
	size_t len;    /* bytes before the NUL */
	size_t cap;    /* bytes allocated (or borrowed), including the NUL */
	size_t max;    /* hard limit on cap for owned storage */
	bool owned;    /* data is heap memory freed by buf_free() */
	bool overflow; /* a write was truncated */
};

/* Borrow fixed storage of size n (n >= 1). Nothing to free. */
void buf_init_fixed(struct buf *b, char *storage, size_t n);

/* Own heap storage that grows up to max bytes (including the NUL).
 * Release with buf_free(). */
void buf_init_dynamic(struct buf *b, size_t max);

/* Free owned storage; the buf is left empty and usable as a fixed buf of
 * size 0. NULL-safe. */
void buf_free(struct buf *b);

/* Empty the buffer, keeping its storage and clearing ->overflow. */
void buf_reset(struct buf *b);

/* Append. Each returns 0, or -1 when the data did not fit (what fit is kept
 * and ->overflow is set) or memory ran out. */
int buf_append(struct buf *b, const char *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Append s[0..n) as the inside of a JSON string (quotes not included):
 * escapes ", \ and control characters; bytes >= 0x80 pass through. */
int buf_json_escape(struct buf *b, const char *s, size_t n);

/* Write the contents to fp and flush it. Returns 0, or -1 when the buf
 * had overflowed (nothing is written) or the write failed (errno set). */
int buf_fwrite(const struct buf *b, FILE *fp);

/* Drop the last n bytes (or all of them). */
void buf_truncate(struct buf *b, size_t len);

/* The contents: never NULL, always NUL-terminated. Borrowed. */
static inline const char *buf_str(const struct buf *b)
{
	return (b->cap > 0) ? b->data : "";
}

/* Async-signal-safe helpers for the signal-handler log path: they write
 * into a caller-provided array and never call malloc or stdio. Each returns
 * the new length, never more than n - 1, and keeps dst NUL-terminated. */
size_t buf_sigsafe_puts(char *dst, size_t len, size_t n, const char *s);
size_t buf_sigsafe_putu(char *dst, size_t len, size_t n, uintmax_t v);

#endif /* PACER_BUF_H */
