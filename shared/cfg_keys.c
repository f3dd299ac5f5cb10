/*
 * cfg_keys.c - the table of pacerd.conf keys and their validators.
 *
 * Adding a key: add the field to struct cfg (cfg.h), a row here, then run
 * `make update-docs` so pacerd.conf(5) and conf/pacerd.conf list it; the
 * test suite fails while the committed docs differ from this table.
 */
#include "cfg_keys.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/evp.h>

#include "cfg.h"
#include "log.h"
#include "netacl.h"

#define OFF(field) offsetof(struct cfg, field)
#define MS(n) ((int64_t)(n))
#define SEC(n) ((int64_t)(n)*1000)
#define MIN(n) ((int64_t)(n)*60 * 1000)
#define HOUR(n) ((int64_t)(n)*3600 * 1000)
#define KB(n) ((int64_t)(n)*1024)
#define MB(n) ((int64_t)(n)*1024 * 1024)
#define GB(n) ((int64_t)(n)*1024 * 1024 * 1024)

static int check_name(const char *value, char *err, size_t errlen);

static const struct cfg_choice log_levels[] = {
    {"debug", LOG_LEVEL_DEBUG},
    {"info", LOG_LEVEL_INFO},
    {"warn", LOG_LEVEL_WARN},
    {"error", LOG_LEVEL_ERROR},
    {NULL, 0},
};

static const struct cfg_choice log_formats[] = {
    {"text", LOG_FORMAT_TEXT},
    {"json", LOG_FORMAT_JSON},
    {NULL, 0},
};

static const struct cfg_choice access_formats[] = {
    {"combined", CFG_ACCESS_COMBINED},
    {"json", CFG_ACCESS_JSON},
    {NULL, 0},
};

static const struct cfg_choice log_dests[] = {
    {"stderr", LOG_DEST_STDERR},
    {"file", LOG_DEST_FILE},
    {"syslog", LOG_DEST_SYSLOG},
    {NULL, 0},
};

static const struct cfg_choice jwt_algs[] = {
    {"HS256", CFG_JWT_HS256},
    {"RS256", CFG_JWT_RS256},
    {NULL, 0},
};

static const struct cfg_choice facilities[] = {
    {"daemon", LOG_DAEMON},
    {"user", LOG_USER},
    {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1},
    {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7},
    {NULL, 0},
};

/* clang-format off */
const struct cfg_key cfg_keys_table[] = {
	/* listening */
	{"listen", CFG_STRING, OFF(listen), "127.0.0.1:8080", 0, 0, NULL, NULL, 0,
	 cfg_keys_check_listen, "Listening",
	 "Addresses to accept HTTP connections on, separated by commas: host:port, [ipv6]:port, *:port (every address) or a bare port; the word tls after an address (0.0.0.0:8443 tls) serves HTTPS there, with tls_cert_file and tls_key_file."},
	{"listen_backlog", CFG_INT, OFF(listen_backlog), "511", 1, 65535, NULL, NULL, CFG_RESTART,
	 NULL, "Listening",
	 "Length of the kernel's queue of connections not yet accepted (capped by net.core.somaxconn)."},

	/* process */
	{"user", CFG_STRING, OFF(user), "", 0, 0, NULL, NULL, CFG_EMPTY_OK | CFG_RESTART,
	 check_name, "Process",
	 "When started as root, workers switch to this user after the sockets are bound; empty keeps the starting user."},
	{"group", CFG_STRING, OFF(group), "", 0, 0, NULL, NULL, CFG_EMPTY_OK | CFG_RESTART,
	 check_name, "Process",
	 "Group for the workers when started as root; empty means the primary group of user."},
	{"run_dir", CFG_STRING, OFF(run_dir), "/run/pacerd", 0, 0, NULL, NULL, CFG_ABSPATH | CFG_RESTART,
	 NULL, "Process",
	 "Directory for run-time files such as the scoreboard."},
	{"pidfile", CFG_STRING, OFF(pidfile), "/run/pacerd/pacerd.pid", 0, 0, NULL, NULL, CFG_ABSPATH | CFG_RESTART,
	 NULL, "Process",
	 "File holding the master's process id, locked while the master runs."},

	/* workers */
	{"start_workers", CFG_INT, OFF(start_workers), "4", 1, 4096, NULL, NULL, 0,
	 NULL, "Workers",
	 "Worker processes forked at start."},
	{"min_spare_workers", CFG_INT, OFF(min_spare_workers), "2", 0, 4096, NULL, NULL, 0,
	 NULL, "Workers",
	 "Fewer idle workers than this and the master forks more (1, 2, 4 ... up to 32 a second)."},
	{"max_spare_workers", CFG_INT, OFF(max_spare_workers), "8", 1, 4096, NULL, NULL, 0,
	 NULL, "Workers",
	 "More idle workers than this and the master retires one a second; must exceed min_spare_workers."},
	{"max_workers", CFG_INT, OFF(max_workers), "64", 1, 4096, NULL, NULL, CFG_RESTART,
	 NULL, "Workers",
	 "Hard cap on worker processes; also sizes the scoreboard."},
	{"worker_connections", CFG_INT, OFF(worker_connections), "512", 1, 65535, NULL, NULL, 0,
	 NULL, "Workers",
	 "Connections one worker holds open at once (reading, keep-alive or writing)."},
	{"max_requests_per_worker", CFG_INT, OFF(max_requests_per_worker), "10000", 0, 1000000000, NULL, NULL, 0,
	 NULL, "Workers",
	 "A worker is recycled gracefully after about this many requests (with jitter); 0 never recycles."},
	{"max_worker_rss", CFG_SIZE, OFF(max_worker_rss), "0", 0, GB(64), NULL, NULL, 0,
	 NULL, "Workers",
	 "A worker whose resident memory passes this after a request is recycled; 0 disables the check."},

	/* timeouts */
	{"request_timeout", CFG_DURATION, OFF(request_timeout), "60s", SEC(1), HOUR(1), NULL, NULL, 0,
	 NULL, "Timeouts",
	 "A worker busy with one request longer than this is logged and stopped."},
	{"watchdog_grace", CFG_DURATION, OFF(watchdog_grace), "5s", MS(100), MIN(5), NULL, NULL, 0,
	 NULL, "Timeouts",
	 "A worker stopped by the request_timeout watchdog (SIGTERM) that is still alive after this gets SIGKILL."},
	{"shutdown_timeout", CFG_DURATION, OFF(shutdown_timeout), "30s", 0, HOUR(1), NULL, NULL, 0,
	 NULL, "Timeouts",
	 "On a graceful stop, workers still busy after this are killed."},
	{"keepalive_timeout", CFG_DURATION, OFF(keepalive_timeout), "5s", 0, MIN(10), NULL, NULL, 0,
	 NULL, "Timeouts",
	 "An idle keep-alive connection is closed after this; 0 turns keep-alive off."},
	{"header_timeout", CFG_DURATION, OFF(header_timeout), "10s", SEC(1), MIN(10), NULL, NULL, 0,
	 NULL, "Timeouts",
	 "Time allowed to receive a request's whole head; slower clients get 408."},
	{"body_timeout", CFG_DURATION, OFF(body_timeout), "30s", SEC(1), HOUR(1), NULL, NULL, 0,
	 NULL, "Timeouts",
	 "Longest pause allowed between two reads of a request body; slower clients get 408."},

	{"send_timeout", CFG_DURATION, OFF(send_timeout), "30s", SEC(1), HOUR(1), NULL, NULL, 0,
	 NULL, "Timeouts",
	 "A client that reads nothing of a response for this long is disconnected."},

	/* limits */
	{"max_header_size", CFG_SIZE, OFF(max_header_size), "16kB", KB(1), MB(1), NULL, NULL, 0,
	 NULL, "Limits",
	 "Largest request head (request line and headers); larger ones get 431."},
	{"max_headers", CFG_INT, OFF(max_headers), "100", 1, 1000, NULL, NULL, 0,
	 NULL, "Limits",
	 "Most header fields in one request; more get 431."},
	{"max_body_size", CFG_SIZE, OFF(max_body_size), "1MB", KB(1), GB(1), NULL, NULL, 0,
	 NULL, "Limits",
	 "Largest request body; larger ones get 413."},
	{"keepalive_requests", CFG_INT, OFF(keepalive_requests), "1000", 0, 1000000000, NULL, NULL, 0,
	 NULL, "Limits",
	 "Requests served on one connection before it is closed; 0 means no limit."},

	/* database */
	{"database_url", CFG_STRING, OFF(database_url), "postgresql:///pacer", 0, 0, NULL, "DATABASE_URL", CFG_SECRET,
	 cfg_keys_check_pg_url, "Database",
	 "PostgreSQL connection URI or key=value string (libpq syntax) of the primary."},
	{"database_read_url", CFG_STRING, OFF(database_read_url), "", 0, 0, NULL, "DATABASE_READ_URL", CFG_SECRET | CFG_EMPTY_OK,
	 cfg_keys_check_pg_url, "Database",
	 "Optional read-only replica for read-only queries; empty uses the primary."},
	{"database_connect_timeout", CFG_DURATION, OFF(database_connect_timeout), "5s", SEC(1), MIN(5), NULL, NULL, 0,
	 NULL, "Database",
	 "Longest wait for a PostgreSQL connection to open."},
	{"statement_timeout", CFG_DURATION, OFF(statement_timeout), "30s", 0, HOUR(1), NULL, NULL, 0,
	 NULL, "Database",
	 "PostgreSQL statement_timeout of worker connections; 0 means none."},
	{"database_retry_max", CFG_DURATION, OFF(database_retry_max), "1s", MS(100), MIN(1), NULL, NULL, 0,
	 NULL, "Database",
	 "Longest pause between a worker's attempts to reconnect to PostgreSQL; the pause starts at 100 ms and doubles up to this."},
	{"database_startup_wait", CFG_DURATION, OFF(database_startup_wait), "30s", 0, HOUR(1), NULL, NULL, 0,
	 NULL, "Database",
	 "How long pacerd keeps retrying an unreachable database at start-up before it gives up and exits; 0 tries once."},
	{"migrations_dir", CFG_STRING, OFF(migrations_dir), "", 0, 0, NULL, NULL, CFG_ABSPATH | CFG_EMPTY_OK,
	 NULL, "Database",
	 "Folder of the NNNN_name.sql migrations applied at start and on reload; empty means the ones installed with pacerd (the sql folder of its data directory)."},

	/* redis and the cache */
	{"redis_url", CFG_STRING, OFF(redis_url), "redis://127.0.0.1:6379/0", 0, 0, NULL, "REDIS_URL", CFG_SECRET,
	 cfg_keys_check_redis_url, "Redis",
	 "Redis server: redis://[:password@]host[:port][/db] or unix:/path/to/socket."},
	{"redis_connect_timeout", CFG_DURATION, OFF(redis_connect_timeout), "1s", MS(10), MIN(1), NULL, NULL, 0,
	 NULL, "Redis",
	 "Longest wait for a Redis connection to open."},
	{"redis_timeout", CFG_DURATION, OFF(redis_timeout), "500ms", MS(10), MIN(1), NULL, NULL, 0,
	 NULL, "Redis",
	 "Longest wait for one Redis command; past it the cache is bypassed."},
	{"redis_retry_max", CFG_DURATION, OFF(redis_retry_max), "1s", MS(100), MIN(1), NULL, NULL, 0,
	 NULL, "Redis",
	 "Longest pause between a worker's attempts to reconnect to Redis; the pause starts at 100 ms and doubles up to this."},
	{"cache_local_entries", CFG_INT, OFF(cache_local_entries), "1024", 0, 1000000, NULL, NULL, 0,
	 NULL, "Redis",
	 "Entries in each worker's in-process cache in front of Redis (least recently used go first); 0 turns it off."},
	{"cache_local_ttl", CFG_DURATION, OFF(cache_local_ttl), "5s", 0, HOUR(1), NULL, NULL, 0,
	 NULL, "Redis",
	 "Longest time a worker keeps a value in its in-process cache, so a change made through another worker shows within this."},

	/* admin */
	{"admin_allow", CFG_STRING, OFF(admin_allow), "127.0.0.1/32 ::1/128", 0, 0, NULL, NULL, CFG_EMPTY_OK,
	 cfg_keys_check_admin_allow, "Admin",
	 "Client addresses that may read /admin/health without an admin credential (IPv4 or IPv6, with an optional /prefix); an admin's access token or API key reads it from anywhere, and the rest of the admin API always takes one; empty: credentials only."},
	{"environment", CFG_STRING, OFF(environment), "production", 0, 0, NULL, "PACER_ENVIRONMENT", 0,
	 check_name, "Admin",
	 "Name of this deployment (production, staging, ...) shown by /admin/health."},

	/* identity */
	{"master_key_file", CFG_STRING, OFF(master_key_file), "", 0, 0, NULL, NULL, CFG_ABSPATH | CFG_EMPTY_OK | CFG_RESTART,
	 NULL, "Identity",
	 "File holding the master key (base64 of 32 bytes), readable by its owner only; read when master_key (PACER_MASTER_KEY) is not set."},
	{"auto_approve_users", CFG_BOOL, OFF(auto_approve_users), "off", 0, 0, NULL, NULL, 0,
	 NULL, "Identity",
	 "New accounts start active instead of pending (an admin approves pending ones)."},
	{"password_scrypt_ln", CFG_INT, OFF(password_scrypt_ln), "13", 10, 20, NULL, NULL, 0,
	 NULL, "Identity",
	 "log2 of scrypt's N (with r=8, p=1) for passwords hashed from now on; each stored hash keeps its own parameters."},
	{"jwt_algorithm", CFG_ENUM, OFF(jwt_algorithm), "HS256", 0, 0, jwt_algs, NULL, 0,
	 NULL, "Identity",
	 "Algorithm of signing keys made from now on (at the first start and by pacerctl jwt rotate): HS256 or RS256 (which publishes /.well-known/jwks.json)."},
	{"jwt_issuer", CFG_STRING, OFF(jwt_issuer), "pacer", 0, 0, NULL, NULL, 0,
	 NULL, "Identity",
	 "The iss claim of access tokens; tokens with another issuer are refused."},
	{"jwt_audience", CFG_STRING, OFF(jwt_audience), "pacer", 0, 0, NULL, NULL, 0,
	 NULL, "Identity",
	 "The aud claim of access tokens; tokens for another audience are refused."},
	{"access_token_ttl", CFG_DURATION, OFF(access_token_ttl), "15min", MIN(1), HOUR(24), NULL, NULL, 0,
	 NULL, "Identity",
	 "Lifetime of an access token (JWT); a retired signing key still verifies for this long."},
	{"refresh_token_ttl", CFG_DURATION, OFF(refresh_token_ttl), "30d", HOUR(1), HOUR(24 * 365), NULL, NULL, 0,
	 NULL, "Identity",
	 "Lifetime of a refresh token; each refresh issues a new one and spends the old."},
	{"jwt_leeway", CFG_DURATION, OFF(jwt_leeway), "30s", 0, MIN(5), NULL, NULL, 0,
	 NULL, "Identity",
	 "Clock skew allowed when checking a token's exp and nbf."},

	/* rate limits */
	{"rate_limit_auth", CFG_INT, OFF(rate_limit_auth), "10", 0, 1000000, NULL, NULL, 0,
	 NULL, "Rate limits",
	 "Requests a minute one client address may make to the public authentication endpoints (register, login, refresh, the token endpoints, /admin/setup, /oauth2/register and the /oauth2/authorize form); 0 turns the limit off."},

	/* HTTP security */
	{"cors_allowed_origins", CFG_STRING, OFF(cors_allowed_origins), "", 0, 0, NULL, NULL, CFG_EMPTY_OK,
	 cfg_keys_check_origins, "HTTP security",
	 "Origins (scheme://host[:port], separated by spaces or commas) whose browser pages may call the API, with credentials; empty allows none."},
	{"tls_cert_file", CFG_STRING, OFF(tls_cert_file), "", 0, 0, NULL, NULL, CFG_ABSPATH | CFG_EMPTY_OK,
	 NULL, "HTTP security",
	 "PEM certificate chain for listen addresses marked tls; re-read on reload (a bad one keeps the old)."},
	{"tls_key_file", CFG_STRING, OFF(tls_key_file), "", 0, 0, NULL, NULL, CFG_ABSPATH | CFG_EMPTY_OK,
	 NULL, "HTTP security",
	 "PEM private key of tls_cert_file; re-read on reload."},

	/* MCP */
	{"public_url", CFG_STRING, OFF(public_url), "", 0, 0, NULL, NULL, CFG_EMPTY_OK,
	 cfg_keys_check_public_url, "MCP",
	 "Scheme, host and optional port clients reach this server at (https://pacer.example.com), used in the OAuth metadata and as the audience of tokens for /mcp; empty: taken from each request (its Host field, https over TLS)."},
	{"mcp_allowed_hosts", CFG_STRING, OFF(mcp_allowed_hosts), "localhost 127.0.0.1 [::1]", 0, 0, NULL, NULL, 0,
	 cfg_keys_check_hosts, "MCP",
	 "Host names (any port) /mcp answers to, separated by spaces or commas; a request whose Host or Origin names another host gets 403 (protection against DNS rebinding)."},
	{"mcp_session_idle_timeout", CFG_DURATION, OFF(mcp_session_idle_timeout), "30min", SEC(1), HOUR(24 * 7), NULL, NULL, 0,
	 NULL, "MCP",
	 "An MCP session unused for this long ends (within a tenth of it: the last use is recorded once per tenth); its next request gets 404 and the client starts a new one."},
	{"mcp_wait_timeout", CFG_DURATION, OFF(mcp_wait_timeout), "30s", SEC(1), MIN(10), NULL, NULL, 0,
	 NULL, "MCP",
	 "Longest a tool waits for the client's answer to a request it sent (sampling, elicitation); a wait never runs past request_timeout less a second, so the watchdog never kills a waiting worker."},
	{"mcp_page_size", CFG_INT, OFF(mcp_page_size), "100", 1, 1000, NULL, NULL, 0,
	 NULL, "MCP",
	 "Items in one page of tools/list, resources/list, resources/templates/list and prompts/list (the rest follow a nextCursor)."},
	{"max_stream_workers", CFG_INT, OFF(max_stream_workers), "4", 1, 10000, NULL, NULL, 0,
	 NULL, "MCP",
	 "Workers that may hold a response stream open at once while a tool waits for its client; a call past the cap gets a tool error at once."},
	{"mcp_fixtures", CFG_BOOL, OFF(mcp_fixtures), "off", 0, 0, NULL, NULL, 0,
	 NULL, "MCP",
	 "Serve the MCP conformance suite's test_* tools, resources and prompts to every client; a client without a credential is then let into /mcp (no 401 challenge) and sees only these. Refused unless every listener is loopback. Never in production."},
	{"oauth_code_ttl", CFG_DURATION, OFF(oauth_code_ttl), "1min", SEC(10), MIN(10), NULL, NULL, 0,
	 NULL, "MCP",
	 "Lifetime of an OAuth authorization code (single use) given to an MCP client."},

	/* secrets and providers */
	{"master_key", CFG_STRING, OFF(master_key), "", 0, 0, NULL, "PACER_MASTER_KEY", CFG_SECRET | CFG_EMPTY_OK | CFG_RESTART,
	 cfg_keys_check_master_key, "Secrets",
	 "Base64 of 32 random bytes that encrypts stored secrets (make one with: openssl rand -base64 32)."},
	{"strava_client_id", CFG_STRING, OFF(strava_client_id), "", 0, 0, NULL, "STRAVA_CLIENT_ID", CFG_EMPTY_OK,
	 NULL, "Secrets",
	 "Client id of the Strava API application."},
	{"strava_client_secret", CFG_STRING, OFF(strava_client_secret), "", 0, 0, NULL, "STRAVA_CLIENT_SECRET", CFG_SECRET | CFG_EMPTY_OK,
	 NULL, "Secrets",
	 "Client secret of the Strava API application."},
	{"fitbit_client_id", CFG_STRING, OFF(fitbit_client_id), "", 0, 0, NULL, "FITBIT_CLIENT_ID", CFG_EMPTY_OK,
	 NULL, "Secrets",
	 "Client id of the Fitbit Web API application."},
	{"fitbit_client_secret", CFG_STRING, OFF(fitbit_client_secret), "", 0, 0, NULL, "FITBIT_CLIENT_SECRET", CFG_SECRET | CFG_EMPTY_OK,
	 NULL, "Secrets",
	 "Client secret of the Fitbit Web API application."},

	/* logging */
	{"log_level", CFG_ENUM, OFF(log_level), "info", 0, 0, log_levels, NULL, 0,
	 NULL, "Logging",
	 "Least severe level written: debug, info, warn or error."},
	{"log_format", CFG_ENUM, OFF(log_format), "text", 0, 0, log_formats, NULL, 0,
	 NULL, "Logging",
	 "text (one readable line) or json (one JSON object a line)."},
	{"log_destination", CFG_ENUM, OFF(log_destination), "stderr", 0, 0, log_dests, NULL, 0,
	 NULL, "Logging",
	 "stderr, file (log_file, reopened on SIGUSR1) or syslog."},
	{"log_file", CFG_STRING, OFF(log_file), "/var/log/pacerd/pacerd.log", 0, 0, NULL, NULL, CFG_ABSPATH,
	 NULL, "Logging",
	 "Log file used when log_destination is file."},
	{"syslog_facility", CFG_ENUM, OFF(syslog_facility), "daemon", 0, 0, facilities, NULL, 0,
	 NULL, "Logging",
	 "Syslog facility when log_destination is syslog: daemon, user or local0 to local7."},
	{"syslog_ident", CFG_STRING, OFF(syslog_ident), "pacerd", 0, 0, NULL, NULL, 0,
	 check_name, "Logging",
	 "Program name syslog records."},
	{"access_log", CFG_STRING, OFF(access_log), "", 0, 0, NULL, NULL, CFG_ABSPATH | CFG_EMPTY_OK,
	 NULL, "Logging",
	 "File the workers append one line a request to (reopened on SIGUSR1); empty turns the access log off."},
	{"access_log_format", CFG_ENUM, OFF(access_log_format), "combined", 0, 0, access_formats, NULL, 0,
	 NULL, "Logging",
	 "combined (Apache's combined format plus request id, worker pid and microseconds) or json."},

	/* debugging */
	{"debug_routes", CFG_BOOL, OFF(debug_routes), "off", 0, 0, NULL, NULL, 0,
	 NULL, "Debugging",
	 "Serve the test-only /debug/ routes (such as /debug/sleep, which holds a worker on purpose); loopback listeners only, never in production."},
};
/* clang-format on */

const size_t cfg_keys_count =
    sizeof(cfg_keys_table) / sizeof(cfg_keys_table[0]);

const struct cfg_key *cfg_keys_find(const char *name)
{
	size_t i;

	for (i = 0; i < cfg_keys_count; i++)
		if (strcmp(cfg_keys_table[i].name, name) == 0)
			return &cfg_keys_table[i];
	return NULL;
}

/* Levenshtein distance, bounded to names of a sane length. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t prev[65], cur[65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t sub = prev[j - 1] +
			    (tolower((unsigned char)a[i - 1]) !=
			        tolower((unsigned char)b[j - 1]));

			cur[j] = del < ins ? del : ins;
			if (sub < cur[j])
				cur[j] = sub;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *cfg_keys_suggest(const char *name)
{
	const char *best = NULL;
	size_t i, bestd = (size_t)-1, len = strlen(name);

	for (i = 0; i < cfg_keys_count; i++) {
		size_t d = edit_distance(name, cfg_keys_table[i].name);

		if (d < bestd) {
			bestd = d;
			best = cfg_keys_table[i].name;
		}
	}
	/* Close enough to be a typo: two edits, or a third of the name. */
	if (best != NULL && (bestd <= 2 || bestd * 3 <= len))
		return best;
	return NULL;
}

struct listen_check {
	char *err;
	size_t errlen;
	size_t count;
};

static int check_one_listen(const char *host, const char *port, void *arg)
{
	struct listen_check *lc = arg;
	unsigned char addr[16];
	const char *p;
	long v = 0;

	if (++lc->count > 16) {
		(void)snprintf(lc->err, lc->errlen, "more than 16 addresses");
		return -1;
	}
	if (port[0] == '\0' && strcmp(host, "tls") == 0) {
		(void)snprintf(lc->err, lc->errlen,
		    "the tls marker must follow an address, as in "
		    "\"0.0.0.0:8443 tls\"");
		return -1;
	}
	if (port[0] == '\0') {
		(void)snprintf(lc->err, lc->errlen, "\"%s\" has no port", host);
		return -1;
	}
	for (p = port; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || v > 65535) {
			v = -1;
			break;
		}
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535) {
		(void)snprintf(lc->err, lc->errlen,
		    "port \"%s\" is not a number from 1 to 65535", port);
		return -1;
	}
	if (host[0] == '\0' || inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return 0;
	/* A host name: letters, digits, dots and hyphens. */
	for (p = host; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-') {
			(void)snprintf(lc->err, lc->errlen,
			    "\"%s\" is not an IP address or host name", host);
			return -1;
		}
	}
	if (strlen(host) > 253) {
		(void)snprintf(lc->err, lc->errlen, "host name is too long");
		return -1;
	}
	return 0;
}

int cfg_keys_check_listen(const char *value, char *err, size_t errlen)
{
	struct listen_check lc = {err, errlen, 0};

	err[0] = '\0';
	if (cfg_listen_foreach(value, check_one_listen, &lc) != 0) {
		if (err[0] == '\0')
			(void)snprintf(err, errlen, "malformed address list");
		return -1;
	}
	if (lc.count == 0) {
		(void)snprintf(err, errlen, "no address given");
		return -1;
	}
	return 0;
}

int cfg_keys_check_master_key(const char *value, char *err, size_t errlen)
{
	unsigned char out[64];
	size_t len = strlen(value), pad = 0;
	int n;

	if (len == 0)
		return 0; /* unset: checked where the key is needed */
	/* Base64 of 32 bytes is 44 characters ending in one '='. */
	if (len != 44) {
		(void)snprintf(err, errlen,
		    "must be the base64 of 32 bytes (44 characters, got %zu); "
		    "make one with: openssl rand -base64 32",
		    len);
		return -1;
	}
	while (pad < len && value[len - 1 - pad] == '=')
		pad++;
	n = EVP_DecodeBlock(out, (const unsigned char *)value, (int)len);
	if (n < 0 || (size_t)n - pad != 32) {
		(void)snprintf(err, errlen,
		    "is not valid base64 of 32 bytes; make one with: "
		    "openssl rand -base64 32");
		return -1;
	}
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

static int check_name(const char *value, char *err, size_t errlen)
{
	const char *p;

	if (strlen(value) > 32) {
		(void)snprintf(err, errlen, "longer than 32 characters");
		return -1;
	}
	for (p = value; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
		    *p != '.') {
			(void)snprintf(err, errlen,
			    "\"%s\" may hold only letters, digits, '_', '-' "
			    "and '.'",
			    value);
			return -1;
		}
	}
	return 0;
}

int cfg_keys_check_pg_url(const char *value, char *err, size_t errlen)
{
	PQconninfoOption *opts;
	char *msg = NULL;

	if (value[0] == '\0')
		return 0;
	/* libpq parses both URIs and key=value strings without connecting.
	 * Its message can quote the value, which may hold a password, so it
	 * is not repeated. */
	opts = PQconninfoParse(value, &msg);
	if (opts == NULL) {
		PQfreemem(msg);
		(void)snprintf(err, errlen,
		    "is not a valid PostgreSQL connection URI "
		    "(postgresql://user@host:port/dbname) or key=value string");
		return -1;
	}
	PQconninfoFree(opts);
	return 0;
}

int cfg_keys_check_admin_allow(const char *value, char *err, size_t errlen)
{
	struct netacl acl;

	if (netacl_parse(&acl, value, err, errlen) != 0)
		return -1;
	netacl_free(&acl);
	return 0;
}

/* One origin: http or https, a host of letters, digits, dots and dashes
 * (or a bracketed IPv6 address) and an optional port; nothing after. */
static int origin_valid(const char *o, size_t len)
{
	size_t i, h;

	if (len > 7 && strncmp(o, "http://", 7) == 0)
		i = 7;
	else if (len > 8 && strncmp(o, "https://", 8) == 0)
		i = 8;
	else
		return 0;
	h = i;
	if (o[i] == '[') {
		while (i < len && o[i] != ']')
			i++;
		if (i == len)
			return 0;
		i++;
	} else {
		while (i < len &&
		    (isalnum((unsigned char)o[i]) || o[i] == '.' ||
		        o[i] == '-'))
			i++;
	}
	if (i == h)
		return 0;
	if (i < len && o[i] == ':') {
		size_t p = ++i;

		while (i < len && isdigit((unsigned char)o[i]))
			i++;
		if (i == p || i - p > 5)
			return 0;
	}
	return i == len;
}

int cfg_keys_check_origins(const char *value, char *err, size_t errlen)
{
	const char *p = value;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if (n > 0 && !origin_valid(p, n)) {
			(void)snprintf(err, errlen,
			    "\"%.*s\" is not an origin (scheme://host[:port], "
			    "http or https, no path)",
			    (int)(n > 200 ? 200 : n), p);
			return -1;
		}
		p += n;
	}
	return 0;
}

int cfg_keys_check_public_url(const char *value, char *err, size_t errlen)
{
	size_t n = strlen(value);

	if (n == 0)
		return 0;
	if (value[n - 1] == '/')
		n--;
	if (!origin_valid(value, n)) {
		(void)snprintf(err, errlen,
		    "is not a base URL (http:// or https://, a host, an "
		    "optional port, no path)");
		return -1;
	}
	return 0;
}

/* Whether h[0..n) is a host name, an IPv4 address or a [bracketed]
 * IPv6 address, without a port. */
static bool host_valid(const char *h, size_t n)
{
	size_t i;

	if (n == 0 || n > 253)
		return false;
	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']')
			return false;
		for (i = 1; i + 1 < n; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return false;
		return true;
	}
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-')
			return false;
	return true;
}

int cfg_keys_check_hosts(const char *value, char *err, size_t errlen)
{
	const char *p = value;
	size_t count = 0;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if (n > 0 && !host_valid(p, n)) {
			(void)snprintf(err, errlen,
			    "\"%.*s\" is not a host name or address (no "
			    "port; an IPv6 address in brackets)",
			    (int)(n > 200 ? 200 : n), p);
			return -1;
		}
		count += n > 0;
		p += n;
	}
	if (count == 0) {
		(void)snprintf(err, errlen, "must name at least one host");
		return -1;
	}
	return 0;
}

int cfg_keys_check_redis_url(const char *value, char *err, size_t errlen)
{
	CURLU *u = NULL;
	char *scheme = NULL, *path = NULL;
	int rc = -1;

	if (strncmp(value, "unix:", 5) == 0) {
		if (value[5] != '/') {
			(void)snprintf(err, errlen,
			    "a unix socket is given as unix:/absolute/path");
			return -1;
		}
		return 0;
	}
	if ((u = curl_url()) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, value, CURLU_NON_SUPPORT_SCHEME) !=
	        CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		(void)snprintf(err, errlen,
		    "is not a URL of the form "
		    "redis://[:password@]host[:port][/db]");
		goto out;
	}
	if (strcmp(scheme, "redis") != 0) {
		(void)snprintf(err, errlen,
		    "scheme \"%s\" is not supported (use "
		    "redis:// or unix:/path)",
		    scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    strcmp(path, "/") != 0 && path[0] != '\0') {
		const char *p = path + 1;

		if (strlen(p) > 2 || !isdigit((unsigned char)p[0]) ||
		    (p[1] != '\0' && !isdigit((unsigned char)p[1]))) {
			(void)snprintf(err, errlen,
			    "database \"%s\" is not a number from 0 to 99", p);
			goto out;
		}
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}
