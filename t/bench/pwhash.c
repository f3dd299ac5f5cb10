/*
 * pwhash.c - how long a password hash and a login (verify) take at each
 * scrypt cost, on this machine.
 *
 * Usage: t/bench/pwhash [-n RUNS] [-j PROCS] [LN ...]   (or: make bench-pwhash)
 *
 * For each ln (default 13 14 15) it times RUNS (default 30) calls of
 * pwhash_hash() and of pwhash_verify() against a stored hash, in PROCS
 * processes at once (default 1; -j 2 shows two workers logging users in at
 * the same moment, competing for memory bandwidth), and prints p50 and p95
 * in milliseconds over all calls, and whether a login's p95 stays under the
 * 50 ms budget. Not a test: it never fails on a slow figure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pwhash.h"

#define BUDGET_MS 50.0
#define MAX_RUNS 10000
#define MAX_PROCS 64

static double now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-th quantile (0..1) of sorted v[0..n), nearest rank. */
static double quantile(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n + 0.999999);

	return v[i == 0 ? 0 : i - 1];
}

/* One process's share: runs hashes then runs verifies, timings into t. */
static int measure(int ln, int runs, double *hash_ms, double *verify_ms)
{
	static const char pw[] = "a password of a usual length";
	char phc[PWHASH_MAX_LEN];
	int i;

	for (i = 0; i < runs; i++) {
		double t0 = now_ms();

		if (pwhash_hash(pw, sizeof(pw) - 1, ln, phc, sizeof(phc)) != 0)
			return -1;
		hash_ms[i] = now_ms() - t0;
	}
	for (i = 0; i < runs; i++) {
		double t0 = now_ms();

		if (pwhash_verify(pw, sizeof(pw) - 1, phc) != 1)
			return -1;
		verify_ms[i] = now_ms() - t0;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Run measure() in procs children at once; their timings land in h and v
 * (procs * runs each). */
static int run_procs(int ln, int runs, int procs, double *h, double *v)
{
	size_t per = (size_t)runs * sizeof(double);
	int fds[MAX_PROCS], p, status, rc = 0;

	for (p = 0; p < procs; p++) {
		double *hh = h + (size_t)p * (size_t)runs;
		double *vv = v + (size_t)p * (size_t)runs;
		int fd[2];
		pid_t pid;

		if (pipe(fd) == -1 || (pid = fork()) == -1) {
			perror("pwhash bench: fork");
			return -1;
		}
		if (pid == 0) {
			(void)close(fd[0]);
			if (measure(ln, runs, hh, vv) != 0 ||
			    write_all(fd[1], hh, per) != 0 ||
			    write_all(fd[1], vv, per) != 0)
				_exit(1);
			_exit(0);
		}
		(void)close(fd[1]);
		fds[p] = fd[0];
	}
	/* Children write only when done, so reading them in turn does not
	 * serialise the measurement. */
	for (p = 0; p < procs; p++) {
		if (read_all(fds[p], h + (size_t)p * (size_t)runs, per) != 0 ||
		    read_all(fds[p], v + (size_t)p * (size_t)runs, per) != 0)
			rc = -1;
		(void)close(fds[p]);
	}
	while (wait(&status) > 0 || errno == EINTR)
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			rc = -1;
	return rc;
}

static void usage(void)
{
	(void)fprintf(stderr, "usage: pwhash [-n RUNS] [-j PROCS] [LN ...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const int default_ln[] = {13, 14, 15};
	int runs = 30, procs = 1, c, i, nln;
	double *h, *v;

	while ((c = getopt(argc, argv, "n:j:")) != -1) {
		switch (c) {
		case 'n': runs = atoi(optarg); break;
		case 'j': procs = atoi(optarg); break;
		default: usage();
		}
	}
	if (runs < 1 || runs > MAX_RUNS || procs < 1 || procs > MAX_PROCS)
		usage();
	nln = argc - optind > 0 ? argc - optind : 3;
	h = calloc((size_t)runs * (size_t)procs, sizeof(double));
	v = calloc((size_t)runs * (size_t)procs, sizeof(double));
	if (h == NULL || v == NULL)
		return 1;
	printf("scrypt (r=8, p=1), %d runs x %d process(es), %ld core(s); "
	       "login budget p95 < %.0f ms\n",
	    runs, procs, sysconf(_SC_NPROCESSORS_ONLN), BUDGET_MS);
	printf("%-3s %7s %7s %9s %9s %11s %11s\n", "ln", "N", "memory",
	    "hash p50", "hash p95", "verify p50", "verify p95");
	for (i = 0; i < nln; i++) {
		int ln =
		    argc - optind > 0 ? atoi(argv[optind + i]) : default_ln[i];
		size_t n = (size_t)runs * (size_t)procs;
		double vp95;

		if (ln < PWHASH_LN_MIN || ln > PWHASH_LN_MAX)
			usage();
		if (run_procs(ln, runs, procs, h, v) != 0) {
			(void)fprintf(stderr, "pwhash bench: ln=%d failed\n",
			    ln);
			return 1;
		}
		qsort(h, n, sizeof(double), cmp_double);
		qsort(v, n, sizeof(double), cmp_double);
		vp95 = quantile(v, n, 0.95);
		printf(
		    "%-3d %7lu %4luMiB %7.1fms %7.1fms %9.1fms %9.1fms  %s\n",
		    ln, 1ul << ln, (128ul * 8 * (1ul << ln)) >> 20,
		    quantile(h, n, 0.5), quantile(h, n, 0.95),
		    quantile(v, n, 0.5), vp95,
		    vp95 < BUDGET_MS ? "login within budget"
		                     : "login OVER budget");
	}
	free(h);
	free(v);
	return 0;
}
