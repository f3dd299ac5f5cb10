/*
 * sig.h - the master's signals: handlers only set flags, and the signals
 * are blocked everywhere except inside sig_wait(), which unblocks them and
 * sleeps in one atomic step (ppoll), so a signal can never arrive between
 * "check the flags" and "go to sleep" and be noticed a second late.
 *
 * Callers: the master (sig_install, sig_wait, sig_take) and every forked
 * child at once after fork (sig_reset_child).
 */
#ifndef PACER_SIG_H
#define PACER_SIG_H

#include <signal.h>
#include <stdbool.h>

/* What the master was asked to do; each flag is cleared by sig_take(). */
enum sig_event {
	SIG_EV_RELOAD,   /* SIGHUP: graceful reload */
	SIG_EV_STOP,     /* SIGTERM: graceful stop */
	SIG_EV_FASTSTOP, /* SIGINT, SIGQUIT: fast stop */
	SIG_EV_REOPEN,   /* SIGUSR1: reopen log files */
	SIG_EV_MORE,     /* SIGTTIN: one more worker */
	SIG_EV_FEWER,    /* SIGTTOU: one fewer worker */
	SIG_EV_CHILD,    /* SIGCHLD: reap children */
	SIG_EV_COUNT,
};

/* Block the master's signals, install the flag-setting handlers (with
 * SA_RESTART) and ignore SIGPIPE. Returns 0, or -1 with errno set. */
int sig_install(void);

/* Sleep until a handled signal arrives or timeout_ms passes (-1: no
 * timeout). Returns true when a signal arrived. */
bool sig_wait(int timeout_ms);

/* Whether ev was signalled since the last call, clearing it. */
bool sig_take(enum sig_event ev);

/* Name of a signal for log lines ("SIGSEGV"), or "signal N". The string
 * is static or in store (n bytes). */
const char *sig_name(int signo, char *store, size_t n);

/* In a child right after fork: default dispositions for every signal the
 * master handles (SIGPIPE stays ignored) and an empty signal mask.
 * Async-signal-safe. */
void sig_reset_child(void);

#endif /* PACER_SIG_H */
