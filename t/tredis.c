/*
 * tredis.c - a private redis-server for tests; see tredis.h.
 */
#include "tredis.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "tserver.h"

static long long real_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

bool tredis_answers(int port, const char *password)
{
	struct timeval tv = {0, 200000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	redisReply *rep = NULL;
	bool ok = false;

	if (c == NULL || c->err != 0)
		goto out;
	if (password != NULL) {
		rep = redisCommand(c, "AUTH %s", password);
		freeReplyObject(rep);
	}
	rep = redisCommand(c, "PING");
	ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
out:
	if (c != NULL)
		redisFree(c);
	return ok;
}

/* A free port below the kernel's ephemeral range, so that restarting the
 * server on it never finds it taken by some client's socket. */
static int stable_port(void)
{
	unsigned lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int i;

	if (f != NULL) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768;
		(void)fclose(f);
	}
	if (lo < 11000)
		return ts_free_port();
	srand((unsigned)getpid() ^ (unsigned)real_ms());
	for (i = 0; i < 200; i++) {
		int port = 10000 + rand() % (int)(lo - 10000);
		struct sockaddr_in sa = {.sin_family = AF_INET,
		    .sin_port = htons((uint16_t)port),
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool ok = fd >= 0 &&
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		if (fd >= 0)
			(void)close(fd);
		if (ok)
			return port;
	}
	return ts_free_port();
}

void tredis_start(struct tredis *r, const char *password)
{
	char port[16];
	long long until;
	int fd;

	if (r->dir == NULL) {
		r->dir = tu_tmpdir();
		r->port = stable_port();
		cr_assert(asprintf(&r->log, "%s/redis.log", r->dir) > 0);
	}
	(void)snprintf(port, sizeof(port), "%d", r->port);
	fd = open(r->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	cr_assert(fd >= 0);
	r->pid = fork();
	cr_assert(r->pid >= 0, "fork: %s", strerror(errno));
	if (r->pid == 0) {
		/* Die with the test process, whatever happens to it. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(127);
		if (password != NULL)
			execlp("redis-server", "redis-server", "--port", port,
			    "--bind", "127.0.0.1", "--save", "", "--appendonly",
			    "no", "--dir", r->dir, "--requirepass", password,
			    (char *)NULL);
		else
			execlp("redis-server", "redis-server", "--port", port,
			    "--bind", "127.0.0.1", "--save", "", "--appendonly",
			    "no", "--dir", r->dir, (char *)NULL);
		_exit(127);
	}
	(void)close(fd);
	until = real_ms() + 10000;
	while (!tredis_answers(r->port, password)) {
		int status;

		cr_assert(waitpid(r->pid, &status, WNOHANG) == 0,
		    "redis-server on port %d exited; see %s", r->port, r->log);
		cr_assert(real_ms() < until, "redis-server did not answer");
		ts_sleep_ms(20);
	}
}

void tredis_kill(struct tredis *r, int sig)
{
	if (r->pid <= 0)
		return;
	(void)kill(r->pid, sig);
	if (sig == SIGKILL) {
		while (waitpid(r->pid, NULL, 0) == -1 && errno == EINTR)
			;
		r->pid = -1;
	}
}

void tredis_fini(struct tredis *r)
{
	tredis_kill(r, SIGKILL); /* also after a failed assertion */
	if (r->log != NULL)
		(void)unlink(r->log);
	if (r->dir != NULL)
		(void)rmdir(r->dir);
	free(r->log);
	free(r->dir);
	r->log = r->dir = NULL;
}
