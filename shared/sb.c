/*
 * sb.c - the scoreboard file: layout, creation, attachment, slot writers
 * and readers; see sb.h for who may call what.
 *
 * Runs in the master (create, header writes, releasing reaped slots), in
 * every worker (its own slot, the global counters) and in pacerctl (read
 * only). The layout is private to this file and pinned with static_assert:
 * any change must bump SB_ABI_VERSION, or an old pacerctl will misread.
 *
 * Concurrency. A slot has one writer at a time (its worker, or the master
 * after the reap), so the writer needs no read-modify-write: it brackets
 * an update with plain stores of the slot's change counter, odd while
 * writing and even when done, as PostgreSQL's st_changecount does. In C11
 * terms this is Boehm's seqlock ("Can seqlocks get along with programming
 * language memory models?", 2012):
 *
 *   writer: cc = odd (relaxed); fence(release); fields (relaxed);
 *           cc = even (release)
 *   reader: c0 = cc (acquire); fields (relaxed); fence(acquire);
 *           c1 = cc (relaxed); keep the copy only if c0 == c1, c0 even
 *
 * The release fence keeps the odd store ahead of the field stores; the
 * reader's acquire fence keeps its field loads ahead of the second counter
 * load, so a reader that saw any new field also sees the counter moved.
 * Every field, text included (byte by byte), is a relaxed atomic, so a
 * torn copy is a value thrown away, never undefined behaviour. Global
 * counters are relaxed atomic adds: nothing else is ordered by them.
 *
 * A route record has many writers (every worker registers the routes it
 * serves, then counts into them), so it is no seqlock: its state word goes
 * 0 (empty) -> 1 (label being written) by compare-and-swap, which only one
 * worker can win, and 1 -> 2 (ready) by a release store once the label is
 * complete. Readers, and a worker that lost the race, load the state with
 * acquire and look at the label only when it is 2; the label never
 * changes after that. The counters behind it are relaxed atomic adds.
 *
 * Nothing read from the file is trusted for memory safety: the handle
 * keeps its own slot count, and every string copied out is cut,
 * NUL-terminated and reduced to printable ASCII, since pacerctl may print
 * what a compromised worker wrote.
 */
#include "sb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

/* Atomics in shared memory must be lock-free: libatomic's fallback keeps
 * its locks in each process, protecting nothing across processes, and
 * could write to memory that pacerctl mapped read-only. */
static_assert(ATOMIC_CHAR_LOCK_FREE == 2 && ATOMIC_SHORT_LOCK_FREE == 2 &&
        ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LONG_LOCK_FREE == 2 &&
        ATOMIC_LLONG_LOCK_FREE == 2,
    "scoreboard atomics must be lock-free");
static_assert(sizeof(atomic_char) == 1, "text fields are byte arrays");
static_assert(sizeof(_Atomic uint64_t) == 8 && _Alignof(_Atomic uint64_t) == 8,
    "counters are naturally aligned 64-bit words");
static_assert(sizeof(pid_t) <= sizeof(int32_t), "a pid fits in 32 bits");

/* Relaxed access, type-generic (hence macros): the ordering this file
 * needs comes from the seqlock's fences, not from each field. */
#define SB_LD(p) atomic_load_explicit((p), memory_order_relaxed)
#define SB_ST(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define SB_ADD(p, v)                                                           \
	((void)atomic_fetch_add_explicit((p), (v), memory_order_relaxed))

/* ---------------------------------------------------------------- layout */

struct shm_slot {
	_Atomic uint32_t changecount; /* odd while being written */
	_Atomic int32_t pid;
	_Atomic uint64_t generation;
	atomic_char state;
	_Atomic uint8_t db_state; /* enum sb_db_state */
	_Atomic uint16_t last_status;
	_Atomic uint32_t conn_reading;
	_Atomic uint32_t conn_keepalive;
	_Atomic uint32_t conn_writing;
	_Atomic uint64_t requests;
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t bytes_out;
	_Atomic uint64_t req_start_us; /* CLOCK_MONOTONIC, see sb_clock_us */
	_Atomic uint64_t last_latency_us;
	atomic_char method[SB_METHOD_MAX];
	atomic_char client[SB_CLIENT_MAX];
	atomic_char path[SB_PATH_MAX];
	_Atomic uint32_t flags; /* SB_RECYCLE_*; cleared by claim and release */
	char reserved[52];      /* zero; using it bumps SB_ABI_VERSION */
};

static_assert(sizeof(struct shm_slot) == SB_SLOT_SIZE, "slot size pinned");
static_assert(SB_SLOT_SIZE % 64 == 0, "a slot is whole cache lines");
static_assert(offsetof(struct shm_slot, generation) == 8 &&
        offsetof(struct shm_slot, state) == 16 &&
        offsetof(struct shm_slot, requests) == 32 &&
        offsetof(struct shm_slot, req_start_us) == 56 &&
        offsetof(struct shm_slot, method) == 72 &&
        offsetof(struct shm_slot, client) == 88 &&
        offsetof(struct shm_slot, path) == 136 &&
        offsetof(struct shm_slot, flags) == 264,
    "slot layout pinned: moving a field bumps SB_ABI_VERSION");

struct shm_reload {
	_Atomic uint32_t changecount;
	_Atomic uint32_t outcome; /* enum sb_reload_outcome */
	_Atomic int64_t time;
	atomic_char error[SB_RELOAD_ERROR_MAX];
};

struct shm_counters {
	_Atomic uint64_t requests;
	_Atomic uint64_t status_class[5];
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t bytes_out;
	_Atomic uint64_t accepted;
	_Atomic uint64_t exits[SB_EXIT_NREASONS];
	_Atomic uint64_t reloads_ok;
	_Atomic uint64_t reloads_failed;
};

struct shm_hist {
	_Atomic uint64_t bucket[SB_HIST_NBUCKETS];
	_Atomic uint64_t sum_us;
};

/* Values of a route's state word. */
enum route_state {
	ROUTE_EMPTY = 0,   /* no worker registered it (fresh file) */
	ROUTE_WRITING = 1, /* one worker won the CAS and writes the label */
	ROUTE_READY = 2,   /* label complete; never changes again */
};

/* Two cache lines: the label, read when rendering, apart from the
 * counters that every request on the route adds to. */
struct shm_route {
	_Atomic uint32_t state; /* enum route_state */
	atomic_char label[SB_ROUTE_LABEL_MAX];
	char pad0[28];
	_Atomic uint64_t status_class[5]; /* [0] 1xx ... [4] 5xx */
	_Atomic uint64_t sum_us;
	char reserved[16]; /* zero; using it bumps SB_ABI_VERSION */
};

static_assert(sizeof(struct shm_route) == 128, "route record pinned");
static_assert(offsetof(struct shm_route, label) == 4 &&
        offsetof(struct shm_route, status_class) == 64 &&
        offsetof(struct shm_route, sum_us) == 104,
    "route layout pinned: moving a field bumps SB_ABI_VERSION");

/* A named database query: registered like a route (same state word and
 * label rules), then four cache lines of counters and its histogram. */
struct shm_query {
	_Atomic uint32_t state; /* enum route_state */
	atomic_char label[SB_ROUTE_LABEL_MAX];
	char pad0[28];
	_Atomic uint64_t errors;
	_Atomic uint64_t sum_us;
	_Atomic uint64_t bucket[SB_HIST_NBUCKETS];
	char reserved[56]; /* zero; using it bumps SB_ABI_VERSION */
};

static_assert(sizeof(struct shm_query) == 256, "query record pinned");
static_assert(offsetof(struct shm_query, label) == 4 &&
        offsetof(struct shm_query, errors) == 64 &&
        offsetof(struct shm_query, bucket) == 80,
    "query layout pinned: moving a field bumps SB_ABI_VERSION");

/* Data-layer counters (enum sb_data_counter), in what was the version 2
 * header's reserved area. */
struct shm_data {
	_Atomic uint64_t v[SB_DATA_NCOUNTERS];
	char reserved[384 - SB_DATA_NCOUNTERS * 8]; /* zero */
};

static_assert(sizeof(struct shm_data) == 384, "data counters pinned");

/* The plain fields are written once, before the file is renamed into
 * place, and never again. Each group starts a cache line (explicit pads):
 * counters, histogram and routes are added to by every request of every
 * worker. The routes follow the first kilobyte, the version 1 header, so
 * nothing before them moved. */
struct shm_header {
	struct sb_preamble pre;
	int32_t master_pid;
	uint32_t hist_nbuckets;
	int64_t start_time;
	uint64_t start_mono_us;
	_Atomic uint64_t generation;
	char pad0[8];
	struct shm_reload reload;
	char pad1[48];
	struct shm_counters counters;
	char pad2[8];
	struct shm_hist hist;
	struct shm_data data;
	struct shm_route routes[SB_MAX_ROUTES];
	struct shm_query queries[SB_MAX_QUERIES];
};

static_assert(sizeof(struct shm_header) == SB_HEADER_SIZE, "header pinned");
static_assert(SB_HEADER_SIZE ==
            1024 + SB_MAX_ROUTES * 128 + SB_MAX_QUERIES * 256 &&
        SB_HEADER_SIZE % 64 == 0,
    "header is the first kilobyte, the routes and the queries");
/* Version 4: the data counters gained SB_DATA_RATELIMIT_DENIED (in their
 * reserved area; nothing moved). */
static_assert(SB_ABI_VERSION == 4, "this layout is ABI version 4");
static_assert(SB_DATA_NCOUNTERS == 10, "ABI 4 has 10 data counters");
static_assert(offsetof(struct shm_header, pre) == 0 &&
        offsetof(struct shm_header, master_pid) == 24 &&
        offsetof(struct shm_header, generation) == 48 &&
        offsetof(struct shm_header, reload) == 64 &&
        offsetof(struct shm_header, counters) == 384 &&
        offsetof(struct shm_header, hist) == 512 &&
        offsetof(struct shm_header, data) == 640 &&
        offsetof(struct shm_header, routes) == 1024 &&
        offsetof(struct shm_header, queries) == 1024 + SB_MAX_ROUTES * 128,
    "header layout pinned: moving a field bumps SB_ABI_VERSION");

/* Prometheus-style bounds (le semantics); changing them bumps the ABI. */
static const uint64_t hist_bound_us[SB_HIST_NBUCKETS - 1] = {500, 1000, 2500,
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000};
static const char *const hist_le[SB_HIST_NBUCKETS] = {"0.0005", "0.001",
    "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
    "2.5", "5", "10", "+Inf"};

/* The histogram bucket a latency falls in. */
static unsigned hist_bucket_of(uint64_t latency_us)
{
	unsigned b;

	for (b = 0; b < SB_HIST_NBUCKETS - 1; b++)
		if (latency_us <= hist_bound_us[b])
			break;
	return b;
}

/* The flags bits that are recycle requests (sb_slot_view.want_recycle). */
#define SB_RECYCLE_MASK (SB_RECYCLE_REQUESTS | SB_RECYCLE_RSS)

/* Attempts spent spinning before each further one yields the CPU, so a
 * reader never spins against a writer preempted on the same CPU. */
#define SB_READ_SPINS 8

struct sb {
	unsigned char *base; /* the mapping */
	size_t size;
	uint32_t nslots; /* validated copy: never re-read from the file */
	bool writable;   /* from sb_create(), not sb_attach() */
	dev_t dev;       /* identity of the created file, for sb_unlink() */
	ino_t ino;
	char path[]; /* as given to sb_create() or sb_attach() */
};

/* --------------------------------------------------------------- helpers */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	buf_init_fixed(&b, err, errlen);
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
}

static struct sb *handle_new(const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path) + 1;
	struct sb *sb = calloc(1, sizeof(*sb) + n);

	if (sb == NULL)
		seterr(err, errlen, "scoreboard %s: out of memory", path);
	else
		memcpy(sb->path, path, n);
	return sb;
}

static struct shm_header *hdr(const struct sb *sb)
{
	return (struct shm_header *)(void *)sb->base;
}

static struct shm_slot *slot_at(unsigned char *base, uint32_t i)
{
	return (struct shm_slot *)(void *)(base + SB_HEADER_SIZE +
	    (size_t)i * SB_SLOT_SIZE);
}

/* The slot a writer may touch, or NULL for a caller bug. */
static struct shm_slot *wslot(struct sb *sb, uint32_t i)
{
	if (sb == NULL || !sb->writable || i >= sb->nslots)
		return NULL;
	return slot_at(sb->base, i);
}

static char clean_byte(char c)
{
	if (c < 0x20 || c > 0x7e)
		return '?';
	return c;
}

/* Store src[0..len) into the n-byte field dst, cut to n - 1 bytes, and
 * zero the rest, so no earlier (longer) value lingers in the file. */
static void text_store(atomic_char *dst, size_t n, const char *src, size_t len)
{
	size_t i;

	if (src == NULL) {
		src = "";
		len = 0;
	}
	if (len > n - 1)
		len = n - 1;
	for (i = 0; i < n; i++)
		SB_ST(&dst[i], i < len ? clean_byte(src[i]) : '\0');
}

/* Copy an n-byte field out: up to the first NUL, printable only, always
 * NUL-terminated, whatever the file holds. */
static void text_load(char *dst, const atomic_char *src, size_t n)
{
	size_t i;
	char c;

	for (i = 0; i < n - 1 && (c = SB_LD(&src[i])) != '\0'; i++)
		dst[i] = clean_byte(c);
	memset(dst + i, 0, n - i);
}

/* Seqlock writer. An odd counter on entry means an earlier writer died
 * mid-update (a worker killed, then reaped): move on to the next odd
 * value, so a reader that began during the dead update still retries. */
static uint32_t write_begin(_Atomic uint32_t *cc)
{
	uint32_t v = (SB_LD(cc) + 1) | 1u;

	SB_ST(cc, v);
	atomic_thread_fence(memory_order_release);
	return v;
}

static void write_end(_Atomic uint32_t *cc, uint32_t v)
{
	atomic_store_explicit(cc, v + 1, memory_order_release);
}

/* Seqlock reader: run copy(dst, src) until it ran with no writer, at most
 * SB_READ_TRIES times. Returns 0 or -1; *retries counts discarded runs. */
static int seq_read(const _Atomic uint32_t *cc,
    void (*copy)(void *dst, const void *src), void *dst, const void *src,
    unsigned *retries)
{
	unsigned i;

	for (i = 0; i < SB_READ_TRIES; i++) {
		uint32_t before, after;

		if (i >= SB_READ_SPINS)
			(void)sched_yield();
		before = atomic_load_explicit(cc, memory_order_acquire);
		if ((before & 1u) != 0)
			continue;
		copy(dst, src);
		atomic_thread_fence(memory_order_acquire);
		after = SB_LD(cc);
		if (after == before)
			break;
	}
	*retries = i;
	return i < SB_READ_TRIES ? 0 : -1;
}

uint64_t sb_clock_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------- create / attach */

static void init_file(unsigned char *base, uint32_t nslots, pid_t master_pid)
{
	struct shm_header *h = (struct shm_header *)(void *)base;
	uint32_t i;

	/* Fresh from ftruncate, every byte is zero, which gcc and clang lay
	 * out as 0 for every lock-free atomic: only non-zero fields are set. */
	memcpy(h->pre.magic, SB_MAGIC, SB_MAGIC_LEN);
	h->pre.abi_version = SB_ABI_VERSION;
	h->pre.header_size = SB_HEADER_SIZE;
	h->pre.slot_size = SB_SLOT_SIZE;
	h->pre.nslots = nslots;
	h->master_pid = (int32_t)master_pid;
	h->hist_nbuckets = SB_HIST_NBUCKETS;
	h->start_time = (int64_t)time(NULL);
	h->start_mono_us = sb_clock_us();
	for (i = 0; i < nslots; i++)
		SB_ST(&slot_at(base, i)->state, SB_STATE_OPEN);
}

/* Make the temporary file (mode exactly SB_FILE_MODE, whatever the umask)
 * and reserve its blocks, so a full tmpfs fails here and not later as
 * SIGBUS in whichever worker first touches a page. Returns the fd or -1. */
static int make_file(const char *path, char *tmp, size_t size, struct stat *st,
    char *err, size_t errlen)
{
	int fd, rc = 0;

	/* mkostemp is O_CREAT|O_EXCL on a fresh name: never someone else's
	 * file or symlink. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		seterr(err, errlen, "could not create scoreboard %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fchmod(fd, SB_FILE_MODE) == -1 || ftruncate(fd, (off_t)size) == -1)
		rc = errno;
	while (rc == 0 && (rc = posix_fallocate(fd, 0, (off_t)size)) == EINTR)
		rc = 0;
	if (rc == 0 && fstat(fd, st) == -1)
		rc = errno;
	if (rc != 0) {
		seterr(err, errlen,
		    "could not set up scoreboard %s (%zu bytes, mode %04o): %s",
		    path, size, SB_FILE_MODE, strerror(rc));
		(void)unlink(tmp);
		(void)close(fd);
		return -1;
	}
	return fd;
}

struct sb *sb_create(const char *path, uint32_t nslots, pid_t master_pid,
    char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct sb *sb = NULL;
	struct stat st;
	struct buf tb;
	void *base = MAP_FAILED;
	size_t size = SB_HEADER_SIZE + (size_t)nslots * SB_SLOT_SIZE;
	int fd = -1;

	if (path == NULL || *path == '\0') {
		seterr(err, errlen, "scoreboard path is empty");
		return NULL;
	}
	buf_init_fixed(&tb, tmp, sizeof(tmp));
	if (buf_printf(&tb, "%s.XXXXXX", path) != 0) {
		seterr(err, errlen, "scoreboard path is too long: %s", path);
		return NULL;
	}
	if (nslots == 0 || nslots > SB_MAX_SLOTS || master_pid <= 0) {
		seterr(err, errlen,
		    "scoreboard %s: slot count %u (1 to %u) or master pid %ld "
		    "out of range",
		    path, nslots, SB_MAX_SLOTS, (long)master_pid);
		return NULL;
	}
	if ((sb = handle_new(path, err, errlen)) == NULL)
		goto fail;
	if ((fd = make_file(path, tmp, size, &st, err, errlen)) == -1)
		goto fail;
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		seterr(err, errlen, "could not map scoreboard %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	init_file(base, nslots, master_pid);
	/* Only a complete file gets the real name; a stale one is replaced
	 * in one step (its old readers keep their old, dead mapping). */
	if (rename(tmp, path) == -1) {
		seterr(err, errlen, "could not rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto fail;
	}
	(void)close(fd); /* the mapping keeps the file; workers need no fd */
	sb->base = base;
	sb->size = size;
	sb->nslots = nslots;
	sb->writable = true;
	sb->dev = st.st_dev;
	sb->ino = st.st_ino;
	return sb;
fail:
	if (base != MAP_FAILED)
		(void)munmap(base, size);
	if (fd != -1) {
		(void)unlink(tmp);
		(void)close(fd);
	}
	free(sb);
	return NULL;
}

/* Check the start of the file, read with pread before anything is mapped.
 * Returns the number of bytes to map, or 0 with the reason in err. */
static size_t check_file(const char *path, const struct shm_header *h,
    size_t got, off_t fsize, char *err, size_t errlen)
{
	const struct sb_preamble *p = &h->pre;
	size_t need;

	if (got < SB_MAGIC_LEN ||
	    memcmp(p->magic, SB_MAGIC, SB_MAGIC_LEN) != 0) {
		seterr(err, errlen, "%s is not a pacerd scoreboard", path);
		return 0;
	}
	if (got >= sizeof(*p) && p->abi_version != SB_ABI_VERSION) {
		seterr(err, errlen,
		    "%s: scoreboard ABI version %u, this pacerctl understands"
		    " %u (pacerd and pacerctl come from different builds)",
		    path, p->abi_version, SB_ABI_VERSION);
		return 0;
	}
	if (got < SB_HEADER_SIZE) {
		seterr(err, errlen,
		    "%s: truncated scoreboard (%zu bytes, the header needs %u)",
		    path, got, SB_HEADER_SIZE);
		return 0;
	}
	if (p->header_size != SB_HEADER_SIZE || p->slot_size != SB_SLOT_SIZE ||
	    h->hist_nbuckets != SB_HIST_NBUCKETS || p->nslots == 0 ||
	    p->nslots > SB_MAX_SLOTS) {
		seterr(err, errlen,
		    "%s: scoreboard header size %u, slot size %u, %u histogram "
		    "buckets, %u slots; expected %u, %u, %u, 1 to %u",
		    path, p->header_size, p->slot_size, h->hist_nbuckets,
		    p->nslots, SB_HEADER_SIZE, SB_SLOT_SIZE, SB_HIST_NBUCKETS,
		    SB_MAX_SLOTS);
		return 0;
	}
	need = SB_HEADER_SIZE + (size_t)p->nslots * SB_SLOT_SIZE;
	if ((uintmax_t)fsize < need) {
		seterr(err, errlen,
		    "%s: truncated scoreboard (%jd bytes, %u slots need %zu)",
		    path, (intmax_t)fsize, p->nslots, need);
		return 0;
	}
	return need;
}

struct sb *sb_attach(const char *path, char *err, size_t errlen)
{
	struct shm_header h;
	struct sb *sb = NULL;
	struct stat st;
	void *base;
	ssize_t got = -1;
	size_t need;
	int fd;

	if (path == NULL || *path == '\0') {
		seterr(err, errlen, "scoreboard path is empty");
		return NULL;
	}
	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	while (fd == -1 && errno == EINTR);
	if (fd == -1) {
		seterr(err, errlen, "could not open scoreboard %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "could not stat scoreboard %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen,
		    "%s is not a pacerd scoreboard (not a file)", path);
		goto fail;
	}
	memset(&h, 0, sizeof(h));
	/* A regular file gives a full read up to its end in one call. */
	do
		got = pread(fd, &h, sizeof(h), 0);
	while (got == -1 && errno == EINTR);
	if (got == -1) {
		seterr(err, errlen, "could not read scoreboard %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	need = check_file(path, &h, (size_t)got, st.st_size, err, errlen);
	if (need == 0)
		goto fail;
	if ((sb = handle_new(path, err, errlen)) == NULL)
		goto fail;
	/* Map only what was checked: a longer file's tail is never read. */
	base = mmap(NULL, need, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		seterr(err, errlen, "could not map scoreboard %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	(void)close(fd);
	sb->base = base;
	sb->size = need;
	sb->nslots = h.pre.nslots;
	return sb;
fail:
	(void)close(fd);
	free(sb);
	return NULL;
}

void sb_close(struct sb **sbp)
{
	struct sb *sb;

	if (sbp == NULL || (sb = *sbp) == NULL)
		return;
	(void)munmap(sb->base, sb->size);
	free(sb);
	*sbp = NULL;
}

int sb_unlink(const struct sb *sb, char *err, size_t errlen)
{
	struct stat st;

	if (sb == NULL || !sb->writable) {
		seterr(err, errlen, "scoreboard: not a handle from sb_create");
		return -1;
	}
	if (stat(sb->path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		seterr(err, errlen, "could not stat scoreboard %s: %s",
		    sb->path, strerror(errno));
		return -1;
	}
	if (st.st_dev != sb->dev || st.st_ino != sb->ino)
		return 0; /* gone, or a newer pacerd's file: leave it */
	if (unlink(sb->path) == -1 && errno != ENOENT) {
		seterr(err, errlen, "could not remove scoreboard %s: %s",
		    sb->path, strerror(errno));
		return -1;
	}
	return 0;
}

uint32_t sb_nslots(const struct sb *sb)
{
	return sb == NULL ? 0 : sb->nslots;
}

/* ---------------------------------------------------------------- master */

int sb_set_generation(struct sb *sb, uint64_t generation)
{
	if (sb == NULL || !sb->writable)
		return -1;
	SB_ST(&hdr(sb)->generation, generation);
	return 0;
}

int sb_record_reload(struct sb *sb, bool ok, int64_t when,
    const char *first_error)
{
	struct shm_reload *r;
	uint32_t v;

	if (sb == NULL || !sb->writable)
		return -1;
	r = &hdr(sb)->reload;
	if (ok || first_error == NULL)
		first_error = "";
	v = write_begin(&r->changecount);
	SB_ST(&r->outcome, ok ? SB_RELOAD_OK : SB_RELOAD_FAILED);
	SB_ST(&r->time, when);
	text_store(r->error, SB_RELOAD_ERROR_MAX, first_error,
	    strlen(first_error));
	write_end(&r->changecount, v);
	if (ok)
		SB_ADD(&hdr(sb)->counters.reloads_ok, 1);
	else
		SB_ADD(&hdr(sb)->counters.reloads_failed, 1);
	return 0;
}

int sb_count_exit(struct sb *sb, enum sb_exit_reason reason)
{
	if (sb == NULL || !sb->writable || (unsigned)reason >= SB_EXIT_NREASONS)
		return -1;
	SB_ADD(&hdr(sb)->counters.exits[reason], 1);
	return 0;
}

/* Claim (worker) and release (master, after the reap) are the same reset
 * with a different owner. */
static int slot_set_owner(struct sb *sb, uint32_t i, pid_t pid,
    uint64_t generation, char state)
{
	struct shm_slot *s = wslot(sb, i);
	uint32_t v;

	if (s == NULL)
		return -1;
	v = write_begin(&s->changecount);
	SB_ST(&s->pid, (int32_t)pid);
	SB_ST(&s->generation, generation);
	SB_ST(&s->state, state);
	SB_ST(&s->db_state, 0);
	SB_ST(&s->last_status, 0);
	SB_ST(&s->conn_reading, 0);
	SB_ST(&s->conn_keepalive, 0);
	SB_ST(&s->conn_writing, 0);
	SB_ST(&s->requests, 0);
	SB_ST(&s->bytes_in, 0);
	SB_ST(&s->bytes_out, 0);
	SB_ST(&s->req_start_us, 0);
	SB_ST(&s->last_latency_us, 0);
	text_store(s->method, SB_METHOD_MAX, NULL, 0);
	text_store(s->client, SB_CLIENT_MAX, NULL, 0);
	text_store(s->path, SB_PATH_MAX, NULL, 0);
	SB_ST(&s->flags, 0);
	write_end(&s->changecount, v);
	return 0;
}

int sb_slot_release(struct sb *sb, uint32_t i)
{
	return slot_set_owner(sb, i, 0, 0, SB_STATE_OPEN);
}

/* ---------------------------------------------------------------- worker */

int sb_slot_claim(struct sb *sb, uint32_t i, pid_t pid, uint64_t generation)
{
	return slot_set_owner(sb, i, pid, generation, SB_STATE_WAITING);
}

int sb_slot_set_state(struct sb *sb, uint32_t i, enum sb_state state)
{
	struct shm_slot *s = wslot(sb, i);
	uint32_t v;

	if (s == NULL || state == 0 || strchr("_RWKGS.", (int)state) == NULL)
		return -1;
	/* One byte needs no bracket, but a reader copying the whole slot
	 * must not pair the new state with the previous request. */
	v = write_begin(&s->changecount);
	SB_ST(&s->state, (char)state);
	write_end(&s->changecount, v);
	return 0;
}

int sb_slot_set_conns(struct sb *sb, uint32_t i, uint32_t reading,
    uint32_t keepalive, uint32_t writing)
{
	struct shm_slot *s = wslot(sb, i);
	uint32_t v;

	if (s == NULL)
		return -1;
	v = write_begin(&s->changecount);
	SB_ST(&s->conn_reading, reading);
	SB_ST(&s->conn_keepalive, keepalive);
	SB_ST(&s->conn_writing, writing);
	write_end(&s->changecount, v);
	return 0;
}

/* The state after a request starts or ends: 'G' is kept, so an old
 * generation's worker shows as finishing until it exits. */
static char next_state(const struct shm_slot *s, char want)
{
	if (SB_LD(&s->state) == SB_STATE_FINISHING)
		return SB_STATE_FINISHING;
	return want;
}

int sb_slot_begin_request(struct sb *sb, uint32_t i, const char *method,
    size_t method_len, const char *path, size_t path_len, const char *client,
    uint64_t now_us)
{
	struct shm_slot *s = wslot(sb, i);
	uint32_t v;

	if (s == NULL)
		return -1;
	v = write_begin(&s->changecount);
	SB_ST(&s->state, next_state(s, SB_STATE_HANDLING));
	text_store(s->method, SB_METHOD_MAX, method, method_len);
	text_store(s->path, SB_PATH_MAX, path, path_len);
	text_store(s->client, SB_CLIENT_MAX, client,
	    client == NULL ? 0 : strlen(client));
	SB_ST(&s->req_start_us, now_us);
	write_end(&s->changecount, v);
	return 0;
}

int sb_slot_end_request(struct sb *sb, uint32_t i, int status,
    uint64_t bytes_in, uint64_t bytes_out, uint64_t latency_us)
{
	struct shm_slot *s = wslot(sb, i);
	struct shm_header *h;
	unsigned b;
	uint32_t v;

	if (s == NULL)
		return -1;
	h = hdr(sb);
	/* Only this process writes the slot: plain load + store is enough. */
	v = write_begin(&s->changecount);
	SB_ST(&s->state, next_state(s, SB_STATE_WAITING));
	SB_ST(&s->last_status,
	    (uint16_t)(status >= 0 && status <= 999 ? status : 0));
	SB_ST(&s->requests, SB_LD(&s->requests) + 1);
	SB_ST(&s->bytes_in, SB_LD(&s->bytes_in) + bytes_in);
	SB_ST(&s->bytes_out, SB_LD(&s->bytes_out) + bytes_out);
	SB_ST(&s->last_latency_us, latency_us);
	write_end(&s->changecount, v);

	SB_ADD(&h->counters.requests, 1);
	if (status >= 100 && status <= 599)
		SB_ADD(&h->counters.status_class[status / 100 - 1], 1);
	SB_ADD(&h->counters.bytes_in, bytes_in);
	SB_ADD(&h->counters.bytes_out, bytes_out);
	b = hist_bucket_of(latency_us);
	SB_ADD(&h->hist.bucket[b], 1);
	SB_ADD(&h->hist.sum_us, latency_us);
	return 0;
}

int sb_count_accept(struct sb *sb)
{
	if (sb == NULL || !sb->writable)
		return -1;
	SB_ADD(&hdr(sb)->counters.accepted, 1);
	return 0;
}

int sb_slot_want_recycle(struct sb *sb, uint32_t i, uint32_t why)
{
	struct shm_slot *s = wslot(sb, i);
	uint32_t v;

	if (s == NULL || why == 0 || (why & ~SB_RECYCLE_MASK) != 0)
		return -1;
	/* Bracketed like any slot update, so a reader's copy pairs the flag
	 * with the requests count that made the worker ask. */
	v = write_begin(&s->changecount);
	(void)atomic_fetch_or_explicit(&s->flags, why, memory_order_relaxed);
	write_end(&s->changecount, v);
	return 0;
}

/* ---------------------------------------------------------------- routes */

static struct shm_route *route_at(const struct sb *sb, uint32_t r)
{
	return &hdr(sb)->routes[r];
}

/* 1 to SB_ROUTE_LABEL_MAX - 1 bytes of [a-z0-9_]: a Prometheus label value
 * and a JSON string that need no escaping. Sets *len. */
static bool label_ok(const char *label, size_t *len)
{
	size_t n;

	if (label == NULL)
		return false;
	for (n = 0; label[n] != '\0'; n++) {
		char c = label[n];

		if (n == SB_ROUTE_LABEL_MAX - 1)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '_'))
			return false;
	}
	*len = n;
	return n > 0;
}

/* The stored label is label[0..len), NUL-padded. Only once READY. */
static bool label_equal(const atomic_char *stored, const char *label,
    size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (SB_LD(&stored[i]) != label[i])
			return false;
	return SB_LD(&stored[len]) == '\0';
}

/* Wait (bounded, as seq_read) for another worker to finish writing the
 * label. Returns the last state seen: READY, or WRITING if it never
 * finished (that worker died between its CAS and its release store). */
static uint32_t label_wait_ready(const _Atomic uint32_t *state)
{
	uint32_t st = ROUTE_WRITING;
	unsigned i;

	for (i = 0; i < SB_READ_TRIES; i++) {
		if (i >= SB_READ_SPINS)
			(void)sched_yield();
		st = atomic_load_explicit(state, memory_order_acquire);
		if (st == ROUTE_READY)
			break;
	}
	return st;
}

/* Register a labelled record (a route or a query): see sb.h. */
static int label_register(_Atomic uint32_t *state, atomic_char *stored,
    const char *label, size_t len)
{
	uint32_t st = ROUTE_EMPTY;

	if (atomic_compare_exchange_strong_explicit(state, &st, ROUTE_WRITING,
	        memory_order_acq_rel, memory_order_acquire)) {
		text_store(stored, SB_ROUTE_LABEL_MAX, label, len);
		atomic_store_explicit(state, ROUTE_READY, memory_order_release);
		return 0;
	}
	if (st != ROUTE_READY && label_wait_ready(state) != ROUTE_READY) {
		errno = EAGAIN;
		return -1;
	}
	if (!label_equal(stored, label, len)) {
		errno = EEXIST;
		return -1;
	}
	return 0;
}

int sb_route_register(struct sb *sb, uint32_t r, const char *label)
{
	struct shm_route *rt;
	size_t len = 0;

	if (sb == NULL || !sb->writable || r >= SB_MAX_ROUTES ||
	    !label_ok(label, &len)) {
		errno = EINVAL;
		return -1;
	}
	rt = route_at(sb, r);
	return label_register(&rt->state, rt->label, label, len);
}

int sb_route_count(struct sb *sb, uint32_t r, int status, uint64_t latency_us)
{
	struct shm_route *rt;

	if (sb == NULL || !sb->writable || r >= SB_MAX_ROUTES) {
		errno = EINVAL;
		return -1;
	}
	rt = route_at(sb, r);
	if (SB_LD(&rt->state) != ROUTE_READY) {
		errno = ENOENT;
		return -1;
	}
	if (status < 100 || status > 599)
		return 0;
	SB_ADD(&rt->status_class[status / 100 - 1], 1);
	SB_ADD(&rt->sum_us, latency_us);
	return 0;
}

/* --------------------------------------------------------------- queries */

int sb_query_register(struct sb *sb, uint32_t q, const char *label)
{
	struct shm_query *qr;
	size_t len = 0;

	if (sb == NULL || !sb->writable || q >= SB_MAX_QUERIES ||
	    !label_ok(label, &len)) {
		errno = EINVAL;
		return -1;
	}
	qr = &hdr(sb)->queries[q];
	return label_register(&qr->state, qr->label, label, len);
}

int sb_query_count(struct sb *sb, uint32_t q, bool ok, uint64_t latency_us)
{
	struct shm_query *qr;

	if (sb == NULL || !sb->writable || q >= SB_MAX_QUERIES) {
		errno = EINVAL;
		return -1;
	}
	qr = &hdr(sb)->queries[q];
	if (SB_LD(&qr->state) != ROUTE_READY) {
		errno = ENOENT;
		return -1;
	}
	if (!ok)
		SB_ADD(&qr->errors, 1);
	SB_ADD(&qr->bucket[hist_bucket_of(latency_us)], 1);
	SB_ADD(&qr->sum_us, latency_us);
	return 0;
}

int sb_data_count(struct sb *sb, enum sb_data_counter c)
{
	if (sb == NULL || !sb->writable || (unsigned)c >= SB_DATA_NCOUNTERS)
		return -1;
	SB_ADD(&hdr(sb)->data.v[c], 1);
	return 0;
}

int sb_slot_set_db_state(struct sb *sb, uint32_t i, enum sb_db_state st)
{
	struct shm_slot *s = wslot(sb, i);

	if (s == NULL || (unsigned)st >= SB_DB_NSTATES)
		return -1;
	/* One byte, read on its own: no seqlock bracket needed. */
	SB_ST(&s->db_state, (uint8_t)st);
	return 0;
}

const char *sb_db_state_name(unsigned st)
{
	switch (st) {
	case SB_DB_NONE: return "none";
	case SB_DB_UP: return "up";
	case SB_DB_DOWN: return "down";
	default: return "unknown";
	}
}

/* --------------------------------------------------------------- readers */

static void copy_slot(void *dst, const void *src)
{
	struct sb_slot_view *o = dst;
	const struct shm_slot *s = src;

	o->pid = (pid_t)SB_LD(&s->pid);
	o->generation = SB_LD(&s->generation);
	o->state = SB_LD(&s->state);
	o->db_state = SB_LD(&s->db_state);
	o->last_status = SB_LD(&s->last_status);
	o->conn_reading = SB_LD(&s->conn_reading);
	o->conn_keepalive = SB_LD(&s->conn_keepalive);
	o->conn_writing = SB_LD(&s->conn_writing);
	o->requests = SB_LD(&s->requests);
	o->bytes_in = SB_LD(&s->bytes_in);
	o->bytes_out = SB_LD(&s->bytes_out);
	o->req_start_us = SB_LD(&s->req_start_us);
	o->last_latency_us = SB_LD(&s->last_latency_us);
	text_load(o->method, s->method, SB_METHOD_MAX);
	text_load(o->path, s->path, SB_PATH_MAX);
	text_load(o->client, s->client, SB_CLIENT_MAX);
	o->want_recycle = SB_LD(&s->flags) & SB_RECYCLE_MASK;
}

int sb_slot_read(const struct sb *sb, uint32_t i, struct sb_slot_view *out)
{
	const struct shm_slot *s;
	unsigned retries;

	memset(out, 0, sizeof(*out));
	if (sb == NULL || i >= sb->nslots) {
		errno = EINVAL;
		return -1;
	}
	s = slot_at(sb->base, i);
	if (seq_read(&s->changecount, copy_slot, out, s, &retries) != 0) {
		memset(out, 0, sizeof(*out));
		out->retries = retries;
		errno = EAGAIN;
		return -1;
	}
	out->retries = retries;
	return 0;
}

static void copy_reload(void *dst, const void *src)
{
	struct sb_header_view *o = dst;
	const struct shm_reload *r = src;
	uint32_t outcome = SB_LD(&r->outcome);

	o->reload_outcome = outcome == SB_RELOAD_OK ? SB_RELOAD_OK
	    : outcome == SB_RELOAD_FAILED           ? SB_RELOAD_FAILED
	                                            : SB_RELOAD_NONE;
	o->reload_time = SB_LD(&r->time);
	text_load(o->reload_error, r->error, SB_RELOAD_ERROR_MAX);
}

int sb_header_read(const struct sb *sb, struct sb_header_view *out)
{
	const struct shm_header *h;
	unsigned retries;

	memset(out, 0, sizeof(*out));
	if (sb == NULL) {
		errno = EINVAL;
		return -1;
	}
	h = hdr(sb);
	if (seq_read(&h->reload.changecount, copy_reload, out, &h->reload,
	        &retries) != 0) {
		memset(out, 0, sizeof(*out));
		errno = EAGAIN;
		return -1;
	}
	out->abi_version = h->pre.abi_version;
	out->nslots = sb->nslots;
	out->master_pid = (pid_t)h->master_pid;
	out->start_time = h->start_time;
	out->start_mono_us = h->start_mono_us;
	out->generation = SB_LD(&h->generation);
	return 0;
}

int sb_route_read(const struct sb *sb, uint32_t r, struct sb_route_view *out)
{
	const struct shm_route *rt;
	unsigned k;

	memset(out, 0, sizeof(*out));
	if (sb == NULL || r >= SB_MAX_ROUTES) {
		errno = EINVAL;
		return -1;
	}
	rt = route_at(sb, r);
	if (atomic_load_explicit(&rt->state, memory_order_acquire) !=
	    ROUTE_READY) {
		errno = ENOENT;
		return -1;
	}
	text_load(out->label, rt->label, SB_ROUTE_LABEL_MAX);
	for (k = 0; k < 5; k++) {
		out->status_class[k] = SB_LD(&rt->status_class[k]);
		out->count += out->status_class[k];
	}
	out->sum_us = SB_LD(&rt->sum_us);
	return 0;
}

int sb_query_read(const struct sb *sb, uint32_t q, struct sb_query_view *out)
{
	const struct shm_query *qr;
	unsigned k;

	memset(out, 0, sizeof(*out));
	if (sb == NULL || q >= SB_MAX_QUERIES) {
		errno = EINVAL;
		return -1;
	}
	qr = &hdr(sb)->queries[q];
	if (atomic_load_explicit(&qr->state, memory_order_acquire) !=
	    ROUTE_READY) {
		errno = ENOENT;
		return -1;
	}
	text_load(out->label, qr->label, SB_ROUTE_LABEL_MAX);
	for (k = 0; k < SB_HIST_NBUCKETS; k++) {
		out->bucket[k] = SB_LD(&qr->bucket[k]);
		out->count += out->bucket[k];
	}
	out->errors = SB_LD(&qr->errors);
	out->sum_us = SB_LD(&qr->sum_us);
	return 0;
}

int sb_data_read(const struct sb *sb, uint64_t *out)
{
	unsigned k;

	if (sb == NULL || out == NULL)
		return -1;
	for (k = 0; k < SB_DATA_NCOUNTERS; k++)
		out[k] = SB_LD(&hdr(sb)->data.v[k]);
	return 0;
}

int sb_counters_read(const struct sb *sb, struct sb_counters_view *out)
{
	const struct shm_counters *c;
	unsigned k;

	memset(out, 0, sizeof(*out));
	if (sb == NULL)
		return -1;
	c = &hdr(sb)->counters;
	out->requests = SB_LD(&c->requests);
	for (k = 0; k < 5; k++)
		out->status_class[k] = SB_LD(&c->status_class[k]);
	out->bytes_in = SB_LD(&c->bytes_in);
	out->bytes_out = SB_LD(&c->bytes_out);
	out->accepted = SB_LD(&c->accepted);
	for (k = 0; k < SB_EXIT_NREASONS; k++)
		out->exits[k] = SB_LD(&c->exits[k]);
	out->reloads_ok = SB_LD(&c->reloads_ok);
	out->reloads_failed = SB_LD(&c->reloads_failed);
	return 0;
}

int sb_hist_read(const struct sb *sb, struct sb_hist_view *out)
{
	const struct shm_hist *hi;
	unsigned k;

	memset(out, 0, sizeof(*out));
	if (sb == NULL)
		return -1;
	hi = &hdr(sb)->hist;
	for (k = 0; k < SB_HIST_NBUCKETS; k++) {
		out->bucket[k] = SB_LD(&hi->bucket[k]);
		out->count += out->bucket[k];
	}
	out->sum_us = SB_LD(&hi->sum_us);
	return 0;
}

/* ----------------------------------------------------------------- names */

uint64_t sb_hist_bound_us(unsigned i)
{
	return i < SB_HIST_NBUCKETS - 1 ? hist_bound_us[i] : UINT64_MAX;
}

const char *sb_hist_le(unsigned i)
{
	return hist_le[i < SB_HIST_NBUCKETS - 1 ? i : SB_HIST_NBUCKETS - 1];
}

const char *sb_state_name(char state)
{
	switch (state) {
	case SB_STATE_WAITING: return "waiting";
	case SB_STATE_READING: return "reading";
	case SB_STATE_HANDLING: return "handling";
	case SB_STATE_KEEPALIVE: return "keep-alive";
	case SB_STATE_FINISHING: return "finishing";
	case SB_STATE_STREAMING: return "streaming";
	case SB_STATE_OPEN: return "open";
	default: return "unknown";
	}
}

const char *sb_exit_reason_name(enum sb_exit_reason reason)
{
	static const char *const names[SB_EXIT_NREASONS] = {"clean", "crash",
	    "watchdog", "recycled"};

	return (unsigned)reason < SB_EXIT_NREASONS ? names[reason] : "unknown";
}
