/*
 * test_cfg_keys.c - every configuration key: its default, its bounds and a
 * bad value. The expectations are written out here, independently of the
 * key table, and a key missing from these lists fails the suite.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_keys.h"

static const struct {
	const char *key, *value;
} defaults[] = {
    {"listen", "127.0.0.1:8080"},
    {"listen_backlog", "511"},
    {"user", ""},
    {"group", ""},
    {"run_dir", "/run/pacerd"},
    {"pidfile", "/run/pacerd/pacerd.pid"},
    {"start_workers", "4"},
    {"min_spare_workers", "2"},
    {"max_spare_workers", "8"},
    {"max_workers", "64"},
    {"worker_connections", "512"},
    {"max_requests_per_worker", "10000"},
    {"max_worker_rss", "0"},
    {"request_timeout", "1min"},
    {"shutdown_timeout", "30s"},
    {"keepalive_timeout", "5s"},
    {"header_timeout", "10s"},
    {"body_timeout", "30s"},
    {"send_timeout", "30s"},
    {"max_header_size", "16kB"},
    {"max_headers", "100"},
    {"max_body_size", "1MB"},
    {"keepalive_requests", "1000"},
    {"database_url", "postgresql:///pacer"},
    {"database_read_url", ""},
    {"database_connect_timeout", "5s"},
    {"statement_timeout", "30s"},
    {"database_retry_max", "1s"},
    {"database_startup_wait", "30s"},
    {"migrations_dir", ""},
    {"redis_retry_max", "1s"},
    {"cache_local_entries", "1024"},
    {"cache_local_ttl", "5s"},
    {"admin_allow", "127.0.0.1/32 ::1/128"},
    {"environment", "production"},
    {"redis_url", "redis://127.0.0.1:6379/0"},
    {"redis_connect_timeout", "1s"},
    {"redis_timeout", "500ms"},
    {"master_key", ""},
    {"strava_client_id", ""},
    {"strava_client_secret", ""},
    {"fitbit_client_id", ""},
    {"fitbit_client_secret", ""},
    {"log_level", "info"},
    {"log_format", "text"},
    {"log_destination", "stderr"},
    {"log_file", "/var/log/pacerd/pacerd.log"},
    {"access_log", ""},
    {"access_log_format", "combined"},
    {"debug_routes", "off"},
    {"watchdog_grace", "5s"},
    {"syslog_facility", "daemon"},
    {"syslog_ident", "pacerd"},
    {"master_key_file", ""},
    {"auto_approve_users", "off"},
    {"password_scrypt_ln", "13"},
    {"jwt_algorithm", "HS256"},
    {"jwt_issuer", "pacer"},
    {"jwt_audience", "pacer"},
    {"access_token_ttl", "15min"},
    {"refresh_token_ttl", "30d"},
    {"jwt_leeway", "30s"},
    {"rate_limit_auth", "10"},
    {"cors_allowed_origins", ""},
    {"tls_cert_file", ""},
    {"tls_key_file", ""},
    {"public_url", ""},
    {"mcp_allowed_hosts", "localhost 127.0.0.1 [::1]"},
    {"mcp_session_idle_timeout", "30min"},
    {"mcp_wait_timeout", "30s"},
    {"mcp_page_size", "100"},
    {"max_stream_workers", "4"},
    {"mcp_fixtures", "off"},
    {"oauth_code_ttl", "1min"},
};

/* Lowest and highest accepted, and just outside each end. */
static const struct {
	const char *key, *lo, *hi, *below, *above;
} bounds[] = {
    {"listen_backlog", "1", "65535", "0", "65536"},
    {"start_workers", "1", "4096", "0", "4097"},
    {"min_spare_workers", "0", "4096", "-1", "4097"},
    {"max_spare_workers", "1", "4096", "0", "4097"},
    {"max_workers", "1", "4096", "0", "4097"},
    {"worker_connections", "1", "65535", "0", "65536"},
    {"max_requests_per_worker", "0", "1000000000", "-1", "1000000001"},
    {"max_worker_rss", "0", "64GB", "-1B", "65537MB"},
    {"request_timeout", "1s", "1h", "999ms", "3601s"},
    {"shutdown_timeout", "0", "1h", "-1s", "61min"},
    {"watchdog_grace", "100ms", "5min", "99ms", "301s"},
    {"keepalive_timeout", "0", "10min", "-1ms", "601s"},
    {"header_timeout", "1s", "10min", "999ms", "601s"},
    {"body_timeout", "1s", "1h", "999ms", "3601s"},
    {"send_timeout", "1s", "1h", "999ms", "3601s"},
    {"max_header_size", "1kB", "1MB", "1023B", "1025kB"},
    {"max_headers", "1", "1000", "0", "1001"},
    {"max_body_size", "1kB", "1GB", "1023", "1025MB"},
    {"keepalive_requests", "0", "1000000000", "-1", "1000000001"},
    {"database_connect_timeout", "1s", "5min", "999ms", "301s"},
    {"statement_timeout", "0", "1h", "-5s", "2h"},
    {"database_retry_max", "100ms", "1min", "99ms", "61s"},
    {"database_startup_wait", "0", "1h", "-1s", "61min"},
    {"redis_retry_max", "100ms", "1min", "50ms", "2min"},
    {"cache_local_entries", "0", "1000000", "-1", "1000001"},
    {"cache_local_ttl", "0", "1h", "-1s", "2h"},
    {"redis_connect_timeout", "10ms", "1min", "9ms", "61s"},
    {"redis_timeout", "10ms", "1min", "9ms", "61s"},
    {"password_scrypt_ln", "10", "20", "9", "21"},
    {"access_token_ttl", "1min", "24h", "59s", "1441min"},
    {"refresh_token_ttl", "1h", "365d", "59min", "8761h"},
    {"jwt_leeway", "0", "5min", "-1s", "301s"},
    {"rate_limit_auth", "0", "1000000", "-1", "1000001"},
    {"mcp_session_idle_timeout", "1s", "7d", "999ms", "169h"},
    {"mcp_wait_timeout", "1s", "10min", "999ms", "601s"},
    {"mcp_page_size", "1", "1000", "0", "1001"},
    {"max_stream_workers", "1", "10000", "0", "10001"},
    {"oauth_code_ttl", "10s", "10min", "9s", "601s"},
};

#define LONG_VALUE "<a value of 9000 bytes>"

/* A value each key refuses, and what the error must say. */
static const struct {
	const char *key, *value, *says;
} bad[] = {
    {"listen", "localhost", "\"localhost\" has no port"},
    {"listen_backlog", "many", "\"many\" is not an integer"},
    {"user", "www data", "may hold only letters"},
    {"group", "wheel;rm", "may hold only letters"},
    {"run_dir", "run/pacerd", "\"run/pacerd\" is not an absolute path"},
    {"pidfile", "", "must not be empty"},
    {"start_workers", "4.5", "\"4.5\" is not an integer"},
    {"min_spare_workers", "two", "is not an integer"},
    {"max_spare_workers", "8 workers", "is not an integer"},
    {"max_workers", "0x40", "is not an integer"},
    {"worker_connections", "", "\"\" is not an integer"},
    {"max_requests_per_worker", "1e4", "is not an integer"},
    {"max_worker_rss", "1 MiB", "is not a size"},
    {"request_timeout", "60", "\"60\" is not a duration"},
    {"shutdown_timeout", "30 sec", "is not a duration"},
    {"keepalive_timeout", "5 parsecs", "\"5 parsecs\" is not a duration"},
    {"header_timeout", "1.5s", "is not a duration"},
    {"body_timeout", "s", "is not a duration"},
    {"send_timeout", "soon", "\"soon\" is not a duration"},
    {"max_headers", "100 fields", "is not an integer"},
    {"max_header_size", "16kb", "\"16kb\" is not a size"},
    {"max_body_size", "lots", "is not a size"},
    {"keepalive_requests", "-", "is not an integer"},
    {"database_url", "postgresql://[::1",
        "is not a valid PostgreSQL connection URI"},
    {"database_read_url", "host=db port",
        "is not a valid PostgreSQL connection URI"},
    {"database_connect_timeout", "5", "is not a duration"},
    {"statement_timeout", "forever", "is not a duration"},
    {"database_retry_max", "soon", "is not a duration"},
    {"database_startup_wait", "a while", "is not a duration"},
    {"migrations_dir", "sql", "absolute path"},
    {"redis_retry_max", "1", "is not a duration"},
    {"cache_local_entries", "many", "is not an integer"},
    {"cache_local_ttl", "1 hour", "is not a duration"},
    {"admin_allow", "localhost",
        "\"localhost\" is not an IPv4 or IPv6 address"},
    {"environment", "prod env", "may hold only letters"},
    {"redis_url", "http://cache:6379", "scheme \"http\" is not supported"},
    {"redis_connect_timeout", "1", "is not a duration"},
    {"redis_timeout", "fast", "is not a duration"},
    {"master_key",
        "c2hvcnQ=", "must be the base64 of 32 bytes (44 characters, got 8)"},
    {"strava_client_id", LONG_VALUE, "value is longer than 8192 bytes"},
    {"strava_client_secret", LONG_VALUE, "value is longer than 8192 bytes"},
    {"fitbit_client_id", LONG_VALUE, "value is longer than 8192 bytes"},
    {"fitbit_client_secret", LONG_VALUE, "value is longer than 8192 bytes"},
    {"log_level", "verbose",
        "\"verbose\" is not one of: debug, info, warn, error"},
    {"log_format", "xml", "\"xml\" is not one of: text, json"},
    {"log_destination", "journald", "is not one of: stderr, file, syslog"},
    {"log_file", "pacerd.log", "is not an absolute path"},
    {"syslog_facility", "local8", "is not one of: daemon, user, local0"},
    {"syslog_ident", "", "must not be empty"},
    {"access_log", "access.log", "\"access.log\" is not an absolute path"},
    {"access_log_format", "common", "\"common\" is not one of: combined, json"},
    {"debug_routes", "maybe", "is not a boolean"},
    {"watchdog_grace", "5", "is not a duration"},
    {"master_key_file", "key.txt", "is not an absolute path"},
    {"auto_approve_users", "sometimes", "is not a boolean"},
    {"password_scrypt_ln", "16k", "is not an integer"},
    {"jwt_algorithm", "none", "\"none\" is not one of: HS256, RS256"},
    {"jwt_issuer", "", "must not be empty"},
    {"jwt_audience", "", "must not be empty"},
    {"access_token_ttl", "900", "is not a duration"},
    {"refresh_token_ttl", "30 days", "is not a duration"},
    {"jwt_leeway", "a bit", "is not a duration"},
    {"rate_limit_auth", "10/min", "is not an integer"},
    {"cors_allowed_origins", "https://app.example.com/",
        "\"https://app.example.com/\" is not an origin"},
    {"tls_cert_file", "cert.pem", "is not an absolute path"},
    {"tls_key_file", "key.pem", "is not an absolute path"},
    {"public_url", "https://pacer.example.com/mcp", "is not a base URL"},
    {"public_url", "ftp://pacer.example.com", "is not a base URL"},
    {"mcp_allowed_hosts", "localhost:8080", "is not a host name"},
    {"mcp_allowed_hosts", " , ", "must name at least one host"},
    {"mcp_fixtures", "yes please", "is not a boolean"},
    {"mcp_wait_timeout", "soon", "is not a duration"},
    {"mcp_session_idle_timeout", "1800", "is not a duration"},
    {"mcp_page_size", "many", "is not an integer"},
    {"max_stream_workers", "4.5", "is not an integer"},
    {"oauth_code_ttl", "60", "is not a duration"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Load "key = 'value'" and return the errors (caller frees). */
static int load_one(const char *key, const char *value, struct cfg_errs *errs,
    struct cfg **cfgp)
{
	struct buf text;
	int rc;

	buf_init_dynamic(&text, 64 * 1024);
	if (strcmp(value, LONG_VALUE) == 0) {
		(void)buf_printf(&text, "%s = '", key);
		for (int i = 0; i < 9000; i++)
			(void)buf_putc(&text, 'v');
		(void)buf_puts(&text, "'\n");
	} else {
		(void)buf_printf(&text, "%s = '%s'\n", key, value);
	}
	*cfgp = cfg_new();
	cr_assert(not(eq(ptr, *cfgp, NULL)));
	rc = cfg_load_buffer(*cfgp, "pacerd.conf", buf_str(&text), text.len,
	    CFG_NO_ENV, errs);
	buf_free(&text);
	return rc;
}

/* The error on line 1 about key, or NULL (cross-key complaints that a
 * lone value can cause elsewhere are not this key's own error). */
static const char *own_error(const struct cfg_errs *errs, const char *key)
{
	char prefix[128];
	size_t i;

	(void)snprintf(prefix, sizeof(prefix), "pacerd.conf:1: %s: ", key);
	for (i = 0; i < errs->n; i++)
		if (strncmp(errs->msg[i], prefix, strlen(prefix)) == 0)
			return errs->msg[i];
	return NULL;
}

Test(cfg_keys, every_key_is_covered_by_these_tests)
{
	size_t i, j;

	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];
		bool d = false, b = false, r = false;

		for (j = 0; j < N(defaults); j++)
			d |= strcmp(defaults[j].key, k->name) == 0;
		for (j = 0; j < N(bad); j++)
			b |= strcmp(bad[j].key, k->name) == 0;
		for (j = 0; j < N(bounds); j++)
			r |= strcmp(bounds[j].key, k->name) == 0;
		cr_expect(d, "key %s has no default test", k->name);
		cr_expect(b, "key %s has no bad-value test", k->name);
		if (k->type == CFG_INT || k->type == CFG_DURATION ||
		    k->type == CFG_SIZE)
			cr_expect(r, "key %s has no bounds test", k->name);
		cr_expect(k->doc != NULL && strlen(k->doc) > 10,
		    "key %s has no doc", k->name);
	}
	cr_assert(eq(sz, N(defaults), cfg_keys_count),
	    "a test names a key that does not exist");
}

Test(cfg_keys, defaults_are_the_documented_values)
{
	struct cfg *cfg = cfg_new();
	char store[256];
	struct buf v;
	size_t j;

	cr_assert(not(eq(ptr, cfg, NULL)),
	    "a default in the key table does not parse");
	for (j = 0; j < N(defaults); j++) {
		const struct cfg_key *k = cfg_keys_find(defaults[j].key);

		cr_assert(not(eq(ptr, (void *)k, NULL)), "no key %s",
		    defaults[j].key);
		buf_init_fixed(&v, store, sizeof(store));
		cr_assert(eq(int,
		    cfg_value_string(cfg, (size_t)(k - cfg_keys_table), &v),
		    0));
		cr_expect(eq(str, store, (char *)defaults[j].value),
		    "default of %s", k->name);
		cr_expect(eq(int, cfg->origin[k - cfg_keys_table].source,
		    CFG_SRC_DEFAULT));
	}
	/* A few through the struct, in their stored units. */
	cr_expect(eq(i64, cfg->request_timeout, 60000));
	cr_expect(eq(i64, cfg->max_header_size, 16384));
	cr_expect(eq(i64, cfg->max_body_size, 1048576));
	cr_expect(eq(i64, cfg->redis_timeout, 500));
	cfg_free(&cfg);
	cr_assert(eq(ptr, cfg, NULL), "cfg_free did not clear the pointer");
}

Test(cfg_keys, defaults_pass_the_cross_checks)
{
	struct cfg_errs errs = {0};
	struct cfg *cfg = cfg_new();

	cr_assert(eq(int,
	              cfg_load_buffer(cfg, "empty.conf", "", 0, CFG_NO_ENV,
	                  &errs),
	              0),
	    "an empty file is not valid: %s", errs.n ? errs.msg[0] : "?");
	cfg_errs_free(&errs);
	cfg_free(&cfg);
}

Test(cfg_keys, bounds_are_inclusive_and_enforced)
{
	size_t j;

	for (j = 0; j < N(bounds); j++) {
		const char *vals[4] = {bounds[j].lo, bounds[j].hi,
		    bounds[j].below, bounds[j].above};

		for (int v = 0; v < 4; v++) {
			struct cfg_errs errs = {0};
			struct cfg *cfg;
			const char *e;

			(void)load_one(bounds[j].key, vals[v], &errs, &cfg);
			e = own_error(&errs, bounds[j].key);
			if (v < 2)
				cr_expect(eq(ptr, (void *)e, NULL),
				    "%s = %s refused: %s", bounds[j].key,
				    vals[v], e);
			else
				cr_expect(e != NULL &&
				        strstr(e, "is out of range") != NULL,
				    "%s = %s: expected \"out of range\", got "
				    "%s",
				    bounds[j].key, vals[v], e ? e : "no error");
			cfg_errs_free(&errs);
			cfg_free(&cfg);
		}
	}
}

Test(cfg_keys, bad_values_are_refused_with_a_reason_and_the_old_value_kept)
{
	size_t j;

	for (j = 0; j < N(bad); j++) {
		const struct cfg_key *k = cfg_keys_find(bad[j].key);
		struct cfg_errs errs = {0};
		struct cfg *cfg;
		char before[256], after[256];
		struct buf bb, ab;
		const char *e;

		cr_assert(not(eq(ptr, (void *)k, NULL)), "no key %s",
		    bad[j].key);
		cr_expect(eq(int,
		              load_one(bad[j].key, bad[j].value, &errs, &cfg),
		              -1),
		    "%s = '%s' accepted", bad[j].key, bad[j].value);
		e = own_error(&errs, bad[j].key);
		cr_expect(e != NULL && strstr(e, bad[j].says) != NULL,
		    "%s = '%s': expected an error saying \"%s\", got \"%s\"",
		    bad[j].key, bad[j].value, bad[j].says, e ? e : "(none)");
		/* The refused value never replaces the default. */
		buf_init_fixed(&bb, before, sizeof(before));
		buf_init_fixed(&ab, after, sizeof(after));
		for (size_t d = 0; d < N(defaults); d++)
			if (strcmp(defaults[d].key, k->name) == 0)
				(void)buf_puts(&bb, defaults[d].value);
		(void)cfg_value_string(cfg, (size_t)(k - cfg_keys_table), &ab);
		cr_expect(eq(str, after, before),
		    "%s changed by a refused value", k->name);
		cfg_errs_free(&errs);
		cfg_free(&cfg);
	}
}

Test(cfg_keys, enum_keys_accept_every_choice)
{
	size_t i, c;

	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];

		if (k->type != CFG_ENUM)
			continue;
		for (c = 0; k->choices[c].name != NULL; c++) {
			struct cfg_errs errs = {0};
			struct cfg *cfg;
			char store[64];
			struct buf v;

			(void)load_one(k->name, k->choices[c].name, &errs,
			    &cfg);
			cr_expect(eq(ptr, (void *)own_error(&errs, k->name),
			              NULL),
			    "%s = %s refused", k->name, k->choices[c].name);
			buf_init_fixed(&v, store, sizeof(store));
			(void)cfg_value_string(cfg, i, &v);
			cr_expect(eq(str, store, (char *)k->choices[c].name));
			cfg_errs_free(&errs);
			cfg_free(&cfg);
		}
	}
}

Test(cfg_keys, unknown_key_suggests_the_closest)
{
	cr_assert(
	    eq(str, (char *)cfg_keys_suggest("max_wokers"), "max_workers"));
	cr_assert(eq(str, (char *)cfg_keys_suggest("keepalive_timout"),
	    "keepalive_timeout"));
	cr_assert(eq(str, (char *)cfg_keys_suggest("LISTEN"), "listen"),
	    "case is a typo too");
	cr_assert(eq(ptr,
	    (void *)cfg_keys_suggest("completely_unrelated_thing"), NULL));
}

Test(cfg_keys, listen_accepts_the_documented_forms)
{
	static const char *const ok[] = {
	    "8080",
	    "*:8080",
	    "0.0.0.0:80",
	    "[::1]:8443",
	    "[::]:8080",
	    "api.example.org:443",
	    "127.0.0.1:8080, [::1]:8080",
	};
	static const char *const no[] = {
	    "::1:8080",
	    "127.0.0.1:0",
	    "127.0.0.1:65536",
	    "[::1]8080",
	    "host_name:80",
	    "127.0.0.1:",
	    "[::1",
	    ",",
	};
	char err[256];
	size_t i;

	for (i = 0; i < N(ok); i++)
		cr_expect(eq(int,
		              cfg_keys_check_listen(ok[i], err, sizeof(err)),
		              0),
		    "\"%s\" refused: %s", ok[i], err);
	for (i = 0; i < N(no); i++)
		cr_expect(eq(int,
		              cfg_keys_check_listen(no[i], err, sizeof(err)),
		              -1),
		    "\"%s\" accepted", no[i]);
}

Test(cfg_keys, master_key_must_decode_to_32_bytes)
{
	char err[256];

	/* 32 bytes of 0x00..0x1f, base64. */
	cr_assert(eq(int,
	              cfg_keys_check_master_key(
	                  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", err,
	                  sizeof(err)),
	              0),
	    "%s", err);
	/* 33 bytes would be 44 characters without padding: still not 32. */
	cr_assert(eq(int,
	    cfg_keys_check_master_key(
	        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", err,
	        sizeof(err)),
	    -1));
	cr_assert(eq(int,
	    cfg_keys_check_master_key(
	        "!!ECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", err,
	        sizeof(err)),
	    -1));
	cr_assert(not(eq(ptr, strstr(err, "openssl rand -base64 32"), NULL)),
	    "no hint: %s", err);
}

Test(cfg_keys, redis_url_forms)
{
	char err[256];

	cr_expect(eq(int,
	              cfg_keys_check_redis_url("redis://127.0.0.1:6379/0", err,
	                  sizeof(err)),
	              0),
	    "%s", err);
	cr_expect(eq(int,
	              cfg_keys_check_redis_url("redis://:pw@cache/15", err,
	                  sizeof(err)),
	              0),
	    "%s", err);
	cr_expect(eq(int,
	              cfg_keys_check_redis_url("unix:/run/redis/redis.sock",
	                  err, sizeof(err)),
	              0),
	    "%s", err);
	cr_expect(eq(int,
	    cfg_keys_check_redis_url("unix:run/redis.sock", err, sizeof(err)),
	    -1));
	cr_expect(eq(int,
	    cfg_keys_check_redis_url("redis://cache/abc", err, sizeof(err)),
	    -1));
	cr_expect(eq(int,
	    cfg_keys_check_redis_url("rediss://cache", err, sizeof(err)), -1));
}
