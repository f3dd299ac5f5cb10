/*
 * test_sig.c - master signals: a signal sent while the master is busy is
 * kept (blocked, pending) and wakes the next sig_wait at once; each maps
 * to its event; a child starts with default handlers and no mask.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sig.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

Test(sig, signal_while_busy_wakes_the_next_wait)
{
	long t0;
	bool woke;

	cr_assert(eq(int, sig_install(), 0));
	cr_assert(
	    eq(int, kill(getpid(), SIGHUP), 0)); /* blocked: stays pending */
	cr_assert(not(sig_take(SIG_EV_RELOAD)), "handled while blocked");
	t0 = now_ms();
	woke = sig_wait(5000);
	cr_assert(woke, "sig_wait did not report the signal");
	cr_assert(lt(long, now_ms() - t0, 2000L), "waited for the timeout");
	cr_assert(sig_take(SIG_EV_RELOAD));
	cr_assert(not(sig_take(SIG_EV_RELOAD)), "flag not cleared");
}

Test(sig, each_signal_maps_to_its_event)
{
	static const struct {
		int signo;
		enum sig_event ev;
	} map[] = {
	    {SIGHUP, SIG_EV_RELOAD},
	    {SIGTERM, SIG_EV_STOP},
	    {SIGINT, SIG_EV_FASTSTOP},
	    {SIGQUIT, SIG_EV_FASTSTOP},
	    {SIGUSR1, SIG_EV_REOPEN},
	    {SIGTTIN, SIG_EV_MORE},
	    {SIGTTOU, SIG_EV_FEWER},
	    {SIGCHLD, SIG_EV_CHILD},
	};

	cr_assert(eq(int, sig_install(), 0));
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		cr_assert(eq(int, kill(getpid(), map[i].signo), 0));
		(void)sig_wait(2000);
		cr_assert(sig_take(map[i].ev),
		    "signal %d did not raise event %d", map[i].signo,
		    map[i].ev);
	}
}

Test(sig, wait_times_out_without_a_signal)
{
	long t0;

	cr_assert(eq(int, sig_install(), 0));
	t0 = now_ms();
	cr_assert(not(sig_wait(50)), "woke without a signal");
	cr_assert(ge(long, now_ms() - t0, 40L));
}

Test(sig, sigpipe_is_ignored)
{
	int p[2];

	cr_assert(eq(int, sig_install(), 0));
	cr_assert(eq(int, pipe(p), 0));
	(void)close(p[0]);
	cr_assert(eq(long, (long)write(p[1], "x", 1), -1L),
	    "write to a closed pipe succeeded");
	(void)close(p[1]);
}

Test(sig, child_starts_with_default_handlers_and_empty_mask)
{
	pid_t pid;
	int status;
	bool signalled;

	cr_assert(eq(int, sig_install(), 0));
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		sigset_t cur;
		struct sigaction sa;

		sig_reset_child();
		(void)sigprocmask(SIG_SETMASK, NULL, &cur);
		(void)sigaction(SIGTERM, NULL, &sa);
		if (sigismember(&cur, SIGTERM) || sa.sa_handler != SIG_DFL)
			_exit(3);
		(void)raise(SIGTERM); /* default action: die of it */
		_exit(4);
	}
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	signalled = WIFSIGNALED(status); /* a macro cr_assert cannot take */
	cr_assert(signalled, "child exited %d instead of dying of SIGTERM",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	cr_assert(eq(int, WTERMSIG(status), SIGTERM));
}

Test(sig, names_signals_for_log_lines)
{
	char store[32];

	cr_assert(eq(str, (char *)sig_name(SIGSEGV, store, sizeof(store)),
	    "SIGSEGV"));
	cr_assert(eq(str, (char *)sig_name(SIGKILL, store, sizeof(store)),
	    "SIGKILL"));
	cr_assert(eq(str, (char *)sig_name(1000, store, sizeof(store)),
	    "signal 1000"));
}
