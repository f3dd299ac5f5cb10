/*
 * tredis.h - a private redis-server for a test that stops or kills it
 * (the harness's shared server must stay up for every other test): on a
 * free loopback port, its log and folder under TMPDIR, killed with the
 * test process whatever happens (PR_SET_PDEATHSIG).
 */
#ifndef PACER_TREDIS_H
#define PACER_TREDIS_H

#include <stdbool.h>
#include <sys/types.h>

struct tredis {
	pid_t pid; /* 0 or -1: not running */
	int port;  /* chosen on the first start, kept for restarts */
	char *dir;
	char *log;
};

/* Start (or restart on the same port) and wait until it answers PING
 * (asserts on failure). password: requirepass, or NULL. */
void tredis_start(struct tredis *r, const char *password);

/* Send sig; with SIGKILL also reap it (then it is not running). */
void tredis_kill(struct tredis *r, int sig);

/* Kill it if running and remove its files; safe to call twice. */
void tredis_fini(struct tredis *r);

/* Whether a Redis on 127.0.0.1:port answers PING (with AUTH password
 * first when not NULL). */
bool tredis_answers(int port, const char *password);

#endif
