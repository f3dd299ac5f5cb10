/*
 * pacerctl.c - the operator's control tool.
 *
 * Runs as its own process, never inside pacerd. `status` maps the
 * scoreboard file read-only and prints it, so it answers even when every
 * worker is stuck and without any HTTP. `configtest` loads the
 * configuration as `pacerd -t` does. The other commands act on a running
 * master through its pidfile:
 *
 *   reload         configuration test, then SIGHUP, then wait for the
 *                  master's reload record in the scoreboard
 *   stop           SIGINT (fast stop), then wait until the master is gone
 *   graceful-stop  SIGTERM, then wait until the master is gone
 *   reopen         SIGUSR1 (reopen log files)
 *   pid            print the master's pid (LSB status exit codes)
 *
 * `migrate status` and `migrate up` talk to the database of the
 * configuration (database_url, migrations_dir) directly, with or without a
 * running pacerd; see migrate.h. So do the identity commands `admin
 * create`, `jwt rotate`, `jwt list` and `audit`; see ctlid.h.
 *
 * A pid read from a file is never trusted on its own (PostgreSQL's rule:
 * a pid number can be recycled by another program). Before any kill(2)
 * pacerctl checks that a process holds the pidfile's lock (so a master
 * runs), that this process is pacerd (/proc/PID/comm, or the basename of
 * /proc/PID/exe), and, when the scoreboard can be read, that the
 * scoreboard names the same pid as its master. Otherwise it refuses and
 * says why. "Gone" is also read from the lock, which the kernel drops
 * when the master exits, however it exits.
 *
 * Exit codes (pacerctl(8)): 0 done, 1 failed or refused, 2 usage, 3 not
 * running (reload, reopen) or migrations pending (migrate status); `pid`
 * uses the LSB status codes 0, 1, 3, 4.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "ctlid.h"
#include "log.h"
#include "migrate.h"
#include "pidfile.h"
#include "sb.h"
#include "status.h"
#include "version.h"

#define DEFAULT_CONFIG PACER_SYSCONFDIR "/pacerd.conf"

/* Exit codes of every command but `pid`. */
enum {
	CTL_OK = 0,
	CTL_FAILED = 1,
	CTL_USAGE = 2,
	CTL_NOT_RUNNING = 3,
	CTL_PENDING = 3, /* migrate status: migrations to apply */
};

/* `pid` answers like an LSB init script's status action. */
enum {
	LSB_RUNNING = 0,
	LSB_DEAD_PIDFILE = 1,
	LSB_NOT_RUNNING = 3,
	LSB_UNKNOWN = 4,
};

/* Default waits, in seconds; graceful-stop waits shutdown_timeout plus
 * this much. */
#define WAIT_RELOAD 10
#define WAIT_STOP 10
#define WAIT_GRACE_EXTRA 5
#define WAIT_MAX 86400L
#define POLL_NS 50000000L

struct ctl {
	const char *conf;    /* -f */
	const char *sbpath;  /* -s, or NULL for run_dir's */
	const char *pidpath; /* -p, or NULL for the configuration's */
	long wait_s;         /* -w, or -1 for the command's default */
	struct cfg *cfg;     /* loaded by load_config() */
	char sbstore[4096];  /* the scoreboard path in use */
	char pidstore[4096]; /* the pidfile path in use */
};

/* The master found through the pidfile. */
struct master {
	pid_t pid;
	int fd;        /* the pidfile, open: its lock says whether pid lives */
	struct sb *sb; /* the scoreboard, or NULL when it cannot be read */
	char sberr[512];
};

static void usage(FILE *fp)
{
	(void)fprintf(fp,
	    "usage: pacerctl [-f file] [-s scoreboard] [-p pidfile] "
	    "[-w seconds] command\n"
	    "       pacerctl -V | -h\n"
	    "\n"
	    "  -f, --config FILE      pacerd configuration (default %s)\n"
	    "  -s, --scoreboard FILE  use this scoreboard instead of "
	    "run_dir's\n"
	    "  -p, --pidfile FILE     use this pidfile instead of the "
	    "configuration's\n"
	    "  -w, --wait SECONDS     how long reload, stop and "
	    "graceful-stop wait;\n"
	    "                         0 signals without waiting\n"
	    "  -V, --version          print the version, build options and "
	    "libraries\n"
	    "  -h, --help             print this help\n"
	    "\n"
	    "commands:\n"
	    "  status [--json | --prometheus]  the scoreboard: summary and "
	    "workers\n"
	    "  configtest     check the configuration, as pacerd -t does\n"
	    "  reload         configtest, SIGHUP, wait for the outcome "
	    "(10 s)\n"
	    "  stop           SIGINT (fast stop), wait until gone (10 s)\n"
	    "  graceful-stop  SIGTERM, wait until gone (shutdown_timeout + "
	    "5 s)\n"
	    "  reopen         SIGUSR1: reopen the log files\n"
	    "  pid            print the master's pid (exit 0 running, 1 "
	    "stale\n"
	    "                 pidfile, 3 not running, 4 unknown)\n"
	    "  migrate status the database's migrations (exit 0 up to "
	    "date, 3\n"
	    "                 pending, 1 modified or missing or failed)\n"
	    "  migrate up     apply the pending migrations\n"
	    "%s"
	    "\n"
	    "See pacerctl(8).\n",
	    DEFAULT_CONFIG, ctlid_usage);
}

static int write_out(const struct buf *b)
{
	if (buf_fwrite(b, stdout) != 0) {
		log_err("could not write the output");
		return CTL_FAILED;
	}
	return CTL_OK;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/*
 * Load -f into ctl->cfg and settle the pidfile and scoreboard paths.
 * strict: an invalid configuration is an error (every problem printed,
 * -1 returned). Otherwise pacerctl goes on with what could be applied, so
 * that an operator who broke the file can still stop the server; it warns
 * unless -p says where the pidfile is, and -1 means only out of memory or
 * a path too long.
 */
static int load_config(struct ctl *ctl, bool strict)
{
	struct cfg_errs errs = {0};
	struct buf b;
	size_t n;
	int rc = 0;

	if ((ctl->cfg = cfg_new()) == NULL) {
		log_errx("could not allocate the configuration");
		return -1;
	}
	if (cfg_load(ctl->cfg, ctl->conf, 0, &errs) != 0) {
		if (strict || ctl->pidpath == NULL) {
			n = cfg_errs_write(&errs, ctl->conf, stderr);
			(void)fprintf(stderr,
			    "pacerctl: configuration %s has %zu error%s%s\n",
			    ctl->conf, n, plural(n),
			    strict ? "" : "; going on with what could be read");
		}
		if (strict)
			rc = -1;
	}
	cfg_errs_free(&errs);
	buf_init_fixed(&b, ctl->sbstore, sizeof(ctl->sbstore));
	if (ctl->sbpath != NULL)
		(void)buf_puts(&b, ctl->sbpath);
	else
		(void)buf_printf(&b, "%s/%s", ctl->cfg->run_dir, SB_FILE_NAME);
	if (b.overflow) {
		(void)fprintf(stderr, "pacerctl: scoreboard path too long\n");
		rc = -1;
	}
	buf_init_fixed(&b, ctl->pidstore, sizeof(ctl->pidstore));
	(void)buf_puts(&b,
	    ctl->pidpath != NULL ? ctl->pidpath : ctl->cfg->pidfile);
	if (b.overflow) {
		(void)fprintf(stderr, "pacerctl: pidfile path too long\n");
		rc = -1;
	}
	return rc;
}

static void sleep_poll(void)
{
	struct timespec ts = {0, POLL_NS};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- is it pacerd? ---------------------------------------------------- */

/* "pacerd", or "pacerd" followed by something that is not part of a
 * longer name ("pacerd: master", "pacerd (deleted)"). */
static bool is_pacerd_name(const char *s)
{
	size_t n = strlen("pacerd");

	if (strncmp(s, "pacerd", n) != 0)
		return false;
	return s[n] == '\0' || s[n] == ' ' || s[n] == ':';
}

static int read_small(const char *path, char *dst, size_t n)
{
	ssize_t r;
	int fd;

	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd == -1 && errno == EINTR);
	if (fd == -1)
		return -1;
	do
		r = read(fd, dst, n - 1);
	while (r == -1 && errno == EINTR);
	(void)close(fd);
	if (r < 0)
		return -1;
	dst[r] = '\0';
	if (r > 0 && dst[r - 1] == '\n')
		dst[r - 1] = '\0';
	return 0;
}

/*
 * Whether pid runs the pacerd program: its command name (which pacerd
 * never changes to something else) or the basename of its executable
 * (readable only for our own processes, or as root). name gets what was
 * seen, for the message.
 */
static bool pid_is_pacerd(pid_t pid, char *name, size_t namelen)
{
	char path[64], exe[4096];
	const char *base;
	struct buf b;
	ssize_t r;

	buf_init_fixed(&b, path, sizeof(path));
	(void)buf_printf(&b, "/proc/%ld/comm", (long)pid);
	if (read_small(path, name, namelen) != 0) {
		(void)snprintf(name, namelen, "(unknown: %s)", strerror(errno));
		return false;
	}
	if (is_pacerd_name(name))
		return true;
	buf_reset(&b);
	(void)buf_printf(&b, "/proc/%ld/exe", (long)pid);
	r = readlink(path, exe, sizeof(exe) - 1);
	if (r <= 0)
		return false;
	exe[r] = '\0';
	base = strrchr(exe, '/');
	return is_pacerd_name(base != NULL ? base + 1 : exe);
}

/* ---- finding the master ------------------------------------------------ */

static void master_close(struct master *m)
{
	if (m->fd != -1)
		(void)close(m->fd);
	m->fd = -1;
	sb_close(&m->sb);
}

/* Whether the pidfile's lock is free, i.e. the master is gone. */
static bool master_gone(const struct master *m)
{
	if (flock(m->fd, LOCK_SH | LOCK_NB) == 0) {
		(void)flock(m->fd, LOCK_UN);
		return true;
	}
	return false;
}

/*
 * Find the master named by pidfile. Returns LSB_RUNNING with m filled
 * (release with master_close()), or LSB_NOT_RUNNING (no pidfile),
 * LSB_DEAD_PIDFILE (a pidfile nobody holds: a dead master's) or
 * LSB_UNKNOWN, each with the reason in err.
 */
static int master_find(const char *pidfile, struct master *m, char *err,
    size_t errlen)
{
	struct stat a, b;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	do
		m->fd = open(pidfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	while (m->fd == -1 && errno == EINTR);
	if (m->fd == -1) {
		(void)snprintf(err, errlen, "no pidfile \"%s\": %s", pidfile,
		    strerror(errno));
		return errno == ENOENT ? LSB_NOT_RUNNING : LSB_UNKNOWN;
	}
	if (pidfile_read(pidfile, &m->pid, err, errlen) != 0) {
		if (master_gone(m)) {
			master_close(m);
			return LSB_DEAD_PIDFILE;
		}
		master_close(m);
		return LSB_UNKNOWN;
	}
	/* The file we hold must be the one just read: a master that started
	 * in between would have replaced it. */
	if (fstat(m->fd, &a) != 0 || stat(pidfile, &b) != 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		(void)snprintf(err, errlen,
		    "pidfile \"%s\" changed while it was read; try again",
		    pidfile);
		master_close(m);
		return LSB_UNKNOWN;
	}
	return LSB_RUNNING;
}

/*
 * Check that m->pid is a pacerd master before anything signals it (see
 * the file comment). Attaches the scoreboard into m->sb when it can be
 * read (m->sberr says why not). Returns 0, or -1 with the refusal in err.
 */
static int master_verify(struct master *m, const char *pidfile,
    const char *sbpath, char *err, size_t errlen)
{
	struct sb_header_view h;
	char name[64];

	if (m->pid == getpid()) {
		(void)snprintf(err, errlen,
		    "pidfile \"%s\" names pid %ld, which is pacerctl itself; "
		    "not signalling it",
		    pidfile, (long)m->pid);
		return -1;
	}
	if (!pid_is_pacerd(m->pid, name, sizeof(name))) {
		(void)snprintf(err, errlen,
		    "pidfile \"%s\" names pid %ld, which is \"%s\", not "
		    "pacerd; not signalling it",
		    pidfile, (long)m->pid, name);
		return -1;
	}
	m->sb = sb_attach(sbpath, m->sberr, sizeof(m->sberr));
	if (m->sb == NULL)
		return 0;
	if (sb_header_read(m->sb, &h) != 0) {
		(void)snprintf(m->sberr, sizeof(m->sberr),
		    "could not read the header of \"%s\"", sbpath);
		sb_close(&m->sb);
		return 0;
	}
	if (h.master_pid != m->pid) {
		(void)snprintf(err, errlen,
		    "pidfile \"%s\" names pid %ld but scoreboard \"%s\" "
		    "names master pid %ld; not signalling (is pacerd still "
		    "starting, or is -s wrong?)",
		    pidfile, (long)m->pid, sbpath, (long)h.master_pid);
		return -1;
	}
	return 0;
}

/* ---- commands ----------------------------------------------------------- */

static int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	enum status_format fmt = STATUS_TEXT;
	const char *path;
	struct sb *sb;
	struct buf out;
	char err[512];
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			fmt = STATUS_JSON;
		else if (strcmp(argv[i], "--prometheus") == 0)
			fmt = STATUS_PROMETHEUS;
		else {
			(void)fprintf(stderr,
			    "pacerctl: status: unknown option \"%s\"\n",
			    argv[i]);
			return CTL_USAGE;
		}
	}
	if (ctl->sbpath == NULL && load_config(ctl, true) != 0) {
		(void)fprintf(stderr,
		    "pacerctl: cannot find the scoreboard without a "
		    "valid configuration (or give -s FILE)\n");
		return CTL_FAILED;
	}
	path = ctl->sbpath != NULL ? ctl->sbpath : ctl->sbstore;
	if ((sb = sb_attach(path, err, sizeof(err))) == NULL) {
		(void)fprintf(stderr, "pacerctl: %s\n", err);
		return CTL_FAILED;
	}
	buf_init_dynamic(&out, (size_t)16 << 20);
	if (status_render(sb, fmt, (int64_t)time(NULL), sb_clock_us(), &out,
	        err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "pacerctl: %s: %s\n", path, err);
		rc = CTL_FAILED;
	} else {
		rc = write_out(&out);
	}
	buf_free(&out);
	sb_close(&sb);
	return rc;
}

static int cmd_configtest(struct ctl *ctl)
{
	if (load_config(ctl, true) != 0)
		return CTL_FAILED;
	(void)printf("pacerctl: configuration ok: %s\n", ctl->conf);
	return CTL_OK;
}

static int cmd_pid(struct ctl *ctl)
{
	struct master m;
	char err[1024];
	int rc;

	if (load_config(ctl, false) != 0)
		return LSB_UNKNOWN;
	rc = master_find(ctl->pidstore, &m, err, sizeof(err));
	if (rc != LSB_RUNNING) {
		(void)fprintf(stderr, "pacerctl: pacerd is not running: %s\n",
		    err);
		return rc;
	}
	if (master_verify(&m, ctl->pidstore, ctl->sbstore, err, sizeof(err)) !=
	    0) {
		(void)fprintf(stderr, "pacerctl: %s\n", err);
		master_close(&m);
		return LSB_UNKNOWN;
	}
	(void)printf("%ld\n", (long)m.pid);
	master_close(&m);
	return LSB_RUNNING;
}

/*
 * Find and verify the master for a signalling command. Returns CTL_OK
 * with m open, or the exit code to leave with (the message printed).
 * "Not running" is CTL_NOT_RUNNING, or CTL_OK with m->pid 0 when
 * not_running_ok (stop: nothing to do is success).
 */
static int find_master(struct ctl *ctl, struct master *m, bool not_running_ok)
{
	char err[1024];
	int rc;

	rc = master_find(ctl->pidstore, m, err, sizeof(err));
	if (rc == LSB_NOT_RUNNING || rc == LSB_DEAD_PIDFILE) {
		if (not_running_ok) {
			(void)printf("pacerctl: pacerd is not running (%s)\n",
			    err);
			m->pid = 0;
			return CTL_OK;
		}
		(void)fprintf(stderr, "pacerctl: pacerd is not running: %s\n",
		    err);
		return CTL_NOT_RUNNING;
	}
	if (rc != LSB_RUNNING) {
		(void)fprintf(stderr, "pacerctl: %s\n", err);
		return CTL_FAILED;
	}
	if (master_verify(m, ctl->pidstore, ctl->sbstore, err, sizeof(err)) !=
	    0) {
		(void)fprintf(stderr, "pacerctl: %s\n", err);
		master_close(m);
		return CTL_FAILED;
	}
	return CTL_OK;
}

static int send_signal(const struct master *m, int sig, const char *signame)
{
	if (kill(m->pid, sig) != 0) {
		(void)fprintf(stderr,
		    "pacerctl: could not send %s to pacerd (pid %ld): %s\n",
		    signame, (long)m->pid, strerror(errno));
		return -1;
	}
	return 0;
}

/* stop and graceful-stop: signal, then wait for the pidfile's lock to be
 * released (the master has exited). */
static int cmd_stop(struct ctl *ctl, bool graceful)
{
	const char *signame = graceful ? "SIGTERM" : "SIGINT";
	struct master m;
	double deadline;
	long wait_s;
	int rc;

	if (load_config(ctl, false) != 0)
		return CTL_FAILED;
	if ((rc = find_master(ctl, &m, true)) != CTL_OK || m.pid == 0)
		return rc;
	wait_s = ctl->wait_s;
	if (wait_s < 0)
		wait_s = graceful ? (long)(ctl->cfg->shutdown_timeout / 1000) +
		        WAIT_GRACE_EXTRA
		                  : WAIT_STOP;
	if (send_signal(&m, graceful ? SIGTERM : SIGINT, signame) != 0) {
		master_close(&m);
		return CTL_FAILED;
	}
	if (wait_s == 0) {
		(void)printf("pacerctl: sent %s to pacerd (pid %ld)\n", signame,
		    (long)m.pid);
		master_close(&m);
		return CTL_OK;
	}
	deadline = now_s() + (double)wait_s;
	while (!master_gone(&m) && now_s() < deadline)
		sleep_poll();
	if (!master_gone(&m)) {
		(void)fprintf(stderr,
		    "pacerctl: pacerd (pid %ld) is still running %ld s after "
		    "%s\n",
		    (long)m.pid, wait_s, signame);
		rc = CTL_FAILED;
	} else {
		(void)printf("pacerctl: pacerd (pid %ld) stopped\n",
		    (long)m.pid);
		rc = CTL_OK;
	}
	master_close(&m);
	return rc;
}

static int cmd_reopen(struct ctl *ctl)
{
	struct master m;
	int rc;

	if (load_config(ctl, false) != 0)
		return CTL_FAILED;
	if ((rc = find_master(ctl, &m, false)) != CTL_OK)
		return rc;
	rc = send_signal(&m, SIGUSR1, "SIGUSR1") == 0 ? CTL_OK : CTL_FAILED;
	if (rc == CTL_OK)
		(void)printf("pacerctl: sent SIGUSR1 to pacerd (pid %ld): "
		             "reopening the log files\n",
		    (long)m.pid);
	master_close(&m);
	return rc;
}

static uint64_t reload_count(const struct sb *sb)
{
	struct sb_counters_view c;

	if (sb_counters_read(sb, &c) != 0)
		return 0;
	return c.reloads_ok + c.reloads_failed;
}

/*
 * Wait for the reload record to move past `before`; print the outcome.
 * A success also moves the generation past old_gen; the master may write
 * the two in either order, so a success waits for both.
 */
static int wait_reload(struct master *m, uint64_t before, uint64_t old_gen,
    long wait_s)
{
	double deadline = now_s() + (double)wait_s;
	struct sb_header_view h;
	bool got = false;

	memset(&h, 0, sizeof(h));
	while (now_s() < deadline && !master_gone(m)) {
		if (reload_count(m->sb) != before &&
		    sb_header_read(m->sb, &h) == 0) {
			got = true;
			if (h.reload_outcome != SB_RELOAD_OK ||
			    h.generation != old_gen)
				break;
		}
		sleep_poll();
	}
	if (!got) {
		if (master_gone(m))
			(void)fprintf(stderr,
			    "pacerctl: pacerd (pid %ld) exited during the "
			    "reload; see its log\n",
			    (long)m->pid);
		else
			(void)fprintf(stderr,
			    "pacerctl: no reload outcome from pacerd (pid %ld) "
			    "after %ld s; see its log\n",
			    (long)m->pid, wait_s);
		return CTL_FAILED;
	}
	if (h.reload_outcome == SB_RELOAD_OK) {
		(void)printf("pacerctl: reload ok: generation %llu\n",
		    (unsigned long long)h.generation);
		return CTL_OK;
	}
	(void)fprintf(stderr, "pacerctl: reload failed: %s\n",
	    h.reload_error[0] != '\0' ? h.reload_error : "(no error recorded)");
	return CTL_FAILED;
}

static int cmd_reload(struct ctl *ctl)
{
	long wait_s = ctl->wait_s < 0 ? WAIT_RELOAD : ctl->wait_s;
	struct sb_header_view h;
	struct master m;
	uint64_t before;
	int rc;

	memset(&h, 0, sizeof(h));
	if (load_config(ctl, true) != 0) {
		(void)fprintf(stderr,
		    "pacerctl: not reloading: pacerd would "
		    "refuse this configuration\n");
		return CTL_FAILED;
	}
	if ((rc = find_master(ctl, &m, false)) != CTL_OK)
		return rc;
	if (wait_s > 0 && (m.sb == NULL || sb_header_read(m.sb, &h) != 0)) {
		(void)fprintf(stderr,
		    "pacerctl: not reloading: cannot read the outcome "
		    "without the scoreboard: %s (give -s FILE, or -w 0 to "
		    "signal without waiting)\n",
		    m.sb == NULL ? m.sberr : "unreadable header");
		master_close(&m);
		return CTL_FAILED;
	}
	before = wait_s > 0 ? reload_count(m.sb) : 0;
	if (send_signal(&m, SIGHUP, "SIGHUP") != 0) {
		master_close(&m);
		return CTL_FAILED;
	}
	if (wait_s == 0) {
		(void)printf("pacerctl: sent SIGHUP to pacerd (pid %ld)\n",
		    (long)m.pid);
		rc = CTL_OK;
	} else {
		rc = wait_reload(&m, before, h.generation, wait_s);
	}
	master_close(&m);
	return rc;
}

/* ---- migrate ----------------------------------------------------------- */

static void print_applied(const struct migrate_file *f, double duration_ms,
    void *arg)
{
	(void)arg;
	(void)printf("pacerctl: applied %s in %.1f ms\n", f->file, duration_ms);
	(void)fflush(stdout);
}

static int print_status(const struct migrate_set *set,
    const struct migrate_status *st)
{
	int w = 4;
	size_t i;

	for (i = 0; i < st->n; i++)
		if ((int)strlen(st->v[i].name) > w)
			w = (int)strlen(st->v[i].name);
	(void)printf("%-8s %-*s %-9s %s\n", "version", w, "name", "state",
	    "applied_at");
	for (i = 0; i < st->n; i++) {
		const struct migrate_row *r = &st->v[i];
		char v[32];

		(void)snprintf(v, sizeof(v), "%04lld", (long long)r->version);
		(void)printf("%-8s %-*s %-9s %s\n", v, w, r->name,
		    migrate_state_name(r->state),
		    r->applied_at[0] != '\0' ? r->applied_at : "-");
	}
	(void)printf("%zu applied, %zu pending, %zu modified, %zu missing "
	             "(%s)\n",
	    st->applied, st->pending, st->modified, st->missing, set->dir);
	if (fflush(stdout) != 0) {
		log_err("could not write the output");
		return CTL_FAILED;
	}
	if (st->modified + st->missing > 0)
		return CTL_FAILED;
	return st->pending > 0 ? CTL_PENDING : CTL_OK;
}

/* migrate status | up: the configuration's database and folder. */
static int cmd_migrate(struct ctl *ctl, int argc, char **argv)
{
	struct migrate_status st = {0};
	struct migrate_result res;
	struct migrate_set set = {0};
	PGconn *conn = NULL;
	char err[2048];
	bool up;
	int rc = CTL_FAILED;

	if (argc != 2 ||
	    (strcmp(argv[1], "status") != 0 && strcmp(argv[1], "up") != 0)) {
		(void)fprintf(stderr,
		    "pacerctl: usage: pacerctl [-f file] migrate status|up\n");
		return CTL_USAGE;
	}
	up = strcmp(argv[1], "up") == 0;
	if (load_config(ctl, true) != 0)
		return CTL_FAILED;
	if (migrate_read_dir(migrate_dir_of(ctl->cfg), &set, err,
	        sizeof(err)) != 0) {
		(void)fprintf(stderr, "pacerctl: %s\n", err);
		return CTL_FAILED;
	}
	conn = migrate_connect(ctl->cfg->database_url,
	    ctl->cfg->database_connect_timeout, err, sizeof(err));
	if (conn == NULL) {
		(void)fprintf(stderr,
		    "pacerctl: the database is unreachable: %s\n", err);
		goto out;
	}
	if (!up) {
		if (migrate_status(conn, &set, &st, err, sizeof(err)) != 0)
			(void)fprintf(stderr, "pacerctl: %s\n", err);
		else
			rc = print_status(&set, &st);
		goto out;
	}
	if (migrate_up(conn, &set, print_applied, NULL, &res, err,
	        sizeof(err)) != 0) {
		(void)fprintf(stderr, "pacerctl: %s\n", err);
		goto out;
	}
	(void)printf("pacerctl: database schema at version %lld (%u "
	             "migrations); %s\n",
	    (long long)res.version, (unsigned)res.count,
	    res.applied > 0 ? "applied the ones above" : "nothing to apply");
	rc = fflush(stdout) == 0 ? CTL_OK : CTL_FAILED;
out:
	migrate_status_free(&st);
	migrate_disconnect(&conn);
	migrate_set_free(&set);
	return rc;
}

/* admin, jwt, audit: the arguments first, so a usage error is one
 * whatever the configuration; then the configuration's database. */
static int cmd_identity(struct ctl *ctl, int argc, char **argv)
{
	struct ctlid_args a;
	int rc = ctlid_parse(argc, argv, &a);

	if (rc != 0)
		return rc;
	if (load_config(ctl, true) != 0)
		return CTL_FAILED;
	return ctlid_run(&a, ctl->cfg);
}

static int parse_wait(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > WAIT_MAX)
		return -1;
	*out = v;
	return 0;
}

/* Commands that take no arguments after their name. */
static int no_args(const char *cmd, int argc, char **argv)
{
	if (argc > 1) {
		(void)fprintf(stderr,
		    "pacerctl: %s: unexpected argument \"%s\"\n", cmd, argv[1]);
		return -1;
	}
	return 0;
}

static int run(struct ctl *ctl, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "status") == 0)
		return cmd_status(ctl, argc, argv);
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(ctl, argc, argv);
	if (ctlid_handles(cmd))
		return cmd_identity(ctl, argc, argv);
	if (strcmp(cmd, "configtest") != 0 && strcmp(cmd, "reload") != 0 &&
	    strcmp(cmd, "stop") != 0 && strcmp(cmd, "graceful-stop") != 0 &&
	    strcmp(cmd, "reopen") != 0 && strcmp(cmd, "pid") != 0) {
		(void)fprintf(stderr, "pacerctl: unknown command \"%s\"\n",
		    cmd);
		usage(stderr);
		return CTL_USAGE;
	}
	if (no_args(cmd, argc, argv) != 0)
		return CTL_USAGE;
	if (strcmp(cmd, "configtest") == 0)
		return cmd_configtest(ctl);
	if (strcmp(cmd, "reload") == 0)
		return cmd_reload(ctl);
	if (strcmp(cmd, "stop") == 0)
		return cmd_stop(ctl, false);
	if (strcmp(cmd, "graceful-stop") == 0)
		return cmd_stop(ctl, true);
	if (strcmp(cmd, "reopen") == 0)
		return cmd_reopen(ctl);
	return cmd_pid(ctl);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'f'},
	    {"scoreboard", required_argument, NULL, 's'},
	    {"pidfile", required_argument, NULL, 'p'},
	    {"wait", required_argument, NULL, 'w'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl ctl;
	int ch, rc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.conf = DEFAULT_CONFIG;
	ctl.wait_s = -1;
	log_init("pacerctl");
	while ((ch = getopt_long(argc, argv, "+f:s:p:w:Vh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'f': ctl.conf = optarg; break;
		case 's': ctl.sbpath = optarg; break;
		case 'p': ctl.pidpath = optarg; break;
		case 'w':
			if (parse_wait(optarg, &ctl.wait_s) != 0) {
				(void)fprintf(stderr,
				    "pacerctl: -w: \"%s\" is not a number of "
				    "seconds (0 to %ld)\n",
				    optarg, WAIT_MAX);
				return CTL_USAGE;
			}
			break;
		case 'V': return version_print("pacerctl");
		case 'h': usage(stdout); return CTL_OK;
		default: usage(stderr); return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	rc = run(&ctl, argc - optind, argv + optind);
	cfg_free(&ctl.cfg);
	return rc;
}
