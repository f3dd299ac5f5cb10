/*
 * ctlid.h - pacerctl's identity commands, which talk to the database of
 * the configuration directly (with or without a running pacerd):
 *
 *   admin create --email E [--role admin|super_admin]
 *                    an active admin with a random one-time password,
 *                    printed once on standard output
 *   jwt rotate       a new signing key; the older ones retire once the
 *                    tokens they signed have expired
 *   jwt list         the signing keys (never their secrets)
 *   audit [--limit N] [--user UUID] [--action NAME]
 *                    the newest rows of the audit log, one line each
 *
 * Callers: pacerctl only (master/pacerctl.c): ctlid_parse() first, so a
 * usage error is one whatever the configuration, then ctlid_run() with
 * the loaded configuration. Exit codes: 0 done, 1 failed (the reason on
 * standard error), 2 usage.
 */
#ifndef PACER_CTLID_H
#define PACER_CTLID_H

#include <stdbool.h>

struct cfg;

enum ctlid_cmd {
	CTLID_ADMIN_CREATE,
	CTLID_JWT_ROTATE,
	CTLID_JWT_LIST,
	CTLID_AUDIT,
};

/* A parsed command; the strings are borrowed from argv. */
struct ctlid_args {
	enum ctlid_cmd cmd;
	const char *email;  /* admin create */
	const char *role;   /* admin create: "admin" or "super_admin" */
	long limit;         /* audit */
	const char *user;   /* audit: a user's id, or NULL */
	const char *action; /* audit: an action name, or NULL */
};

/* Whether cmd (argv[0] of the command) is one of these commands. */
bool ctlid_handles(const char *cmd);

/* Check argv (argv[0] is "admin", "jwt" or "audit") into a. Returns 0,
 * or 2 with the problem printed on standard error. */
int ctlid_parse(int argc, char **argv, struct ctlid_args *a);

/* Run a against the database of cfg. Returns 0 or 1. */
int ctlid_run(const struct ctlid_args *a, const struct cfg *cfg);

/* The usage lines of these commands, for pacerctl's help. */
extern const char ctlid_usage[];

#endif /* PACER_CTLID_H */
