/*
 * testutil.c - see testutil.h. Test-only code: aborts on impossible
 * failures (out of memory) instead of threading errors through.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_keys.h"

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static char *join(const char *a, const char *b)
{
	struct buf out;
	char *p;

	buf_init_dynamic(&out, 1 << 16);
	(void)buf_printf(&out, "%s/%s", a, b);
	p = xstrdup(buf_str(&out));
	buf_free(&out);
	return p;
}

char *tu_srcpath(const char *rel)
{
	return join(PACER_TOP_SRCDIR, rel);
}

char *tu_buildpath(const char *rel)
{
	return join(PACER_TOP_BUILDDIR, rel);
}

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = join(base != NULL && base[0] != '\0' ? base : "/tmp",
	    "pacer-test.XXXXXX");

	if (mkdtemp(tmpl) == NULL)
		abort();
	return tmpl;
}

char *tu_write(const char *dir, const char *name, const char *content)
{
	char *path = join(dir, name);
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(content, fp) == EOF || fclose(fp) != 0)
		abort();
	return path;
}

char *tu_master_key_file(const char *dir)
{
	char *path = tu_write(dir, "master.key", TU_MASTER_KEY "\n");

	if (chmod(path, 0600) != 0)
		abort();
	return path;
}

char *tu_read(const char *path, size_t *lenp)
{
	FILE *fp = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;
	char *p;

	if (fp == NULL)
		return NULL;
	buf_init_dynamic(&b, 64 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		(void)buf_append(&b, chunk, n);
	(void)fclose(fp);
	if (lenp != NULL)
		*lenp = b.len;
	p = xstrdup(buf_str(&b));
	buf_free(&b);
	return p;
}

void tu_clear_pacer_env(void)
{
	size_t i;

	for (i = 0; i < cfg_keys_count; i++)
		if (cfg_keys_table[i].env != NULL)
			(void)unsetenv(cfg_keys_table[i].env);
}

int tu_run(struct tu_run *r, char *const argv[], char *const env[])
{
	int outp[2], errp[2], status, open_fds = 2, devnull;
	struct buf out, err;
	struct pollfd pfd[2];
	time_t deadline = time(NULL) + 30;
	pid_t pid;
	size_t i;

	memset(r, 0, sizeof(*r));
	/* Close-on-exec, so only fds 1 and 2 reach the program: a daemon it
	 * starts must not keep a copy that holds the pipes open. */
	if (pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull != -1)
			(void)dup2(devnull, 0);
		(void)dup2(outp[1], 1);
		(void)dup2(errp[1], 2);
		(void)close(outp[0]);
		(void)close(errp[0]);
		tu_clear_pacer_env();
		for (i = 0; env != NULL && env[i] != NULL; i++)
			(void)putenv(env[i]);
		execv(argv[0], argv);
		_exit(127);
	}
	(void)close(outp[1]);
	(void)close(errp[1]);
	buf_init_dynamic(&out, 16 << 20);
	buf_init_dynamic(&err, 16 << 20);
	pfd[0].fd = outp[0];
	pfd[1].fd = errp[0];
	while ((pfd[0].fd >= 0 || pfd[1].fd >= 0) && time(NULL) < deadline) {
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			char chunk[4096];
			ssize_t n;

			if (pfd[i].fd < 0 ||
			    !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, chunk, sizeof(chunk));
			if (n > 0)
				(void)buf_append(i == 0 ? &out : &err, chunk,
				    (size_t)n);
			else if (n == 0 || errno != EINTR)
				pfd[i].fd = -1;
		}
	}
	open_fds = (pfd[0].fd >= 0) + (pfd[1].fd >= 0);
	if (open_fds > 0)
		(void)kill(pid, SIGKILL);
	(void)close(outp[0]);
	(void)close(errp[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	r->status =
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = xstrdup(buf_str(&out));
	r->err = xstrdup(buf_str(&err));
	buf_free(&out);
	buf_free(&err);
	return 0;
}

void tu_run_free(struct tu_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

size_t tu_count_lines_with(const char *s, const char *needle)
{
	size_t count = 0;

	while (s != NULL && *s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);

		if (memmem(s, n, needle, strlen(needle)) != NULL)
			count++;
		s += n + (nl != NULL);
	}
	return count;
}

size_t tu_count_lines_starting(const char *s, const char *prefix)
{
	size_t count = 0, plen = strlen(prefix);

	while (s != NULL && *s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);

		if (n >= plen && memcmp(s, prefix, plen) == 0)
			count++;
		s += n + (nl != NULL);
	}
	return count;
}

const char *tu_cfg_diff(const struct cfg *a, const struct cfg *b, char *av,
    char *bv, size_t n)
{
	struct buf ab, bb;
	size_t i;

	for (i = 0; i < cfg_keys_count; i++) {
		buf_init_fixed(&ab, av, n);
		buf_init_fixed(&bb, bv, n);
		(void)cfg_value_string(a, i, &ab);
		(void)cfg_value_string(b, i, &bb);
		if (strcmp(av, bv) != 0)
			return cfg_keys_table[i].name;
	}
	return NULL;
}
