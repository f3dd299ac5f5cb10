/*
 * test_sb.c - the scoreboard: file creation and replacement, what
 * pacerctl's attach refuses, slot lifecycle, counters, histogram bounds,
 * the reload record, recycle requests, per-route counters (registered and
 * counted by racing worker processes), and that a reader never sees a torn
 * slot while a worker process writes it.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "sb.h"

static char dir[256];
static char sbpath[512];
static char err[512];

static void setup(void)
{
	const char *base = getenv("TMPDIR");
	struct buf b;

	buf_init_fixed(&b, dir, sizeof(dir));
	(void)buf_printf(&b, "%s/test_sb.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	cr_assert(not(eq(ptr, mkdtemp(dir), NULL)),
	    "expected a temporary folder from %s: %s", dir, strerror(errno));
	buf_init_fixed(&b, sbpath, sizeof(sbpath));
	(void)buf_printf(&b, "%s/%s", dir, SB_FILE_NAME);
	err[0] = '\0';
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char p[600];
		struct buf b;

		if (e->d_name[0] == '.')
			continue;
		buf_init_fixed(&b, p, sizeof(p));
		(void)buf_printf(&b, "%s/%s", dir, e->d_name);
		(void)unlink(p);
	}
	if (d != NULL)
		(void)closedir(d);
	(void)rmdir(dir);
}

TestSuite(sb, .init = setup, .fini = teardown);

/* Files in the test folder (a failed or half-done create leaves one). */
static int count_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		(void)closedir(d);
	return n;
}

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);

	cr_assert(fd >= 0, "expected to create %s: %s", path, strerror(errno));
	cr_assert(eq(sz, (size_t)write(fd, data, n), n), "short write");
	(void)close(fd);
}

static void patch_u32(const char *path, off_t off, uint32_t v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "expected to open %s: %s", path, strerror(errno));
	cr_assert(eq(sz, (size_t)pwrite(fd, &v, sizeof(v), off), sizeof(v)),
	    "expected to patch 4 bytes at offset %lld", (long long)off);
	(void)close(fd);
}

/* Wait for a child: its exit code, or 128 + the signal that killed it. */
static int reap(pid_t pid)
{
	int status;

	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid),
	    "expected to reap child %d", (int)pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static struct sb *create(uint32_t nslots, pid_t master)
{
	struct sb *sb = sb_create(sbpath, nslots, master, err, sizeof(err));

	cr_assert(not(eq(ptr, sb, NULL)), "expected sb_create to work: %s",
	    err);
	return sb;
}

static struct sb *attach(void)
{
	struct sb *sb = sb_attach(sbpath, err, sizeof(err));

	cr_assert(not(eq(ptr, sb, NULL)), "expected sb_attach to work: %s",
	    err);
	return sb;
}

/* attach must fail with an error containing want (and the path). */
static void attach_fails_with(const char *want)
{
	struct sb *sb = sb_attach(sbpath, err, sizeof(err));

	cr_assert(eq(ptr, sb, NULL), "expected sb_attach to refuse %s", sbpath);
	cr_assert(not(eq(ptr, strstr(err, want), NULL)),
	    "expected \"%s\" in the error, got \"%s\"", want, err);
	cr_assert(not(eq(ptr, strstr(err, sbpath), NULL)),
	    "expected the path %s in the error, got \"%s\"", sbpath, err);
}

static struct sb_slot_view read_slot(const struct sb *sb, uint32_t i)
{
	struct sb_slot_view v;

	cr_assert(eq(int, sb_slot_read(sb, i, &v), 0),
	    "expected a stable read of slot %u: %s", i, strerror(errno));
	return v;
}

static void begin(struct sb *sb, uint32_t i, const char *method,
    const char *path, const char *client, uint64_t now_us)
{
	cr_assert(eq(int,
	              sb_slot_begin_request(sb, i, method, strlen(method), path,
	                  strlen(path), client, now_us),
	              0),
	    "expected begin_request on slot %u to work", i);
}

/* ------------------------------------------------------- create / attach */

Test(sb, create_then_attach_round_trips_the_header)
{
	struct sb *w = NULL, *r = NULL;
	struct sb_header_view h;
	int64_t before = (int64_t)time(NULL);

	w = create(12, 4321);
	r = attach();
	cr_assert(eq(int, sb_header_read(r, &h), 0), "expected a header read");
	cr_assert(eq(u32, h.abi_version, SB_ABI_VERSION),
	    "expected ABI version %u", SB_ABI_VERSION);
	cr_assert(eq(u32, h.nslots, 12), "expected 12 slots");
	cr_assert(eq(u32, sb_nslots(r), 12), "expected 12 slots on the handle");
	cr_assert(eq(int, (int)h.master_pid, 4321), "expected master pid 4321");
	cr_assert(h.start_time >= before && h.start_time <= before + 5,
	    "expected a start time near %lld, got %lld", (long long)before,
	    (long long)h.start_time);
	cr_assert(h.start_mono_us > 0 && h.start_mono_us <= sb_clock_us(),
	    "expected the monotonic start in the past");
	cr_assert(eq(u64, h.generation, 0), "expected generation 0");
	cr_assert(eq(int, (int)h.reload_outcome, SB_RELOAD_NONE),
	    "expected no reload yet");
	cr_assert(eq(str, h.reload_error, ""), "expected no reload error");
	sb_close(&r);
	sb_close(&w);
	cr_assert(eq(ptr, w, NULL), "expected sb_close to NULL the handle");
	sb_close(&w); /* NULL-safe */
}

Test(sb, magic_starts_the_file)
{
	struct sb *w = create(1, 1);
	char head[SB_MAGIC_LEN];
	int fd = open(sbpath, O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "expected to open %s", sbpath);
	cr_assert(eq(sz, (size_t)read(fd, head, sizeof(head)), sizeof(head)),
	    "expected 8 bytes of magic");
	(void)close(fd);
	cr_assert(eq(int, memcmp(head, "PACERSB\0", 8), 0),
	    "expected the file to start with PACERSB\\0");
	sb_close(&w);
}

Test(sb, file_mode_is_0640_whatever_the_umask)
{
	mode_t old = umask(077);
	struct sb *w = create(2, 1);
	struct stat st;

	(void)umask(old);
	cr_assert(eq(int, stat(sbpath, &st), 0), "expected %s to exist",
	    sbpath);
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0640),
	    "expected mode 0640, got %04o", (unsigned)(st.st_mode & 07777));
	cr_assert(eq(sz, (size_t)st.st_size,
	              SB_HEADER_SIZE + 2 * (size_t)SB_SLOT_SIZE),
	    "expected header plus two slots");
	cr_assert(eq(int, count_files(), 1), "expected no temporary file left");
	sb_close(&w);
}

Test(sb, every_slot_starts_open)
{
	struct sb *w = create(SB_MAX_SLOTS, 1), *r = attach();
	uint32_t i;

	for (i = 0; i < SB_MAX_SLOTS; i++) {
		struct sb_slot_view v = read_slot(r, i);

		cr_assert(eq(chr, v.state, '.'), "expected slot %u open", i);
		cr_assert(eq(int, (int)v.pid, 0), "expected no pid in slot %u",
		    i);
		cr_assert(eq(str, v.path, ""), "expected no path in slot %u",
		    i);
	}
	sb_close(&r);
	sb_close(&w);
}

Test(sb, attach_refuses_random_bytes_as_not_a_scoreboard)
{
	unsigned char junk[4096];
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < sizeof(junk); i++) { /* xorshift: fixed, not magic */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (unsigned char)x;
	}
	write_file(sbpath, junk, sizeof(junk));
	attach_fails_with("not a pacerd scoreboard");
	write_file(sbpath, "PAC", 3);
	attach_fails_with("not a pacerd scoreboard");
	write_file(sbpath, "", 0);
	attach_fails_with("not a pacerd scoreboard");
}

Test(sb, attach_refuses_another_abi_version_naming_both)
{
	struct sb *w = create(4, 1);
	char want[128];
	struct buf b;

	sb_close(&w);
	patch_u32(sbpath, offsetof(struct sb_preamble, abi_version), 99);
	buf_init_fixed(&b, want, sizeof(want));
	(void)buf_printf(&b,
	    "scoreboard ABI version 99, this pacerctl "
	    "understands %u",
	    SB_ABI_VERSION);
	attach_fails_with(want);
}

Test(sb, preamble_says_abi_4_and_the_header_with_routes_and_queries)
{
	struct sb *w = create(3, 1);
	struct sb_preamble p;
	int fd = open(sbpath, O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "expected to open %s", sbpath);
	cr_assert(eq(sz, (size_t)pread(fd, &p, sizeof(p), 0), sizeof(p)),
	    "expected a whole preamble");
	(void)close(fd);
	cr_assert(eq(u32, p.abi_version, 4), "expected ABI version 4, got %u",
	    p.abi_version);
	cr_assert(eq(u32, p.header_size, 25600),
	    "expected slot 0 at 25600 (1 KiB, 64 routes of 128 bytes, 64 "
	    "queries of 256 bytes), got %u",
	    p.header_size);
	cr_assert(eq(u32, p.slot_size, 320), "expected 320-byte slots");
	cr_assert(eq(u32, p.nslots, 3), "expected 3 slots");
	sb_close(&w);
}

Test(sb, attach_refuses_an_abi_1_file_naming_the_path)
{
	/* What a version 1 pacerd wrote: a 1 KiB header, then the slots. */
	static unsigned char v1[1024 + 2 * 320];
	struct sb_preamble p = {.abi_version = 1,
	    .header_size = 1024,
	    .slot_size = 320,
	    .nslots = 2};

	memcpy(p.magic, SB_MAGIC, SB_MAGIC_LEN);
	memcpy(v1, &p, sizeof(p));
	write_file(sbpath, v1, sizeof(v1));
	attach_fails_with("scoreboard ABI version 1, this pacerctl understands "
	                  "4 (pacerd and pacerctl come from different builds)");
}

Test(sb, attach_refuses_a_layout_it_does_not_know)
{
	struct sb *w = create(4, 1);

	sb_close(&w);
	patch_u32(sbpath, offsetof(struct sb_preamble, slot_size), 256);
	attach_fails_with("slot size 256");
	patch_u32(sbpath, offsetof(struct sb_preamble, slot_size),
	    SB_SLOT_SIZE);
	patch_u32(sbpath, offsetof(struct sb_preamble, nslots), 0);
	attach_fails_with("0 slots");
	patch_u32(sbpath, offsetof(struct sb_preamble, nslots), 5000);
	attach_fails_with("5000 slots");
}

Test(sb, attach_refuses_a_truncated_file)
{
	struct sb *w = create(8, 1);

	sb_close(&w);
	cr_assert(
	    eq(int, truncate(sbpath, SB_HEADER_SIZE + 3 * (off_t)SB_SLOT_SIZE),
	        0),
	    "expected truncate to work");
	attach_fails_with("truncated scoreboard");
	attach_fails_with("8 slots need");
	cr_assert(eq(int, truncate(sbpath, 100), 0), "expected truncate");
	attach_fails_with("truncated scoreboard (100 bytes, the header needs");
	cr_assert(eq(int, truncate(sbpath, 12), 0), "expected truncate");
	attach_fails_with("truncated scoreboard");
}

Test(sb, attach_names_the_path_and_reason_for_a_missing_file)
{
	attach_fails_with(strerror(ENOENT));
	attach_fails_with("could not open scoreboard");
}

Test(sb, attach_refuses_a_folder)
{
	struct buf b;

	buf_init_fixed(&b, sbpath, sizeof(sbpath));
	(void)buf_puts(&b, dir);
	attach_fails_with("not a pacerd scoreboard");
}

Test(sb, create_replaces_a_stale_file_atomically)
{
	struct sb *old = create(4, 111), *now, *r;
	struct sb_header_view h;

	cr_assert(eq(int, sb_slot_claim(old, 0, 5, 1), 0), "expected claim");
	now = create(6, 222);
	r = attach();
	cr_assert(eq(int, sb_header_read(r, &h), 0), "expected a header");
	cr_assert(eq(int, (int)h.master_pid, 222),
	    "expected the new master pid 222, got %d", (int)h.master_pid);
	cr_assert(eq(u32, sb_nslots(r), 6), "expected the new slot count");
	cr_assert(eq(chr, read_slot(r, 0).state, '.'),
	    "expected the new file's slot 0 open, not the old claim");
	cr_assert(eq(int, count_files(), 1), "expected one file, no temp");
	/* The old master's mapping is its own, detached file. */
	cr_assert(eq(int, sb_slot_claim(old, 0, 7, 1), 0), "expected claim");
	cr_assert(eq(int, (int)read_slot(r, 0).pid, 0),
	    "expected the old mapping to be detached from the new file");
	sb_close(&r);
	sb_close(&old);
	sb_close(&now);
}

Test(sb, create_refuses_bad_arguments_and_a_missing_folder)
{
	struct buf b;

	cr_assert(eq(ptr, sb_create(sbpath, 0, 1, err, sizeof(err)), NULL),
	    "expected 0 slots to be refused");
	cr_assert(not(eq(ptr, strstr(err, "slot count 0"), NULL)),
	    "expected the slot count in the error, got \"%s\"", err);
	cr_assert(eq(ptr,
	              sb_create(sbpath, SB_MAX_SLOTS + 1, 1, err, sizeof(err)),
	              NULL),
	    "expected 4097 slots to be refused");
	cr_assert(eq(ptr, sb_create(sbpath, 1, 0, err, sizeof(err)), NULL),
	    "expected master pid 0 to be refused");
	buf_init_fixed(&b, sbpath, sizeof(sbpath));
	(void)buf_printf(&b, "%s/no/such/folder/x.scoreboard", dir);
	cr_assert(eq(ptr, sb_create(sbpath, 1, 1, err, sizeof(err)), NULL),
	    "expected a missing folder to be refused");
	cr_assert(not(eq(ptr, strstr(err, strerror(ENOENT)), NULL)),
	    "expected ENOENT's text in the error, got \"%s\"", err);
	cr_assert(not(eq(ptr, strstr(err, "/no/such/folder/x.scoreboard"),
	              NULL)),
	    "expected the path in the error, got \"%s\"", err);
}

Test(sb, unlink_removes_its_own_file_but_not_a_newer_one)
{
	struct sb *a = create(1, 1), *b;
	struct stat st;

	b = create(1, 2); /* a newer pacerd took the path */
	cr_assert(eq(int, sb_unlink(a, err, sizeof(err)), 0),
	    "expected 0 for a file that is not ours: %s", err);
	cr_assert(eq(int, stat(sbpath, &st), 0),
	    "expected the newer file to stay");
	cr_assert(eq(int, sb_unlink(b, err, sizeof(err)), 0),
	    "expected to remove our file: %s", err);
	cr_assert(eq(int, stat(sbpath, &st), -1), "expected the file gone");
	cr_assert(eq(int, sb_unlink(b, err, sizeof(err)), 0),
	    "expected 0 when the file is already gone");
	sb_close(&a);
	sb_close(&b);
}

/* ---------------------------------------------------------------- slots */

Test(sb, slot_lifecycle_claim_begin_end_release)
{
	struct sb *w = create(8, 1), *r = attach();
	struct sb_counters_view c;
	struct sb_hist_view hi;
	struct sb_slot_view v;

	cr_assert(eq(int, sb_slot_claim(w, 3, 4242, 7), 0), "expected claim");
	v = read_slot(r, 3);
	cr_assert(eq(int, (int)v.pid, 4242), "expected pid 4242");
	cr_assert(eq(u64, v.generation, 7), "expected generation 7");
	cr_assert(eq(chr, v.state, '_'), "expected a claimed slot waiting");

	cr_assert(eq(int, sb_slot_set_state(w, 3, SB_STATE_READING), 0),
	    "expected set_state");
	cr_assert(eq(chr, read_slot(r, 3).state, 'R'), "expected reading");
	cr_assert(eq(int, sb_slot_set_conns(w, 3, 2, 5, 1), 0),
	    "expected set_conns");
	begin(w, 3, "GET", "/api/v1/activities?page=2", "203.0.113.9",
	    123456789);
	v = read_slot(r, 3);
	cr_assert(eq(chr, v.state, 'W'), "expected handling during a request");
	cr_assert(eq(str, v.method, "GET"), "expected method GET");
	cr_assert(eq(str, v.path, "/api/v1/activities?page=2"),
	    "expected the path");
	cr_assert(eq(str, v.client, "203.0.113.9"), "expected the client");
	cr_assert(eq(u64, v.req_start_us, 123456789), "expected start time");
	cr_assert(eq(u32, v.conn_reading, 2), "expected 2 reading");
	cr_assert(eq(u32, v.conn_keepalive, 5), "expected 5 keep-alive");
	cr_assert(eq(u32, v.conn_writing, 1), "expected 1 writing");

	cr_assert(eq(int, sb_slot_end_request(w, 3, 201, 321, 4567, 1800), 0),
	    "expected end_request");
	cr_assert(eq(int, sb_count_accept(w), 0), "expected count_accept");
	v = read_slot(r, 3);
	cr_assert(eq(chr, v.state, '_'), "expected waiting after a request");
	cr_assert(eq(u16, v.last_status, 201), "expected last status 201");
	cr_assert(eq(u64, v.requests, 1), "expected one request served");
	cr_assert(eq(u64, v.bytes_in, 321), "expected 321 bytes in");
	cr_assert(eq(u64, v.bytes_out, 4567), "expected 4567 bytes out");
	cr_assert(eq(u64, v.last_latency_us, 1800), "expected 1800 us");
	cr_assert(eq(str, v.path, "/api/v1/activities?page=2"),
	    "expected the last request to stay visible");

	cr_assert(eq(int, sb_counters_read(r, &c), 0), "expected counters");
	cr_assert(eq(u64, c.requests, 1), "expected 1 request in total");
	cr_assert(eq(u64, c.status_class[1], 1), "expected one 2xx");
	cr_assert(eq(u64,
	              c.status_class[0] + c.status_class[2] +
	                  c.status_class[3] + c.status_class[4],
	              0),
	    "expected no other status class");
	cr_assert(eq(u64, c.bytes_in, 321), "expected 321 bytes in in total");
	cr_assert(eq(u64, c.bytes_out, 4567), "expected 4567 bytes out");
	cr_assert(eq(u64, c.accepted, 1), "expected one accepted connection");
	cr_assert(eq(int, sb_hist_read(r, &hi), 0), "expected histogram");
	cr_assert(eq(u64, hi.bucket[2], 1), "expected 1.8 ms in le=0.0025");
	cr_assert(eq(u64, hi.count, 1), "expected count 1");
	cr_assert(eq(u64, hi.sum_us, 1800), "expected sum 1800 us");

	cr_assert(eq(int, sb_slot_release(w, 3), 0), "expected release");
	v = read_slot(r, 3);
	cr_assert(eq(chr, v.state, '.'), "expected an open slot");
	cr_assert(eq(int, (int)v.pid, 0), "expected no pid");
	cr_assert(eq(u64, v.requests, 0), "expected counts cleared");
	cr_assert(eq(str, v.path, ""), "expected path cleared");
	cr_assert(eq(int, sb_counters_read(r, &c), 0), "expected counters");
	cr_assert(eq(u64, c.requests, 1), "expected global counts to stay");
	sb_close(&r);
	sb_close(&w);
}

Test(sb, long_text_is_cut_and_terminated)
{
	struct sb *w = create(1, 1);
	char method[64], path[400], client[100];
	struct sb_slot_view v;

	memset(method, 'M', sizeof(method));
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	memset(client, 'c', sizeof(client));
	client[sizeof(client) - 1] = '\0';
	cr_assert(eq(int, sb_slot_claim(w, 0, 9, 1), 0), "expected claim");
	/* Slices: method and path are not NUL-terminated. */
	cr_assert(eq(int,
	              sb_slot_begin_request(w, 0, method, sizeof(method), path,
	                  sizeof(path), client, 1),
	              0),
	    "expected begin_request");
	v = read_slot(w, 0);
	cr_assert(eq(sz, strlen(v.method), SB_METHOD_MAX - 1),
	    "expected the method cut to %d bytes", SB_METHOD_MAX - 1);
	cr_assert(eq(sz, strlen(v.path), SB_PATH_MAX - 1),
	    "expected the path cut to %d bytes", SB_PATH_MAX - 1);
	cr_assert(eq(int, strncmp(v.path, path, SB_PATH_MAX - 1), 0),
	    "expected the path's first bytes kept");
	cr_assert(eq(sz, strlen(v.client), SB_CLIENT_MAX - 1),
	    "expected the client cut to %d bytes", SB_CLIENT_MAX - 1);

	/* A shorter value leaves nothing of the longer one behind, and
	 * bytes that could drive a terminal are stored as '?'. */
	cr_assert(eq(int,
	              sb_slot_begin_request(w, 0, "GET", 3, "/a\x1b[2J\n\x80z",
	                  9, NULL, 2),
	              0),
	    "expected begin_request");
	v = read_slot(w, 0);
	cr_assert(eq(str, v.method, "GET"), "expected GET, got %s", v.method);
	cr_assert(eq(str, v.path, "/a?[2J??z"), "expected escapes as '?'");
	cr_assert(eq(str, v.client, ""), "expected no client for NULL");
	cr_assert(eq(int,
	              sb_slot_begin_request(w, 0, "GET", 3, "/x\0y", 4, "", 3),
	              0),
	    "expected begin_request");
	cr_assert(eq(str, read_slot(w, 0).path, "/x?y"),
	    "expected an embedded NUL stored as '?'");
	sb_close(&w);
}

Test(sb, histogram_bound_is_inclusive_and_inf_catches_the_rest)
{
	/* le semantics: a latency equal to a bound is in that bucket. */
	static const struct {
		uint64_t us;
		unsigned bucket;
	} cases[] = {{0, 0}, {500, 0}, {501, 1}, {1000, 1}, {1001, 2},
	    {2500, 2}, {5000, 3}, {10000, 4}, {25000, 5}, {50000, 6},
	    {100000, 7}, {250000, 8}, {500000, 9}, {1000000, 10}, {2500000, 11},
	    {5000000, 12}, {10000000, 13}, {10000001, 14}, {3600000000u, 14}};
	static const char *const le[SB_HIST_NBUCKETS] = {"0.0005", "0.001",
	    "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	    "1", "2.5", "5", "10", "+Inf"};
	struct sb *w = create(1, 1);
	uint64_t want[SB_HIST_NBUCKETS] = {0}, sum = 0;
	struct sb_hist_view h;
	size_t k;

	cr_assert(eq(int, sb_slot_claim(w, 0, 9, 1), 0), "expected claim");
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		cr_assert(eq(int,
		              sb_slot_end_request(w, 0, 200, 0, 0, cases[k].us),
		              0),
		    "expected end_request");
		want[cases[k].bucket]++;
		sum += cases[k].us;
	}
	cr_assert(eq(int, sb_hist_read(w, &h), 0), "expected histogram");
	for (k = 0; k < SB_HIST_NBUCKETS; k++) {
		cr_assert(eq(u64, h.bucket[k], want[k]),
		    "expected %llu in bucket le=%s, got %llu",
		    (unsigned long long)want[k], le[k],
		    (unsigned long long)h.bucket[k]);
		cr_assert(eq(str, (char *)sb_hist_le((unsigned)k),
		              (char *)le[k]),
		    "expected label %s for bucket %zu", le[k], k);
	}
	cr_assert(eq(u64, h.count, sizeof(cases) / sizeof(cases[0])),
	    "expected count = requests");
	cr_assert(eq(u64, h.sum_us, sum), "expected the sum of latencies");
	cr_assert(eq(u64, sb_hist_bound_us(0), 500), "expected 500 us first");
	cr_assert(eq(u64, sb_hist_bound_us(13), 10000000), "expected 10 s");
	cr_assert(eq(u64, sb_hist_bound_us(14), UINT64_MAX), "expected +Inf");
	sb_close(&w);
}

Test(sb, status_classes_and_odd_statuses)
{
	struct sb *w = create(1, 1);
	static const int statuses[] = {101, 200, 204, 302, 404, 429, 503, 0, 99,
	    600, -1};
	struct sb_counters_view c;
	size_t k;

	cr_assert(eq(int, sb_slot_claim(w, 0, 9, 1), 0), "expected claim");
	for (k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
		cr_assert(eq(int,
		              sb_slot_end_request(w, 0, statuses[k], 1, 2, 3),
		              0),
		    "expected end_request");
	cr_assert(eq(int, sb_counters_read(w, &c), 0), "expected counters");
	cr_assert(eq(u64, c.requests, 11), "expected every request counted");
	cr_assert(eq(u64, c.status_class[0], 1), "expected one 1xx");
	cr_assert(eq(u64, c.status_class[1], 2), "expected two 2xx");
	cr_assert(eq(u64, c.status_class[2], 1), "expected one 3xx");
	cr_assert(eq(u64, c.status_class[3], 2), "expected two 4xx");
	cr_assert(eq(u64, c.status_class[4], 1), "expected one 5xx");
	cr_assert(eq(u16, read_slot(w, 0).last_status, 0),
	    "expected a status out of range stored as 0");
	sb_close(&w);
}

Test(sb, finishing_worker_stays_finishing_through_a_request)
{
	struct sb *w = create(1, 1);

	cr_assert(eq(int, sb_slot_claim(w, 0, 9, 1), 0), "expected claim");
	cr_assert(eq(int, sb_slot_set_state(w, 0, SB_STATE_FINISHING), 0),
	    "expected set_state G");
	begin(w, 0, "GET", "/", "192.0.2.1", 1);
	cr_assert(eq(chr, read_slot(w, 0).state, 'G'), "expected G kept");
	cr_assert(eq(int, sb_slot_end_request(w, 0, 200, 0, 0, 1), 0),
	    "expected end_request");
	cr_assert(eq(chr, read_slot(w, 0).state, 'G'), "expected G kept");
	sb_close(&w);
}

Test(sb, writers_refuse_bad_arguments_and_read_only_handles)
{
	struct sb *w = create(2, 1), *r = attach();
	struct sb_slot_view v;

	cr_assert(eq(int, sb_slot_claim(w, 2, 9, 1), -1),
	    "expected index 2 "
	    "of 2 refused");
	cr_assert(eq(int, sb_slot_set_state(w, 0, (enum sb_state)'x'), -1),
	    "expected state 'x' refused");
	cr_assert(eq(int, sb_slot_set_state(w, 0, (enum sb_state)0), -1),
	    "expected state NUL refused");
	cr_assert(eq(int, sb_slot_claim(r, 0, 9, 1), -1),
	    "expected a read-only handle to refuse writes");
	cr_assert(eq(int, sb_set_generation(r, 3), -1),
	    "expected a read-only handle to refuse header writes");
	cr_assert(eq(int, sb_count_exit(w, SB_EXIT_NREASONS), -1),
	    "expected an unknown exit reason refused");
	cr_assert(eq(int, sb_slot_end_request(NULL, 0, 200, 0, 0, 0), -1),
	    "expected a NULL handle refused");
	cr_assert(eq(int, sb_slot_read(r, 2, &v), -1),
	    "expected index 2 "
	    "refused by the reader");
	cr_assert(eq(int, errno, EINVAL), "expected EINVAL");
	cr_assert(eq(int, sb_unlink(r, err, sizeof(err)), -1),
	    "expected sb_unlink to refuse an attached handle");
	sb_close(&r);
	sb_close(&w);
}

Test(sb, slot_left_mid_update_reads_unstable_until_released)
{
	struct sb *w = create(2, 1);
	struct sb_slot_view v;

	cr_assert(eq(int, sb_slot_claim(w, 1, 9, 1), 0), "expected claim");
	/* A worker killed between write_begin and write_end leaves its
	 * change counter (offset 0 of the slot) odd. */
	patch_u32(sbpath, SB_HEADER_SIZE + SB_SLOT_SIZE, 7);
	cr_assert(eq(int, sb_slot_read(w, 1, &v), -1),
	    "expected a slot stuck mid-update to read as unstable");
	cr_assert(eq(int, errno, EAGAIN), "expected EAGAIN");
	cr_assert(eq(u32, v.retries, SB_READ_TRIES), "expected every try used");
	cr_assert(eq(int, sb_slot_release(w, 1), 0), "expected release");
	v = read_slot(w, 1);
	cr_assert(eq(chr, v.state, '.'), "expected the reaped slot open");
	sb_close(&w);
}

/* ------------------------------------------------------- recycle flags */

Test(sb, want_recycle_is_ored_then_cleared_by_claim_and_release)
{
	struct sb *w = create(2, 1), *r = attach();

	cr_assert(eq(int, sb_slot_claim(w, 1, 77, 1), 0), "expected claim");
	cr_assert(eq(u32, read_slot(r, 1).want_recycle, 0),
	    "expected a fresh claim not to ask for recycling");
	cr_assert(eq(int, sb_slot_want_recycle(w, 1, SB_RECYCLE_REQUESTS), 0),
	    "expected want_recycle(requests)");
	cr_assert(eq(u32, read_slot(r, 1).want_recycle, SB_RECYCLE_REQUESTS),
	    "expected the requests bit");
	cr_assert(eq(int, sb_slot_want_recycle(w, 1, SB_RECYCLE_RSS), 0),
	    "expected want_recycle(rss)");
	cr_assert(eq(u32, read_slot(r, 1).want_recycle,
	              SB_RECYCLE_REQUESTS | SB_RECYCLE_RSS),
	    "expected both bits, the second or'ed into the first");
	cr_assert(eq(int, sb_slot_want_recycle(w, 1, SB_RECYCLE_RSS), 0),
	    "expected asking twice to be fine");
	cr_assert(eq(u32, read_slot(r, 0).want_recycle, 0),
	    "expected the other slot untouched");

	cr_assert(eq(int, sb_slot_claim(w, 1, 78, 2), 0), "expected reclaim");
	cr_assert(eq(u32, read_slot(r, 1).want_recycle, 0),
	    "expected claim to clear the flags");
	cr_assert(eq(int, sb_slot_want_recycle(w, 1, SB_RECYCLE_RSS), 0),
	    "expected want_recycle(rss)");
	cr_assert(eq(int, sb_slot_release(w, 1), 0), "expected release");
	cr_assert(eq(u32, read_slot(r, 1).want_recycle, 0),
	    "expected release to clear the flags");
	sb_close(&r);
	sb_close(&w);
}

Test(sb, want_recycle_refuses_bad_reasons_and_handles)
{
	struct sb *w = create(2, 1), *r = attach();

	cr_assert(eq(int, sb_slot_claim(w, 0, 77, 1), 0), "expected claim");
	cr_assert(eq(int, sb_slot_want_recycle(w, 0, 0), -1),
	    "expected no reason refused");
	cr_assert(eq(int, sb_slot_want_recycle(w, 0, 0x4), -1),
	    "expected an unknown bit refused");
	cr_assert(eq(int, sb_slot_want_recycle(w, 0, SB_RECYCLE_RSS | 0x80),
	              -1),
	    "expected a known bit with an unknown one refused");
	cr_assert(eq(int, sb_slot_want_recycle(w, 2, SB_RECYCLE_RSS), -1),
	    "expected index 2 of 2 refused");
	cr_assert(eq(int, sb_slot_want_recycle(r, 0, SB_RECYCLE_RSS), -1),
	    "expected a read-only handle refused");
	cr_assert(eq(int, sb_slot_want_recycle(NULL, 0, SB_RECYCLE_RSS), -1),
	    "expected a NULL handle refused");
	cr_assert(eq(u32, read_slot(r, 0).want_recycle, 0),
	    "expected nothing set by the refused calls");
	sb_close(&r);
	sb_close(&w);
}

/* --------------------------------------------------------------- routes */

/* Where route r's record starts in the file: the layout sb.c pins (the
 * first kilobyte, then 128 bytes per route, the state word first). */
#define ROUTE_OFFSET(r) (1024 + (off_t)(r)*128)

static struct sb_route_view read_route(const struct sb *sb, uint32_t r)
{
	struct sb_route_view v;

	cr_assert(eq(int, sb_route_read(sb, r, &v), 0),
	    "expected route %u to read: %s", r, strerror(errno));
	return v;
}

static void register_ok(struct sb *sb, uint32_t r, const char *label)
{
	cr_assert(eq(int, sb_route_register(sb, r, label), 0),
	    "expected route %u to register as \"%s\": %s", r, label,
	    strerror(errno));
}

/* sb_route_register must refuse, with errno want. */
static void register_fails(struct sb *sb, uint32_t r, const char *label,
    int want)
{
	int rc;

	errno = 0;
	rc = sb_route_register(sb, r, label);
	cr_assert(eq(int, rc, -1), "expected route %u \"%s\" refused", r,
	    label == NULL ? "(null)" : label);
	cr_assert(eq(int, errno, want),
	    "expected route %u \"%s\" refused with \"%s\", got \"%s\"", r,
	    label == NULL ? "(null)" : label, strerror(want), strerror(errno));
}

/* sb_route_read must give -1 with errno want and a zeroed view. */
static void read_fails(const struct sb *sb, uint32_t r, int want)
{
	struct sb_route_view v;
	int rc;

	memset(&v, 'x', sizeof(v));
	errno = 0;
	rc = sb_route_read(sb, r, &v);
	cr_assert(eq(int, rc, -1), "expected route %u not to read", r);
	cr_assert(eq(int, errno, want),
	    "expected \"%s\" for route %u, got \"%s\"", strerror(want), r,
	    strerror(errno));
	cr_assert(eq(str, v.label, ""), "expected no label in a failed read");
	cr_assert(eq(u64, v.count, 0), "expected no count in a failed read");
}

static void count_ok(struct sb *sb, uint32_t r, int status, uint64_t us)
{
	cr_assert(eq(int, sb_route_count(sb, r, status, us), 0),
	    "expected to count status %d on route %u: %s", status, r,
	    strerror(errno));
}

Test(sb, route_register_count_read_round_trip)
{
	static const int statuses[] = {101, 200, 204, 302, 404, 429, 503};
	static const uint64_t want[5] = {1, 2, 1, 2, 1};
	struct sb *w = create(2, 1), *r = attach();
	struct sb_route_view v;
	uint64_t sum = 0;
	size_t k;

	register_ok(w, 0, "health_live");
	register_ok(w, SB_MAX_ROUTES - 1, "api_v1_users");
	for (k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++) {
		count_ok(w, 0, statuses[k], 100 * (k + 1));
		sum += 100 * (k + 1);
	}
	v = read_route(r, 0); /* read-only, as pacerctl and /metrics */
	cr_assert(eq(str, v.label, "health_live"), "expected the label");
	for (k = 0; k < 5; k++)
		cr_assert(eq(u64, v.status_class[k], want[k]),
		    "expected %llu %zuxx, got %llu",
		    (unsigned long long)want[k], k + 1,
		    (unsigned long long)v.status_class[k]);
	cr_assert(eq(u64, v.count, 7), "expected count = sum of classes");
	cr_assert(eq(u64, v.sum_us, sum), "expected the latency sum %llu",
	    (unsigned long long)sum);

	v = read_route(r, SB_MAX_ROUTES - 1);
	cr_assert(eq(str, v.label, "api_v1_users"), "expected the last route");
	cr_assert(eq(u64, v.count + v.sum_us, 0), "expected it at zero");
	count_ok(w, SB_MAX_ROUTES - 1, 500, 42);
	v = read_route(r, SB_MAX_ROUTES - 1);
	cr_assert(eq(u64, v.status_class[4], 1), "expected one 5xx");
	cr_assert(eq(u64, v.sum_us, 42), "expected 42 us");
	cr_assert(eq(u64, read_route(r, 0).count, 7),
	    "expected the other route untouched");
	read_fails(r, 1, ENOENT);
	sb_close(&r);
	sb_close(&w);
}

Test(sb, route_status_outside_100_to_599_counts_nowhere)
{
	static const int statuses[] = {0, 99, 600, 999, -1, INT_MIN, INT_MAX};
	struct sb *w = create(1, 1);
	struct sb_route_view v;
	size_t k;

	register_ok(w, 2, "odd");
	for (k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
		count_ok(w, 2, statuses[k], 1000);
	v = read_route(w, 2);
	cr_assert(eq(u64, v.count, 0), "expected no class counted");
	cr_assert(eq(u64, v.sum_us, 0),
	    "expected no latency added for an uncounted request");
	count_ok(w, 2, 599, 7);
	count_ok(w, 2, 100, 8);
	v = read_route(w, 2);
	cr_assert(eq(u64, v.status_class[0], 1), "expected 100 as 1xx");
	cr_assert(eq(u64, v.status_class[4], 1), "expected 599 as 5xx");
	cr_assert(eq(u64, v.sum_us, 15), "expected their latency");
	sb_close(&w);
}

Test(sb, route_registration_is_idempotent_for_the_same_label_only)
{
	struct sb *w = create(1, 1);

	register_ok(w, 4, "mcp");
	count_ok(w, 4, 200, 10);
	register_ok(w, 4, "mcp"); /* every worker registers every route */
	register_fails(w, 4, "mcp_v2", EEXIST);
	register_fails(w, 4, "mc", EEXIST); /* a prefix is another label */
	register_fails(w, 4, "mcpx", EEXIST);
	cr_assert(eq(str, read_route(w, 4).label, "mcp"),
	    "expected the first label kept");
	cr_assert(eq(u64, read_route(w, 4).count, 1),
	    "expected its counts kept");
	sb_close(&w);
}

Test(sb, route_bad_labels_indexes_and_handles_are_refused)
{
	static const char *const bad[] = {"", "Health", "a-b", "a b", "a.b",
	    "a/b", "caf\xc3\xa9", "a\n", "a\"b", "{x}"};
	struct sb *w = create(1, 1), *r = attach();
	char longest[SB_ROUTE_LABEL_MAX + 1];
	struct sb_route_view v;
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		register_fails(w, 0, bad[k], EINVAL);
	register_fails(w, 0, NULL, EINVAL);
	memset(longest, 'z', sizeof(longest));
	longest[SB_ROUTE_LABEL_MAX] = '\0'; /* 32 characters: one too many */
	register_fails(w, 0, longest, EINVAL);
	longest[SB_ROUTE_LABEL_MAX - 1] = '\0'; /* 31: the longest allowed */
	register_ok(w, 1, longest);
	cr_assert(eq(str, read_route(r, 1).label, longest),
	    "expected a 31-character label whole");
	register_ok(w, 2, "0_9_az");
	register_fails(w, SB_MAX_ROUTES, "x", EINVAL);
	register_fails(w, UINT32_MAX, "x", EINVAL);
	register_fails(r, 3, "x", EINVAL); /* read-only, as pacerctl's */
	register_fails(NULL, 3, "x", EINVAL);
	read_fails(w, 0, ENOENT); /* nothing left by the refusals */
	read_fails(w, 3, ENOENT);
	read_fails(w, SB_MAX_ROUTES, EINVAL);
	read_fails(NULL, 1, EINVAL);
	errno = 0;
	cr_assert(eq(int, sb_route_count(w, SB_MAX_ROUTES, 200, 1), -1),
	    "expected a count on route 64 refused");
	cr_assert(eq(int, errno, EINVAL), "expected EINVAL");
	cr_assert(eq(int, sb_route_count(r, 1, 200, 1), -1),
	    "expected a count through a read-only handle refused");
	cr_assert(eq(int, sb_route_read(r, 1, &v), 0), "expected route 1");
	cr_assert(eq(u64, v.count, 0), "expected nothing counted");
	sb_close(&r);
	sb_close(&w);
}

Test(sb, unregistered_route_reads_enoent_and_counts_nothing)
{
	struct sb *w = create(1, 1);

	read_fails(w, 3, ENOENT);
	errno = 0;
	cr_assert(eq(int, sb_route_count(w, 3, 200, 5), -1),
	    "expected a count on an unregistered route refused");
	cr_assert(eq(int, errno, ENOENT), "expected ENOENT, got %s",
	    strerror(errno));
	register_ok(w, 3, "late");
	cr_assert(eq(u64, read_route(w, 3).count, 0),
	    "expected the refused count not to show after registration");
	cr_assert(eq(u64, read_route(w, 3).sum_us, 0),
	    "expected no latency from the refused count");
	sb_close(&w);
}

Test(sb, route_left_mid_registration_is_refused_not_waited_on_forever)
{
	struct sb *w = create(1, 1);

	/* A worker killed between its compare-and-swap and the release
	 * store leaves the state word at 1 (label being written). */
	patch_u32(sbpath, ROUTE_OFFSET(6), 1);
	register_fails(w, 6, "stuck", EAGAIN);
	read_fails(w, 6, ENOENT);
	errno = 0;
	cr_assert(eq(int, sb_route_count(w, 6, 200, 1), -1),
	    "expected no counting into a half-registered route");
	cr_assert(eq(int, errno, ENOENT), "expected ENOENT");
	register_ok(w, 7, "next_one"); /* its neighbours still work */
	sb_close(&w);
}

/* ---------------------------------------------------- queries, data layer */

#define QUERY_OFFSET(q) (1024 + 64 * 128 + (off_t)(q)*256)

Test(sb, query_register_count_read_round_trip)
{
	struct sb *w = create(2, 1);
	struct sb *r;
	struct sb_query_view v;
	bool ok;

	cr_assert(eq(int, sb_query_register(w, 0, "health_ready"), 0));
	cr_assert(eq(int, sb_query_register(w, 0, "health_ready"), 0),
	    "expected registering the same label again to be fine");
	errno = 0;
	cr_assert(eq(int, sb_query_register(w, 0, "other"), -1));
	cr_assert(eq(int, errno, EEXIST));
	cr_assert(eq(int, sb_query_count(w, 0, true, 300), 0));  /* <=0.5ms */
	cr_assert(eq(int, sb_query_count(w, 0, true, 3000), 0)); /* <=5ms */
	cr_assert(eq(int, sb_query_count(w, 0, false, 20000000), 0)); /* +Inf */
	errno = 0;
	cr_assert(eq(int, sb_query_count(w, 1, true, 1), -1),
	    "expected no counting into an unregistered query");
	cr_assert(eq(int, errno, ENOENT));
	r = attach();
	cr_assert(eq(int, sb_query_read(r, 0, &v), 0));
	cr_assert(eq(str, v.label, "health_ready"));
	cr_assert(eq(u64, v.count, 3));
	cr_assert(eq(u64, v.errors, 1));
	cr_assert(eq(u64, v.sum_us, 20003300));
	cr_assert(eq(u64, v.bucket[0], 1));
	cr_assert(eq(u64, v.bucket[3], 1));
	cr_assert(eq(u64, v.bucket[SB_HIST_NBUCKETS - 1], 1));
	errno = 0;
	ok = sb_query_read(r, 1, &v) == -1 && errno == ENOENT;
	cr_assert(ok, "expected query 1 to read as not registered");
	errno = 0;
	ok = sb_query_read(r, SB_MAX_QUERIES, &v) == -1 && errno == EINVAL;
	cr_assert(ok, "expected an index out of range to be refused");
	errno = 0;
	ok = sb_query_register(r, 2, "x") == -1 && errno == EINVAL;
	cr_assert(ok, "expected a read-only handle to be refused");
	ok = sb_query_register(w, 2, "Bad-Label") == -1 && errno == EINVAL;
	cr_assert(ok, "expected a label outside [a-z0-9_] to be refused");
	sb_close(&r);
	sb_close(&w);
}

Test(sb, query_left_mid_registration_is_refused)
{
	struct sb *w = create(1, 1);
	bool ok;

	patch_u32(sbpath, QUERY_OFFSET(4), 1);
	errno = 0;
	ok = sb_query_register(w, 4, "stuck") == -1 && errno == EAGAIN;
	cr_assert(ok, "expected EAGAIN for a half-registered query");
	cr_assert(eq(int, sb_query_register(w, 5, "next_one"), 0));
	sb_close(&w);
}

Test(sb, data_counters_and_db_state)
{
	struct sb *w = create(2, 1);
	struct sb *r;
	uint64_t d[SB_DATA_NCOUNTERS];
	struct sb_slot_view v;

	cr_assert(eq(int, sb_slot_claim(w, 1, 4242, 1), 0));
	cr_assert(eq(int, sb_data_count(w, SB_DATA_DB_RECONNECTS), 0));
	cr_assert(eq(int, sb_data_count(w, SB_DATA_DB_RECONNECTS), 0));
	cr_assert(eq(int, sb_data_count(w, SB_DATA_REDIS_ERRORS), 0));
	cr_assert(eq(int, sb_data_count(w, SB_DATA_NCOUNTERS), -1));
	cr_assert(eq(int, sb_slot_set_db_state(w, 1, SB_DB_DOWN), 0));
	cr_assert(eq(int, sb_slot_set_db_state(w, 1, SB_DB_NSTATES), -1));
	r = attach();
	cr_assert(eq(int, sb_data_count(r, SB_DATA_DB_ERRORS), -1),
	    "expected a read-only handle to be refused");
	cr_assert(eq(int, sb_data_read(r, d), 0));
	cr_assert(eq(u64, d[SB_DATA_DB_RECONNECTS], 2));
	cr_assert(eq(u64, d[SB_DATA_REDIS_ERRORS], 1));
	cr_assert(eq(u64, d[SB_DATA_DB_ERRORS], 0));
	v = read_slot(r, 1);
	cr_assert(eq(u8, v.db_state, SB_DB_DOWN));
	cr_assert(eq(str, (char *)sb_db_state_name(v.db_state), "down"));
	cr_assert(eq(str, (char *)sb_db_state_name(9), "unknown"));
	/* A new owner starts with no connection. */
	cr_assert(eq(int, sb_slot_release(w, 1), 0));
	cr_assert(eq(int, sb_slot_claim(w, 1, 4243, 1), 0));
	cr_assert(eq(u8, read_slot(r, 1).db_state, SB_DB_NONE));
	sb_close(&r);
	sb_close(&w);
}

/* Forked "workers" that start together on a shared flag. */
#define RACE_CHILDREN 8
#define RACE_DISTINCT 48 /* routes 0-47: each child its own label */
#define COUNT_EACH 20000

struct race {
	atomic_int ready;
	atomic_int go;
	atomic_int at[SB_MAX_ROUTES];         /* children arrived at route r */
	int rc[RACE_CHILDREN][SB_MAX_ROUTES]; /* each child its own row */
	int err[RACE_CHILDREN][SB_MAX_ROUTES];
};

static struct race *race_new(void)
{
	size_t k;
	struct race *rc = mmap(NULL, sizeof(*rc), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	cr_assert(not(eq(ptr, rc, MAP_FAILED)), "expected a shared page");
	memset(rc, 0, sizeof(*rc));
	atomic_init(&rc->ready, 0);
	atomic_init(&rc->go, 0);
	for (k = 0; k < SB_MAX_ROUTES; k++)
		atomic_init(&rc->at[k], 0);
	return rc;
}

/* The child's side of the start line: at most 10 s, then give up. */
static void race_wait(struct race *rc)
{
	uint64_t t0 = sb_clock_us();

	atomic_fetch_add(&rc->ready, 1);
	while (atomic_load(&rc->go) == 0)
		if (sb_clock_us() - t0 > 10000000)
			_exit(3);
}

/* A barrier per route: every child reaches route r, then all race on it
 * (on a host with few CPUs, a child that ran ahead would otherwise win
 * every route before the others are scheduled). */
static void race_line_up(struct race *rc, uint32_t r)
{
	uint64_t t0 = sb_clock_us();

	atomic_fetch_add(&rc->at[r], 1);
	while (atomic_load(&rc->at[r]) < RACE_CHILDREN) {
		(void)sched_yield();
		if (sb_clock_us() - t0 > 10000000)
			_exit(4);
	}
}

/* Fork n children running fn(c), let them go together, reap them all. */
static void race_run(struct race *rc, int n, void (*fn)(struct race *, int))
{
	pid_t pids[RACE_CHILDREN];
	uint64_t t0;
	int c;

	for (c = 0; c < n; c++) {
		pids[c] = fork();
		cr_assert(pids[c] >= 0, "expected fork to work");
		if (pids[c] == 0) {
			race_wait(rc);
			fn(rc, c);
			_exit(0);
		}
	}
	t0 = sb_clock_us();
	while (atomic_load(&rc->ready) < n && sb_clock_us() - t0 < 10000000)
		(void)sched_yield();
	atomic_store(&rc->go, 1);
	for (c = 0; c < n; c++)
		cr_assert(eq(int, reap(pids[c]), 0),
		    "expected child %d to exit 0 (3: never started, 4: "
		    "stuck at a barrier)",
		    c);
}

static struct sb *race_sb;

static void race_register(struct race *rc, int c)
{
	char label[SB_ROUTE_LABEL_MAX];
	uint32_t r;

	for (r = 0; r < SB_MAX_ROUTES; r++) {
		if (r < RACE_DISTINCT)
			(void)snprintf(label, sizeof(label), "child_%d", c);
		else
			(void)snprintf(label, sizeof(label), "same_for_all");
		race_line_up(rc, r);
		errno = 0;
		rc->rc[c][r] = sb_route_register(race_sb, r, label);
		rc->err[c][r] = errno;
	}
}

Test(sb, concurrent_registration_leaves_exactly_one_label, .timeout = 60)
{
	struct race *rc = race_new();
	struct sb *r;
	unsigned winners_by_child[RACE_CHILDREN] = {0};
	uint32_t route;
	int c;

	race_sb = create(RACE_CHILDREN, 1);
	r = attach();
	race_run(rc, RACE_CHILDREN, race_register);
	for (route = 0; route < SB_MAX_ROUTES; route++) {
		struct sb_route_view v = read_route(r, route);
		char want[SB_ROUTE_LABEL_MAX];
		int won = 0, winner = -1;

		for (c = 0; c < RACE_CHILDREN; c++) {
			if (rc->rc[c][route] == 0) {
				won++;
				winner = c;
				continue;
			}
			cr_assert(eq(int, rc->err[c][route], EEXIST),
			    "expected child %d to lose route %u with EEXIST, "
			    "got rc %d: %s",
			    c, route, rc->rc[c][route],
			    strerror(rc->err[c][route]));
		}
		if (route >= RACE_DISTINCT) {
			cr_assert(eq(int, won, RACE_CHILDREN),
			    "expected every child to register the shared "
			    "label of route %u, %d did",
			    route, won);
			cr_assert(eq(str, v.label, "same_for_all"),
			    "expected route %u's shared label", route);
			continue;
		}
		cr_assert(eq(int, won, 1),
		    "expected exactly one winner for route %u, got %d", route,
		    won);
		(void)snprintf(want, sizeof(want), "child_%d", winner);
		cr_assert(eq(str, v.label, want),
		    "expected route %u to carry the winner's label %s", route,
		    want);
		winners_by_child[winner]++;
	}
	cr_log_info("route race: wins per child %u %u %u %u %u %u %u %u",
	    winners_by_child[0], winners_by_child[1], winners_by_child[2],
	    winners_by_child[3], winners_by_child[4], winners_by_child[5],
	    winners_by_child[6], winners_by_child[7]);
	(void)munmap(rc, sizeof(*rc));
	sb_close(&r);
	sb_close(&race_sb);
}

/* Child c's k-th request: a status whose class cycles, a latency. */
static int count_status(int c, int k)
{
	return 100 * (1 + (k + c) % 5) + k % 100;
}

static uint64_t count_latency(int c, int k)
{
	return (uint64_t)(k % 1000) * 3 + (uint64_t)c;
}

static void race_count(struct race *rc, int c)
{
	int k;

	/* Each worker registers what it serves, as at start-up. */
	if (sb_route_register(race_sb, 9, "counted") != 0 ||
	    sb_route_register(race_sb, 10, "tenth") != 0)
		_exit(1);
	for (k = 0; k < COUNT_EACH; k++) {
		if (sb_route_count(race_sb, 9, count_status(c, k),
		        count_latency(c, k)) != 0)
			_exit(1);
		if (k % 10 == 0 && sb_route_count(race_sb, 10, 200, 1) != 0)
			_exit(1);
	}
	rc->rc[c][0] = 1;
}

Test(sb, counts_from_concurrent_workers_add_up_exactly, .timeout = 60)
{
	struct race *rc = race_new();
	uint64_t want[5] = {0}, sum = 0;
	struct sb_route_view v;
	struct sb *r;
	int c, k;

	race_sb = create(RACE_CHILDREN, 1);
	r = attach();
	race_run(rc, RACE_CHILDREN, race_count);
	for (c = 0; c < RACE_CHILDREN; c++) {
		cr_assert(eq(int, rc->rc[c][0], 1),
		    "expected child %d to finish its loop", c);
		for (k = 0; k < COUNT_EACH; k++) {
			want[count_status(c, k) / 100 - 1]++;
			sum += count_latency(c, k);
		}
	}
	v = read_route(r, 9);
	for (k = 0; k < 5; k++)
		cr_assert(eq(u64, v.status_class[k], want[k]),
		    "expected %llu %dxx, got %llu", (unsigned long long)want[k],
		    k + 1, (unsigned long long)v.status_class[k]);
	cr_assert(eq(u64, v.count, (uint64_t)RACE_CHILDREN * COUNT_EACH),
	    "expected every request of every child");
	cr_assert(eq(u64, v.sum_us, sum), "expected latency sum %llu, got %llu",
	    (unsigned long long)sum, (unsigned long long)v.sum_us);
	v = read_route(r, 10);
	cr_assert(eq(u64, v.status_class[1],
	              (uint64_t)RACE_CHILDREN * (COUNT_EACH / 10)),
	    "expected the second route's 2xx to add up");
	cr_assert(eq(u64, v.sum_us,
	              (uint64_t)RACE_CHILDREN * (COUNT_EACH / 10)),
	    "expected the second route's latency to add up");
	(void)munmap(rc, sizeof(*rc));
	sb_close(&r);
	sb_close(&race_sb);
}

/* ---------------------------------------------------------- the header */

Test(sb, reload_record_ok_then_failed_with_a_long_error)
{
	struct sb *w = create(1, 1), *r = attach();
	struct sb_counters_view c;
	struct sb_header_view h;
	char long_err[400];

	cr_assert(eq(int, sb_set_generation(w, 2), 0), "expected generation");
	cr_assert(eq(int, sb_record_reload(w, true, 1700000000, "ignored"), 0),
	    "expected record_reload ok");
	cr_assert(eq(int, sb_header_read(r, &h), 0), "expected a header");
	cr_assert(eq(u64, h.generation, 2), "expected generation 2");
	cr_assert(eq(int, (int)h.reload_outcome, SB_RELOAD_OK),
	    "expected the last reload ok");
	cr_assert(eq(i64, h.reload_time, 1700000000), "expected its time");
	cr_assert(eq(str, h.reload_error, ""), "expected no error when ok");

	memset(long_err, 'e', sizeof(long_err) - 1);
	long_err[sizeof(long_err) - 1] = '\0';
	memcpy(long_err, "pacerd.conf:3: ", 15);
	cr_assert(eq(int, sb_record_reload(w, false, 1700000100, long_err), 0),
	    "expected record_reload failed");
	cr_assert(eq(int, sb_header_read(r, &h), 0), "expected a header");
	cr_assert(eq(int, (int)h.reload_outcome, SB_RELOAD_FAILED),
	    "expected the last reload failed");
	cr_assert(eq(i64, h.reload_time, 1700000100), "expected its time");
	cr_assert(eq(sz, strlen(h.reload_error), SB_RELOAD_ERROR_MAX - 1),
	    "expected the error cut to %d bytes", SB_RELOAD_ERROR_MAX - 1);
	cr_assert(eq(int, strncmp(h.reload_error, long_err, 20), 0),
	    "expected the error's start kept");

	cr_assert(eq(int, sb_record_reload(w, true, 1700000200, NULL), 0),
	    "expected record_reload ok");
	cr_assert(eq(int, sb_header_read(r, &h), 0), "expected a header");
	cr_assert(eq(str, h.reload_error, ""), "expected the error cleared");
	cr_assert(eq(int, sb_counters_read(r, &c), 0), "expected counters");
	cr_assert(eq(u64, c.reloads_ok, 2), "expected two good reloads");
	cr_assert(eq(u64, c.reloads_failed, 1), "expected one failed reload");
	sb_close(&r);
	sb_close(&w);
}

Test(sb, exit_reasons_are_counted_and_named)
{
	static const char *const names[] = {"clean", "crash", "watchdog",
	    "recycled"};
	struct sb *w = create(1, 1);
	struct sb_counters_view c;
	unsigned k, n;

	for (k = 0; k < SB_EXIT_NREASONS; k++)
		for (n = 0; n <= k; n++)
			cr_assert(eq(int,
			              sb_count_exit(w, (enum sb_exit_reason)k),
			              0),
			    "expected count_exit");
	cr_assert(eq(int, sb_counters_read(w, &c), 0), "expected counters");
	for (k = 0; k < SB_EXIT_NREASONS; k++) {
		cr_assert(eq(u64, c.exits[k], k + 1), "expected %u %s exits",
		    k + 1, names[k]);
		cr_assert(
		    eq(str, (char *)sb_exit_reason_name((enum sb_exit_reason)k),
		        (char *)names[k]),
		    "expected the name %s", names[k]);
	}
	sb_close(&w);
}

Test(sb, state_names_for_status_output)
{
	static const struct {
		char c;
		const char *name;
	} t[] = {{'_', "waiting"}, {'R', "reading"}, {'W', "handling"},
	    {'K', "keep-alive"}, {'G', "finishing"}, {'S', "streaming"},
	    {'.', "open"}, {'x', "unknown"}, {'\0', "unknown"}};
	size_t k;

	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++)
		cr_assert(eq(str, (char *)sb_state_name(t[k].c),
		              (char *)t[k].name),
		    "expected '%c' to be %s", t[k].c, t[k].name);
}

Test(sb, read_only_attach_sees_the_writers_updates)
{
	struct sb *w = create(4, 1), *r = attach();
	struct sb_counters_view c;
	struct sb_slot_view v;
	pid_t pid;

	/* The writer is another process with the inherited mapping, as a
	 * worker is; the reader maps the file read-only, as pacerctl does. */
	pid = fork();
	cr_assert(pid >= 0, "expected fork to work");
	if (pid == 0) {
		int rc = sb_slot_claim(w, 2, getpid(), 5) |
		    sb_slot_set_state(w, 2, SB_STATE_KEEPALIVE) |
		    sb_count_accept(w);

		_exit(rc == 0 ? 0 : 1);
	}
	cr_assert(eq(int, reap(pid), 0), "expected the writer child to exit 0");
	v = read_slot(r, 2);
	cr_assert(eq(int, (int)v.pid, (int)pid), "expected the child's pid");
	cr_assert(eq(chr, v.state, 'K'), "expected keep-alive");
	cr_assert(eq(u64, v.generation, 5), "expected generation 5");
	cr_assert(eq(int, sb_counters_read(r, &c), 0), "expected counters");
	cr_assert(eq(u64, c.accepted, 1), "expected the child's accept");
	sb_close(&r);
	sb_close(&w);
}

/* ------------------------------------------------------------ torn reads */

#define TORN_SLOT 1
#define TORN_CHILD_MAX_US 5000000 /* the child's own deadline */

struct torn_pattern {
	const char *method;
	char path[SB_PATH_MAX];
	char client[SB_CLIENT_MAX];
	int status;
};

static struct torn_pattern torn[2];

static void torn_init(void)
{
	int p;

	for (p = 0; p < 2; p++) {
		torn[p].method = p == 0 ? "GET" : "POST";
		memset(torn[p].path, p == 0 ? 'a' : 'b', SB_PATH_MAX - 1);
		torn[p].path[0] = '/';
		torn[p].path[SB_PATH_MAX - 1] = '\0';
		memset(torn[p].client, p == 0 ? '1' : '2', SB_CLIENT_MAX - 1);
		torn[p].client[SB_CLIENT_MAX - 1] = '\0';
		torn[p].status = p == 0 ? 200 : 404;
	}
}

/* Iteration k: conns = k, begin pattern k % 2 (req_start_us = k), end. */
static _Noreturn void torn_writer(struct sb *sb, const atomic_int *stop)
{
	uint64_t k, t0 = sb_clock_us();

	if (sb_slot_claim(sb, TORN_SLOT, getpid(), 1) != 0)
		_exit(1);
	for (k = 0; atomic_load(stop) == 0; k++) {
		const struct torn_pattern *p = &torn[k % 2];

		if ((k & 1023) == 0 && sb_clock_us() - t0 > TORN_CHILD_MAX_US)
			break;
		if (sb_slot_set_conns(sb, TORN_SLOT, (uint32_t)k, (uint32_t)k,
		        (uint32_t)k) != 0 ||
		    sb_slot_begin_request(sb, TORN_SLOT, p->method,
		        strlen(p->method), p->path, SB_PATH_MAX - 1, p->client,
		        k) != 0 ||
		    sb_slot_end_request(sb, TORN_SLOT, p->status, 1, 1, 1) != 0)
			_exit(1);
	}
	_exit(0);
}

/* NULL if v is a state the writer really passed through, else why not.
 * k = req_start_us is the iteration; pattern k % 2 must be in every text
 * field; handling: requests == k, conns == k; waiting: requests == k + 1,
 * conns k or k + 1 (set before the next begin), the pattern's status. */
static const char *torn_check(const struct sb_slot_view *v)
{
	uint64_t k = v->req_start_us;
	const struct torn_pattern *p = &torn[k % 2];

	if (v->requests == 0 && v->path[0] == '\0')
		return v->state == '_' ? NULL : "fresh slot not waiting";
	if (strcmp(v->path, p->path) != 0)
		return "path of the other pattern or mixed";
	if (strcmp(v->method, p->method) != 0)
		return "method does not match the path";
	if (strcmp(v->client, p->client) != 0)
		return "client does not match the path";
	if (v->conn_reading != v->conn_keepalive ||
	    v->conn_reading != v->conn_writing)
		return "connection counts from different updates";
	if (v->state == 'W')
		return v->requests == k && v->conn_reading == (uint32_t)k
		    ? NULL
		    : "handling with counts of another iteration";
	if (v->state == '_')
		return v->requests == k + 1 && v->last_status == p->status &&
		        (v->conn_reading == (uint32_t)k ||
		            v->conn_reading == (uint32_t)(k + 1))
		    ? NULL
		    : "waiting with counts of another iteration";
	return "unexpected state";
}

Test(sb, readers_never_see_a_torn_slot, .timeout = 30)
{
	struct sb *w = create(4, 1), *r = attach();
	unsigned long reads = 0, ok = 0, unstable = 0, retries = 0;
	unsigned long seen[2] = {0, 0}, bad = 0;
	const char *why = NULL, *bad_why;
	struct sb_slot_view v, bad_v;
	atomic_int *stop;
	uint64_t t0;
	pid_t pid;
	int status;

	torn_init();
	stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(not(eq(ptr, stop, MAP_FAILED)), "expected a shared page");
	atomic_init(stop, 0);
	pid = fork();
	cr_assert(pid >= 0, "expected fork to work");
	if (pid == 0)
		torn_writer(w, stop);

	/* Read for about a second, and at least 20000 times once the
	 * writer has started: a loop bound, not a timing assertion. */
	t0 = sb_clock_us();
	while (reads < 20000000) {
		uint64_t el = sb_clock_us() - t0;

		if (ok >= 20000 && el > 1000000)
			break;
		if (el > 10000000)
			break; /* the writer never started: asserted below */
		reads++;
		if (sb_slot_read(r, TORN_SLOT, &v) != 0) {
			unstable++;
			continue;
		}
		retries += v.retries;
		if (v.pid != pid)
			continue; /* not claimed yet */
		ok++;
		if (v.path[0] != '\0')
			seen[v.req_start_us % 2]++;
		bad_why = torn_check(&v);
		if (bad_why != NULL && bad++ == 0) {
			why = bad_why;
			bad_v = v;
		}
	}
	atomic_store(stop, 1);
	status = reap(pid);
	cr_assert(eq(int, status, 0),
	    "expected the writer to exit 0 (128 + signal if killed)");
	cr_log_info("torn-read test: %lu reads, %lu consistent, %lu retries "
	            "inside them, %lu unstable (gave up), pattern a %lu, b %lu",
	    reads, ok, retries, unstable, seen[0], seen[1]);
	cr_assert(eq(ulong, bad, 0),
	    "expected no torn snapshot; %lu were, the first: %s (state %c, "
	    "req %llu, k %llu, conns %u/%u/%u, method %s, path %.12s...)",
	    bad, why == NULL ? "" : why, bad == 0 ? '-' : bad_v.state,
	    bad == 0 ? 0ULL : (unsigned long long)bad_v.requests,
	    bad == 0 ? 0ULL : (unsigned long long)bad_v.req_start_us,
	    bad == 0 ? 0 : bad_v.conn_reading,
	    bad == 0 ? 0 : bad_v.conn_keepalive,
	    bad == 0 ? 0 : bad_v.conn_writing, bad == 0 ? "" : bad_v.method,
	    bad == 0 ? "" : bad_v.path);
	cr_assert(ok >= 20000,
	    "expected at least 20000 consistent reads, "
	    "got %lu",
	    ok);
	cr_assert(seen[0] > 0 && seen[1] > 0,
	    "expected to see both patterns while the writer ran (a %lu, b %lu)",
	    seen[0], seen[1]);
	(void)munmap(stop, sizeof(*stop));
	sb_close(&r);
	sb_close(&w);
}

/* --------------------------------------------------------------- layout */

Test(sb, slot_and_header_sizes_are_pinned)
{
	cr_log_info("scoreboard: header %u bytes, slot %u bytes, %u slots "
	            "max: %zu bytes at most",
	    SB_HEADER_SIZE, SB_SLOT_SIZE, SB_MAX_SLOTS,
	    SB_HEADER_SIZE + (size_t)SB_MAX_SLOTS * SB_SLOT_SIZE);
	cr_assert(eq(u32, SB_SLOT_SIZE % 64, 0),
	    "expected the slot to be whole 64-byte cache lines");
	cr_assert(eq(u32, SB_HEADER_SIZE % 64, 0),
	    "expected slot 0 to start on a cache line");
	cr_assert(eq(u32, SB_HEADER_SIZE,
	              1024 + SB_MAX_ROUTES * 128 + SB_MAX_QUERIES * 256),
	    "expected the header to be 1 KiB, the route and query records");
	cr_assert(eq(u32, SB_ABI_VERSION, 4), "expected ABI version 4");
	cr_assert(eq(sz, sizeof(struct sb_preamble), 24),
	    "expected a 24-byte preamble");
	cr_assert(eq(sz, offsetof(struct sb_preamble, abi_version), 8),
	    "expected the ABI version at offset 8");
}
