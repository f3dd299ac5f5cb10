/*
 * buf.c - bounded string builder; see buf.h.
 *
 * Runs in every process. Growth doubles up to ->max; a write that would pass
 * the limit keeps what fits and sets ->overflow, so output is truncated,
 * never unterminated and never out of bounds.
 */
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init_fixed(struct buf *b, char *storage, size_t n)
{
	b->data = storage;
	b->cap = n;
	b->max = n;
	b->len = 0;
	b->owned = false;
	b->overflow = false;
	if (n > 0)
		storage[0] = '\0';
}

void buf_init_dynamic(struct buf *b, size_t max)
{
	b->data = NULL;
	b->cap = 0;
	b->max = max;
	b->len = 0;
	b->owned = true;
	b->overflow = false;
}

void buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->owned)
		free(b->data);
	b->data = NULL;
	b->cap = 0;
	b->len = 0;
	b->owned = false;
	b->max = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->overflow = false;
	if (b->cap > 0)
		b->data[0] = '\0';
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* Make room for `need` more bytes plus the NUL. Returns how many of them
 * can be written (possibly fewer than asked, at the limit). */
static size_t buf_reserve(struct buf *b, size_t need)
{
	size_t want, ncap;
	char *p;

	if (b->cap > 0 && b->cap - b->len - 1 >= need)
		return need;
	if (!b->owned || b->max == 0)
		return (b->cap > 0) ? b->cap - b->len - 1 : 0;

	if (need > b->max || b->len + 1 > b->max - need)
		want = b->max;
	else
		want = b->len + need + 1;
	ncap = (b->cap > 0) ? b->cap : 64;
	while (ncap < want)
		ncap = (ncap > b->max / 2) ? b->max : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	if (ncap > b->cap) {
		p = realloc(b->data, ncap);
		if (p == NULL)
			return (b->cap > 0) ? b->cap - b->len - 1 : 0;
		if (b->cap == 0)
			p[0] = '\0';
		b->data = p;
		b->cap = ncap;
	}
	return (b->cap - b->len - 1 >= need) ? need : b->cap - b->len - 1;
}

int buf_append(struct buf *b, const char *p, size_t n)
{
	size_t room;

	if (n == 0)
		return b->overflow ? -1 : 0;
	room = buf_reserve(b, n);
	if (room > 0) {
		memcpy(b->data + b->len, p, room);
		b->len += room;
		b->data[b->len] = '\0';
	}
	if (room < n) {
		b->overflow = true;
		return -1;
	}
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	size_t room;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->overflow = true;
		return -1;
	}
	room = buf_reserve(b, (size_t)n);
	if (b->cap == 0) {
		b->overflow = true;
		return -1;
	}
	/* vsnprintf writes at most room bytes plus the NUL. */
	(void)vsnprintf(b->data + b->len, room + 1, fmt, ap);
	b->len += room;
	if (room < (size_t)n) {
		b->overflow = true;
		return -1;
	}
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int buf_json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	int rc = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (buf_append(b, s + start, i - start) < 0)
			rc = -1;
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			elen = 6;
			break;
		}
		if (buf_append(b, esc, elen) < 0)
			rc = -1;
	}
	if (buf_append(b, s + start, n - start) < 0)
		rc = -1;
	return rc;
}

int buf_fwrite(const struct buf *b, FILE *fp)
{
	if (b->overflow) {
		errno = EOVERFLOW;
		return -1;
	}
	if (fwrite(buf_str(b), 1, b->len, fp) != b->len || fflush(fp) != 0)
		return -1;
	return 0;
}

size_t buf_sigsafe_puts(char *dst, size_t len, size_t n, const char *s)
{
	if (n == 0)
		return 0;
	while (*s != '\0' && len + 1 < n)
		dst[len++] = *s++;
	dst[len] = '\0';
	return len;
}

size_t buf_sigsafe_putu(char *dst, size_t len, size_t n, uintmax_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp) - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + (v % 10));
		v /= 10;
	} while (v > 0 && i > 0);
	return buf_sigsafe_puts(dst, len, n, tmp + i);
}
