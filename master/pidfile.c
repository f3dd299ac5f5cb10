/*
 * pidfile.c - locked pidfile of the master; see pidfile.h.
 *
 * Runs in the master and in pacerctl. The lock (flock) is the truth about
 * whether a master runs: the kernel drops it when the master dies, however
 * it dies, so a pid number that was recycled by another program can never
 * make pacerctl signal the wrong process or stop a new master from starting.
 *
 * The pid is written over the old contents and the file truncated after,
 * never truncated first: a reader sees the old pid or the new one, never
 * an empty file.
 */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "buf.h"

/* Parse "digits\n" (anything after the newline is ignored). */
static int parse_pid(const char *s, size_t n, pid_t *pid)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > 0x3fffffff)
			return -1;
	}
	if (i == 0 || (i < n && s[i] != '\n') || v < 1)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

static ssize_t read_contents(int fd, char *dst, size_t n)
{
	ssize_t r;

	do
		r = pread(fd, dst, n - 1, 0);
	while (r == -1 && errno == EINTR);
	if (r >= 0)
		dst[r] = '\0';
	return r;
}

int pidfile_acquire(const char *path, pid_t pid, pid_t *stale_pid, char *err,
    size_t errlen)
{
	char old[32], text[32];
	struct buf b;
	pid_t other = 0;
	ssize_t r;
	int fd;

	*stale_pid = 0;
	do
		fd =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	while (fd == -1 && errno == EINTR);
	if (fd == -1) {
		(void)snprintf(err, errlen, "could not open pidfile \"%s\": %s",
		    path, strerror(errno));
		return -1;
	}
	r = read_contents(fd, old, sizeof(old));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK && r > 0 &&
		    parse_pid(old, (size_t)r, &other) == 0)
			(void)snprintf(err, errlen,
			    "pacerd is already running as pid %ld (pidfile "
			    "\"%s\")",
			    (long)other, path);
		else if (errno == EWOULDBLOCK)
			(void)snprintf(err, errlen,
			    "pacerd is already running (pidfile \"%s\" is "
			    "locked)",
			    path);
		else
			(void)snprintf(err, errlen,
			    "could not lock pidfile \"%s\": %s", path,
			    strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (r > 0 && parse_pid(old, (size_t)r, &other) == 0)
		*stale_pid = other;

	buf_init_fixed(&b, text, sizeof(text));
	(void)buf_printf(&b, "%ld\n", (long)pid);
	if (pwrite(fd, text, b.len, 0) != (ssize_t)b.len ||
	    ftruncate(fd, (off_t)b.len) == -1) {
		(void)snprintf(err, errlen,
		    "could not write pidfile \"%s\": %s", path,
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	return fd;
}

void pidfile_release(const char *path, int *fd)
{
	if (*fd == -1)
		return;
	/* Unlink while still holding the lock, so no newcomer can lock the
	 * old file between our close and the unlink. */
	(void)unlink(path);
	(void)close(*fd);
	*fd = -1;
}

int pidfile_read(const char *path, pid_t *pid, char *err, size_t errlen)
{
	char text[32];
	ssize_t r;
	int fd, rc = -1;

	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	while (fd == -1 && errno == EINTR);
	if (fd == -1) {
		(void)snprintf(err, errlen,
		    "could not open pidfile \"%s\": %s%s", path,
		    strerror(errno),
		    errno == ENOENT ? " (is pacerd running?)" : "");
		return -1;
	}
	r = read_contents(fd, text, sizeof(text));
	if (r <= 0 || parse_pid(text, (size_t)r, pid) != 0) {
		(void)snprintf(err, errlen,
		    "pidfile \"%s\" does not hold a pid", path);
		goto out;
	}
	/* If we can take the lock, nobody holds it: the master is gone. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		(void)snprintf(err, errlen,
		    "stale pidfile \"%s\": pid %ld is not a running pacerd",
		    path, (long)*pid);
		goto out;
	}
	if (errno != EWOULDBLOCK) {
		(void)snprintf(err, errlen,
		    "could not check the lock on \"%s\": %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	(void)close(fd);
	return rc;
}
