/*
 * master.c - the master process; see master.h.
 *
 * Runs in the master only, single-threaded. Signals only set flags
 * (sig.c); everything happens in the loop of run_loop(), which wakes at
 * least once a second for the pool's tick (spare workers, recycling, the
 * request_timeout watchdog) and sooner for a signal or a deadline.
 *
 * Before the first worker is forked, and again on each reload, the master
 * applies the pending SQL migrations (migrate.c) on a connection of its
 * own that is closed before any fork: a PGconn never crosses fork(), and
 * spawn_one() refuses to fork while one is open. At start-up it waits up
 * to database_startup_wait for the database; a reload tries once, as the
 * master must not stop supervising for long.
 *
 * The child table is indexed by scoreboard slot: kids[i].pid is the worker
 * that owns slot i, or 0. A pid enters the table only from fork()'s return
 * and leaves it when waitpid() reaps it, so the master never signals a pid
 * it did not fork (a reaped pid may be reused by the system at once).
 */
#include "master.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg_keys.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "jwtkeys.h"
#include "migrate.h"
#include "pidfile.h"
#include "privdrop.h"
#include "rlshm.h"
#include "sb.h"
#include "secret.h"
#include "sig.h"
#include "spawn.h"
#include "tls.h"
#include "version.h"
#include "worker.h"

#define US_PER_MS 1000ull
#define TICK_US (1000 * US_PER_MS)
/* A worker that dies sooner than this after its start is a fast crash. */
#define FAST_CRASH_US (2000 * US_PER_MS)
/* At most one recycle is in progress, and they start this far apart. */
#define RECYCLE_SPACING_US (1000 * US_PER_MS)
/* Fast stop: how long workers get to die of SIGINT before SIGKILL. */
#define FAST_STOP_US (2000 * US_PER_MS)
/* Start-up: the pause between attempts to reach the database starts at
 * the first and doubles up to the second. */
#define DB_RETRY_FIRST_US (250 * US_PER_MS)
#define DB_RETRY_MAX_US (5000 * US_PER_MS)
/* Start-up: how long the first workers get to claim their slots. */
#define START_WAIT_US (15000 * US_PER_MS)

enum stop_reason {
	STOP_NONE,     /* serving */
	STOP_RETIRE,   /* too many idle workers */
	STOP_RECYCLE,  /* request count or memory, granted by the master */
	STOP_OLDGEN,   /* a reload started a new generation */
	STOP_SHUTDOWN, /* graceful stop of the server */
	STOP_WATCHDOG, /* stuck in one request past request_timeout */
	STOP_FAST,     /* fast stop of the server */
};

struct child {
	pid_t pid; /* 0: the slot is free */
	uint64_t generation;
	uint64_t started_us;
	enum stop_reason stop;
	uint64_t term_us; /* when the stop signal was sent */
	bool killed;      /* SIGKILL sent */
};

struct master {
	/* Fields ordered by size, so the struct has no holes. */
	const char *config_path;
	struct cfg *cfg;
	struct listeners ls;
	struct sb *sb;
	struct rlshm *rl; /* rate-limit fallback counters, for good */
	SSL_CTX *tls; /* built from the cert and key; NULL: no tls listener */
	struct child *kids;
	uint64_t generation;
	int64_t min_spare, max_spare; /* the config's, moved by TTIN/TTOU */
	uint64_t respawn_at_us;       /* no fork before this (back-off) */
	uint64_t next_tick_us;
	uint64_t last_recycle_us;
	uint64_t rng;
	uint64_t start_us;
	uint64_t stop_deadline_us;
	int64_t schema_version; /* newest migration applied (for workers) */
	struct privdrop pd;
	struct spawn_state sp;
	int pidfd, ready_fd, access_fd;
	pid_t pid;
	uint32_t nslots;
	uint32_t schema_count; /* migrations applied (for workers) */
	unsigned fast_crashes;
	unsigned respawn_due; /* crashed workers not yet replaced */
	int exit_code;
	bool foreground;
	bool log_on_stderr; /* the log is stderr: no need to repeat there */
	bool warned_no_slot;
	bool ready;      /* start-up reported */
	bool reload_due; /* SIGHUP seen, not yet acted on (start-up) */
	bool stopping, fast;
	/* Loaded once at start-up (a restart key: SIGHUP never reloads it);
	 * every generation's workers point at this copy. */
	struct secret_key master_key;
	char sb_path[PATH_MAX];
};

static uint64_t now_us(void)
{
	return sb_clock_us();
}

static uint32_t rand32(struct master *m)
{
	/* xorshift64*: jitter only, seeded from getrandom(). */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return (uint32_t)((m->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

/* ------------------------------------------------------------ start-up */

static void fail_start(struct master *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report a start-up failure where the starter sees it: the waiting
 * parent when detached, the log (stderr) in the foreground. */
static void fail_start(struct master *m, const char *fmt, ...)
{
	char msg[1024];
	struct buf b;
	va_list ap;

	buf_init_fixed(&b, msg, sizeof(msg));
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
	log_errx("%s", msg);
	if (m->ready_fd != -1)
		daemon_ready(&m->ready_fd, 0, msg);
	else if (!m->log_on_stderr)
		(void)fprintf(stderr, "pacerd: %s\n", msg);
}

static int open_access_log(const struct master *m, const char *path, int *fdp)
{
	int fd;

	*fdp = -1;
	if (path[0] == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	/* Workers reopen it themselves on SIGUSR1, as their own user. */
	if (m->pd.active && fchown(fd, m->pd.uid, m->pd.gid) == -1) {
		int e = errno;

		(void)close(fd);
		errno = e;
		return -1;
	}
	*fdp = fd;
	return 0;
}

/* Logging as the config says; the foreground keeps stderr. */
static int apply_logging(struct master *m, const struct cfg *c, char *err,
    size_t errlen)
{
	log_set_level((enum log_level)c->log_level);
	log_set_format((enum log_format)c->log_format);
	if (m->foreground || c->log_destination == LOG_DEST_STDERR) {
		log_close();
		m->log_on_stderr = true;
		return 0;
	}
	if (log_open((enum log_dest)c->log_destination, c->log_file,
	        c->syslog_facility, c->syslog_ident, err, errlen) != 0)
		return -1;
	m->log_on_stderr = false;
	if (c->log_destination == LOG_DEST_FILE && m->pd.active &&
	    chown(c->log_file, m->pd.uid, m->pd.gid) == -1)
		log_warn("could not give %s to user %s (workers may not be "
		         "able to reopen it on SIGUSR1)",
		    c->log_file, m->pd.user);
	return 0;
}

/* Everything that can fail because of the host or the config, done while
 * still attached to the terminal, so the starter sees the reason. */
static int prepare(struct master *m)
{
	const struct cfg *c = m->cfg;
	char err[512], note[256];
	pid_t running;
	struct buf b;

	if (privdrop_resolve(c->user, c->group, geteuid(), &m->pd, note,
	        sizeof(note), err, sizeof(err)) != 0) {
		fail_start(m, "%s", err);
		return -1;
	}
	if (apply_logging(m, c, err, sizeof(err)) != 0) {
		fail_start(m, "could not open the log: %s", err);
		return -1;
	}
	if (note[0] != '\0')
		log_warnx("%s", note);
	/* The message names what to set and the file's problem, never the
	 * key or the file's content. */
	if (secret_key_load(c, &m->master_key, err, sizeof(err)) != 0) {
		fail_start(m, "%s", err);
		return -1;
	}
	if (pidfile_read(c->pidfile, &running, err, sizeof(err)) == 0) {
		fail_start(m, "already running as pid %d (pidfile %s)",
		    (int)running, c->pidfile);
		return -1;
	}
	if (mkdir(c->run_dir, 0755) == -1 && errno != EEXIST) {
		fail_start(m, "could not create run_dir %s: %s", c->run_dir,
		    strerror(errno));
		return -1;
	}
	buf_init_fixed(&b, m->sb_path, sizeof(m->sb_path));
	if (buf_printf(&b, "%s/%s", c->run_dir, SB_FILE_NAME) != 0) {
		fail_start(m, "run_dir %s is too long", c->run_dir);
		return -1;
	}
	if (listeners_open(c->listen, (int)c->listen_backlog, NULL, &m->ls, err,
	        sizeof(err)) != 0) {
		fail_start(m, "%s", err);
		return -1;
	}
	if (cfg_listen_has_tls(c->listen)) {
		if ((m->tls = tls_ctx_new(c->tls_cert_file, c->tls_key_file,
		         err, sizeof(err))) == NULL) {
			fail_start(m, "%s", err);
			return -1;
		}
		tls_ctx_describe(m->tls, note, sizeof(note));
		log_info("TLS certificate %s: %s", c->tls_cert_file, note);
	}
	if (open_access_log(m, c->access_log, &m->access_fd) != 0) {
		fail_start(m, "could not open the access log %s: %s",
		    c->access_log, strerror(errno));
		return -1;
	}
	return 0;
}

/* After detaching: the pidfile (now that the pid is final), the
 * scoreboard and the signals. */
static int settle(struct master *m)
{
	char err[512];
	pid_t stale = 0;
	uint64_t seed = 0;

	m->pid = getpid();
	m->pidfd =
	    pidfile_acquire(m->cfg->pidfile, m->pid, &stale, err, sizeof(err));
	if (m->pidfd == -1) {
		fail_start(m, "pidfile %s: %s", m->cfg->pidfile, err);
		return -1;
	}
	if (stale != 0)
		log_info("replaced the stale pidfile %s of pid %d, which is "
		         "gone",
		    m->cfg->pidfile, (int)stale);
	/* Twice max_workers: a reload starts a whole new generation while
	 * the old one finishes the requests in hand. */
	m->nslots = (uint32_t)m->cfg->max_workers * 2;
	if (m->nslots > SB_MAX_SLOTS)
		m->nslots = SB_MAX_SLOTS;
	m->sb = sb_create(m->sb_path, m->nslots, m->pid, err, sizeof(err));
	if (m->sb == NULL) {
		fail_start(m, "%s", err);
		return -1;
	}
	/* Once per master, not per reload: every generation's workers
	 * count into the same table. */
	m->rl =
	    rlshm_create(RLSHM_ENTRIES, (int64_t)time(NULL), err, sizeof(err));
	if (m->rl == NULL) {
		fail_start(m, "%s", err);
		return -1;
	}
	if ((m->kids = calloc(m->nslots, sizeof(*m->kids))) == NULL) {
		fail_start(m, "out of memory for %u workers", m->nslots);
		return -1;
	}
	if (sig_install() != 0) {
		fail_start(m, "could not install signal handlers: %s",
		    strerror(errno));
		return -1;
	}
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)m->pid * 2654435761u ^ now_us();
	m->rng = seed | 1;
	m->generation = 1;
	(void)sb_set_generation(m->sb, m->generation);
	return 0;
}

/* ------------------------------------------------------------ migrations */

static void log_applied(const struct migrate_file *f, double duration_ms,
    void *arg)
{
	(void)arg;
	log_info("applied migration %s in %.1f ms", f->file, duration_ms);
}

/* Sleep us microseconds; false as soon as a stop signal is pending. The
 * master's signals are blocked outside sig_wait() (sig.h), so every
 * signal waits for the loop, and a stop is seen with sigpending(). */
static bool pause_unless_stopped(uint64_t us)
{
	uint64_t end = now_us() + us, now, slice;
	struct timespec ts;
	sigset_t set;

	for (;;) {
		if (sigpending(&set) == 0 &&
		    (sigismember(&set, SIGTERM) == 1 ||
		        sigismember(&set, SIGINT) == 1 ||
		        sigismember(&set, SIGQUIT) == 1))
			return false;
		if ((now = now_us()) >= end)
			return true;
		slice = end - now < 50 * US_PER_MS ? end - now : 50 * US_PER_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(slice * 1000);
		(void)nanosleep(&ts, NULL);
	}
}

/*
 * Connect for migrating. At start-up (wait_us > 0) an unreachable database
 * is tried again, each failure logged, until wait_us has passed or a stop
 * signal came. NULL with err when it gave up.
 */
static PGconn *connect_db(const struct cfg *c, uint64_t wait_us, char *err,
    size_t errlen)
{
	uint64_t start = now_us(), pause = DB_RETRY_FIRST_US, now, left;
	char why[512];
	unsigned attempt;
	PGconn *conn;

	for (attempt = 1;; attempt++) {
		conn = migrate_connect(c->database_url,
		    c->database_connect_timeout, why, sizeof(why));
		if (conn != NULL)
			return conn;
		now = now_us();
		left = now - start < wait_us ? wait_us - (now - start) : 0;
		if (left == 0)
			break;
		log_warnx("the database is unreachable (attempt %u; trying "
		          "again for up to %.1f s more): %s",
		    attempt, (double)left / 1e6, why);
		if (pause > left)
			pause = left;
		if (!pause_unless_stopped(pause)) {
			(void)snprintf(err, errlen,
			    "stopped while waiting for the database, which "
			    "is unreachable: %s",
			    why);
			return NULL;
		}
		pause =
		    pause * 2 > DB_RETRY_MAX_US ? DB_RETRY_MAX_US : pause * 2;
	}
	if (wait_us > 0)
		(void)snprintf(err, errlen,
		    "the database is unreachable after %.1f s "
		    "(database_startup_wait) and %u attempts: %s",
		    (double)(now_us() - start) / 1e6, attempt, why);
	else
		(void)snprintf(err, errlen, "the database is unreachable: %s",
		    why);
	return NULL;
}

/*
 * Apply the pending migrations of c's folder and note the schema the
 * workers of the next generation expect. startup: wait for the database
 * up to database_startup_wait. The connection is closed on return.
 */
static int run_migrations(struct master *m, const struct cfg *c, bool startup,
    char *err, size_t errlen)
{
	struct migrate_result res = {0};
	struct migrate_set set;
	PGconn *conn = NULL;
	char kid[JWTKEYS_KID_LEN + 1];
	int rc = -1;

	if (migrate_read_dir(migrate_dir_of(c), &set, err, errlen) != 0)
		return -1;
	conn = connect_db(c,
	    startup ? (uint64_t)c->database_startup_wait * US_PER_MS : 0, err,
	    errlen);
	if (conn == NULL)
		goto out;
	if (migrate_up(conn, &set, log_applied, NULL, &res, err, errlen) != 0)
		goto out;
	/* The first start makes the key that signs access tokens. */
	switch (jwtkeys_ensure(conn, &m->master_key, c->jwt_algorithm, kid, err,
	    errlen)) {
	case 1:
		log_info("made the first %s signing key, kid %s",
		    jwtkeys_alg_name(c->jwt_algorithm), kid);
		break;
	case 0: break;
	default: goto out;
	}
	m->schema_count = res.count;
	m->schema_version = res.version;
	if (startup || res.applied > 0)
		log_info("database schema at version %lld (%u migrations; %u "
		         "applied now) from %s",
		    (long long)res.version, (unsigned)res.count, res.applied,
		    set.dir);
	rc = 0;
out:
	migrate_disconnect(&conn);
	migrate_set_free(&set);
	return rc;
}

/* ------------------------------------------------------------ workers */

static _Noreturn void child_exit(int code)
{
	_exit(code);
}

/* In the child, right after fork: nothing of the master's that a worker
 * must not hold survives this function. */
static _Noreturn void child_start(struct master *m, uint32_t slot)
{
	struct worker_ctx ctx;
	char err[256];

	sig_reset_child();
	log_set_role("worker");
	log_set_exit(child_exit);
	if (m->pidfd != -1)
		(void)close(m->pidfd);
	if (m->ready_fd != -1)
		(void)close(m->ready_fd);
	if (!m->foreground && daemon_null_stderr() != 0)
		_exit(1);
	if (privdrop_apply(&m->pd, err, sizeof(err)) != 0) {
		log_errx("could not switch to user %s: %s", m->pd.user, err);
		_exit(LOG_EXIT_FATAL);
	}
	/* Set after the identity change, which may clear it; then make
	 * sure the master did not die before it was armed. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1) {
		log_err("prctl(PR_SET_PDEATHSIG)");
		_exit(1);
	}
	if (getppid() != m->pid)
		_exit(0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = m->cfg;
	ctx.ls = &m->ls;
	ctx.tls = m->tls;
	ctx.sb = m->sb;
	ctx.rlshm = m->rl;
	ctx.master_key = &m->master_key;
	ctx.slot = slot;
	ctx.generation = m->generation;
	ctx.request_limit =
	    spawn_request_limit((uint64_t)m->cfg->max_requests_per_worker,
	        rand32(m));
	ctx.master_pid = m->pid;
	ctx.access_log_fd = m->access_fd;
	ctx.schema_count = m->schema_count;
	ctx.schema_version = m->schema_version;
	worker_main(&ctx);
}

static int spawn_one(struct master *m)
{
	uint32_t i;
	pid_t pid;

	for (i = 0; i < m->nslots && m->kids[i].pid != 0; i++)
		;
	if (i == m->nslots) {
		if (!m->warned_no_slot)
			log_warnx("no free scoreboard slot for another "
			          "worker (%u slots, old workers still "
			          "finishing)",
			    m->nslots);
		m->warned_no_slot = true;
		return -1;
	}
	m->warned_no_slot = false;
	if (migrate_open_connections() != 0)
		fatalx("a migration connection is still open: refusing to "
		       "fork a worker with it");
	(void)rand32(m); /* each child draws a different jitter */
	if ((pid = fork()) == -1) {
		log_err("could not fork a worker");
		return -1;
	}
	if (pid == 0)
		child_start(m, i);
	m->kids[i].pid = pid;
	m->kids[i].generation = m->generation;
	m->kids[i].started_us = now_us();
	m->kids[i].stop = STOP_NONE;
	m->kids[i].term_us = 0;
	m->kids[i].killed = false;
	log_debug("started worker %d in slot %u (generation %llu)", (int)pid, i,
	    (unsigned long long)m->generation);
	return 0;
}

static void stop_kid(struct master *m, uint32_t i, enum stop_reason why,
    int signo)
{
	struct child *k = &m->kids[i];

	if (k->pid == 0)
		return;
	if (k->stop == STOP_NONE || why == STOP_WATCHDOG || why == STOP_FAST)
		k->stop = why;
	k->term_us = now_us();
	if (kill(k->pid, signo) == -1 && errno != ESRCH)
		log_err("could not signal worker %d", (int)k->pid);
}

static void kill_kid(struct master *m, uint32_t i)
{
	struct child *k = &m->kids[i];

	if (k->pid == 0 || k->killed)
		return;
	k->killed = true;
	if (kill(k->pid, SIGKILL) == -1 && errno != ESRCH)
		log_err("could not kill worker %d", (int)k->pid);
}

static unsigned live_kids(const struct master *m)
{
	unsigned n = 0;
	uint32_t i;

	for (i = 0; i < m->nslots; i++)
		n += m->kids[i].pid != 0;
	return n;
}

/* Why a reaped worker left, for the log and the exit counters. */
static enum sb_exit_reason classify(const struct child *k, int status)
{
	if (k->stop == STOP_WATCHDOG)
		return SB_EXIT_WATCHDOG;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return k->stop == STOP_RECYCLE ? SB_EXIT_RECYCLED
		                               : SB_EXIT_CLEAN;
	if (WIFSIGNALED(status) && k->stop != STOP_NONE &&
	    (WTERMSIG(status) == SIGKILL || WTERMSIG(status) == SIGINT ||
	        WTERMSIG(status) == SIGTERM))
		return SB_EXIT_CLEAN; /* the master's own stop signal */
	return SB_EXIT_CRASH;
}

static void log_exit(const struct master *m, const struct child *k,
    uint32_t slot, int status, enum sb_exit_reason why)
{
	char sn[32];

	(void)m;
	if (why == SB_EXIT_WATCHDOG) {
		log_warnx("worker %d (slot %u) stopped by the watchdog",
		    (int)k->pid, slot);
	} else if (why != SB_EXIT_CRASH) {
		log_debug("worker %d (slot %u) exited (%s)", (int)k->pid, slot,
		    sb_exit_reason_name(why));
	} else if (WIFSIGNALED(status)) {
		log_warnx("worker %d (slot %u) killed by %s (%s)", (int)k->pid,
		    slot, sig_name(WTERMSIG(status), sn, sizeof(sn)),
		    WCOREDUMP(status) ? "core dumped" : "no core dump");
	} else {
		log_warnx("worker %d (slot %u) exited with status %d%s",
		    (int)k->pid, slot, WEXITSTATUS(status),
		    WEXITSTATUS(status) == LOG_EXIT_FATAL
		        ? " (fatal: see its error above)"
		        : "");
	}
}

/* A crashed worker of the current generation is replaced, after a delay
 * that grows while workers keep dying young. */
static void note_crash(struct master *m, const struct child *k, uint64_t now)
{
	uint32_t delay;

	if (now - k->started_us < FAST_CRASH_US)
		m->fast_crashes++;
	else
		m->fast_crashes = 0;
	delay = spawn_crash_delay_ms(m->fast_crashes);
	if (delay > 0) {
		m->respawn_at_us = now + delay * US_PER_MS;
		log_warnx("workers keep crashing soon after start (%u in a "
		          "row): next start in %u ms",
		    m->fast_crashes, (unsigned)delay);
	}
	if (k->generation == m->generation && !m->stopping)
		m->respawn_due++;
}

static void reap(struct master *m)
{
	uint64_t now = now_us();
	enum sb_exit_reason why;
	struct child k;
	int status;
	uint32_t i;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		for (i = 0; i < m->nslots && m->kids[i].pid != pid; i++)
			;
		if (i == m->nslots)
			continue; /* not a worker (cannot happen) */
		k = m->kids[i];
		memset(&m->kids[i], 0, sizeof(m->kids[i]));
		(void)sb_slot_release(m->sb, i);
		why = classify(&k, status);
		(void)sb_count_exit(m->sb, why);
		log_exit(m, &k, i, status, why);
		if (!m->ready && k.generation == m->generation) {
			fail_start(m,
			    "worker %d exited during start-up (see "
			    "the log)",
			    (int)k.pid);
			m->exit_code = MASTER_EXIT_START;
			m->stopping = m->fast = true;
			m->stop_deadline_us = now + FAST_STOP_US;
			continue;
		}
		if (why == SB_EXIT_CRASH && WIFEXITED(status) &&
		    WEXITSTATUS(status) == LOG_EXIT_FATAL && !m->stopping) {
			log_errx("a worker reported a fatal error: stopping "
			         "the server instead of respawning");
			m->exit_code = MASTER_EXIT_FATAL;
			m->stopping = true;
			m->stop_deadline_us = now +
			    (uint64_t)m->cfg->shutdown_timeout * US_PER_MS;
			for (i = 0; i < m->nslots; i++)
				stop_kid(m, i, STOP_SHUTDOWN, SIGTERM);
			continue;
		}
		if (why == SB_EXIT_CRASH || why == SB_EXIT_WATCHDOG)
			note_crash(m, &k, now);
	}
}

/* ------------------------------------------------------------ the tick */

/* The spare-worker algorithm over the current generation. */
static void pool_tick(struct master *m)
{
	struct spawn_counts c = {0};
	struct spawn_decision d;
	struct sb_slot_view v;
	uint32_t i, idle_slot = UINT32_MAX;
	unsigned n;

	for (i = 0; i < m->nslots; i++) {
		const struct child *k = &m->kids[i];

		if (k->pid == 0 || k->generation != m->generation ||
		    k->stop != STOP_NONE)
			continue;
		c.total++;
		/* A worker that has not claimed its slot yet will be idle. */
		if (sb_slot_read(m->sb, i, &v) != 0 || v.pid != k->pid ||
		    v.state == SB_STATE_WAITING ||
		    v.state == SB_STATE_READING ||
		    v.state == SB_STATE_KEEPALIVE) {
			c.idle++;
			idle_slot = i;
		}
	}
	c.max_workers = (unsigned)m->cfg->max_workers;
	c.min_spare = (unsigned)m->min_spare;
	c.max_spare = (unsigned)m->max_spare;
	spawn_tick(&m->sp, &c, &d);
	if (d.log_at_max)
		log_warnx("max_workers (%u) reached: no more workers will be "
		          "started until some are idle",
		    c.max_workers);
	if (d.retire_one && idle_slot != UINT32_MAX) {
		log_debug("retiring idle worker %d (%u idle > %lld)",
		    (int)m->kids[idle_slot].pid, c.idle,
		    (long long)m->max_spare);
		stop_kid(m, idle_slot, STOP_RETIRE, SIGTERM);
	}
	if (now_us() < m->respawn_at_us)
		return;
	for (n = 0; n < d.fork_n; n++)
		if (spawn_one(m) != 0)
			break;
	if (d.fork_n > 1)
		log_info("%u idle workers (min_spare_workers %lld): started %u",
		    c.idle, (long long)m->min_spare, n);
}

/* Crashed workers are replaced at once (after the back-off), not at the
 * next tick, so a crash does not cost a second of capacity. */
static void respawn(struct master *m)
{
	unsigned cur = 0;
	uint32_t i;

	if (m->respawn_due == 0 || m->stopping || now_us() < m->respawn_at_us)
		return;
	for (i = 0; i < m->nslots; i++)
		cur += m->kids[i].pid != 0 &&
		    m->kids[i].generation == m->generation &&
		    m->kids[i].stop == STOP_NONE;
	while (m->respawn_due > 0 && cur < (unsigned)m->cfg->max_workers) {
		if (spawn_one(m) != 0)
			return;
		m->respawn_due--;
		cur++;
	}
	m->respawn_due = 0;
}

/* Log and stop a worker stuck in one request; kill it after the grace. */
static void watchdog(struct master *m, uint64_t now)
{
	uint64_t limit = (uint64_t)m->cfg->request_timeout * US_PER_MS;
	uint64_t grace = (uint64_t)m->cfg->watchdog_grace * US_PER_MS;
	struct sb_slot_view v;
	uint32_t i;

	for (i = 0; i < m->nslots; i++) {
		struct child *k = &m->kids[i];

		if (k->pid == 0)
			continue;
		if (k->stop == STOP_WATCHDOG) {
			if (!k->killed && now - k->term_us >= grace) {
				log_warnx("worker %d still alive %llu ms after "
				          "SIGTERM: sending SIGKILL",
				    (int)k->pid,
				    (unsigned long long)(grace / US_PER_MS));
				kill_kid(m, i);
			}
			continue;
		}
		if (sb_slot_read(m->sb, i, &v) != 0 || v.pid != k->pid ||
		    v.state != SB_STATE_HANDLING || v.req_start_us == 0 ||
		    now < v.req_start_us || now - v.req_start_us <= limit)
			continue;
		log_warnx("worker %d stuck for %.1f s in %s %s from %s "
		          "(request_timeout %lld ms): sending SIGTERM",
		    (int)k->pid, (double)(now - v.req_start_us) / 1e6, v.method,
		    v.path, v.client[0] != '\0' ? v.client : "-",
		    (long long)m->cfg->request_timeout);
		stop_kid(m, i, STOP_WATCHDOG, SIGTERM);
	}
}

/* Old-generation workers get shutdown_timeout to finish, like a stop. */
static void reap_deadlines(struct master *m, uint64_t now)
{
	uint64_t limit = (uint64_t)m->cfg->shutdown_timeout * US_PER_MS;
	uint32_t i;

	for (i = 0; i < m->nslots; i++) {
		struct child *k = &m->kids[i];

		if (k->pid == 0 || k->killed ||
		    (k->stop != STOP_OLDGEN && k->stop != STOP_RETIRE &&
		        k->stop != STOP_RECYCLE) ||
		    now - k->term_us < limit)
			continue;
		log_warnx("worker %d still finishing %lld ms after it was "
		          "asked to stop: sending SIGKILL",
		    (int)k->pid, (long long)m->cfg->shutdown_timeout);
		kill_kid(m, i);
	}
}

/* Grant one recycle at a time, spaced, with a replacement forked first. */
static void recycle(struct master *m, uint64_t now)
{
	struct sb_slot_view v;
	uint32_t i;

	if (now - m->last_recycle_us < RECYCLE_SPACING_US)
		return;
	for (i = 0; i < m->nslots; i++)
		if (m->kids[i].pid != 0 && m->kids[i].stop == STOP_RECYCLE)
			return;
	for (i = 0; i < m->nslots; i++) {
		struct child *k = &m->kids[i];

		if (k->pid == 0 || k->stop != STOP_NONE ||
		    sb_slot_read(m->sb, i, &v) != 0 || v.pid != k->pid ||
		    v.want_recycle == 0)
			continue;
		log_info("recycling worker %d after %llu requests%s",
		    (int)k->pid, (unsigned long long)v.requests,
		    (v.want_recycle & SB_RECYCLE_RSS) ? " (max_worker_rss)"
		                                      : "");
		m->last_recycle_us = now;
		(void)spawn_one(m);
		stop_kid(m, i, STOP_RECYCLE, SIGTERM);
		return;
	}
}

static void tick(struct master *m)
{
	uint64_t now = now_us();

	watchdog(m, now);
	reap_deadlines(m, now);
	if (m->stopping)
		return;
	respawn(m);
	if (now >= m->next_tick_us) {
		m->next_tick_us = now + TICK_US;
		if (m->ready)
			pool_tick(m);
		recycle(m, now);
	}
}

/* ------------------------------------------------------------ signals */

static void begin_stop(struct master *m, bool fast)
{
	uint64_t now = now_us();
	uint32_t i;

	if (m->stopping && (m->fast || !fast))
		return;
	log_info("%s stop: %u workers to finish", fast ? "fast" : "graceful",
	    live_kids(m));
	m->stopping = true;
	m->fast = fast;
	m->stop_deadline_us = now +
	    (fast ? FAST_STOP_US
	          : (uint64_t)m->cfg->shutdown_timeout * US_PER_MS);
	for (i = 0; i < m->nslots; i++)
		stop_kid(m, i, fast ? STOP_FAST : STOP_SHUTDOWN,
		    fast ? SIGINT : SIGTERM);
}

static void signal_all(struct master *m, int signo)
{
	uint32_t i;

	for (i = 0; i < m->nslots; i++)
		if (m->kids[i].pid != 0 && kill(m->kids[i].pid, signo) == -1 &&
		    errno != ESRCH)
			log_err("could not signal worker %d",
			    (int)m->kids[i].pid);
}

static void reopen_logs(struct master *m)
{
	char err[256];
	int fd;

	if (log_reopen(err, sizeof(err)) != 0)
		log_warnx("could not reopen the log: %s", err);
	if (m->access_fd != -1) {
		if (open_access_log(m, m->cfg->access_log, &fd) != 0) {
			log_warn("could not reopen the access log %s",
			    m->cfg->access_log);
		} else if (fd != -1) {
			if (dup2(fd, m->access_fd) == -1)
				log_err("could not replace the access log");
			(void)close(fd);
		}
	}
	signal_all(m, SIGUSR1);
	log_info("log files reopened");
}

static void more_or_fewer(struct master *m, int delta)
{
	uint32_t i;
	struct sb_slot_view v;

	if (delta > 0) {
		if (m->max_spare >= m->cfg->max_workers) {
			log_warnx("SIGTTIN: already at max_workers (%lld)",
			    (long long)m->cfg->max_workers);
			return;
		}
		m->min_spare++;
		m->max_spare++;
		(void)spawn_one(m);
	} else {
		if (m->max_spare <= 1 || m->min_spare <= 0) {
			log_warnx("SIGTTOU: the pool is at its smallest");
			return;
		}
		m->min_spare--;
		m->max_spare--;
		for (i = m->nslots; i-- > 0;)
			if (m->kids[i].pid != 0 &&
			    m->kids[i].generation == m->generation &&
			    m->kids[i].stop == STOP_NONE &&
			    sb_slot_read(m->sb, i, &v) == 0 &&
			    v.state != SB_STATE_HANDLING) {
				stop_kid(m, i, STOP_RETIRE, SIGTERM);
				break;
			}
	}
	log_info("%s: spare workers now %lld to %lld (until the next reload)",
	    delta > 0 ? "SIGTTIN" : "SIGTTOU", (long long)m->min_spare,
	    (long long)m->max_spare);
}

/* ------------------------------------------------------------ reload */

/* Keep the old value of every key that needs a restart, naming each one
 * that the new file changed. */
static void keep_restart_keys(struct cfg *nc, struct cfg *oc)
{
	struct buf a, b;
	size_t i;

	buf_init_dynamic(&a, (size_t)16 * 1024);
	buf_init_dynamic(&b, (size_t)16 * 1024);
	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];
		char *po = (char *)oc + k->offset, *pn = (char *)nc + k->offset;

		if (!(k->flags & CFG_RESTART))
			continue;
		buf_reset(&a);
		buf_reset(&b);
		(void)cfg_value_string(oc, i, &a);
		(void)cfg_value_string(nc, i, &b);
		if (strcmp(buf_str(&a), buf_str(&b)) == 0)
			continue;
		if (k->flags & CFG_SECRET)
			log_warnx("reload: %s changed, but that takes a "
			          "restart: keeping the running value",
			    k->name);
		else
			log_warnx("reload: %s changed from \"%s\" to \"%s\", "
			          "but that takes a restart: keeping \"%s\"",
			    k->name, buf_str(&a), buf_str(&b), buf_str(&a));
		switch (k->type) {
		case CFG_STRING: {
			char *t = *(char **)(void *)pn;

			*(char **)(void *)pn = *(char **)(void *)po;
			*(char **)(void *)po = t;
			break;
		}
		case CFG_BOOL: *(bool *)(void *)pn = *(bool *)(void *)po; break;
		case CFG_ENUM: *(int *)(void *)pn = *(int *)(void *)po; break;
		default: *(int64_t *)(void *)pn = *(int64_t *)(void *)po; break;
		}
	}
	buf_free(&a);
	buf_free(&b);
}

static void reload_failed(struct master *m, const char *first)
{
	(void)sb_record_reload(m->sb, false, (int64_t)time(NULL), first);
	log_errx("reload refused: still serving generation %llu with the "
	         "previous configuration",
	    (unsigned long long)m->generation);
}

/* Read and check the file; NULL (errors logged and recorded) if bad. */
static struct cfg *reload_load(struct master *m)
{
	struct cfg_errs errs = {0};
	struct cfg *nc;
	size_t i;

	if ((nc = cfg_new()) == NULL) {
		reload_failed(m, "out of memory");
		return NULL;
	}
	if (cfg_load(nc, m->config_path, 0, &errs) != 0) {
		for (i = 0; i < errs.n; i++)
			log_errx("%s", errs.msg[i]);
		if (errs.dropped > 0)
			log_errx("%s: %zu more errors not shown",
			    m->config_path, errs.dropped);
		reload_failed(m,
		    errs.n > 0 ? errs.msg[0] : "the configuration is invalid");
		cfg_errs_free(&errs);
		cfg_free(&nc);
		return NULL;
	}
	cfg_errs_free(&errs);
	return nc;
}

/*
 * The TLS context of the new generation into *out: NULL when nc has no
 * tls listener, a new one read from nc's files, or, when those do not
 * load, the running one (a warning says why). Returns -1 (logged and
 * recorded) only when there is none to keep.
 */
static int reload_tls(struct master *m, const struct cfg *nc, SSL_CTX **out)
{
	char err[1024], desc[256];

	*out = NULL;
	if (!cfg_listen_has_tls(nc->listen))
		return 0;
	*out =
	    tls_ctx_new(nc->tls_cert_file, nc->tls_key_file, err, sizeof(err));
	if (*out != NULL) {
		tls_ctx_describe(*out, desc, sizeof(desc));
		log_info("reload: TLS certificate %s: %s", nc->tls_cert_file,
		    desc);
		return 0;
	}
	if (m->tls != NULL) {
		log_warnx("reload: %s; keeping the previous TLS certificate",
		    err);
		*out = m->tls;
		return 0;
	}
	log_errx("%s", err);
	reload_failed(m, err);
	return -1;
}

static void reload(struct master *m)
{
	struct listeners nls = {0};
	struct cfg *nc;
	SSL_CTX *ntls = NULL;
	char err[1024];
	int afd = -1;
	unsigned n, want = 0;
	uint32_t i;

	log_info("SIGHUP: reloading %s", m->config_path);
	if ((nc = reload_load(m)) == NULL)
		return;
	keep_restart_keys(nc, m->cfg);
	/* Migrations first: the new generation's workers expect them. */
	if (run_migrations(m, nc, false, err, sizeof(err)) != 0) {
		log_errx("%s", err);
		reload_failed(m, err);
		cfg_free(&nc);
		return;
	}
	if (reload_tls(m, nc, &ntls) != 0) {
		cfg_free(&nc);
		return;
	}
	if (open_access_log(m, nc->access_log, &afd) != 0) {
		(void)snprintf(err, sizeof(err),
		    "could not open the access log %s: %s", nc->access_log,
		    strerror(errno));
		log_errx("%s", err);
		reload_failed(m, err);
		if (ntls != m->tls)
			tls_ctx_free(&ntls);
		cfg_free(&nc);
		return;
	}
	if (listeners_open(nc->listen, (int)nc->listen_backlog, &m->ls, &nls,
	        err, sizeof(err)) != 0) {
		log_errx("%s", err);
		reload_failed(m, err);
		if (afd != -1)
			(void)close(afd);
		if (ntls != m->tls)
			tls_ctx_free(&ntls);
		cfg_free(&nc);
		return;
	}
	if (apply_logging(m, nc, err, sizeof(err)) != 0)
		log_warnx("reload: could not open the new log (%s): keeping "
		          "the old one",
		    err);
	/* Sockets that the new set reuses were moved out of the old one;
	 * what is left there was removed from the config. */
	for (i = 0; i < m->ls.n; i++)
		if (m->ls.v[i].fd != -1)
			log_info("reload: closing %s", m->ls.v[i].name);
	listeners_close(&m->ls);
	m->ls = nls;
	if (m->access_fd != -1)
		(void)close(m->access_fd);
	m->access_fd = afd;
	/* Old workers keep their own copy: the master's can go. */
	if (ntls != m->tls)
		tls_ctx_free(&m->tls);
	m->tls = ntls;

	for (i = 0; i < m->nslots; i++)
		want += m->kids[i].pid != 0 &&
		    m->kids[i].generation == m->generation &&
		    m->kids[i].stop == STOP_NONE;
	cfg_free(&m->cfg);
	m->cfg = nc;
	m->min_spare = nc->min_spare_workers;
	m->max_spare = nc->max_spare_workers;
	m->generation++;
	(void)sb_set_generation(m->sb, m->generation);
	if (want < (unsigned)nc->start_workers)
		want = (unsigned)nc->start_workers;
	if (want > (unsigned)nc->max_workers)
		want = (unsigned)nc->max_workers;
	for (n = 0; n < want; n++)
		if (spawn_one(m) != 0)
			break;
	for (i = 0; i < m->nslots; i++)
		if (m->kids[i].pid != 0 &&
		    m->kids[i].generation < m->generation)
			stop_kid(m, i, STOP_OLDGEN, SIGTERM);
	m->respawn_due = 0;
	(void)sb_record_reload(m->sb, true, (int64_t)time(NULL), NULL);
	log_info("reload ok: generation %llu started with %u workers",
	    (unsigned long long)m->generation, n);
}

/* ------------------------------------------------------------ the loop */

static void check_ready(struct master *m, uint64_t now)
{
	struct sb_slot_view v;
	unsigned claimed = 0;
	uint32_t i;

	if (m->ready || m->stopping)
		return;
	for (i = 0; i < m->nslots; i++)
		if (m->kids[i].pid != 0 && sb_slot_read(m->sb, i, &v) == 0 &&
		    v.pid == m->kids[i].pid)
			claimed++;
	if (claimed >= (unsigned)m->cfg->start_workers) {
		m->ready = true;
		log_info("pacerd %s serving on %s: pid %d, %u workers, "
		         "generation %llu",
		    version_string(), m->cfg->listen, (int)m->pid, claimed,
		    (unsigned long long)m->generation);
		daemon_ready(&m->ready_fd, 1, NULL);
	} else if (now - m->start_us > START_WAIT_US) {
		fail_start(m, "workers did not start within %llu s",
		    (unsigned long long)(START_WAIT_US / TICK_US));
		m->exit_code = MASTER_EXIT_START;
		begin_stop(m, true);
	}
}

static int wait_ms(const struct master *m, uint64_t now)
{
	uint64_t t = TICK_US;

	if (!m->ready)
		t = 20 * US_PER_MS;
	if (m->next_tick_us > now && m->next_tick_us - now < t)
		t = m->next_tick_us - now;
	if (m->stopping && m->stop_deadline_us > now &&
	    m->stop_deadline_us - now < t)
		t = m->stop_deadline_us - now;
	if (m->respawn_due > 0 && m->respawn_at_us > now &&
	    m->respawn_at_us - now < t)
		t = m->respawn_at_us - now;
	/* The watchdog is checked at least every 100 ms. */
	if (t > 100 * US_PER_MS)
		t = 100 * US_PER_MS;
	return (int)(t / US_PER_MS) + 1;
}

static void handle_signals(struct master *m)
{
	if (sig_take(SIG_EV_CHILD))
		reap(m);
	if (sig_take(SIG_EV_FASTSTOP))
		begin_stop(m, true);
	if (sig_take(SIG_EV_STOP))
		begin_stop(m, false);
	/* A SIGHUP during start-up waits until the pool is ready, so a
	 * reload sent right after a start is not lost. */
	if (sig_take(SIG_EV_RELOAD))
		m->reload_due = true;
	if (m->reload_due && m->ready && !m->stopping) {
		m->reload_due = false;
		reload(m);
	}
	if (sig_take(SIG_EV_REOPEN))
		reopen_logs(m);
	if (sig_take(SIG_EV_MORE) && !m->stopping)
		more_or_fewer(m, 1);
	if (sig_take(SIG_EV_FEWER) && !m->stopping)
		more_or_fewer(m, -1);
}

static void run_loop(struct master *m)
{
	uint64_t now;
	uint32_t i;
	unsigned n;

	m->start_us = now_us();
	for (n = 0; n < (unsigned)m->cfg->start_workers; n++)
		if (spawn_one(m) != 0)
			break;
	for (;;) {
		now = now_us();
		(void)sig_wait(wait_ms(m, now));
		handle_signals(m);
		now = now_us();
		check_ready(m, now);
		tick(m);
		if (!m->stopping)
			continue;
		if (live_kids(m) == 0)
			break;
		if (now >= m->stop_deadline_us) {
			if (!m->fast)
				log_warnx("%u workers still busy after "
				          "shutdown_timeout (%lld ms): killing "
				          "them",
				    live_kids(m),
				    (long long)m->cfg->shutdown_timeout);
			for (i = 0; i < m->nslots; i++)
				kill_kid(m, i);
			m->stop_deadline_us = now + TICK_US;
		}
	}
}

int master_run(const char *config_path, struct cfg *cfg, bool foreground)
{
	struct master m;
	char err[1024], abspath[PATH_MAX];

	memset(&m, 0, sizeof(m));
	/* A detached master runs in /: SIGHUP must find the same file. */
	m.config_path =
	    realpath(config_path, abspath) != NULL ? abspath : config_path;
	m.cfg = cfg;
	m.foreground = foreground;
	m.pidfd = m.ready_fd = m.access_fd = -1;
	m.min_spare = cfg->min_spare_workers;
	m.max_spare = cfg->max_spare_workers;
	m.exit_code = MASTER_EXIT_OK;
	spawn_init(&m.sp);

	if (prepare(&m) != 0) {
		m.exit_code = MASTER_EXIT_START;
		goto done;
	}
	if (!foreground && cfg->log_destination == LOG_DEST_STDERR)
		log_warnx("log_destination is stderr but pacerd is detaching: "
		          "log lines after start-up are discarded (run with "
		          "-D, or set log_destination to file or syslog)");
	if (!foreground &&
	    (m.ready_fd = daemon_detach(err, sizeof(err))) == -1) {
		log_errx("could not detach: %s", err);
		m.exit_code = MASTER_EXIT_START;
		goto done;
	}
	if (settle(&m) != 0) {
		m.exit_code = MASTER_EXIT_START;
		goto done;
	}
	if (run_migrations(&m, m.cfg, true, err, sizeof(err)) != 0) {
		fail_start(&m, "%s", err);
		m.exit_code = MASTER_EXIT_START;
		goto done;
	}
	run_loop(&m);
	log_info("pacerd stopped (generation %llu)",
	    (unsigned long long)m.generation);
done:
	daemon_ready(&m.ready_fd, 0, "start-up failed (see the log)");
	listeners_close(&m.ls);
	tls_ctx_free(&m.tls);
	if (m.access_fd != -1)
		(void)close(m.access_fd);
	if (m.sb != NULL && sb_unlink(m.sb, err, sizeof(err)) != 0)
		log_warnx("%s", err);
	sb_close(&m.sb);
	rlshm_destroy(&m.rl);
	if (m.pidfd != -1)
		pidfile_release(m.cfg->pidfile, &m.pidfd);
	free(m.kids);
	cfg_free(&m.cfg);
	secret_wipe(&m.master_key, sizeof(m.master_key));
	return m.exit_code;
}
