/*
 * tsecret.c - the secrets a test used; see tsecret.h.
 */
#include "tsecret.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

static char *secrets[TSECRET_MAX];
static size_t nsecrets;

void tsecret_keep(const char *s)
{
	if (nsecrets < TSECRET_MAX && s != NULL && strlen(s) >= 8)
		cr_assert(
		    not(eq(ptr, (secrets[nsecrets++] = strdup(s)), NULL)));
}

void tsecret_keep_user(const struct tuser *u)
{
	tsecret_keep(u->password);
	tsecret_keep(u->access);
	tsecret_keep(u->refresh);
}

void tsecret_expect_log_clean(const struct ts *srv)
{
	char *log = ts_log(srv);

	cr_assert(log != NULL, "cannot read the log %s", srv->log);
	for (size_t i = 0; i < nsecrets; i++)
		cr_expect(strstr(log, secrets[i]) == NULL,
		    "the log holds a secret the test used (%.12s...)",
		    secrets[i]);
	free(log);
}

void tsecret_forget(void)
{
	for (size_t i = 0; i < nsecrets; i++)
		free(secrets[i]);
	nsecrets = 0;
}
