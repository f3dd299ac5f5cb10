/*
 * access_log.c - access log lines; see access_log.h.
 *
 * Runs in worker processes, once per request, after the response was
 * built. A line is formatted into the caller's buffer and written with a
 * single write(2) on the O_APPEND descriptor the master opened, so lines
 * from every worker land whole and in some order without any locking.
 */
#include "access_log.h"

#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"

static const char hex[] = "0123456789abcdef";

/* Append s with every byte outside printable ASCII, and the quote and the
 * backslash, escaped: \" and \\, then \uHHHH (json) or Apache's \xHH
 * (ap_escape_logitem), so a hostile value cannot forge a line or a field. */
static void put_escaped(struct buf *b, struct access_log_str s, bool json)
{
	size_t i, start = 0;

	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			continue;
		(void)buf_append(b, s.p + start, i - start);
		start = i + 1;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			(void)buf_append(b, esc, 2);
		} else if (json) {
			(void)buf_append(b, esc, 6);
		} else {
			esc[1] = 'x';
			esc[2] = esc[4];
			esc[3] = esc[5];
			(void)buf_append(b, esc, 4);
		}
	}
	(void)buf_append(b, s.p + start, s.len - start);
}

/* A combined-format field: "-" when empty. */
static void put_combined(struct buf *b, struct access_log_str s)
{
	if (s.p == NULL || s.len == 0) {
		(void)buf_putc(b, '-');
		return;
	}
	put_escaped(b, s, false);
}

/* A JSON string (quotes included) that stays valid whatever the bytes:
 * non-ASCII bytes are escaped one by one. */
static void put_json(struct buf *b, struct access_log_str s)
{
	if (s.p == NULL) {
		(void)buf_puts(b, "null");
		return;
	}
	(void)buf_putc(b, '"');
	put_escaped(b, s, true);
	(void)buf_putc(b, '"');
}

static struct access_log_str cstr(const char *s)
{
	struct access_log_str v = {s, 0};

	while (s != NULL && s[v.len] != '\0')
		v.len++;
	return v;
}

static const char *protocol(int version_minor)
{
	switch (version_minor) {
	case 0: return "HTTP/1.0";
	case 1: return "HTTP/1.1";
	default: return NULL;
	}
}

static void format_combined(struct buf *b, const struct access_log_entry *e)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	time_t t = (time_t)e->time_s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		tm = (struct tm){.tm_mday = 1, .tm_year = 70};
	put_combined(b, cstr(e->client));
	(void)buf_printf(b, " - - [%02d/%.3s/%04d:%02d:%02d:%02d +0000] \"",
	    tm.tm_mday, months + (ptrdiff_t)3 * tm.tm_mon, tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (e->method.p == NULL || protocol(e->version_minor) == NULL) {
		(void)buf_putc(b, '-');
	} else {
		put_combined(b, e->method);
		(void)buf_putc(b, ' ');
		put_combined(b, e->target);
		(void)buf_putc(b, ' ');
		(void)buf_puts(b, protocol(e->version_minor));
	}
	(void)buf_printf(b, "\" %d ", e->status);
	if (e->bytes == 0)
		(void)buf_putc(b, '-');
	else
		(void)buf_printf(b, "%llu", (unsigned long long)e->bytes);
	(void)buf_puts(b, " \"");
	put_combined(b, e->referer);
	(void)buf_puts(b, "\" \"");
	put_combined(b, e->user_agent);
	(void)buf_puts(b, "\" ");
	put_combined(b, cstr(e->request_id));
	(void)buf_printf(b, " %ld %llu\n", e->pid,
	    (unsigned long long)e->duration_us);
}

static void format_json(struct buf *b, const struct access_log_entry *e)
{
	char ts[32];
	struct access_log_str proto = cstr(protocol(e->version_minor));
	bool parsed = e->method.p != NULL && proto.p != NULL;
	struct access_log_str none = {NULL, 0};

	(void)log_format_time(ts, sizeof(ts), (long long)e->time_s, e->time_ms);
	(void)buf_printf(b, "{\"time\":\"%s\",\"client\":", ts);
	put_json(b, cstr(e->client));
	(void)buf_puts(b, ",\"method\":");
	put_json(b, parsed ? e->method : none);
	(void)buf_puts(b, ",\"path\":");
	put_json(b, parsed ? e->path : none);
	if (parsed && e->query.p != NULL && e->query.len > 0) {
		(void)buf_puts(b, ",\"query\":");
		put_json(b, e->query);
	}
	(void)buf_puts(b, ",\"protocol\":");
	put_json(b, parsed ? proto : none);
	(void)buf_printf(b,
	    ",\"status\":%d,\"bytes\":%llu,\"referer\":", e->status,
	    (unsigned long long)e->bytes);
	put_json(b, e->referer);
	(void)buf_puts(b, ",\"user_agent\":");
	put_json(b, e->user_agent);
	(void)buf_puts(b, ",\"request_id\":");
	put_json(b, cstr(e->request_id));
	(void)buf_printf(b, ",\"pid\":%ld,\"duration_us\":%llu}\n", e->pid,
	    (unsigned long long)e->duration_us);
}

int access_log_format(struct buf *out, int format,
    const struct access_log_entry *e)
{
	if (format == CFG_ACCESS_JSON)
		format_json(out, e);
	else
		format_combined(out, e);
	return out->overflow ? -1 : 0;
}

int access_log_write(int fd, const struct buf *line)
{
	ssize_t n;

	if (line->overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	do {
		n = write(fd, line->data, line->len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != line->len) {
		errno = EIO; /* a short write on a full disk: the line is cut */
		return -1;
	}
	return 0;
}
