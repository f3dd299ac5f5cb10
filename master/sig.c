/*
 * sig.c - master signal handling; see sig.h.
 *
 * Runs in the master. The handlers touch nothing but sig_atomic_t flags
 * (PostgreSQL's postmaster and nginx work the same way); every action
 * happens in the main loop after sig_wait() returns.
 */
#include "sig.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"

static volatile sig_atomic_t pending[SIG_EV_COUNT];
static sigset_t unblocked; /* the mask to wait with */

static const struct {
	int signo;
	enum sig_event ev;
} handled[] = {
    {SIGHUP, SIG_EV_RELOAD},
    {SIGTERM, SIG_EV_STOP},
    {SIGINT, SIG_EV_FASTSTOP},
    {SIGQUIT, SIG_EV_FASTSTOP},
    {SIGUSR1, SIG_EV_REOPEN},
    {SIGTTIN, SIG_EV_MORE},
    {SIGTTOU, SIG_EV_FEWER},
    {SIGCHLD, SIG_EV_CHILD},
};
#define NHANDLED (sizeof(handled) / sizeof(handled[0]))

static void on_signal(int signo)
{
	size_t i;

	for (i = 0; i < NHANDLED; i++)
		if (handled[i].signo == signo)
			pending[handled[i].ev] = 1;
}

int sig_install(void)
{
	struct sigaction sa;
	sigset_t block;
	size_t i;

	sigemptyset(&block);
	for (i = 0; i < NHANDLED; i++)
		sigaddset(&block, handled[i].signo);
	if (sigprocmask(SIG_BLOCK, &block, &unblocked) == -1)
		return -1;
	for (i = 0; i < NHANDLED; i++)
		sigdelset(&unblocked, handled[i].signo);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < NHANDLED; i++)
		if (sigaction(handled[i].signo, &sa, NULL) == -1)
			return -1;
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	return sigaction(SIGPIPE, &sa, NULL);
}

bool sig_wait(int timeout_ms)
{
	struct timespec ts, *tsp = NULL;
	size_t i;

	for (i = 0; i < SIG_EV_COUNT; i++)
		if (pending[i])
			return true;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	/* ppoll swaps in the unblocked mask for the sleep only. */
	return ppoll(NULL, 0, tsp, &unblocked) == -1 && errno == EINTR;
}

bool sig_take(enum sig_event ev)
{
	if (!pending[ev])
		return false;
	pending[ev] = 0;
	return true;
}

const char *sig_name(int signo, char *store, size_t n)
{
	const char *abbrev = sigabbrev_np(signo);
	struct buf b;

	buf_init_fixed(&b, store, n);
	if (abbrev != NULL)
		(void)buf_printf(&b, "SIG%s", abbrev);
	else
		(void)buf_printf(&b, "signal %d", signo);
	return buf_str(&b);
}

void sig_reset_child(void)
{
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NHANDLED; i++)
		(void)sigaction(handled[i].signo, &sa, NULL);
	for (i = 0; i < SIG_EV_COUNT; i++)
		pending[i] = 0;
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}
