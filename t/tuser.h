/*
 * tuser.h - test accounts: a fresh email and password, registration and
 * login through a running pacerd's API.
 *
 * Callers: the identity, admin, OAuth and MCP integration tests.
 */
#ifndef PACER_TUSER_H
#define PACER_TUSER_H

#include "thttp.h"

struct tuser {
	char email[96];
	char password[40];
	char id[64];
	char access[4096];
	char refresh[64];
};

/* A new account's email (tag.<random>@example.org) and a random
 * password; nothing else set. */
void tuser_new(struct tuser *u, const char *tag);

/* POST /api/auth/register for u; on 201 u->id is set. Returns the
 * status; *r holds the answer (caller frees). */
int tuser_register(int port, struct tuser *u, struct th_resp *r);

/* POST /api/auth/login as u with password; on 200 u->access and
 * u->refresh are set. Returns the status; *r holds the answer (caller
 * frees). */
int tuser_login(int port, struct tuser *u, const char *password,
    struct th_resp *r);

/* A new account (tuser_new with tag) registered, made active with role
 * (NULL: the default) straight in the database at dburl, and logged in:
 * u gets its id and tokens. Asserts each step. */
void tuser_active(int port, const char *dburl, struct tuser *u, const char *tag,
    const char *role);

#endif /* PACER_TUSER_H */
