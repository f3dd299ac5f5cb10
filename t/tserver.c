/*
 * tserver.c - the real pacerd under test; see tserver.h.
 */
#include "tserver.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "sb.h"
#include "testutil.h"

void ts_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long long mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

/* A socket bound to 127.0.0.1:port (0: any free port). */
static int bound(int port)
{
	struct sockaddr_in sa = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0),
	    "bind 127.0.0.1:%d", port);
	return fd;
}

int ts_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = bound(0);

	cr_assert(eq(int, getsockname(fd, (struct sockaddr *)&sa, &len), 0));
	(void)close(fd);
	return ntohs(sa.sin_port);
}

int ts_occupy_port(int port)
{
	int fd = bound(port);

	cr_assert(eq(int, listen(fd, 1), 0));
	return fd;
}

const char *ts_env(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v != NULL && v[0] != '\0',
	    "%s is not set: run the suite through make check (or "
	    "t/harness/services.sh run), which starts PostgreSQL and Redis",
	    name);
	return v;
}

static void write_conf(struct ts *s, const char *extra)
{
	char text[8192];
	struct buf b;
	char *p, *key;

	buf_init_fixed(&b, text, sizeof(text));
	/* The master key comes from a private file, as in production (a
	 * test's extra can unset it: master_key_file = ''). */
	key = tu_master_key_file(s->dir);
	/* pacerd applies the migrations of the source tree to the
	 * harness's database before it forks a worker. */
	(void)buf_printf(&b,
	    "listen = 127.0.0.1:%d\n"
	    "run_dir = '%s'\n"
	    "pidfile = '%s/pacerd.pid'\n"
	    "start_workers = 2\n"
	    "min_spare_workers = 1\n"
	    "max_spare_workers = 4\n"
	    "max_workers = 8\n"
	    "shutdown_timeout = 10s\n"
	    "log_level = info\n"
	    "database_url = '%s'\n"
	    "redis_url = '%s'\n"
	    "migrations_dir = '%s'\n"
	    "master_key_file = '%s'\n"
	    "%s",
	    s->port, s->dir, s->dir, ts_env("PACER_TEST_DATABASE_URL"),
	    ts_env("PACER_TEST_REDIS_URL"), PACER_TOP_SRCDIR "/sql", key,
	    extra != NULL ? extra : "");
	free(key);
	cr_assert(not(b.overflow));
	p = tu_write(s->dir, "pacerd.conf.tmp", text);
	cr_assert(eq(int, rename(p, s->conf), 0));
	free(p);
}

void ts_init(struct ts *s, const char *extra)
{
	char path[512];

	memset(s, 0, sizeof(*s));
	/* A detached master is re-parented to us, so we can reap it. */
	cr_assert(eq(int, prctl(PR_SET_CHILD_SUBREAPER, 1), 0));
	s->dir = tu_tmpdir();
	(void)snprintf(path, sizeof(path), "%s/pacerd.conf", s->dir);
	s->conf = strdup(path);
	(void)snprintf(path, sizeof(path), "%s/pacerd.log", s->dir);
	s->log = strdup(path);
	cr_assert(s->conf != NULL && s->log != NULL);
	s->port = ts_free_port();
	write_conf(s, extra);
}

void ts_rewrite(struct ts *s, const char *extra)
{
	write_conf(s, extra);
}

void ts_launch(struct ts *s)
{
	char *pacerd = tu_buildpath("master/pacerd");
	pid_t pid;
	int fd;

	fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	cr_assert(fd >= 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		tu_clear_pacer_env();
		if (dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(127);
		execl(pacerd, pacerd, "-D", "-f", s->conf, (char *)NULL);
		_exit(127);
	}
	(void)close(fd);
	free(pacerd);
	s->pid = pid;
}

/* Whether the master logged that its whole first pool is up ("pacerd
 * VERSION serving on ADDR: pid PID, ..."): a worker answers before its
 * siblings are ready, and a worker lost before then fails the start.
 * True as well when the master's log goes to another file. */
static bool master_serving(const struct ts *s)
{
	char needle[64], *log = ts_log(s), *line;
	bool found = false;

	/* A test that sends the log elsewhere: nothing to wait for here. */
	if (log == NULL || strstr(log, "master[") == NULL) {
		free(log);
		return true;
	}
	(void)snprintf(needle, sizeof(needle), ": pid %ld, ", (long)s->pid);
	for (line = log; line != NULL && *line != '\0' && !found;) {
		char *end = strchr(line, '\n'), *hit;

		if (end != NULL)
			*end = '\0';
		hit = strstr(line, " serving on ");
		found = hit != NULL && strstr(hit, needle) != NULL;
		line = end != NULL ? end + 1 : NULL;
	}
	free(log);
	return found;
}

void ts_await(struct ts *s)
{
	long long until = mono_ms() + 15000;

	while (mono_ms() < until) {
		if (ts_get(s->port, "/health/live") == 200 && master_serving(s))
			return;
		if (ts_wait_exit(s, 0))
			break;
		ts_sleep_ms(50);
	}
	{
		char *log = ts_log(s);

		cr_assert(false, "pacerd did not start; its log:\n%s",
		    log != NULL ? log : "(none)");
	}
}

void ts_start(struct ts *s)
{
	ts_launch(s);
	ts_await(s);
}

void ts_start_conf(struct ts *s, const char *base, const char *extra)
{
	char conf[4096];
	int n;

	n = snprintf(conf, sizeof(conf), "%s%s", base != NULL ? base : "",
	    extra != NULL ? extra : "");
	cr_assert(n >= 0 && (size_t)n < sizeof(conf), "a config of %d bytes",
	    n);
	ts_init(s, conf);
	ts_start(s);
}

void ts_start_detached(struct ts *s)
{
	char *argv[4] = {NULL, "-f", NULL, NULL};
	struct tu_run r;

	argv[0] = tu_buildpath("master/pacerd");
	argv[2] = s->conf;
	cr_assert(eq(int, tu_run(&r, argv, NULL), 0));
	cr_assert(eq(int, r.status, 0), "pacerd exited %d: %s", r.status,
	    r.err);
	free(argv[0]);
	tu_run_free(&r);
	ts_adopt_pidfile(s);
}

void ts_adopt_pidfile(struct ts *s)
{
	char path[512], *text;

	(void)snprintf(path, sizeof(path), "%s/pacerd.pid", s->dir);
	text = tu_read(path, NULL);
	cr_assert(not(eq(ptr, text, NULL)), "no pidfile %s", path);
	s->pid = (pid_t)atoi(text);
	cr_assert(s->pid > 1, "pidfile holds \"%s\"", text);
	free(text);
}

void ts_signal(struct ts *s, int signo)
{
	cr_assert(s->pid > 0 && !s->reaped);
	cr_assert(eq(int, kill(s->pid, signo), 0));
}

bool ts_wait_exit(struct ts *s, int ms)
{
	long long until = mono_ms() + ms;
	pid_t r;

	if (s->pid <= 0 || s->reaped)
		return s->reaped;
	for (;;) {
		r = waitpid(s->pid, &s->status, WNOHANG);
		if (r == s->pid) {
			s->reaped = true;
			return true;
		}
		if (mono_ms() >= until)
			return false;
		ts_sleep_ms(20);
	}
}

void ts_fini(struct ts *s)
{
	char cmd[1024];

	if (s->pid > 0 && !s->reaped) {
		(void)kill(s->pid, SIGTERM);
		if (!ts_wait_exit(s, 10000)) {
			(void)kill(s->pid, SIGKILL);
			(void)ts_wait_exit(s, 5000);
		}
	}
	/* Workers of a killed master die with it (PDEATHSIG); reap any
	 * that were re-parented to us. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (s->dir != NULL) {
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			cr_log_warn("could not remove %s", s->dir);
	}
	free(s->dir);
	free(s->conf);
	free(s->log);
	memset(s, 0, sizeof(*s));
}

char *ts_log(const struct ts *s)
{
	return tu_read(s->log, NULL);
}

bool ts_log_wait(const struct ts *s, const char *needle, int ms)
{
	long long until = mono_ms() + ms;
	char *log;
	bool found;

	for (;;) {
		log = ts_log(s);
		found = log != NULL && strstr(log, needle) != NULL;
		free(log);
		if (found)
			return true;
		if (mono_ms() >= until)
			return false;
		ts_sleep_ms(50);
	}
}

int ts_connect(int port)
{
	struct sockaddr_in sa = loopback(port);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* The largest response read_response takes (GET /metrics grows with
 * every route and query). */
#define RESPONSE_MAX ((size_t)1024 * 1024)

/* Read until a whole response (head and Content-Length body) arrived
 * into buf (RESPONSE_MAX bytes). */
static int read_into(int fd, char *buf, int timeout_ms)
{
	size_t len = 0;
	long long until = mono_ms() + timeout_ms;
	const char *eoh, *cl;
	size_t need = 0;
	bool have_head = false;
	int status = -1;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long long left = until - mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = recv(fd, buf + len, RESPONSE_MAX - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (!have_head && (eoh = strstr(buf, "\r\n\r\n")) != NULL) {
			have_head = true;
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				return -1;
			cl = strcasestr(buf, "\r\ncontent-length:");
			need = (size_t)(eoh + 4 - buf);
			if (cl != NULL && cl < eoh)
				need += strtoul(cl + 17, NULL, 10);
		}
		if (have_head && len >= need)
			return status;
		if (len >= RESPONSE_MAX - 1)
			return -1;
	}
}

static int read_response(int fd, char **body, int timeout_ms)
{
	char *buf = malloc(RESPONSE_MAX);
	int status;

	cr_assert(buf != NULL);
	status = read_into(fd, buf, timeout_ms);
	if (status >= 0 && body != NULL)
		*body = strdup(strstr(buf, "\r\n\r\n") + 4);
	free(buf);
	return status;
}

int ts_http(int port, const char *req, char **body, int timeout_ms)
{
	size_t off = 0, n = strlen(req);
	int fd, status;

	if (body != NULL)
		*body = NULL;
	if ((fd = ts_connect(port)) == -1)
		return -1;
	while (off < n) {
		ssize_t w = send(fd, req + off, n - off, MSG_NOSIGNAL);

		if (w <= 0) {
			(void)close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	status = read_response(fd, body, timeout_ms);
	(void)close(fd);
	return status;
}

int ts_get(int port, const char *path)
{
	char req[1024];

	(void)snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
	    path);
	return ts_http(port, req, NULL, 10000);
}

size_t ts_workers(const struct ts *s, pid_t *pids, size_t n)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t k = 0;

	cr_assert(d != NULL);
	while ((e = readdir(d)) != NULL && k < n) {
		char path[300], stat[512], *rp;
		int ppid, fd;
		ssize_t r;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		r = read(fd, stat, sizeof(stat) - 1);
		(void)close(fd);
		if (r <= 0)
			continue;
		stat[r] = '\0';
		/* "pid (comm) S ppid": comm may hold spaces and parens. */
		if ((rp = strrchr(stat, ')')) == NULL ||
		    sscanf(rp + 1, " %*c %d", &ppid) != 1)
			continue;
		if (rp[2] != 'Z' && ppid == s->pid)
			pids[k++] = (pid_t)atoi(e->d_name);
	}
	(void)closedir(d);
	return k;
}

int ts_pool(const struct ts *s, struct ts_pool *p)
{
	char path[512], err[256];
	struct sb_header_view h;
	struct sb_counters_view c;
	struct sb_slot_view v;
	struct sb *sb;
	uint32_t i;

	memset(p, 0, sizeof(*p));
	(void)snprintf(path, sizeof(path), "%s/%s", s->dir, SB_FILE_NAME);
	if ((sb = sb_attach(path, err, sizeof(err))) == NULL)
		return -1;
	if (sb_header_read(sb, &h) != 0 || sb_counters_read(sb, &c) != 0) {
		sb_close(&sb);
		return -1;
	}
	p->generation = (unsigned long long)h.generation;
	p->reload_outcome = (int)h.reload_outcome;
	(void)snprintf(p->reload_error, sizeof(p->reload_error), "%s",
	    h.reload_error);
	static_assert(SB_EXIT_NREASONS <= 8, "ts_pool.exits holds them all");
	for (i = 0; i < SB_EXIT_NREASONS; i++)
		p->exits[i] = (unsigned long long)c.exits[i];
	for (i = 0; i < sb_nslots(sb); i++) {
		if (sb_slot_read(sb, i, &v) != 0 || v.pid == 0)
			continue;
		p->total++;
		if (v.state == SB_STATE_HANDLING)
			p->busy++;
		else if (v.state == SB_STATE_FINISHING)
			p->finishing++;
		else
			p->idle++;
	}
	sb_close(&sb);
	return 0;
}

/* One GET on a new connection; the whole response (caller frees), or
 * NULL. */
char *ts_raw_get(int port, const char *path)
{
	char req[512], chunk[4096], *all = NULL;
	size_t len = 0;
	int fd = ts_connect(port);
	ssize_t n;

	if (fd < 0)
		return NULL;
	(void)snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		(void)close(fd);
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		char *p = realloc(all, len + (size_t)n + 1);

		cr_assert(p != NULL);
		all = p;
		memcpy(all + len, chunk, (size_t)n);
		len += (size_t)n;
		all[len] = '\0';
	}
	(void)close(fd);
	return all;
}

/* The value of one Prometheus series (name with its labels, exactly as
 * printed), or -1 when absent. */
double ts_metric(int port, const char *series)
{
	char *body = NULL, *p;
	double v = -1;
	size_t n = strlen(series);

	if (ts_http(port,
	        "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	        &body, 5000) != 200)
		return -1;
	for (p = body; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	}
	free(body);
	return v;
}
