/*
 * wtest.h - the harness of the worker tests (test_worker.c,
 * test_worker_ops.c): real worker processes without the master.
 *
 * wt_start() loads a configuration with short timeouts, binds a loopback
 * listener on a free port, creates a scoreboard in a private folder,
 * opens the access log when the configuration names one, and forks
 * workers that call worker_main() (the test process plays the master:
 * its pid is master_pid). wt_teardown() kills and reaps every child and
 * removes the folder. A tiny blocking HTTP/1.1 client talks to them.
 *
 * Test-only code: failures are Criterion assertions.
 */
#ifndef PACER_WTEST_H
#define PACER_WTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "listener.h"
#include "sb.h"
#include "worker.h"

#define WT_MAXKIDS 8
#define WT_IO_MS 5000 /* the longest any single read may wait */
#define WT_NSLOTS 8

extern char *wt_dir;       /* the private folder */
extern struct sb *wt_sb;   /* the scoreboard (WT_NSLOTS slots) */
extern struct cfg *wt_cfg; /* the configuration the workers got */
extern struct listeners wt_ls;
extern struct worker_ctx wt_ctx;  /* what wt_spawn() hands a worker */
extern int wt_port;               /* the listener's port */
extern pid_t wt_kids[WT_MAXKIDS]; /* 0: reaped */
extern int wt_nkids;
/* When > 0: a worker spawned next may open only this many descriptors
 * more than it inherited. */
extern int wt_spare_fds;

/* Suite hooks: .init = wt_setup, .fini = wt_teardown. wt_teardown() may
 * also be called within a test before a second wt_start(). */
void wt_setup(void);
void wt_teardown(void);

/* The configuration is "header_timeout = 1s, body_timeout = 1s,
 * send_timeout = 1s, keepalive_timeout = 5s, debug_routes = on" followed
 * by extra (may be NULL; "@DIR@" becomes the private folder); then n
 * workers in slots 0 .. n-1, each ready (waiting) before this returns. */
void wt_start(const char *extra, int n);

/* Fork one more worker in slot (wt_ctx with that slot). */
pid_t wt_spawn(uint32_t slot);

uint64_t wt_now_ms(void); /* CLOCK_MONOTONIC */
void wt_sleep_ms(int ms);

/* A consistent copy of slot; false when it was unstable. */
bool wt_slot_view(uint32_t slot, struct sb_slot_view *v);
/* Wait up to ms for slot to have a pid and show state. */
bool wt_wait_state(uint32_t slot, char state, int ms);

/* ---- the client ---- */

struct wt_cl {
	int fd;
	char *buf; /* bytes received and not yet taken as a reply */
	size_t len, cap;
};

struct wt_rep {
	int status;
	char *head; /* NUL-terminated, CRLFs included */
	char *body; /* NUL-terminated copy of body_len bytes */
	size_t body_len;
};

/* A blocking connection to the listener, or -1. */
int wt_connect_fd(void);
/* Connect c (reads and writes time out after WT_IO_MS); asserts. */
void wt_open(struct wt_cl *c);
void wt_close(struct wt_cl *c);
void wt_sendn(struct wt_cl *c, const char *s, size_t n);
void wt_send(struct wt_cl *c, const char *s);
/* One recv into c's buffer: bytes, 0 at EOF, -1 on an error. */
ssize_t wt_fill(struct wt_cl *c);
/* Read one reply; head_req: the request was HEAD. 0, or -1 when the
 * connection ended or timed out first. */
int wt_reply(struct wt_cl *c, struct wt_rep *r, bool head_req);
void wt_rep_free(struct wt_rep *r);
/* The value of header field name in a reply head, into val (n bytes). */
bool wt_head_field(const char *head, const char *name, char *val, size_t n);
bool wt_rep_has(const struct wt_rep *r, const char *name, const char *want);
bool wt_rep_closes(const struct wt_rep *r); /* Connection: close */
/* Whether the server closes (clean EOF, nothing more sent) within ms. */
bool wt_eof(struct wt_cl *c, int ms);
/* GET path with extra header lines (may be NULL); asserts a reply. */
void wt_get(struct wt_cl *c, const char *path, const char *extra,
    struct wt_rep *r);
/* One request on a new connection. */
void wt_exchange(const char *req, struct wt_rep *r, bool head_req);
/* 16 lowercase hex digits: a generated request id. */
bool wt_is_hex_id(const char *s);

#endif
