/*
 * version.h - what `pacerd -V` and `pacerctl -V` print: the version, the
 * build options and the versions of the libraries linked (run-time where
 * the library can tell, build-time otherwise).
 *
 * Callers: pacerd and pacerctl, at start.
 */
#ifndef PACER_VERSION_H
#define PACER_VERSION_H

#include "buf.h"

/* Append the report for program prog to out. Returns 0, or -1 on overflow. */
int version_report(struct buf *out, const char *prog);

/* Print the report for prog on standard output. Returns the exit status:
 * 0, or 1 after logging why the output could not be written. */
int version_print(const char *prog);

/* The package version string, e.g. "0.1.0". */
const char *version_string(void);

/* When the build was configured (UTC, ISO 8601) and the commit it came
 * from (12 hex digits); "unknown" when not known (a release tarball). */
const char *version_build_time(void);
const char *version_git_commit(void);

#endif /* PACER_VERSION_H */
