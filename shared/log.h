/*
 * log.h - the log API every pacer process uses.
 *
 * Lines are tagged with the process role ("master", "worker", "pacerctl")
 * and pid, written with one write(2) each so lines from several processes
 * sharing a file never interleave, and formatted as text or JSON. Every
 * function here preserves errno. log_err/log_warn append strerror(errno),
 * the x variants do not (as in OpenBSD's log.c).
 *
 * Callers: any process. After fork, the child calls log_set_role().
 * log_sigsafe() is the only function that may be called from a signal
 * handler.
 */
#ifndef PACER_LOG_H
#define PACER_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

enum log_dest {
	LOG_DEST_STDERR,
	LOG_DEST_FILE,
	LOG_DEST_SYSLOG,
};

/* Longest line written, newline included; longer messages are cut and end
 * with "[truncated]". */
#define LOG_LINE_MAX 4096

/* Start logging to stderr at level info in text format. role is copied. */
void log_init(const char *role);
void log_set_role(const char *role);
void log_set_level(enum log_level level);
void log_set_format(enum log_format format);

/*
 * Switch the destination. For LOG_DEST_FILE, path is opened for appending
 * (created 0640); for LOG_DEST_SYSLOG, facility is a LOG_* facility from
 * <syslog.h> and ident the program name. Returns 0, or -1 with the reason
 * in err (the previous destination stays in use).
 */
int log_open(enum log_dest dest, const char *path, int facility,
    const char *ident, char *err, size_t errlen);

/* Reopen the log file (after logrotate moved it; SIGUSR1). The new file
 * replaces the old descriptor atomically. A no-op for stderr and syslog.
 * Returns 0, or -1 with the reason in err (logging goes on to the old
 * file). */
int log_reopen(char *err, size_t errlen);

/* Close a file or syslog destination and go back to stderr. */
void log_close(void);

/* The function fatal() and fatalx() leave through; exit(3) by default.
 * Workers set _exit(2) so the master's atexit hooks never run in them. */
void log_set_exit(void (*exit_fn)(int));

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log at error level and exit with status LOG_EXIT_FATAL (2: fatal, the
 * master does not respawn). */
#define LOG_EXIT_FATAL 2
_Noreturn void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * Async-signal-safe: write one line in the current format (text or JSON)
 * to the current file or stderr with write(2) only (syslog falls back to
 * stderr, as syslog(3) is not async-signal-safe). No formatting of
 * arguments: pass a constant message; it is cut at about 400 bytes.
 */
void log_sigsafe(enum log_level level, const char *msg);

/* Parse "debug", "info", "warn", "error" (and "warning"). Returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/* Format t (seconds since the epoch, UTC) plus milliseconds as
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" into dst (at least 25 bytes). Async-signal-
 * safe. Returns the length written. */
size_t log_format_time(char *dst, size_t n, long long t, int ms);

#endif /* PACER_LOG_H */
