/*
 * log.c - logging for every pacer process; see log.h.
 *
 * One static state per process: after fork the child inherits the
 * destination and only changes its role. A line is built in a stack
 * buffer through struct buf and handed to write(2) in one call, so
 * concurrent writers on an O_APPEND file never interleave within a line.
 * Control characters in messages are escaped, so text that came from a
 * client can never forge a second log line.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static struct {
	char role[32];
	enum log_level level;
	enum log_format format;
	enum log_dest dest;
	int fd; /* the file destination, or -1 */
	char path[1024];
	void (*exit_fn)(int);
} logst = {
    .role = "pacer",
    .level = LOG_LEVEL_INFO,
    .format = LOG_FORMAT_TEXT,
    .dest = LOG_DEST_STDERR,
    .fd = -1,
    .exit_fn = exit,
};

static const char *const level_names[] = {
    [LOG_LEVEL_DEBUG] = "debug",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_WARN] = "warning",
    [LOG_LEVEL_ERROR] = "error",
};

static void copy_str(char *dst, size_t n, const char *src)
{
	struct buf b;

	buf_init_fixed(&b, dst, n);
	(void)buf_puts(&b, src);
}

void log_init(const char *role)
{
	int saved = errno;

	log_close();
	log_set_role(role);
	logst.level = LOG_LEVEL_INFO;
	logst.format = LOG_FORMAT_TEXT;
	errno = saved;
}

void log_set_role(const char *role)
{
	copy_str(logst.role, sizeof(logst.role), role);
}

void log_set_level(enum log_level level)
{
	logst.level = level;
}

void log_set_format(enum log_format format)
{
	logst.format = format;
}

void log_set_exit(void (*exit_fn)(int))
{
	logst.exit_fn = (exit_fn != NULL) ? exit_fn : exit;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level > LOG_LEVEL_ERROR)
		return "unknown";
	return level_names[level];
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
	    {"debug", LOG_LEVEL_DEBUG},
	    {"info", LOG_LEVEL_INFO},
	    {"warn", LOG_LEVEL_WARN},
	    {"warning", LOG_LEVEL_WARN},
	    {"error", LOG_LEVEL_ERROR},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

static int open_append(const char *path)
{
	int fd;

	do
		fd =
		    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	while (fd == -1 && errno == EINTR);
	return fd;
}

int log_open(enum log_dest dest, const char *path, int facility,
    const char *ident, char *err, size_t errlen)
{
	int saved = errno, fd;

	switch (dest) {
	case LOG_DEST_STDERR: log_close(); break;
	case LOG_DEST_FILE:
		if (path == NULL || path[0] == '\0') {
			(void)snprintf(err, errlen, "no log file given");
			return -1;
		}
		if ((fd = open_append(path)) == -1) {
			(void)snprintf(err, errlen,
			    "could not open log file \"%s\": %s", path,
			    strerror(errno));
			errno = saved;
			return -1;
		}
		log_close();
		logst.fd = fd;
		copy_str(logst.path, sizeof(logst.path), path);
		break;
	case LOG_DEST_SYSLOG:
		log_close();
		/* ident must outlive openlog(); keep our own copy. */
		copy_str(logst.path, sizeof(logst.path),
		    (ident != NULL) ? ident : "pacerd");
		openlog(logst.path, LOG_PID | LOG_NDELAY, facility);
		break;
	}
	logst.dest = dest;
	errno = saved;
	return 0;
}

int log_reopen(char *err, size_t errlen)
{
	int saved = errno, fd;

	if (logst.dest != LOG_DEST_FILE)
		return 0;
	if ((fd = open_append(logst.path)) == -1) {
		(void)snprintf(err, errlen,
		    "could not reopen log file \"%s\": %s", logst.path,
		    strerror(errno));
		errno = saved;
		return -1;
	}
	/* dup2 swaps the file under the same descriptor number in one step, so
	 * a signal handler writing meanwhile always has a valid descriptor. */
	if (dup2(fd, logst.fd) == -1) {
		(void)snprintf(err, errlen,
		    "could not reopen log file \"%s\": dup2: %s", logst.path,
		    strerror(errno));
		(void)close(fd);
		errno = saved;
		return -1;
	}
	(void)close(fd);
	errno = saved;
	return 0;
}

void log_close(void)
{
	if (logst.dest == LOG_DEST_FILE && logst.fd != -1)
		(void)close(logst.fd);
	else if (logst.dest == LOG_DEST_SYSLOG)
		closelog();
	logst.fd = -1;
	logst.dest = LOG_DEST_STDERR;
	logst.path[0] = '\0';
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report a failing log */
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm): pure
 * arithmetic, so safe in a signal handler, unlike gmtime_r. */
static void civil_from_days(long long z, int *y, int *m, int *d)
{
	long long era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = (z - era * 146097) - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static size_t put2(char *dst, size_t len, int v)
{
	dst[len] = (char)('0' + (v / 10) % 10);
	dst[len + 1] = (char)('0' + v % 10);
	return len + 2;
}

size_t log_format_time(char *dst, size_t n, long long t, int ms)
{
	long long days = t / 86400, secs = t % 86400;
	int y, mo, d;
	size_t len = 0;

	if (n < 25) {
		if (n > 0)
			dst[0] = '\0';
		return 0;
	}
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	len = put2(dst, len, (y / 100) % 100);
	len = put2(dst, len, y % 100);
	dst[len++] = '-';
	len = put2(dst, len, mo);
	dst[len++] = '-';
	len = put2(dst, len, d);
	dst[len++] = 'T';
	len = put2(dst, len, (int)(secs / 3600));
	dst[len++] = ':';
	len = put2(dst, len, (int)(secs / 60 % 60));
	dst[len++] = ':';
	len = put2(dst, len, (int)(secs % 60));
	dst[len++] = '.';
	dst[len++] = (char)('0' + ms / 100 % 10);
	len = put2(dst, len, ms % 100);
	dst[len++] = 'Z';
	dst[len] = '\0';
	return len;
}

static size_t now_string(char *dst, size_t n)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1) {
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	}
	return log_format_time(dst, n, (long long)ts.tv_sec,
	    (int)(ts.tv_nsec / 1000000));
}

/* Copy msg into b with control characters escaped (text format). */
static void put_escaped_text(struct buf *b, const char *msg, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c >= 0x20 && c != 0x7f) {
			(void)buf_putc(b, (char)c);
		} else {
			char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xf]};

			(void)buf_append(b, esc, sizeof(esc));
		}
	}
}

static int syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG: return LOG_DEBUG;
	case LOG_LEVEL_INFO: return LOG_INFO;
	case LOG_LEVEL_WARN: return LOG_WARNING;
	case LOG_LEVEL_ERROR: return LOG_ERR;
	}
	return LOG_ERR;
}

static void emit(enum log_level level, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void emit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	static const char cut[] = "[truncated]";
	char msgstore[LOG_LINE_MAX], linestore[LOG_LINE_MAX + 64], ts[32];
	struct buf msg, line;
	int fd;

	if (level < logst.level)
		return;
	buf_init_fixed(&msg, msgstore, sizeof(msgstore) - sizeof(cut));
	(void)buf_vprintf(&msg, fmt, ap);
	if (errnum != 0 && logst.format == LOG_FORMAT_TEXT)
		(void)buf_printf(&msg, ": %s", strerror(errnum));

	buf_init_fixed(&line, linestore, sizeof(linestore));
	if (logst.dest == LOG_DEST_SYSLOG) {
		(void)buf_printf(&line, "%s: ", logst.role);
		put_escaped_text(&line, buf_str(&msg), msg.len);
		if (msg.overflow)
			(void)buf_puts(&line, cut);
		syslog(syslog_priority(level), "%s", buf_str(&line));
		return;
	}

	(void)now_string(ts, sizeof(ts));
	if (logst.format == LOG_FORMAT_JSON) {
		(void)buf_printf(&line,
		    "{\"time\":\"%s\",\"level\":\"%s\","
		    "\"role\":\"%s\",\"pid\":%ld,\"msg\":\"",
		    ts, level_names[level], logst.role, (long)getpid());
		(void)buf_json_escape(&line, buf_str(&msg), msg.len);
		if (msg.overflow)
			(void)buf_puts(&line, cut);
		(void)buf_putc(&line, '"');
		if (errnum != 0) {
			const char *es = strerror(errnum);

			(void)buf_puts(&line, ",\"error\":\"");
			(void)buf_json_escape(&line, es, strlen(es));
			(void)buf_printf(&line, "\",\"errno\":%d", errnum);
		}
		(void)buf_putc(&line, '}');
	} else {
		(void)buf_printf(&line, "%s %s[%ld]: %s: ", ts, logst.role,
		    (long)getpid(), level_names[level]);
		put_escaped_text(&line, buf_str(&msg), msg.len);
		if (msg.overflow)
			(void)buf_puts(&line, cut);
	}
	/* The newline always fits: keep one byte back for it. */
	if (line.len >= line.cap - 1)
		buf_truncate(&line, line.cap - 2);
	(void)buf_putc(&line, '\n');

	fd = (logst.dest == LOG_DEST_FILE && logst.fd != -1) ? logst.fd
	                                                     : STDERR_FILENO;
	write_all(fd, line.data, line.len);
}

#define LOG_BODY(level, errnum)                                                \
	do {                                                                   \
		int saved_ = errno;                                            \
		va_list ap_;                                                   \
		va_start(ap_, fmt);                                            \
		emit((level), (errnum), fmt, ap_);                             \
		va_end(ap_);                                                   \
		errno = saved_;                                                \
	} while (0)

void log_err(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, saved_);
}

void log_errx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, 0);
}

void log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, saved_);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 0);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, 0);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, 0);
}

void fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, saved_);
	logst.exit_fn(LOG_EXIT_FATAL);
	abort(); /* exit_fn must not return */
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, 0);
	logst.exit_fn(LOG_EXIT_FATAL);
	abort();
}

/* Append msg with JSON's mandatory escapes, arithmetic only. */
static size_t sigsafe_json(char *dst, size_t len, size_t n, const char *msg)
{
	static const char hex[] = "0123456789abcdef";

	for (; *msg != '\0' && len + 7 < n; msg++) {
		unsigned char c = (unsigned char)*msg;

		if (c == '"' || c == '\\') {
			dst[len++] = '\\';
			dst[len++] = (char)c;
		} else if (c < 0x20) {
			len = buf_sigsafe_puts(dst, len, n, "\\u00");
			dst[len++] = hex[c >> 4];
			dst[len++] = hex[c & 0xf];
		} else {
			dst[len++] = (char)c;
		}
	}
	dst[len] = '\0';
	return len;
}

void log_sigsafe(enum log_level level, const char *msg)
{
	char line[512], ts[32];
	size_t len = 0, n = sizeof(line) - 2; /* room kept for "}\n" */
	int saved = errno, fd;
	struct timespec now;

	if (level < logst.level)
		return;
	if (clock_gettime(CLOCK_REALTIME, &now) == -1)
		now.tv_sec = 0, now.tv_nsec = 0;
	(void)log_format_time(ts, sizeof(ts), (long long)now.tv_sec,
	    (int)(now.tv_nsec / 1000000));
	if (logst.format == LOG_FORMAT_JSON) {
		len = buf_sigsafe_puts(line, len, n, "{\"time\":\"");
		len = buf_sigsafe_puts(line, len, n, ts);
		len = buf_sigsafe_puts(line, len, n, "\",\"level\":\"");
		len = buf_sigsafe_puts(line, len, n, log_level_name(level));
		len = buf_sigsafe_puts(line, len, n, "\",\"role\":\"");
		len = buf_sigsafe_puts(line, len, n, logst.role);
		len = buf_sigsafe_puts(line, len, n, "\",\"pid\":");
		len = buf_sigsafe_putu(line, len, n, (uintmax_t)getpid());
		len = buf_sigsafe_puts(line, len, n, ",\"msg\":\"");
		len = sigsafe_json(line, len, n - 1, msg);
		line[len++] = '"';
		line[len++] = '}';
	} else {
		len = buf_sigsafe_puts(line, len, n, ts);
		len = buf_sigsafe_puts(line, len, n, " ");
		len = buf_sigsafe_puts(line, len, n, logst.role);
		len = buf_sigsafe_puts(line, len, n, "[");
		len = buf_sigsafe_putu(line, len, n, (uintmax_t)getpid());
		len = buf_sigsafe_puts(line, len, n, "]: ");
		len = buf_sigsafe_puts(line, len, n, log_level_name(level));
		len = buf_sigsafe_puts(line, len, n, ": ");
		len = buf_sigsafe_puts(line, len, n, msg);
	}
	line[len++] = '\n';
	fd = (logst.dest == LOG_DEST_FILE && logst.fd != -1) ? logst.fd
	                                                     : STDERR_FILENO;
	write_all(fd, line, len);
	errno = saved;
}
