/*
 * sb.h - the scoreboard: a file-backed shared-memory segment that shows,
 * at any moment, what every worker is doing and what the server has done
 * since it started.
 *
 * The master creates the file (run_dir/pacerd.scoreboard, mode 0640)
 * before it forks the pool; workers inherit the writable mapping through
 * fork() and never re-open the file. pacerctl maps it read-only with
 * sb_attach() and reads it without talking to any pacerd process, so
 * `pacerctl status` works even when every worker is busy.
 *
 * The file holds a header (identity, generation, last reload, global
 * counters, a latency histogram, per-route counters) followed by one
 * fixed-size slot per worker. Who may write what:
 *
 *   - a worker writes only its own slot (the index the master gave it),
 *     the global counters, the histogram and the route counters (atomic
 *     adds), and a route's label once (the first worker to register it);
 *   - the master writes the header (generation, reload record, exit
 *     counters) and a slot only when no live process owns it: that is,
 *     sb_slot_release() after it has reaped the slot's worker;
 *   - pacerctl and the /metrics endpoint only read.
 *
 * Multi-field slot updates are guarded by a change counter (a seqlock), so
 * a reader never shows a request whose path belongs to another; readers
 * retry a bounded number of times and then report the slot as unstable.
 * Every field that changes after creation is a lock-free C11 atomic, since
 * several processes use it at once and libatomic's locks are per process;
 * the identity fields are written once, before the file gets its name.
 * A file is never shrunk or rewritten in place (a new pacerd renames a new
 * file over it), so a mapping can never fault on a vanished page.
 *
 * Ownership: struct sb is a handle owned by whoever opened it; release it
 * with sb_close(). Views (struct sb_*_view) are plain copies owned by the
 * caller. The module does not log; failures are returned with a message
 * in (err, errlen).
 */
#ifndef PACER_SB_H
#define PACER_SB_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Default file name inside run_dir, and its mode (group-readable, so an
 * operator in pacer's group can run pacerctl status). */
#define SB_FILE_NAME "pacerd.scoreboard"
#define SB_FILE_MODE 0640

/* "PACERSB" and a NUL: the first 8 bytes of every scoreboard file. */
#define SB_MAGIC "PACERSB"
#define SB_MAGIC_LEN 8

/*
 * The layout version. Bump it whenever anything in the file moves, grows,
 * changes meaning (including the histogram bounds) or is added to a
 * reserved area: a pacerctl refuses any version but its own, which is the
 * only protection an old pacerctl has against misreading a new file.
 */
#define SB_ABI_VERSION 4u

/* The pinned sizes (static_assert'ed in sb.c). A slot is a whole number
 * of 64-byte cache lines, so two workers never share a line. The header is
 * 1 KiB (identity, reload record, counters, histogram, data-layer
 * counters), then SB_MAX_ROUTES route records of 128 bytes (two cache
 * lines: the label, then the counters), then SB_MAX_QUERIES query records
 * of 256 bytes: 1024 + 64 * 128 + 64 * 256 = 25600 bytes. */
#define SB_HEADER_SIZE 25600u
#define SB_SLOT_SIZE 320u

/* The most slots a file may have (max_workers' upper bound). */
#define SB_MAX_SLOTS 4096u

/* Text field sizes, NUL included. Longer values are cut, never overrun.
 * The client is a numeric address without port (INET6_ADDRSTRLEN is 46). */
#define SB_METHOD_MAX 16
#define SB_PATH_MAX 128
#define SB_CLIENT_MAX 48
#define SB_RELOAD_ERROR_MAX 256

/* Routes with their own counters, and their metric label size (also the
 * label size of a query). */
#define SB_MAX_ROUTES 64u
#define SB_ROUTE_LABEL_MAX 32u

/* Named database queries with their own count, errors and histogram. */
#define SB_MAX_QUERIES 64u

/* Latency histogram: 14 finite upper bounds (0.5 ms to 10 s) plus +Inf. */
#define SB_HIST_NBUCKETS 15

/* sb_slot_read() gives up after this many attempts at a stable copy. */
#define SB_READ_TRIES 1000

/*
 * The first 24 bytes of the file never move, whatever the version: they
 * are how a reader learns that it cannot read the rest. Integers are in
 * host byte order (the file never leaves the host).
 */
struct sb_preamble {
	char magic[SB_MAGIC_LEN]; /* SB_MAGIC, NUL-padded */
	uint32_t abi_version;     /* SB_ABI_VERSION */
	uint32_t header_size;     /* SB_HEADER_SIZE: offset of slot 0 */
	uint32_t slot_size;       /* SB_SLOT_SIZE */
	uint32_t nslots;          /* 1 to SB_MAX_SLOTS */
};

static_assert(sizeof(struct sb_preamble) == 24, "preamble is 24 bytes");
static_assert(offsetof(struct sb_preamble, abi_version) == 8,
    "abi_version stays at offset 8 in every version");
static_assert(offsetof(struct sb_preamble, nslots) == 20,
    "nslots stays at offset 20 in every version");

/* A worker's state: one character, as Apache's mod_status shows it. */
enum sb_state {
	SB_STATE_WAITING = '_',   /* idle in its event loop */
	SB_STATE_READING = 'R',   /* reading a request head or body */
	SB_STATE_HANDLING = 'W',  /* running a handler, writing the reply */
	SB_STATE_KEEPALIVE = 'K', /* holding only idle keep-alive conns */
	SB_STATE_FINISHING = 'G', /* old generation, finishing, then exit */
	SB_STATE_STREAMING = 'S', /* in a handler waiting for its client on
	                             a response stream (MCP) */
	SB_STATE_OPEN = '.',      /* no worker in this slot */
};

/* Why a worker left, as the master saw it when it reaped the child. */
enum sb_exit_reason {
	SB_EXIT_CLEAN,    /* exit status 0 (graceful stop, generation end) */
	SB_EXIT_CRASH,    /* non-zero status or a signal it did not expect */
	SB_EXIT_WATCHDOG, /* killed by the master: request_timeout */
	SB_EXIT_RECYCLED, /* max_requests_per_worker reached */
	SB_EXIT_NREASONS,
};

/* A worker's database connection, as its slot shows it. */
enum sb_db_state {
	SB_DB_NONE = 0, /* not connected yet (just forked) */
	SB_DB_UP = 1,   /* connected; the last query worked */
	SB_DB_DOWN = 2, /* unreachable or broken: 503s, reconnecting */
	SB_DB_NSTATES,
};

/* Data-layer counters, summed over every worker since start. */
enum sb_data_counter {
	SB_DATA_DB_ERRORS,        /* failed queries and connects */
	SB_DATA_DB_RECONNECTS,    /* connections re-opened after a loss */
	SB_DATA_DB_UNAVAILABLE,   /* requests answered 503: no database */
	SB_DATA_CACHE_LOCAL_HITS, /* in-process LRU */
	SB_DATA_CACHE_LOCAL_MISSES,
	SB_DATA_CACHE_REDIS_HITS,
	SB_DATA_CACHE_REDIS_MISSES,
	SB_DATA_REDIS_ERRORS, /* failed commands and connects */
	SB_DATA_REDIS_RECONNECTS,
	SB_DATA_RATELIMIT_DENIED, /* hits refused by a rate limit (429);
	                             added in ABI version 4 */
	SB_DATA_NCOUNTERS,
};

enum sb_reload_outcome {
	SB_RELOAD_NONE,   /* no reload since start */
	SB_RELOAD_OK,     /* the last reload applied */
	SB_RELOAD_FAILED, /* the last reload was refused; see reload_error */
};

/* A consistent copy of one slot. Strings are always NUL-terminated and
 * hold printable ASCII only (anything else reads as '?'). */
struct sb_slot_view {
	pid_t pid;           /* 0 for an open slot */
	uint64_t generation; /* generation the worker was started in */
	char state;          /* enum sb_state (raw: check sb_state_name) */
	uint8_t db_state;    /* enum sb_db_state */
	uint16_t last_status;
	uint32_t conn_reading; /* connections held, by what they wait on */
	uint32_t conn_keepalive;
	uint32_t conn_writing;
	uint64_t requests;        /* served since the slot was claimed */
	uint64_t bytes_in;        /* request bytes (head and body) */
	uint64_t bytes_out;       /* response bytes */
	uint64_t req_start_us;    /* current or last request: sb_clock_us() */
	uint64_t last_latency_us; /* of the last finished request */
	char method[SB_METHOD_MAX];
	char path[SB_PATH_MAX];
	char client[SB_CLIENT_MAX];
	uint32_t want_recycle; /* SB_RECYCLE_* bits, 0 when not asked */
	unsigned retries;      /* copies thrown away as torn (diagnostics) */
};

/* One route's counters. */
struct sb_route_view {
	char label[SB_ROUTE_LABEL_MAX];
	uint64_t status_class[5]; /* [0] 1xx ... [4] 5xx */
	uint64_t count;           /* sum of the classes */
	uint64_t sum_us;          /* latency of those requests */
};

/* One named query's counters. bucket[] as in struct sb_hist_view. */
struct sb_query_view {
	char label[SB_ROUTE_LABEL_MAX];
	uint64_t count; /* sum of the buckets: every run, failed ones too */
	uint64_t errors;
	uint64_t sum_us;
	uint64_t bucket[SB_HIST_NBUCKETS];
};

/* The header: identity and the last reload. */
struct sb_header_view {
	uint32_t abi_version;
	uint32_t nslots;
	pid_t master_pid;
	int64_t start_time;     /* unix seconds, when the file was created */
	uint64_t start_mono_us; /* sb_clock_us() at the same moment */
	uint64_t generation;
	enum sb_reload_outcome reload_outcome;
	int64_t reload_time; /* unix seconds; 0 with SB_RELOAD_NONE */
	char reload_error[SB_RELOAD_ERROR_MAX]; /* "" unless FAILED */
};

/* Global counters since the file was created. Each is read atomically;
 * the set is not one snapshot (a request may show in requests and not yet
 * in bytes_out), which is what Prometheus counters promise anyway. */
struct sb_counters_view {
	uint64_t requests;
	uint64_t status_class[5]; /* [0] 1xx ... [4] 5xx; others not here */
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t accepted; /* connections accepted */
	uint64_t exits[SB_EXIT_NREASONS];
	uint64_t reloads_ok;
	uint64_t reloads_failed;
};

/* Request latency. bucket[i] counts requests with bound(i-1) < latency <=
 * bound(i) (not cumulative; a Prometheus writer sums them); count is the
 * sum of the buckets, so it always equals the +Inf bucket. */
struct sb_hist_view {
	uint64_t bucket[SB_HIST_NBUCKETS];
	uint64_t count;
	uint64_t sum_us;
};

struct sb;

/* ---- any process ------------------------------------------------------ */

/* CLOCK_MONOTONIC in microseconds: the time base of req_start_us and of
 * the now_us arguments. It is system-wide (same in every process on the
 * host) and never jumps, so the master's request_timeout watchdog cannot
 * be fooled by a clock step. */
uint64_t sb_clock_us(void);

/* Human names: "waiting", "reading", "handling", "keep-alive",
 * "finishing", "open"; "unknown" otherwise. Static strings. */
const char *sb_state_name(char state);
/* "clean", "crash", "watchdog", "recycled"; "unknown" otherwise. */
const char *sb_exit_reason_name(enum sb_exit_reason reason);

/* Upper bound of bucket i in microseconds (UINT64_MAX for +Inf, i >= 14),
 * and the same as a Prometheus le label ("0.0005" ... "10", "+Inf"). */
uint64_t sb_hist_bound_us(unsigned i);
const char *sb_hist_le(unsigned i);

/* ---- master ----------------------------------------------------------- */

/*
 * Create the scoreboard at path for nslots workers (1 to SB_MAX_SLOTS):
 * the file is built under a temporary name in the same folder, sized and
 * space-reserved (a full tmpfs fails here, not as SIGBUS in a worker),
 * mapped, initialised (every slot open) and only then renamed over path,
 * so a reader never maps a half-built file and a stale file from an
 * earlier run is replaced atomically. Mode is exactly SB_FILE_MODE,
 * whatever the umask. Call before forking the pool; workers use the
 * inherited handle. Returns the handle (caller frees with sb_close()), or
 * NULL with the reason in err.
 */
struct sb *sb_create(const char *path, uint32_t nslots, pid_t master_pid,
    char *err, size_t errlen);

/*
 * Remove the file at the handle's path if it is still the file this handle
 * created (a newer pacerd may have replaced it; that one is left alone).
 * Returns 0 when the file is gone or not ours, -1 with the reason in err.
 * Only for a handle from sb_create().
 */
int sb_unlink(const struct sb *sb, char *err, size_t errlen);

/* Header writers. Each returns 0, or -1 on a read-only or NULL handle (or
 * an unknown reason). first_error is copied, cut to fit; it is ignored
 * when ok. sb_record_reload() also counts reloads_ok / reloads_failed. */
int sb_set_generation(struct sb *sb, uint64_t generation);
int sb_record_reload(struct sb *sb, bool ok, int64_t when,
    const char *first_error);
int sb_count_exit(struct sb *sb, enum sb_exit_reason reason);

/* Mark slot i open, clearing it. Only after the master has reaped the
 * worker that owned it (waitpid), never while it may still run: the
 * seqlock has one writer at a time. Safe even if the worker died in the
 * middle of an update (a slot left odd becomes readable again). */
int sb_slot_release(struct sb *sb, uint32_t i);

/* ---- worker (own slot only) -------------------------------------------- */

/*
 * The slot writers below return 0, or -1 on a bug in the caller (NULL or
 * read-only handle, i >= nslots, unknown state); they never block.
 *
 * sb_slot_claim: take slot i at start-up (called by the worker right
 * after fork): pid, generation, state waiting, everything else zeroed.
 */
int sb_slot_claim(struct sb *sb, uint32_t i, pid_t pid, uint64_t generation);
int sb_slot_set_state(struct sb *sb, uint32_t i, enum sb_state state);
int sb_slot_set_conns(struct sb *sb, uint32_t i, uint32_t reading,
    uint32_t keepalive, uint32_t writing);

/*
 * A request starts being handled: record method and path (slices, as the
 * parser has them; need not be NUL-terminated), the client address (a C
 * string; NULL for none) and now_us (sb_clock_us()), and set the state to
 * handling (a finishing worker stays 'G'). Text is cut to fit; bytes
 * outside printable ASCII are stored as '?', so a hostile path can never
 * reach an operator's terminal as escape sequences.
 */
int sb_slot_begin_request(struct sb *sb, uint32_t i, const char *method,
    size_t method_len, const char *path, size_t path_len, const char *client,
    uint64_t now_us);

/*
 * The request in hand is done: bump the slot's requests and bytes, record
 * status and latency, set the state back to waiting (a finishing worker
 * stays 'G'), and add to the global counters and histogram. The request
 * fields stay, as "last request".
 */
int sb_slot_end_request(struct sb *sb, uint32_t i, int status,
    uint64_t bytes_in, uint64_t bytes_out, uint64_t latency_us);

/* One connection accepted (global counter). */
int sb_count_accept(struct sb *sb);

/*
 * Ask the master to recycle this worker (why: SB_RECYCLE_REQUESTS or
 * SB_RECYCLE_RSS, or both, or'ed into the slot's flags; 0 or an unknown
 * bit is refused). The worker keeps serving until the master sends
 * SIGTERM; the master grants one recycle at a time. The flags show as
 * sb_slot_view.want_recycle; sb_slot_claim and sb_slot_release clear them.
 */
#define SB_RECYCLE_REQUESTS 0x1u
#define SB_RECYCLE_RSS 0x2u
int sb_slot_want_recycle(struct sb *sb, uint32_t i, uint32_t why);

/*
 * Per-route request counters, for /metrics. Route r (0 to SB_MAX_ROUTES-1,
 * the index in the worker's route table) gets its metric label the first
 * time any worker registers it: registering is idempotent and race-free
 * (the first writer wins; a reader sees a route only once its label is
 * complete). Labels longer than SB_ROUTE_LABEL_MAX - 1 are refused, as are
 * labels outside [a-z0-9_]. sb_route_count adds one request with its
 * status (by class, 1xx to 5xx) and latency.
 *
 * sb_route_register returns 0 when r now has this label (whoever wrote
 * it), or -1 with errno: EINVAL (bad label, r out of range, NULL or
 * read-only handle), EEXIST (r already has another label), EAGAIN (the
 * worker registering r died before it finished; r stays unusable in this
 * file). sb_route_count returns 0, or -1 with errno EINVAL (as above) or
 * ENOENT (r is not registered: nothing is counted). A status outside 100
 * to 599 (no response was sent) is counted nowhere, latency included, and
 * returns 0: a route's count is always the sum of its classes.
 */
int sb_route_register(struct sb *sb, uint32_t r, const char *label);
int sb_route_count(struct sb *sb, uint32_t r, int status, uint64_t latency_us);

/*
 * Per-query counters, registered like routes (q from 0 to
 * SB_MAX_QUERIES-1, the same label rules and return values as
 * sb_route_register). sb_query_count adds one run with its latency, and
 * one error when !ok.
 */
int sb_query_register(struct sb *sb, uint32_t q, const char *label);
int sb_query_count(struct sb *sb, uint32_t q, bool ok, uint64_t latency_us);

/* Add one to a data-layer counter; -1 on a bad counter or handle. */
int sb_data_count(struct sb *sb, enum sb_data_counter c);

/* This worker's database state (enum sb_db_state); -1 on a bad value. */
int sb_slot_set_db_state(struct sb *sb, uint32_t i, enum sb_db_state st);

/* "none", "up", "down"; "unknown" otherwise. Static strings. */
const char *sb_db_state_name(unsigned st);

/* ---- pacerctl (and any reader) ----------------------------------------- */

/*
 * Map an existing scoreboard read-only. The file is checked before it is
 * mapped: magic, ABI version, header and slot sizes, slot count, and that
 * it is long enough for its slots; each failure names the path. Returns
 * the handle (caller frees with sb_close()), or NULL with the reason.
 */
struct sb *sb_attach(const char *path, char *err, size_t errlen);

/* Unmap and free; *sbp becomes NULL. NULL-safe. The file stays. */
void sb_close(struct sb **sbp);

/* Slot count, from the handle (never re-read from shared memory). */
uint32_t sb_nslots(const struct sb *sb);

/*
 * Copy slot i. Returns 0 with a consistent copy, or -1 with *out zeroed
 * but for retries (errno EINVAL: i >= nslots or NULL handle; EAGAIN: the
 * slot changed or stayed mid-update during SB_READ_TRIES attempts, e.g.
 * its worker was killed mid-update and not yet reaped).
 */
int sb_slot_read(const struct sb *sb, uint32_t i, struct sb_slot_view *out);

/* Copy the header; -1 (EINVAL, EAGAIN) as for sb_slot_read(). */
int sb_header_read(const struct sb *sb, struct sb_header_view *out);

/* Copy route r's counters. Returns 0, or -1 with errno ENOENT when no
 * worker registered r yet (or EINVAL: r out of range, NULL handle). */
int sb_route_read(const struct sb *sb, uint32_t r, struct sb_route_view *out);

/* Copy query q's counters; -1 as sb_route_read. */
int sb_query_read(const struct sb *sb, uint32_t q, struct sb_query_view *out);

/* Copy the data-layer counters (out has SB_DATA_NCOUNTERS entries). */
int sb_data_read(const struct sb *sb, uint64_t *out);

/* Copy the counters / the histogram. -1 only for a NULL handle. */
int sb_counters_read(const struct sb *sb, struct sb_counters_view *out);
int sb_hist_read(const struct sb *sb, struct sb_hist_view *out);

#endif /* PACER_SB_H */
