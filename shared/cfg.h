/*
 * cfg.h - pacerd.conf: parsing, validation, environment overrides, dump.
 *
 * The format is postgresql.conf's: `key = value` (the `=` is optional),
 * `#` comments, values quoted with '...' or "..." when they hold spaces or
 * `#`, durations with units (250ms, 5s, 2min, 1h, 1d), sizes with units
 * (512B, 64kB, 1MB, 2GB), booleans (on/off, true/false, yes/no, 1/0),
 * `include 'file'` and `include_if_exists 'file'` (relative to the including
 * file). A key set twice keeps its last value. One table of keys
 * (cfg_keys.c) drives parsing, validation, `pacerd -T` and the docs.
 *
 * Every error names its place ("pacerd.conf:12: ...") and the loader keeps
 * going after an error, so one run reports every mistake in a file.
 *
 * Callers: the master (before fork; workers read the result, never change
 * it), pacerctl, tests and the fuzz target. The environment wins over the
 * file for keys that have an environment variable (secrets, URLs).
 */
#ifndef PACER_CFG_H
#define PACER_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

/* The effective configuration. Durations are milliseconds, sizes bytes.
 * Strings are never NULL (an unset string is ""). Owned by the struct;
 * free with cfg_free(). */
struct cfg {
	/* listening */
	char *listen;
	int64_t listen_backlog;
	/* process */
	char *user;
	char *group;
	char *run_dir;
	char *pidfile;
	/* workers */
	int64_t start_workers;
	int64_t min_spare_workers;
	int64_t max_spare_workers;
	int64_t max_workers;
	int64_t worker_connections;
	int64_t max_requests_per_worker;
	int64_t max_worker_rss;
	/* timeouts */
	int64_t request_timeout;
	int64_t shutdown_timeout;
	int64_t watchdog_grace;
	int64_t keepalive_timeout;
	int64_t header_timeout;
	int64_t body_timeout;
	int64_t send_timeout;
	/* limits */
	int64_t max_header_size;
	int64_t max_body_size;
	int64_t max_headers;
	int64_t keepalive_requests;
	/* database */
	char *database_url;
	char *database_read_url;
	int64_t database_connect_timeout;
	int64_t statement_timeout;
	int64_t database_retry_max;
	int64_t database_startup_wait;
	char *migrations_dir;
	/* redis and the cache */
	char *redis_url;
	int64_t redis_connect_timeout;
	int64_t redis_timeout;
	int64_t redis_retry_max;
	int64_t cache_local_entries;
	int64_t cache_local_ttl;
	/* admin */
	char *admin_allow;
	char *environment;
	/* identity */
	char *master_key_file;
	bool auto_approve_users;
	int64_t password_scrypt_ln;
	int jwt_algorithm; /* enum cfg_jwt_alg */
	char *jwt_issuer;
	char *jwt_audience;
	int64_t access_token_ttl;
	int64_t refresh_token_ttl;
	int64_t jwt_leeway;
	/* rate limits */
	int64_t rate_limit_auth;
	/* HTTP security */
	char *cors_allowed_origins;
	char *tls_cert_file;
	char *tls_key_file;
	/* MCP and OAuth for MCP clients */
	char *public_url;
	char *mcp_allowed_hosts;
	int64_t mcp_session_idle_timeout;
	int64_t mcp_wait_timeout;
	int64_t mcp_page_size;
	int64_t max_stream_workers;
	bool mcp_fixtures;
	int64_t oauth_code_ttl;
	/* secrets and providers */
	char *master_key;
	char *strava_client_id;
	char *strava_client_secret;
	char *fitbit_client_id;
	char *fitbit_client_secret;
	/* logging */
	int log_level;       /* enum log_level */
	int log_format;      /* enum log_format */
	int log_destination; /* enum log_dest */
	char *log_file;
	int syslog_facility; /* a LOG_* facility from <syslog.h> */
	char *syslog_ident;
	char *access_log;
	int access_log_format; /* enum cfg_access_format */
	/* debugging */
	bool debug_routes;

	/* Where each key's value came from, indexed like cfg_keys_table. */
	struct cfg_origin *origin;
	/* Names of the files read, owned here; origins point into them. */
	char **files;
	size_t nfiles;
};

enum cfg_jwt_alg {
	CFG_JWT_HS256,
	CFG_JWT_RS256,
};

enum cfg_access_format {
	CFG_ACCESS_COMBINED,
	CFG_ACCESS_JSON,
};

enum cfg_source {
	CFG_SRC_DEFAULT,
	CFG_SRC_FILE,
	CFG_SRC_ENV,
};

struct cfg_origin {
	enum cfg_source source;
	const char *file; /* CFG_SRC_FILE: borrowed from cfg->files */
	int line;
};

/* Error messages collected by a load, in the order found. */
struct cfg_errs {
	char **msg;
	size_t n;
	size_t dropped; /* errors past CFG_MAX_ERRORS, counted only */
};

#define CFG_MAX_ERRORS 100
#define CFG_MAX_FILE_SIZE (1024L * 1024)
#define CFG_MAX_INCLUDE_DEPTH 16

/* Load flags. */
#define CFG_NO_ENV 0x1     /* ignore the environment (tests, fuzzing) */
#define CFG_NO_INCLUDE 0x2 /* `include` is an error (fuzzing) */

/* A configuration holding every default. NULL when out of memory.
 * Caller frees with cfg_free(). */
struct cfg *cfg_new(void);
void cfg_free(struct cfg **cfg);

/*
 * Read path (and its includes) into cfg, then apply the environment, then
 * check the keys against each other. Returns 0, or -1 with every problem
 * in errs (cfg then holds what could be applied; do not use it to serve).
 * A path that cannot be read is an error. Caller frees errs with
 * cfg_errs_free() in either case.
 */
int cfg_load(struct cfg *cfg, const char *path, unsigned flags,
    struct cfg_errs *errs);

/* As cfg_load, on text already in memory; name is used in messages and
 * relative includes resolve against the working directory. */
int cfg_load_buffer(struct cfg *cfg, const char *name, const char *data,
    size_t len, unsigned flags, struct cfg_errs *errs);

void cfg_errs_free(struct cfg_errs *errs);

/* Write each error of a load of path to fp, one a line, then a line
 * counting the errors past CFG_MAX_ERRORS when there were some (the
 * summary line is the caller's, as it names the program). Returns how
 * many errors there were in all. */
size_t cfg_errs_write(const struct cfg_errs *errs, const char *path, FILE *fp);

/* Append the effective configuration to out as a pacerd.conf-style text:
 * every key, its value (secrets masked) and a comment naming its source.
 * Returns 0, or -1 if out overflowed. */
int cfg_dump(const struct cfg *cfg, struct buf *out);

/* Render key i's current value in config syntax (unquoted, unmasked). */
int cfg_value_string(const struct cfg *cfg, size_t i, struct buf *out);

/* Split the `listen` value: calls fn for each address with host (empty for
 * "all addresses", brackets removed for IPv6) and port. Stops at the first
 * non-zero return and returns it. */
int cfg_listen_foreach(const char *listen,
    int (*fn)(const char *host, const char *port, void *arg), void *arg);

/* The same with the tls marker: "0.0.0.0:8443 tls" calls fn with tls
 * true for that address. A marker with no address before it reaches fn
 * as the host "tls" with an empty port. */
int cfg_listen_each(const char *listen,
    int (*fn)(const char *host, const char *port, bool tls, void *arg),
    void *arg);

/* Whether some address of the `listen` value is marked tls. */
bool cfg_listen_has_tls(const char *listen);

#endif /* PACER_CFG_H */
