/*
 * server.c - the JSON-RPC methods of the MCP server: initialize, ping,
 * the tools, resources and prompts methods, completion and logging.
 *
 * Each method reads its params, checks them (a wrong or missing field is
 * -32602 with the field named) and fills call->result or call->error.
 * tools/call validates the arguments against the tool's input schema
 * before its handler runs, and checks a successful result against its
 * output schema afterwards (a tool that breaks its own contract is a
 * server bug: -32603, logged). A tool's own failure is a result with
 * isError, never a protocol error.
 *
 * Sessions (initialize creating one, the others using one) are the
 * transport's business (transport.c); methods that change session state
 * (logging/setLevel, resources/subscribe) write it through the queries.
 */
#include "mcp_int.h"

#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "db.h"
#include "jsonschema.h"
#include "log.h"
#include "router.h"
#include "version.h"

const char *const mcp_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
    "2024-11-05", NULL};

bool mcp_version_known(const char *v)
{
	size_t i;

	for (i = 0; mcp_versions[i] != NULL; i++)
		if (strcmp(mcp_versions[i], v) == 0)
			return true;
	return false;
}

static struct mcp_view view_of(const struct mcp_call *call)
{
	struct mcp_view v = {call->http->who != NULL, mcp_g.cfg->mcp_fixtures};

	return v;
}

static void bad_param(struct mcp_call *call, const char *field, const char *why)
{
	mcp_fail(call, MCP_INVALID_PARAMS, NULL, "params.%s: %s", field, why);
}

/* A string member of params, or NULL after answering -32602. */
static const char *need_str(struct mcp_call *call, json_object *params,
    const char *key)
{
	json_object *v;

	if (params == NULL || !json_object_object_get_ex(params, key, &v)) {
		bad_param(call, key, "missing");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		bad_param(call, key, "must be a string");
		return NULL;
	}
	return json_object_get_string(v);
}

/* An optional string member: NULL when absent; *bad when present but
 * not a string (answered). */
static const char *opt_str(struct mcp_call *call, json_object *params,
    const char *key, bool *bad)
{
	json_object *v;

	*bad = false;
	if (params == NULL || !json_object_object_get_ex(params, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		bad_param(call, key, "must be a string");
		*bad = true;
		return NULL;
	}
	return json_object_get_string(v);
}

/* ---- initialize, ping ------------------------------------------------- */

static void m_initialize(struct mcp_call *call, json_object *params)
{
	json_object *caps = json_object_new_object(), *o, *info;

	(void)params; /* read by the transport, which made the session */
	json_object_object_add(call->result, "protocolVersion",
	    json_object_new_string(call->version));
	o = json_object_new_object();
	json_object_object_add(o, "listChanged", json_object_new_boolean(0));
	json_object_object_add(caps, "tools", o);
	o = json_object_new_object();
	json_object_object_add(o, "subscribe", json_object_new_boolean(1));
	json_object_object_add(o, "listChanged", json_object_new_boolean(0));
	json_object_object_add(caps, "resources", o);
	o = json_object_new_object();
	json_object_object_add(o, "listChanged", json_object_new_boolean(0));
	json_object_object_add(caps, "prompts", o);
	json_object_object_add(caps, "logging", json_object_new_object());
	json_object_object_add(caps, "completions", json_object_new_object());
	json_object_object_add(call->result, "capabilities", caps);
	info = json_object_new_object();
	json_object_object_add(info, "name", json_object_new_string("pacer"));
	json_object_object_add(info, "title", json_object_new_string("pacer"));
	json_object_object_add(info, "version",
	    json_object_new_string(version_string()));
	json_object_object_add(call->result, "serverInfo", info);
	json_object_object_add(call->result, "instructions",
	    json_object_new_string(
	        "pacer serves a person's training data. Call whoami to see "
	        "whose data this session reads; server_status says what "
	        "the server can do now."));
}

static void m_ping(struct mcp_call *call, json_object *params)
{
	(void)call;
	(void)params;
}

/* ---- lists ------------------------------------------------------------ */

static void list(struct mcp_call *call, json_object *params, const char *key)
{
	struct mcp_view v = view_of(call);
	bool bad;
	const char *cursor = opt_str(call, params, "cursor", &bad);

	if (bad)
		return;
	if (mcp_registry_list(&v, key, cursor, (size_t)mcp_g.cfg->mcp_page_size,
	        call->result) != 0)
		bad_param(call, "cursor", "is not a cursor this server gave");
}

static void m_tools_list(struct mcp_call *call, json_object *params)
{
	list(call, params, "tools");
}

static void m_resources_list(struct mcp_call *call, json_object *params)
{
	list(call, params, "resources");
}

static void m_templates_list(struct mcp_call *call, json_object *params)
{
	list(call, params, "resourceTemplates");
}

static void m_prompts_list(struct mcp_call *call, json_object *params)
{
	list(call, params, "prompts");
}

/* ---- tools/call -------------------------------------------------------- */

/* After a successful run: the structured result must match the output
 * schema. */
static void check_output(struct mcp_call *call, const struct mcp_tool *t,
    const json_object *output)
{
	char why[JSONSCHEMA_ERR_MAX];
	json_object *sc, *err;

	if (output == NULL ||
	    (json_object_object_get_ex(call->result, "isError", &err) &&
	        json_object_get_boolean(err)))
		return;
	if (!json_object_object_get_ex(call->result, "structuredContent",
	        &sc) ||
	    jsonschema_check(output, sc, "structuredContent", why,
	        sizeof(why)) != 0) {
		log_errx("request %s: tool %s broke its output schema: %s",
		    call->http->request_id, t->name,
		    sc == NULL ? "no structuredContent" : why);
		mcp_fail(call, MCP_INTERNAL_ERROR, NULL,
		    "tool %s produced a result that does not match its "
		    "output schema",
		    t->name);
	}
}

static void m_tools_call(struct mcp_call *call, json_object *params)
{
	struct mcp_view v = view_of(call);
	const json_object *input = NULL, *output = NULL;
	const struct mcp_tool *t;
	json_object *args = NULL;
	char why[JSONSCHEMA_ERR_MAX];
	const char *name = need_str(call, params, "name");
	int rc;

	if (name == NULL)
		return;
	if ((t = mcp_registry_tool(&v, name, &input, &output)) == NULL) {
		mcp_fail(call, MCP_INVALID_PARAMS, NULL, "unknown tool: %s",
		    name);
		return;
	}
	if (!json_object_object_get_ex(params, "arguments", &args) ||
	    json_object_is_type(args, json_type_null))
		args = NULL;
	if (args != NULL && !json_object_is_type(args, json_type_object)) {
		bad_param(call, "arguments", "must be an object");
		return;
	}
	args = args != NULL ? json_object_get(args) : json_object_new_object();
	rc = jsonschema_check(input, args, "arguments", why, sizeof(why));
	if (rc != 0) {
		if (rc < 0)
			log_errx("tool %s: its input schema: %s", name, why);
		mcp_fail(call, rc < 0 ? MCP_INTERNAL_ERROR : MCP_INVALID_PARAMS,
		    NULL, "invalid arguments for tool %s: %s", name, why);
		json_object_put(args);
		return;
	}
	t->run(call, args);
	json_object_put(args);
	if (call->error == NULL) {
		if (!json_object_object_get_ex(call->result, "content", NULL))
			json_object_object_add(call->result, "content",
			    json_object_new_array());
		check_output(call, t, output);
	}
}

/* ---- resources --------------------------------------------------------- */

static void m_resources_read(struct mcp_call *call, json_object *params)
{
	struct mcp_view v = view_of(call);
	const char *uri = need_str(call, params, "uri");
	const struct mcp_resource *r;
	json_object *vars = NULL;

	if (uri == NULL)
		return;
	if ((r = mcp_registry_resource(&v, uri, &vars)) == NULL) {
		json_object *data = json_object_new_object();

		json_object_object_add(data, "uri",
		    json_object_new_string(uri));
		mcp_fail(call, MCP_RESOURCE_NOT_FOUND, data,
		    "resource not found: %s", uri);
		return;
	}
	r->read(call, uri, vars);
	json_object_put(vars);
	if (call->error == NULL &&
	    !json_object_object_get_ex(call->result, "contents", NULL))
		json_object_object_add(call->result, "contents",
		    json_object_new_array());
}

static void subscription(struct mcp_call *call, json_object *params, bool on)
{
	struct mcp_view v = view_of(call);
	const char *uri = need_str(call, params, "uri");
	json_object *vars = NULL;
	const char *p[3];
	PGresult *res = NULL;
	enum db_rc rc;

	if (uri == NULL)
		return;
	if (on && mcp_registry_resource(&v, uri, &vars) == NULL) {
		mcp_fail(call, MCP_RESOURCE_NOT_FOUND, NULL,
		    "resource not found: %s", uri);
		return;
	}
	json_object_put(vars);
	if (call->session == NULL || call->session->hash[0] == '\0')
		return; /* nothing to remember it in */
	p[0] = call->session->hash;
	p[1] = uri;
	p[2] = on ? "true" : "false";
	rc = db_exec(mcp_g.db, Q_MCP_SESSION_SUB, p, &res);
	PQclear(res);
	if (rc != DB_OK)
		mcp_fail(call, MCP_INTERNAL_ERROR, NULL,
		    "could not record the subscription");
}

static void m_subscribe(struct mcp_call *call, json_object *params)
{
	subscription(call, params, true);
}

static void m_unsubscribe(struct mcp_call *call, json_object *params)
{
	subscription(call, params, false);
}

/* ---- prompts ----------------------------------------------------------- */

/* The prompt's arguments: an object of strings, the required present. */
static json_object *prompt_args(struct mcp_call *call,
    const struct mcp_prompt *p, json_object *params)
{
	json_object *given = NULL, *out = json_object_new_object();
	size_t i;

	if (json_object_object_get_ex(params, "arguments", &given) &&
	    !json_object_is_type(given, json_type_null) &&
	    !json_object_is_type(given, json_type_object)) {
		bad_param(call, "arguments", "must be an object");
		goto fail;
	}
	for (i = 0; i < p->nargs; i++) {
		json_object *a = NULL;
		char field[160];

		(void)snprintf(field, sizeof(field), "arguments.%s",
		    p->args[i].name);
		if (given == NULL ||
		    !json_object_object_get_ex(given, p->args[i].name, &a) ||
		    json_object_is_type(a, json_type_null)) {
			if (p->args[i].required) {
				bad_param(call, field, "missing (required)");
				goto fail;
			}
			continue;
		}
		if (!json_object_is_type(a, json_type_string)) {
			bad_param(call, field, "must be a string");
			goto fail;
		}
		json_object_object_add(out, p->args[i].name,
		    json_object_get(a));
	}
	return out;
fail:
	json_object_put(out);
	return NULL;
}

static void m_prompts_get(struct mcp_call *call, json_object *params)
{
	struct mcp_view v = view_of(call);
	const char *name = need_str(call, params, "name");
	const struct mcp_prompt *p;
	json_object *args;

	if (name == NULL)
		return;
	if ((p = mcp_registry_prompt(&v, name)) == NULL) {
		mcp_fail(call, MCP_INVALID_PARAMS, NULL, "unknown prompt: %s",
		    name);
		return;
	}
	if ((args = prompt_args(call, p, params)) == NULL)
		return;
	p->get(call, args);
	json_object_put(args);
	if (call->error == NULL &&
	    !json_object_object_get_ex(call->result, "messages", NULL))
		json_object_object_add(call->result, "messages",
		    json_object_new_array());
}

/* ---- completion, logging ---------------------------------------------- */

static void m_complete(struct mcp_call *call, json_object *params)
{
	struct mcp_view v = view_of(call);
	json_object *ref = NULL, *arg = NULL, *values, *c;
	const char *type, *name, *aname, *value;

	if (params == NULL || !json_object_object_get_ex(params, "ref", &ref) ||
	    !json_object_is_type(ref, json_type_object)) {
		bad_param(call, "ref", "missing or not an object");
		return;
	}
	if (!json_object_object_get_ex(params, "argument", &arg) ||
	    !json_object_is_type(arg, json_type_object)) {
		bad_param(call, "argument", "missing or not an object");
		return;
	}
	if ((type = need_str(call, ref, "type")) == NULL ||
	    (aname = need_str(call, arg, "name")) == NULL ||
	    (value = need_str(call, arg, "value")) == NULL)
		return;
	if (strcmp(type, "ref/prompt") == 0)
		name = need_str(call, ref, "name");
	else if (strcmp(type, "ref/resource") == 0)
		name = need_str(call, ref, "uri");
	else {
		bad_param(call, "ref.type",
		    "must be \"ref/prompt\" or \"ref/resource\"");
		return;
	}
	if (name == NULL)
		return;
	values = mcp_registry_complete(&v, type, name, aname, value);
	c = json_object_new_object();
	json_object_object_add(c, "total",
	    json_object_new_int((int)json_object_array_length(values)));
	json_object_object_add(c, "hasMore", json_object_new_boolean(0));
	json_object_object_add(c, "values", values);
	json_object_object_add(call->result, "completion", c);
}

static void m_set_level(struct mcp_call *call, json_object *params)
{
	const char *level = need_str(call, params, "level");
	const char *p[2];
	PGresult *res = NULL;
	enum db_rc rc;

	if (level == NULL)
		return;
	if (mcp_level_rank(level) < 0) {
		bad_param(call, "level",
		    "must be one of debug, info, notice, warning, error, "
		    "critical, alert, emergency");
		return;
	}
	if (call->session == NULL || call->session->hash[0] == '\0')
		return;
	p[0] = call->session->hash;
	p[1] = level;
	rc = db_exec(mcp_g.db, Q_MCP_SESSION_LEVEL, p, &res);
	PQclear(res);
	if (rc != DB_OK) {
		mcp_fail(call, MCP_INTERNAL_ERROR, NULL,
		    "could not record the level");
		return;
	}
	(void)snprintf(call->session->level, sizeof(call->session->level), "%s",
	    level);
}

/* ---- dispatch ---------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(struct mcp_call *call, json_object *params);
} methods[] = {
    {"initialize", m_initialize},
    {"ping", m_ping},
    {"tools/list", m_tools_list},
    {"tools/call", m_tools_call},
    {"resources/list", m_resources_list},
    {"resources/read", m_resources_read},
    {"resources/templates/list", m_templates_list},
    {"resources/subscribe", m_subscribe},
    {"resources/unsubscribe", m_unsubscribe},
    {"prompts/list", m_prompts_list},
    {"prompts/get", m_prompts_get},
    {"completion/complete", m_complete},
    {"logging/setLevel", m_set_level},
};

void mcp_dispatch(struct mcp_call *call, const char *method,
    json_object *params)
{
	size_t i;

	if (params != NULL && !json_object_is_type(params, json_type_object)) {
		mcp_fail(call, MCP_INVALID_PARAMS, NULL,
		    "params must be an object");
		return;
	}
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, method) == 0) {
			methods[i].fn(call, params);
			return;
		}
	mcp_fail(call, MCP_METHOD_NOT_FOUND, NULL, "method not found: %s",
	    method);
}
