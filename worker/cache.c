/*
 * cache.c - a worker's cache: the local LRU, the Redis connection and its
 * reconnect schedule; see cache.h for the contract.
 *
 * Runs in worker processes only, after fork, on the worker's one thread.
 * hiredis is used in blocking mode with socket timeouts (SO_RCVTIMEO /
 * SO_SNDTIMEO from redisSetTimeout), which bounds every call without an
 * event loop of its own: the worker serves one request at a time anyway.
 * A hiredis context that reported an error is never used again (its
 * reply stream may be out of step), so every failure frees it and the
 * state machine is simply "rc != NULL" (UP) or "rc == NULL" (DOWN, with
 * the time of the next attempt in next_try_us).
 *
 * Commands are always built with hiredis's %b / argv arguments, never by
 * formatting a command string, so a key or value can hold any byte.
 */
#include "cache.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cfg_keys.h"
#include "log.h"
#include "lru.h"

#define CACHE_BACKOFF_MIN_MS 100
#define CACHE_PREFIX "pacer:v1:"
/* "pacer:v1:" ns ":" key and the NUL */
#define CACHE_RKEY_MAX                                                         \
	(sizeof(CACHE_PREFIX) - 1 + CACHE_NS_MAX + 1 + CACHE_KEY_MAX + 1)
#define CACHE_DEFAULT_PORT 6379

struct cache {
	struct cache_opts o; /* redis_url is not kept (it may hold secrets) */
	uint64_t connects;   /* connections made, the first included */
	/* where Redis is */
	bool is_unix;
	char *host; /* host name or address, or the socket path */
	int port;
	char *user;     /* NULL: AUTH with the password only */
	char *password; /* NULL: no AUTH; wiped before it is freed */
	int db;
	char name[300]; /* "host:port" or the socket path, for messages */
	/* the connection */
	redisContext *rc;
	bool down;            /* a connection failed and none works since */
	uint64_t next_try_us; /* DOWN: the next reconnect attempt */
	int64_t backoff_ms;   /* DOWN: the pause before next_try_us */
	unsigned attempts;    /* DOWN: reconnect attempts since going down */
	char last_error[512];
	/* keys changed while Redis was unreachable; deleted on reconnect */
	char *pending[CACHE_PENDING_MAX];
	size_t npending;
	size_t pending_lost;
	struct lru *local; /* NULL: no local table */
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t now_us(const struct cache *c)
{
	return (c->o.now_us != NULL) ? c->o.now_us() : mono_us();
}

static void emit(const struct cache *c, enum cache_event ev)
{
	if (c->o.on_event != NULL)
		c->o.on_event(c->o.arg, ev);
}

static struct timeval ms_to_tv(int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

/* ------------------------------------------------------------ the URL */

/* curl_url_get into a malloc'd copy; *out stays NULL when the part is
 * absent. Returns 0, or -1 when out of memory. */
static int url_part(CURLU *u, CURLUPart part, unsigned flags, char **out)
{
	char *v = NULL;

	*out = NULL;
	if (curl_url_get(u, part, &v, flags) != CURLUE_OK || v == NULL)
		return 0;
	*out = strdup(v);
	if (part == CURLUPART_PASSWORD)
		explicit_bzero(v, strlen(v));
	curl_free(v);
	return (*out != NULL) ? 0 : -1;
}

/* A decimal number from 0 to max, or -1. */
static int number(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
		return -1;
	return (int)v;
}

static int parse_tcp_url(struct cache *c, const char *url, char *err,
    size_t errlen)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL;
	size_t n;
	int rc = -1;

	if (u == NULL ||
	    curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
	        CURLUE_OK)
		goto nomem; /* cfg_keys_check_redis_url() accepted it */
	if (url_part(u, CURLUPART_HOST, 0, &host) == -1 ||
	    url_part(u, CURLUPART_PORT, 0, &port) == -1 ||
	    url_part(u, CURLUPART_PATH, 0, &path) == -1 ||
	    url_part(u, CURLUPART_USER, CURLU_URLDECODE, &c->user) == -1 ||
	    url_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE, &c->password) ==
	        -1 ||
	    host == NULL)
		goto nomem;
	/* An IPv6 address comes in brackets, which hiredis does not want. */
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	c->port = (port != NULL) ? number(port, 65535) : CACHE_DEFAULT_PORT;
	c->db = (path != NULL && path[0] == '/' && path[1] != '\0')
	    ? number(path + 1, 99)
	    : 0;
	if (c->user != NULL && c->user[0] == '\0') {
		free(c->user);
		c->user = NULL;
	}
	if (c->port <= 0 || c->db < 0) {
		(void)snprintf(err, errlen, "redis_url: bad %s",
		    (c->port <= 0) ? "port" : "database number");
		goto out;
	}
	(void)snprintf(c->name, sizeof(c->name),
	    (strchr(host, ':') != NULL) ? "[%s]:%d" : "%s:%d", host, c->port);
	c->host = host;
	host = NULL;
	rc = 0;
	goto out;
nomem:
	(void)snprintf(err, errlen, "redis_url: out of memory");
out:
	free(host);
	free(port);
	free(path);
	curl_url_cleanup(u);
	return rc;
}

static int parse_url(struct cache *c, const char *url, char *err, size_t errlen)
{
	char why[256];

	if (url == NULL ||
	    cfg_keys_check_redis_url(url, why, sizeof(why)) == -1) {
		/* why never repeats the URL, so no password leaks here */
		(void)snprintf(err, errlen, "redis_url: %s",
		    (url == NULL) ? "not set" : why);
		return -1;
	}
	if (strncmp(url, "unix:", 5) == 0) {
		c->is_unix = true;
		c->host = strdup(url + 5);
		if (c->host == NULL) {
			(void)snprintf(err, errlen, "redis_url: out of memory");
			return -1;
		}
		(void)snprintf(c->name, sizeof(c->name), "%s", c->host);
		return 0;
	}
	return parse_tcp_url(c, url, err, errlen);
}

/* ------------------------------------------------------------ state */

static void drop_conn(struct cache *c)
{
	if (c->rc != NULL)
		redisFree(c->rc);
	c->rc = NULL;
}

/*
 * The connection failed (an attempt to open it, or a command on it):
 * drop it, count the error and schedule the next attempt. Going from UP
 * to DOWN is logged once; failed retries only at debug level.
 */
static void conn_failed(struct cache *c, const char *reason)
{
	drop_conn(c);
	emit(c, CACHE_EV_REDIS_ERROR);
	(void)snprintf(c->last_error, sizeof(c->last_error),
	    "redis %s unreachable: %s", c->name, reason);
	if (!c->down) {
		log_warnx("%s; cache bypassed, retrying", c->last_error);
		c->down = true;
		c->backoff_ms = CACHE_BACKOFF_MIN_MS;
		c->attempts = 0;
	} else {
		log_debug("%s (attempt %u)", c->last_error, c->attempts);
		c->backoff_ms *= 2;
	}
	if (c->backoff_ms > c->o.retry_max_ms)
		c->backoff_ms = c->o.retry_max_ms;
	c->next_try_us = now_us(c) + (uint64_t)c->backoff_ms * 1000u;
}

/* The reason of a failed hiredis call, in words an operator can use. */
static void conn_failed_rc(struct cache *c, int saved_errno)
{
	char why[160];

	if (c->rc == NULL || c->rc->err == 0)
		(void)snprintf(why, sizeof(why), "no reply");
	else if (c->rc->err == REDIS_ERR_IO && saved_errno == EAGAIN)
		(void)snprintf(why, sizeof(why), "no reply within %lld ms",
		    (long long)c->o.command_timeout_ms);
	else
		(void)snprintf(why, sizeof(why), "%s", c->rc->errstr);
	conn_failed(c, why);
}

/* Run one command; NULL when the connection failed (it is then gone). */
static redisReply *command(struct cache *c, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	errno = 0;
	r = redisvCommand(c->rc, fmt, ap);
	va_end(ap);
	if (r == NULL)
		conn_failed_rc(c, errno);
	return r;
}

/* The reply to an AUTH, SELECT or PING at connect time. Returns 0, or -1
 * (the connection is then gone). The reason quotes Redis's error, unless
 * that echoes the password (some servers quote a bad command's
 * arguments). */
static int setup_command(struct cache *c, const char *what, redisReply *r)
{
	char why[256];

	if (r == NULL)
		return -1; /* command() already failed the connection */
	if (r->type == REDIS_REPLY_ERROR) {
		(void)snprintf(why, sizeof(why), "%s refused: %.*s", what,
		    (int)(r->len < 160 ? r->len : 160), r->str);
		if (c->password != NULL && c->password[0] != '\0' &&
		    r->str != NULL && strstr(r->str, c->password) != NULL)
			(void)snprintf(why, sizeof(why), "%s refused", what);
		freeReplyObject(r);
		conn_failed(c, why);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

static int send_pending(struct cache *c);

/* One attempt to open the connection; see conn_failed() for failure. */
static int try_connect(struct cache *c)
{
	struct timeval ctv = ms_to_tv(c->o.connect_timeout_ms);
	struct timeval tv = ms_to_tv(c->o.command_timeout_ms);

	if (c->down)
		c->attempts++;
	c->rc = c->is_unix ? redisConnectUnixWithTimeout(c->host, ctv)
	                   : redisConnectWithTimeout(c->host, c->port, ctv);
	if (c->rc == NULL) {
		conn_failed(c, "out of memory");
		return -1;
	}
	if (c->rc->err != 0 || redisSetTimeout(c->rc, tv) != REDIS_OK ||
	    (!c->is_unix && redisEnableKeepAlive(c->rc) != REDIS_OK)) {
		conn_failed_rc(c, errno);
		return -1;
	}
	(void)fcntl(c->rc->fd, F_SETFD, FD_CLOEXEC); /* best effort */
	if (c->password != NULL &&
	    setup_command(c, "AUTH",
	        (c->user != NULL)
	            ? command(c, "AUTH %s %s", c->user, c->password)
	            : command(c, "AUTH %s", c->password)) == -1)
		return -1;
	if (c->db != 0 &&
	    setup_command(c, "SELECT", command(c, "SELECT %d", c->db)) == -1)
		return -1;
	/* A server that accepts connections but does not answer (stopped,
	 * overloaded) or wants a password we lack is down, not up. */
	if (setup_command(c, "PING", command(c, "PING")) == -1)
		return -1;
	if (send_pending(c) == -1)
		return -1;
	c->connects++;
	if (c->down) {
		log_info("redis %s back after %u attempt%s", c->name,
		    c->attempts, (c->attempts == 1) ? "" : "s");
		emit(c, CACHE_EV_REDIS_RECONNECT);
	} else {
		log_debug("redis %s connected", c->name);
	}
	c->down = false;
	c->attempts = 0;
	c->next_try_us = 0;
	c->last_error[0] = '\0';
	return 0;
}

/* Whether a connection is there, trying to open one when it is time. */
static bool redis_ready(struct cache *c)
{
	if (c->rc != NULL)
		return true;
	if (now_us(c) < c->next_try_us)
		return false;
	return try_connect(c) == 0;
}

/* ------------------------------------------------------------ pending */

/* Remember a key changed while Redis could not be told. */
static void pending_add(struct cache *c, const char *rkey)
{
	size_t i;

	for (i = 0; i < c->npending; i++) {
		if (strcmp(c->pending[i], rkey) == 0)
			return;
	}
	if (c->npending == CACHE_PENDING_MAX ||
	    (c->pending[c->npending] = strdup(rkey)) == NULL) {
		c->pending_lost++;
		return;
	}
	c->npending++;
}

static void pending_clear(struct cache *c)
{
	size_t i;

	for (i = 0; i < c->npending; i++) {
		free(c->pending[i]);
		c->pending[i] = NULL;
	}
	c->npending = 0;
	c->pending_lost = 0;
}

/* Delete from Redis the keys changed while it was unreachable, so it
 * does not serve their old values. Returns 0, or -1 when the connection
 * failed (the keys are kept for the next connection). */
static int send_pending(struct cache *c)
{
	const char *argv[CACHE_PENDING_MAX + 1];
	size_t lens[CACHE_PENDING_MAX + 1], i;
	redisReply *r;

	if (c->pending_lost > 0)
		log_warnx("redis %s: %zu keys changed while it was "
		          "unreachable were not recorded; their old values may "
		          "be served until their ttl ends",
		    c->name, c->pending_lost);
	if (c->npending == 0) {
		pending_clear(c);
		return 0;
	}
	argv[0] = "DEL";
	lens[0] = 3;
	for (i = 0; i < c->npending; i++) {
		argv[i + 1] = c->pending[i];
		lens[i + 1] = strlen(c->pending[i]);
	}
	errno = 0;
	r = redisCommandArgv(c->rc, (int)c->npending + 1, argv, lens);
	if (r == NULL) {
		c->pending_lost = 0; /* already said */
		conn_failed_rc(c, errno);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR)
		emit(c, CACHE_EV_REDIS_ERROR);
	else
		log_debug("redis %s: %zu keys changed while it was unreachable "
		          "deleted",
		    c->name, c->npending);
	freeReplyObject(r);
	pending_clear(c);
	return 0;
}

/* ------------------------------------------------------------ open */

static int check_opts(const struct cache_opts *o, char *err, size_t errlen)
{
	if (o->connect_timeout_ms <= 0 || o->command_timeout_ms <= 0 ||
	    o->retry_max_ms <= 0 || o->local_entries < 0 ||
	    o->local_ttl_ms < 0) {
		(void)snprintf(err, errlen,
		    "cache: timeouts must be positive and sizes not negative");
		return -1;
	}
	return 0;
}

struct cache *cache_open(const struct cache_opts *o, char *err, size_t errlen)
{
	struct cache *c = NULL;

	if (o == NULL || check_opts(o, err, errlen) == -1)
		goto fail;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)snprintf(err, errlen, "cache: out of memory");
		goto fail;
	}
	c->o = *o;
	c->o.redis_url = NULL;
	if (parse_url(c, o->redis_url, err, errlen) == -1)
		goto fail;
	if (o->local_entries > 0 && o->local_ttl_ms > 0 &&
	    (c->local = lru_new((size_t)o->local_entries)) == NULL) {
		(void)snprintf(err, errlen, "cache: out of memory");
		goto fail;
	}
	(void)try_connect(c); /* a Redis that is down is not our failure */
	return c;
fail:
	cache_close(&c);
	return NULL;
}

void cache_close(struct cache **cp)
{
	struct cache *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	drop_conn(c);
	lru_free(&c->local);
	pending_clear(c);
	if (c->password != NULL)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	free(c->user);
	free(c->host);
	free(c);
	*cp = NULL;
}

/* ------------------------------------------------------------ keys */

static bool ns_ok(const char *ns)
{
	size_t i;

	for (i = 0; ns[i] != '\0'; i++) {
		char ch = ns[i];

		if (i >= CACHE_NS_MAX ||
		    !((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		        ch == '_'))
			return false;
	}
	return i > 0;
}

static bool key_ok(const char *key)
{
	size_t i;

	for (i = 0; key[i] != '\0'; i++) {
		if (i >= CACHE_KEY_MAX || key[i] < 0x21 || key[i] > 0x7e)
			return false;
	}
	return i > 0;
}

/* The Redis key into rkey (CACHE_RKEY_MAX bytes); its length, or 0 for a
 * bad ns or key. */
static size_t make_key(const char *ns, const char *key, char *rkey)
{
	struct buf b;

	if (ns == NULL || key == NULL || !ns_ok(ns) || !key_ok(key))
		return 0;
	buf_init_fixed(&b, rkey, CACHE_RKEY_MAX);
	if (buf_printf(&b, CACHE_PREFIX "%s:%s", ns, key) == -1)
		return 0;
	return b.len;
}

/* ------------------------------------------------------------ get */

/* Append a value to out whole, or leave out as it was. */
static int append_value(struct buf *out, const void *v, size_t len)
{
	size_t before = out->len;
	bool overflow = out->overflow;

	if (buf_append(out, v, len) == 0)
		return 0;
	buf_truncate(out, before);
	out->overflow = overflow;
	return -1;
}

/* How long (us) to keep a value Redis returned locally, from its PTTL
 * reply; 0: do not keep it. */
static uint64_t local_ttl_from(const struct cache *c, const redisReply *pttl)
{
	int64_t ms = c->o.local_ttl_ms;

	if (pttl == NULL || pttl->type != REDIS_REPLY_INTEGER ||
	    pttl->integer == -2 || pttl->integer == 0)
		return 0; /* gone meanwhile, or no answer */
	if (pttl->integer > 0 && pttl->integer < ms)
		ms = pttl->integer;
	return (uint64_t)ms * 1000u;
}

/* GET (and PTTL when there is a local table) in one round trip. Returns
 * 1 with the replies, or 0 when the connection failed. */
static int redis_get(struct cache *c, const char *rkey, size_t rlen,
    redisReply **val, redisReply **pttl)
{
	void *r = NULL;

	*val = *pttl = NULL;
	errno = 0;
	if (redisAppendCommand(c->rc, "GET %b", rkey, rlen) != REDIS_OK ||
	    (c->local != NULL &&
	        redisAppendCommand(c->rc, "PTTL %b", rkey, rlen) != REDIS_OK) ||
	    redisGetReply(c->rc, &r) != REDIS_OK)
		goto fail;
	*val = r;
	r = NULL;
	if (c->local != NULL && redisGetReply(c->rc, &r) != REDIS_OK)
		goto fail;
	*pttl = r;
	return 1;
fail:
	conn_failed_rc(c, errno);
	freeReplyObject(*val);
	*val = NULL;
	return 0;
}

static int get_from_redis(struct cache *c, const char *rkey, size_t rlen,
    struct buf *out)
{
	redisReply *val, *pttl;
	uint64_t ttl_us;
	int rc = 0;

	if (!redis_ready(c) || redis_get(c, rkey, rlen, &val, &pttl) == 0)
		return 0;
	if (val->type == REDIS_REPLY_STRING) {
		emit(c, CACHE_EV_REDIS_HIT);
		rc = (append_value(out, val->str, val->len) == 0) ? 1 : -1;
		ttl_us = local_ttl_from(c, pttl);
		if (rc == 1 && ttl_us > 0 && val->len <= CACHE_LOCAL_VALUE_MAX)
			(void)lru_set(c->local, rkey, rlen, val->str, val->len,
			    now_us(c), ttl_us); /* on failure: not kept */
	} else if (val->type == REDIS_REPLY_NIL) {
		emit(c, CACHE_EV_REDIS_MISS);
	} else {
		emit(c, CACHE_EV_REDIS_ERROR); /* an error reply: a miss */
	}
	freeReplyObject(val);
	freeReplyObject(pttl);
	return rc;
}

int cache_get(struct cache *c, const char *ns, const char *key, struct buf *out)
{
	char rkey[CACHE_RKEY_MAX];
	size_t rlen;
	const void *v;
	size_t vlen;

	if (c == NULL || out == NULL || (rlen = make_key(ns, key, rkey)) == 0)
		return -1;
	if (c->local != NULL) {
		if (lru_get(c->local, rkey, rlen, now_us(c), &v, &vlen) == 1) {
			emit(c, CACHE_EV_LOCAL_HIT);
			return (append_value(out, v, vlen) == 0) ? 1 : -1;
		}
		emit(c, CACHE_EV_LOCAL_MISS);
	}
	return get_from_redis(c, rkey, rlen, out);
}

/* ------------------------------------------------------------ set, del */

/* A write (SET or DEL) to Redis; when it cannot be made, the key is
 * remembered and deleted from Redis on reconnect. */
static void redis_write(struct cache *c, const char *rkey, redisReply *r)
{
	if (r == NULL) {
		pending_add(c, rkey);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR)
		emit(c, CACHE_EV_REDIS_ERROR);
	freeReplyObject(r);
}

int cache_set(struct cache *c, const char *ns, const char *key, const void *val,
    size_t len, unsigned ttl_s)
{
	char rkey[CACHE_RKEY_MAX];
	size_t rlen;
	uint64_t local_ms;
	redisReply *r;

	if (c == NULL || (val == NULL && len > 0) || ttl_s == 0 ||
	    len > CACHE_VALUE_MAX || (rlen = make_key(ns, key, rkey)) == 0)
		return -1;
	if (c->local != NULL) {
		local_ms = (uint64_t)ttl_s * 1000u;
		if (local_ms > (uint64_t)c->o.local_ttl_ms)
			local_ms = (uint64_t)c->o.local_ttl_ms;
		if (len <= CACHE_LOCAL_VALUE_MAX)
			(void)lru_set(c->local, rkey, rlen, val, len, now_us(c),
			    local_ms * 1000u); /* fails: not kept */
		else
			(void)lru_del(c->local, rkey, rlen);
	}
	if (!redis_ready(c)) {
		pending_add(c, rkey);
		return 0;
	}
	r = command(c, "SET %b %b EX %u", rkey, rlen, (val != NULL) ? val : "",
	    len, ttl_s);
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		/* Refused (e.g. OOM): at least do not keep the old value. */
		freeReplyObject(r);
		emit(c, CACHE_EV_REDIS_ERROR);
		r = command(c, "DEL %b", rkey, rlen);
	}
	redis_write(c, rkey, r);
	return 0;
}

int cache_del(struct cache *c, const char *ns, const char *key)
{
	char rkey[CACHE_RKEY_MAX];
	size_t rlen;

	if (c == NULL || (rlen = make_key(ns, key, rkey)) == 0)
		return -1;
	if (c->local != NULL)
		(void)lru_del(c->local, rkey, rlen);
	if (!redis_ready(c)) {
		pending_add(c, rkey);
		return 0;
	}
	redis_write(c, rkey, command(c, "DEL %b", rkey, rlen));
	return 0;
}

/* ------------------------------------------------------------ counters */

/* KEYS[1] the counter; ARGV: increment, ttl (ms), seed. Returns {count,
 * ms left}. A key INCRBY creates has no ttl (PTTL -1): that is the first
 * hit, which sets it. */
static const char incr_script[] =
    "if tonumber(ARGV[3]) > 0 then "
    "redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2], 'NX') end "
    "local n = redis.call('INCRBY', KEYS[1], ARGV[1]) "
    "local t = redis.call('PTTL', KEYS[1]) "
    "if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
    "t = tonumber(ARGV[2]) end "
    "return {n, t}";

/* The script's SHA-1 in hex, as EVALSHA wants it; "" when it could not
 * be computed (EVAL is used then). */
static const char *incr_sha(void)
{
	static char hex[2 * 20 + 1];
	static bool done;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (done)
		return hex;
	done = true;
	if (EVP_Digest(incr_script, sizeof(incr_script) - 1, md, &len,
	        EVP_sha1(), NULL) != 1 ||
	    len != 20)
		return hex;
	for (i = 0; i < len; i++)
		(void)snprintf(hex + (size_t)2 * i, 3, "%02x", md[i]);
	return hex;
}

/* Run the script: EVALSHA, then EVAL when Redis does not have it. NULL
 * when the connection failed. */
static redisReply *run_incr(struct cache *c, const char *rkey, size_t rlen,
    int64_t by, int64_t ttl_ms, int64_t seed)
{
	const char *sha = incr_sha();
	redisReply *r;

	if (sha[0] != '\0') {
		r = command(c, "EVALSHA %s 1 %b %lld %lld %lld", sha, rkey,
		    rlen, (long long)by, (long long)ttl_ms, (long long)seed);
		if (r == NULL || r->type != REDIS_REPLY_ERROR ||
		    r->str == NULL || strncmp(r->str, "NOSCRIPT", 8) != 0)
			return r;
		freeReplyObject(r);
	}
	return command(c, "EVAL %s 1 %b %lld %lld %lld", incr_script, rkey,
	    rlen, (long long)by, (long long)ttl_ms, (long long)seed);
}

int cache_incr(struct cache *c, const char *ns, const char *key, int64_t by,
    int64_t ttl_ms, int64_t seed, int64_t *count, int64_t *ms_left)
{
	char rkey[CACHE_RKEY_MAX];
	size_t rlen;
	redisReply *r;
	int rc = 0;

	if (c == NULL || count == NULL || ms_left == NULL || by < 1 ||
	    ttl_ms < 1 || seed < 0 || (rlen = make_key(ns, key, rkey)) == 0)
		return -1;
	if (!redis_ready(c) ||
	    (r = run_incr(c, rkey, rlen, by, ttl_ms, seed)) == NULL)
		return 0;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		*count = r->element[0]->integer;
		*ms_left = r->element[1]->integer;
		rc = 1;
	} else {
		emit(c, CACHE_EV_REDIS_ERROR); /* refused: not counted */
		log_debug("redis %s: counter %s refused: %.*s", c->name, rkey,
		    (r->type == REDIS_REPLY_ERROR && r->str != NULL)
		        ? (int)(r->len < 160 ? r->len : 160)
		        : 12,
		    (r->type == REDIS_REPLY_ERROR && r->str != NULL)
		        ? r->str
		        : "a bad reply");
	}
	freeReplyObject(r);
	return rc;
}

/* ------------------------------------------------------------ the rest */

void cache_tick(struct cache *c)
{
	if (c != NULL)
		(void)redis_ready(c);
}

enum cache_redis_state cache_redis_state(const struct cache *c)
{
	return (c != NULL && c->rc != NULL) ? CACHE_REDIS_UP : CACHE_REDIS_DOWN;
}

const char *cache_last_error(const struct cache *c)
{
	return (c != NULL && c->rc == NULL) ? c->last_error : "";
}

uint64_t cache_connects(const struct cache *c)
{
	return c != NULL ? c->connects : 0;
}

const char *cache_redis_name(const struct cache *c)
{
	return (c != NULL) ? c->name : "";
}

int cache_ping(struct cache *c, uint64_t *rtt_us)
{
	uint64_t t0;
	redisReply *r;
	int rc = -1;

	if (c == NULL || !redis_ready(c))
		return -1;
	t0 = mono_us();
	if ((r = command(c, "PING")) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STATUS) {
		if (rtt_us != NULL)
			*rtt_us = mono_us() - t0;
		rc = 0;
	} else {
		emit(c, CACHE_EV_REDIS_ERROR); /* an error reply */
	}
	freeReplyObject(r);
	return rc;
}
