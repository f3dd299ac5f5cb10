/*
 * testutil.h - helpers shared by the Criterion tests: run a program and
 * capture what it prints, make temporary files and folders, read files,
 * and find the source and build trees.
 */
#ifndef PACER_TESTUTIL_H
#define PACER_TESTUTIL_H

#include <stddef.h>

struct tu_run {
	int status; /* exit code, or 128 + signal number */
	char *out;  /* standard output, NUL-terminated */
	char *err;  /* standard error, NUL-terminated */
};

/* Unset pacer's override variables (DATABASE_URL ...), so only a test
 * decides which ones a configuration load sees. */
void tu_clear_pacer_env(void);

/* Run argv[0] (a path) with argv, the current environment less pacer's
 * override variables (DATABASE_URL ...) plus env ("NAME=value" strings,
 * NULL-terminated, may be NULL), and no standard input. Killed after 30 s. Returns 0, or -1 if it could not be run. */
int tu_run(struct tu_run *r, char *const argv[], char *const env[]);
void tu_run_free(struct tu_run *r);

/* A new private folder under TMPDIR; caller frees the string. */
char *tu_tmpdir(void);

/* Write content to dir/name; returns the path (caller frees). */
char *tu_write(const char *dir, const char *name, const char *content);

/* A whole file, NUL-terminated (caller frees), or NULL. */
char *tu_read(const char *path, size_t *len);

/* The master key of test servers (the base64 of bytes 0..31), and a
 * configuration line that sets it. pacerd refuses to start without one. */
#define TU_MASTER_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define TU_MASTER_KEY_CONF "master_key = '" TU_MASTER_KEY "'\n"

/* Write TU_MASTER_KEY to dir/master.key with mode 0600, as an operator
 * makes one for master_key_file; returns the path (caller frees). */
char *tu_master_key_file(const char *dir);

/* Path of a file in the source or build tree (caller frees). */
char *tu_srcpath(const char *rel);
char *tu_buildpath(const char *rel);

struct cfg;

/* The name of the first key whose value differs between a and b, with
 * both values rendered into av and bv (n bytes each), or NULL when every
 * key has the same value. */
const char *tu_cfg_diff(const struct cfg *a, const struct cfg *b, char *av,
    char *bv, size_t n);

/* In a Criterion test: expect needle in hay, printing hay when absent. */
#define TU_EXPECT_IN(hay, needle)                                              \
	cr_expect(strstr((hay), (needle)) != NULL, "expected \"%s\" in:\n%s",  \
	    (needle), (hay))

/* Number of lines in s that contain needle. */
size_t tu_count_lines_with(const char *s, const char *needle);

/* Lines of s that begin with prefix. */
size_t tu_count_lines_starting(const char *s, const char *prefix);

#endif
