/*
 * tserver.h - start the real pacerd for an integration test and talk to it
 * over real sockets: a private folder with a config on a free loopback
 * port, the master in the foreground (its log in a file) or detached, a
 * tiny blocking HTTP client, and the scoreboard.
 *
 * The test process makes itself a child subreaper, so even a detached
 * master ends up its child and its exit status can be collected.
 */
#ifndef PACER_TSERVER_H
#define PACER_TSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ts {
	char *dir;   /* private folder (run_dir, pidfile, logs) */
	char *conf;  /* dir/pacerd.conf */
	char *log;   /* dir/pacerd.log: the master's stderr (-D) */
	int port;    /* the listen port */
	pid_t pid;   /* the master */
	bool reaped; /* its exit status was collected */
	int status;  /* waitpid status once reaped */
};

/* A variable the harness (t/harness/services.sh) exports, such as
 * PACER_TEST_DATABASE_URL; asserts that it is set and not empty. */
const char *ts_env(const char *name);

/* A free TCP port on 127.0.0.1 (bound and released). */
int ts_free_port(void);

/* Listen on 127.0.0.1:port from the test itself (to take the port away
 * from pacerd); returns the socket, which the caller closes. */
int ts_occupy_port(int port);

/* Make the folder and write the config: the basics (listen, run_dir,
 * pidfile, small pool, fast timeouts, the harness's PostgreSQL and Redis,
 * the source tree's migrations, master_key_file naming dir/master.key
 * (mode 0600, TU_MASTER_KEY)) followed by extra (may be NULL), whose later
 * lines win. */
void ts_init(struct ts *s, const char *extra);

/* Rewrite the config (same basics, new extra) for a reload. */
void ts_rewrite(struct ts *s, const char *extra);

/* Start pacerd -D with stderr to s->log; wait until /health/live
 * answers and the master has logged that its first pool is up (asserts
 * on failure). */
void ts_start(struct ts *s);

/* ts_init with the lines of base and then of extra (either may be NULL;
 * later lines win), then ts_start: a suite's usual set-up, base being
 * what all its servers share. */
void ts_start_conf(struct ts *s, const char *base, const char *extra);

/* ts_start in two steps, to start several masters at the same moment:
 * fork and exec pacerd -D, then wait until it serves (asserts). */
void ts_launch(struct ts *s);
void ts_await(struct ts *s);

/* Start pacerd detached (as an init script does): asserts that the
 * starting process exits 0, then ts_adopt_pidfile(). */
void ts_start_detached(struct ts *s);

/* Take the master's pid from s->dir/pacerd.pid (asserts it is there), so
 * that ts_fini stops a master started some other way. */
void ts_adopt_pidfile(struct ts *s);

/* Signal the master. */
void ts_signal(struct ts *s, int signo);

/* Wait up to ms for the master to exit; true when it did (status in
 * s->status). */
bool ts_wait_exit(struct ts *s, int ms);

/* Stop (SIGTERM, then SIGKILL after 10 s) and remove everything; s is
 * all zeros afterwards. Nothing to do for a struct that is all zeros
 * (never initialised, or finished already), so a suite's .fini may call
 * it whether or not its test got as far as a server. */
void ts_fini(struct ts *s);

/* The master's log so far (caller frees). */
char *ts_log(const struct ts *s);

/* Wait up to ms for the log to contain needle. */
bool ts_log_wait(const struct ts *s, const char *needle, int ms);

/* One HTTP exchange on a new connection: send req (a whole request) and
 * read one response. Returns the status, or -1 on a connection failure,
 * timeout or malformed response. body (may be NULL) gets the body
 * (caller frees). */
int ts_http(int port, const char *req, char **body, int timeout_ms);

/* GET path on a new connection, "Connection: close". */
int ts_get(int port, const char *path);

/* GET path on a new connection (Connection: close); the whole response,
 * head and body, as the server sent it (caller frees), or NULL when the
 * connection failed. */
char *ts_raw_get(int port, const char *path);

/* The value of one Prometheus series of GET /metrics (the name with its
 * labels, exactly as printed), or -1 when absent or unreadable. */
double ts_metric(int port, const char *series);

/* Open a connection to port (blocking), or -1. */
int ts_connect(int port);

/* Live worker pids of the master (children in /proc), up to n. */
size_t ts_workers(const struct ts *s, pid_t *pids, size_t n);

/* Scoreboard figures: workers by state among slots with a pid. */
struct ts_pool {
	unsigned total, idle, busy, finishing;
	unsigned long long generation;
	int reload_outcome; /* enum sb_reload_outcome */
	char reload_error[256];
	unsigned long long exits[8]; /* by enum sb_exit_reason */
};
int ts_pool(const struct ts *s, struct ts_pool *p);

/* Sleep ms milliseconds. */
void ts_sleep_ms(int ms);

#endif
