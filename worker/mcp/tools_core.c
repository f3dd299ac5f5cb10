/*
 * tools_core.c - the MCP tools every pacer user has before any fitness
 * data exists: who am I (whoami), how is the server (server_status, and
 * the same document as the resource pacer://server/status), and a prompt
 * that tells an assistant what pacer can do today; see mcp.h.
 *
 * Runs in worker processes, for authenticated users only (every item is
 * MCP_USER). The status is this worker's own view: the state of its
 * database connection and of its Redis connection as last seen, without
 * a query or a PING, so asking costs nothing and cannot hang. whoami
 * reads the database once, for an API key's name and display prefix; the
 * rest comes from the credential the middleware checked (the gate admits
 * active users only).
 */
#include "mcp_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "buf.h"
#include "cache.h"
#include "db.h"
#include "log.h"
#include "sb.h"
#include "version.h"

/* ---- helpers ---------------------------------------------------------- */

static void add_str(json_object *o, const char *key, const char *v)
{
	(void)json_object_object_add(o, key, json_object_new_string(v));
}

/* t as ISO 8601 UTC ("2025-11-25T09:30:00Z"). */
static void iso8601(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, len, "unknown");
}

static const char *json_text(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return s != NULL ? s : "null";
}

/* ---- the status document ---------------------------------------------- */

/* The primary's state as this worker sees it. */
static const char *db_state_text(void)
{
	if (mcp_g.db == NULL)
		return "unknown";
	switch (db_state(mcp_g.db)) {
	case SB_DB_UP: return "up";
	case SB_DB_DOWN: return "down";
	case SB_DB_NONE:
	case SB_DB_NSTATES: break;
	}
	return "connecting";
}

/*
 * The status document of the tool and the resource: a new object, or
 * NULL when out of memory. Conforms to STATUS_SCHEMA.
 */
static json_object *status_doc(const struct mcp_call *call)
{
	json_object *doc = json_object_new_object();
	json_object *db = json_object_new_object();
	json_object *redis = json_object_new_object();
	char now[32];

	if (doc == NULL || db == NULL || redis == NULL) {
		json_object_put(doc);
		json_object_put(db);
		json_object_put(redis);
		return NULL;
	}
	iso8601(time(NULL), now, sizeof(now));
	add_str(doc, "service", "pacer");
	add_str(doc, "version", version_string());
	add_str(doc, "git_commit", version_git_commit());
	add_str(doc, "time", now);
	add_str(doc, "protocol_version", mcp_protocol_version(call));
	add_str(db, "state", db_state_text());
	add_str(db, "replica",
	    mcp_g.db != NULL ? sb_db_state_name(db_read_state(mcp_g.db))
	                     : "unknown");
	(void)json_object_object_add(doc, "database", db);
	add_str(redis, "state",
	    mcp_g.cache == NULL                                    ? "unknown"
	        : cache_redis_state(mcp_g.cache) == CACHE_REDIS_UP ? "up"
	                                                           : "down");
	(void)json_object_object_add(doc, "redis", redis);
	return doc;
}

#define STATUS_SCHEMA                                                          \
	"{\"type\":\"object\",\"properties\":{"                                \
	"\"service\":{\"type\":\"string\",\"const\":\"pacer\"},"               \
	"\"version\":{\"type\":\"string\","                                    \
	"\"description\":\"pacer's version\"},"                                \
	"\"git_commit\":{\"type\":\"string\",\"description\":"                 \
	"\"the commit it was built from, or unknown\"},"                       \
	"\"time\":{\"type\":\"string\",\"description\":"                       \
	"\"the server's time, ISO 8601 UTC\"},"                                \
	"\"protocol_version\":{\"type\":\"string\",\"description\":"           \
	"\"the MCP protocol version of this session\"},"                       \
	"\"database\":{\"type\":\"object\",\"description\":"                   \
	"\"this worker's PostgreSQL connection as last seen\","                \
	"\"properties\":{"                                                     \
	"\"state\":{\"enum\":[\"up\",\"down\",\"connecting\",\"unknown\"]},"   \
	"\"replica\":{\"enum\":[\"up\",\"down\",\"none\",\"unknown\"],"        \
	"\"description\":\"the read replica; none: not configured or not "     \
	"connected yet\"}},"                                                   \
	"\"required\":[\"state\",\"replica\"]},"                               \
	"\"redis\":{\"type\":\"object\",\"description\":"                      \
	"\"this worker's Redis connection as last seen (a cache: down costs "  \
	"speed, not data)\","                                                  \
	"\"properties\":{"                                                     \
	"\"state\":{\"enum\":[\"up\",\"down\",\"unknown\"]}},"                 \
	"\"required\":[\"state\"]}},"                                          \
	"\"required\":[\"service\",\"version\",\"git_commit\",\"time\","       \
	"\"protocol_version\",\"database\",\"redis\"]}"

static void t_server_status(struct mcp_call *call, json_object *args)
{
	json_object *doc = status_doc(call);

	(void)args;
	if (doc == NULL) {
		mcp_tool_error(call, "The status could not be built.");
		return;
	}
	mcp_tool_structured(call, doc);
}

static void r_server_status(struct mcp_call *call, const char *uri,
    json_object *vars)
{
	json_object *doc = status_doc(call);

	(void)vars;
	if (doc == NULL) {
		mcp_fail(call, MCP_INTERNAL_ERROR, NULL,
		    "the status could not be built");
		return;
	}
	mcp_resource_text(call, uri, "application/json", json_text(doc));
	json_object_put(doc);
}

/* ---- whoami ----------------------------------------------------------- */

/* The name and display prefix of the caller's API key, added to key;
 * left out when the database cannot tell. */
static void key_details(const struct mcp_call *call,
    const struct auth_principal *who, json_object *key)
{
	const char *params[1] = {who->user_id};
	PGresult *res = NULL;
	enum db_rc rc;

	if (mcp_g.db == NULL)
		return;
	rc = db_exec(mcp_g.db, Q_APIKEY_LIST, params, &res);
	if (rc == DB_ERROR)
		log_errx("request %s: could not read the API keys of user %s: "
		         "%s",
		    mcp_request_id(call), who->user_id,
		    PQresultErrorMessage(res));
	for (int i = 0; rc == DB_OK && i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 0), who->key_id) == 0) {
			add_str(key, "name", PQgetvalue(res, i, 1));
			add_str(key, "prefix", PQgetvalue(res, i, 2));
			break;
		}
	PQclear(res);
}

#define WHOAMI_SCHEMA                                                          \
	"{\"type\":\"object\",\"properties\":{"                                \
	"\"user_id\":{\"type\":\"string\"},"                                   \
	"\"email\":{\"type\":\"string\"},"                                     \
	"\"role\":{\"enum\":[\"user\",\"admin\",\"super_admin\"]},"            \
	"\"status\":{\"enum\":[\"pending\",\"active\",\"suspended\"]},"        \
	"\"authenticated_by\":{\"enum\":[\"access_token\",\"oauth_token\","    \
	"\"api_key\"],\"description\":\"access_token: a token from pacer's "   \
	"own login; oauth_token: a token an OAuth client obtained for this "   \
	"MCP server; api_key: a pk_live_ or pk_trial_ key\"},"                 \
	"\"client_id\":{\"type\":\"string\",\"description\":\"the OAuth "      \
	"client the token was issued to (OAuth tokens only)\"},"               \
	"\"tier\":{\"enum\":[\"trial\",\"starter\",\"professional\","          \
	"\"enterprise\"],\"description\":\"the API key's tier (API keys "      \
	"only)\"},"                                                            \
	"\"api_key\":{\"type\":\"object\",\"description\":\"the API key "      \
	"used (API keys only); name and prefix are left out when the "         \
	"database is unreachable\",\"properties\":{"                           \
	"\"id\":{\"type\":\"string\"},"                                        \
	"\"name\":{\"type\":\"string\"},"                                      \
	"\"prefix\":{\"type\":\"string\"}},\"required\":[\"id\"]},"            \
	"\"token_expires_at\":{\"type\":\"string\",\"description\":\"when "    \
	"the token expires, ISO 8601 UTC (tokens only)\"}},"                   \
	"\"required\":[\"user_id\",\"email\",\"role\",\"status\","             \
	"\"authenticated_by\"]}"

static void t_whoami(struct mcp_call *call, json_object *args)
{
	const struct auth_principal *who = mcp_who(call);
	json_object *doc, *key;
	char when[32];

	(void)args;
	if (who == NULL) {
		mcp_tool_error(call, "whoami needs a signed-in user.");
		return;
	}
	if ((doc = json_object_new_object()) == NULL) {
		mcp_tool_error(call, "The answer could not be built.");
		return;
	}
	add_str(doc, "user_id", who->user_id);
	add_str(doc, "email", who->email);
	add_str(doc, "role", auth_role_name(who->role));
	add_str(doc, "status", "active"); /* the gate admits no other */
	if (who->via == AUTH_VIA_API_KEY) {
		add_str(doc, "authenticated_by", "api_key");
		if ((unsigned)who->tier < AUTH_NTIERS)
			add_str(doc, "tier", auth_tiers[who->tier].name);
		if ((key = json_object_new_object()) != NULL) {
			add_str(key, "id", who->key_id);
			key_details(call, who, key);
			(void)json_object_object_add(doc, "api_key", key);
		}
	} else {
		add_str(doc, "authenticated_by",
		    who->mcp_audience ? "oauth_token" : "access_token");
		if (who->mcp_audience && who->client_id[0] != '\0')
			add_str(doc, "client_id", who->client_id);
		iso8601((time_t)who->exp, when, sizeof(when));
		add_str(doc, "token_expires_at", when);
	}
	mcp_tool_structured(call, doc);
}

/* ---- the getting-started prompt ---------------------------------------- */

static void p_getting_started(struct mcp_call *call, json_object *args)
{
	struct buf b;
	char text[2048];

	(void)args;
	buf_init_fixed(&b, text, sizeof(text));
	(void)buf_printf(&b,
	    "You are connected to pacer %s, a fitness-data server, through "
	    "MCP. Here is what it can do today.\n\n"
	    "Available now (account tools only):\n"
	    "- whoami: the signed-in user's id, email, role and status, and "
	    "how they authenticated (pacer's own access token, an OAuth "
	    "token with its client, or an API key with its name, prefix and "
	    "tier).\n"
	    "- server_status: pacer's version, whether the database and the "
	    "Redis cache are reachable from the server answering, the MCP "
	    "protocol version of this session and the server's time. The "
	    "same document is the resource pacer://server/status.\n\n",
	    version_string());
	(void)buf_puts(&b,
	    "Not built yet: connecting a Strava or Fitbit account, and "
	    "everything that reads training data (activities, totals, pace "
	    "and heart-rate analysis, training load, race predictions, "
	    "goals). pacer holds no fitness data for this user yet, so never "
	    "guess or invent any: when the user asks for it, say plainly "
	    "that pacer cannot provide it yet and that it is coming.\n\n"
	    "A good first step: call whoami to confirm whose account this "
	    "is, and server_status if something seems wrong.");
	if (b.overflow) {
		mcp_fail(call, MCP_INTERNAL_ERROR, NULL,
		    "the prompt could not be built");
		return;
	}
	mcp_prompt_description(call, "What pacer can do for you today");
	mcp_prompt_message(call, "user", mcp_text_item(buf_str(&b)));
}

/* ---- the module ------------------------------------------------------- */

static const struct mcp_tool tools[] = {
    {"whoami", "Who am I",
        "The signed-in pacer user: id, email, role, account status, and "
        "how this connection authenticated (pacer access token, OAuth "
        "token and its client, or API key with its name, prefix and "
        "tier).",
        "{\"type\":\"object\",\"properties\":{},"
        "\"additionalProperties\":false}",
        WHOAMI_SCHEMA, MCP_HINT_READ_ONLY | MCP_HINT_IDEMPOTENT, MCP_USER,
        t_whoami},
    {"server_status", "Server status",
        "pacer's version, whether the server's database and Redis cache "
        "are reachable, the MCP protocol version of this session and the "
        "server's time.",
        "{\"type\":\"object\",\"properties\":{},"
        "\"additionalProperties\":false}",
        STATUS_SCHEMA, MCP_HINT_READ_ONLY, MCP_USER, t_server_status},
};

static const struct mcp_resource resources[] = {
    {"pacer://server/status", false, "server-status", "Server status",
        "pacer's version, database and Redis state, protocol version and "
        "time (the server_status tool's document)",
        "application/json", MCP_USER, r_server_status},
};

static const struct mcp_prompt prompts[] = {
    {"pacer_getting_started", "Getting started with pacer",
        "What pacer can do for an assistant today, and what it cannot do "
        "yet",
        NULL, 0, MCP_USER, p_getting_started},
};

const struct mcp_module mcp_core_module = {
    .name = "core",
    MCP_MODULE_TABLES(tools, resources, prompts),
    .anonymous_ok = false,
};
