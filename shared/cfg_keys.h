/*
 * cfg_keys.h - the table of configuration keys.
 *
 * One row per key: name, type, where it lives in struct cfg, its default
 * (written in config syntax and parsed like any file value, so a default
 * out of its own bounds fails the test suite), bounds, environment variable,
 * flags and a one-line doc. cfg.c parses and validates with it, `pacerd -T`
 * prints it, cfg_doc.c writes pacerd.conf(5) and conf/pacerd.conf from it.
 *
 * Callers: any process; the table is constant.
 */
#ifndef PACER_CFG_KEYS_H
#define PACER_CFG_KEYS_H

#include <stddef.h>
#include <stdint.h>

enum cfg_type {
	CFG_BOOL,
	CFG_INT,
	CFG_DURATION, /* stored in milliseconds */
	CFG_SIZE,     /* stored in bytes */
	CFG_STRING,
	CFG_ENUM, /* stored as the int value of the chosen entry */
};

/* Key flags. */
#define CFG_SECRET 0x1   /* masked in -T output and never logged */
#define CFG_RESTART 0x2  /* a reload cannot change it; needs a restart */
#define CFG_ABSPATH 0x4  /* an absolute path (or empty when allowed) */
#define CFG_EMPTY_OK 0x8 /* a string that may be empty */

struct cfg_choice {
	const char *name;
	int value;
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t offset; /* offsetof(struct cfg, field) */
	const char *def;
	int64_t min, max; /* CFG_INT / CFG_DURATION (ms) / CFG_SIZE (bytes) */
	const struct cfg_choice *choices; /* CFG_ENUM, ends with a NULL name */
	const char *env; /* environment variable that overrides, or NULL */
	unsigned flags;
	/* Extra check of a parsed string value: 0, or -1 with a reason in err
	 * (the caller prefixes the place and key). */
	int (*check)(const char *value, char *err, size_t errlen);
	const char *group;
	const char *doc;
};

extern const struct cfg_key cfg_keys_table[];
extern const size_t cfg_keys_count;

/* The row for name, or NULL. */
const struct cfg_key *cfg_keys_find(const char *name);

/* The closest key name to an unknown one, or NULL when none is close. */
const char *cfg_keys_suggest(const char *name);

/* Validators used by the table, exposed for tests. */
int cfg_keys_check_listen(const char *value, char *err, size_t errlen);
int cfg_keys_check_master_key(const char *value, char *err, size_t errlen);
int cfg_keys_check_pg_url(const char *value, char *err, size_t errlen);
int cfg_keys_check_redis_url(const char *value, char *err, size_t errlen);
int cfg_keys_check_admin_allow(const char *value, char *err, size_t errlen);
/* cors_allowed_origins: scheme://host[:port] entries, http or https, no
 * path, separated by spaces or commas. */
int cfg_keys_check_origins(const char *value, char *err, size_t errlen);
/* public_url: http:// or https://, a host, an optional port, no path,
 * query or fragment (a trailing slash is allowed). */
int cfg_keys_check_public_url(const char *value, char *err, size_t errlen);
/* mcp_allowed_hosts: at least one host name, IPv4 address or [IPv6]
 * address, without a port, separated by spaces or commas. */
int cfg_keys_check_hosts(const char *value, char *err, size_t errlen);

#endif /* PACER_CFG_KEYS_H */
