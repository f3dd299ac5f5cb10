/*
 * daemon.c - detaching with a ready pipe; see daemon.h.
 *
 * Runs in the master. The protocol on the pipe is one byte, '0' (serving)
 * or '1' (failed), followed for a failure by the message. End of file
 * without a byte means the master died during start-up.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"

#define READY_MSG_MAX 2048

static int devnull_onto(int target)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd == -1)
		return -1;
	if (fd != target && dup2(fd, target) == -1) {
		(void)close(fd);
		return -1;
	}
	if (fd != target)
		(void)close(fd);
	return 0;
}

/* The original process: wait for the verdict, print it, exit. */
static _Noreturn void wait_verdict(int rfd, pid_t mid)
{
	char msg[READY_MSG_MAX];
	size_t len = 0;
	ssize_t n;

	/* The middle process exits at once; reap it so it is no zombie. */
	while (waitpid(mid, NULL, 0) == -1 && errno == EINTR)
		;
	for (;;) {
		n = read(rfd, msg + len, sizeof(msg) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || len + (size_t)n >= sizeof(msg) - 1) {
			if (n > 0)
				len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	msg[len] = '\0';
	if (len > 0 && msg[0] == '0')
		_exit(0);
	if (len > 1)
		(void)fprintf(stderr, "pacerd: %s\n", msg + 1);
	else
		(void)fprintf(stderr,
		    "pacerd: the server exited during start-up without "
		    "saying why (see its log)\n");
	(void)fflush(stderr);
	_exit(1);
}

int daemon_detach(char *err, size_t errlen)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		(void)snprintf(err, errlen, "could not create a pipe: %s",
		    strerror(errno));
		return -1;
	}
	(void)fflush(NULL);
	if ((pid = fork()) == -1) {
		(void)snprintf(err, errlen, "could not fork: %s",
		    strerror(errno));
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (pid > 0) {
		(void)close(p[1]);
		wait_verdict(p[0], pid);
	}
	(void)close(p[0]);
	/* A new session without a controlling terminal; the second fork
	 * makes sure the master can never acquire one again. */
	if (setsid() == -1)
		_exit(1);
	if ((pid = fork()) == -1)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1 || devnull_onto(STDIN_FILENO) == -1 ||
	    devnull_onto(STDOUT_FILENO) == -1) {
		(void)snprintf(err, errlen,
		    "could not detach from the terminal: %s", strerror(errno));
		daemon_ready(&p[1], 0, err);
		return -1;
	}
	return p[1];
}

int daemon_null_stderr(void)
{
	return devnull_onto(STDERR_FILENO);
}

void daemon_ready(int *fd, int ok, const char *msg)
{
	char line[READY_MSG_MAX];
	struct buf b;
	size_t off = 0;
	ssize_t n;

	if (*fd == -1)
		return;
	buf_init_fixed(&b, line, sizeof(line));
	(void)buf_putc(&b, ok ? '0' : '1');
	if (!ok && msg != NULL)
		(void)buf_puts(&b, msg);
	while (off < b.len) {
		n = write(*fd, b.data + off, b.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	(void)close(*fd);
	*fd = -1;
	if (ok)
		(void)devnull_onto(STDERR_FILENO);
}
