/*
 * tsecret.h - the secrets a test used (passwords, tokens, codes, keys),
 * kept so that the test can prove none of them reached the server's
 * log.
 *
 * Callers: the identity, admin and OAuth integration tests. The list
 * lives in the test's own process (Criterion forks one per test); the
 * suite's .fini empties it with tsecret_forget().
 */
#ifndef PACER_TSECRET_H
#define PACER_TSECRET_H

#include "tserver.h"
#include "tuser.h"

/* How many secrets one test may keep; later ones are not checked. */
#define TSECRET_MAX 96

/* Keep a copy of s (NULL and strings under 8 bytes, which could occur in
 * any log by chance, are skipped). */
void tsecret_keep(const char *s);

/* Keep u's password, access token and refresh token. */
void tsecret_keep_user(const struct tuser *u);

/* Expect that the log of srv holds none of the kept secrets. */
void tsecret_expect_log_clean(const struct ts *srv);

/* Free the kept secrets. */
void tsecret_forget(void);

#endif /* PACER_TSECRET_H */
