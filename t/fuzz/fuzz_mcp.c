/*
 * fuzz_mcp.c - libFuzzer target for what the MCP endpoint does with a
 * client's bytes before any handler runs.
 *
 * The input is a POST /mcp body. It is read as one JSON-RPC message or a
 * batch (mcp_jsonrpc_parse), and each message is classified
 * (mcp_jsonrpc_classify) and held to what the kind promises; an invalid
 * one gets the error object transport.c would send. For each message's
 * params, as server.c would take them:
 *
 * - name: looked up in the registry (mcp_registry_tool) for the view the
 *   input picks, and arguments checked against that tool's input schema;
 * - arguments (any value, not only an object): checked against every
 *   registry tool's input and output schema and against fixed schemas
 *   parsed once ($ref and $defs, recursion, pattern, anyOf, oneOf, allOf,
 *   not, enum, const, uniqueItems, numeric bounds);
 * - uri: matched against fixed templates (mcp_template_match) and looked
 *   up as a resource (mcp_registry_resource);
 * - cursor: decoded by mcp_registry_list for every list, then the pages
 *   after it followed to the end;
 * - ref and argument (completion/complete): mcp_registry_complete, whose
 *   values must start with what was typed.
 *
 * The whole input, when it is a JSON object or boolean, is also taken as a
 * schema: jsonschema_valid, and if valid, jsonschema_check of fixed values,
 * of the message's arguments and of the input itself. A schema called
 * valid may still fail a check only for the limits jsonschema.h names.
 * The input's text (its first bytes, NUL-ended) is also used as a URI
 * against the fixed templates, as a template against fixed URIs, and,
 * when no message carried a cursor, as a cursor and base64url-encoded as
 * one (so "tools:2" reaches the parse of a cursor's content).
 *
 * Aborts when an invariant breaks: a classification the message does not
 * fit, a check result outside -1..1, an error message empty, unterminated
 * or too long (the buffers are heap copies of exactly errlen bytes, so
 * ASan sees a write past them), a template match that depends on whether
 * variables are collected or does not give the URI back when the
 * variables are put into the template, a page longer than asked, a
 * cursor of ours refused, pages that do not end.
 *
 * Link set: jsonrpc.c, jsonschema.c, registry.c, the tables of
 * fixtures.c and tools_core.c, and call.c (which their handlers call),
 * with shared buf, log, secret, sb and version. The handlers never run
 * here, so what call.c and tools_core.c need from the rest of the worker
 * (the database, the Redis cache, the HTTP response, the authentication
 * tables, mcp_g of transport.c) is defined below as stubs that abort if
 * ever reached. Built by `make fuzz` with clang
 * -fsanitize=fuzzer,address,undefined.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cache.h"
#include "db.h"
#include "http_resp.h"
#include "jsonschema.h"
#include "mcp_int.h"
#include "secret.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- stubs: the worker outside the MCP tables; never reached -------- */

static void unreachable(const char *fn)
{
	(void)fprintf(stderr, "fuzz_mcp: %s called\n", fn);
	abort();
}

struct mcp_state mcp_g; /* transport.c's; all NULL here */
const struct auth_tier_info auth_tiers[AUTH_NTIERS];

enum db_rc db_exec(struct db *db, enum query_id q, const char *const *params,
    PGresult **res)
{
	(void)db, (void)q, (void)params, (void)res;
	unreachable(__func__);
	return DB_UNAVAILABLE;
}

enum sb_db_state db_state(const struct db *db)
{
	(void)db;
	unreachable(__func__);
	return SB_DB_NONE;
}

enum sb_db_state db_read_state(const struct db *db)
{
	(void)db;
	unreachable(__func__);
	return SB_DB_NONE;
}

int db_notify_fd(const struct db *db)
{
	(void)db;
	unreachable(__func__);
	return -1;
}

int db_notify_next(struct db *db, const char *channel, char *dst, size_t n)
{
	(void)db, (void)channel, (void)dst, (void)n;
	unreachable(__func__);
	return -1;
}

enum cache_redis_state cache_redis_state(const struct cache *c)
{
	(void)c;
	unreachable(__func__);
	return CACHE_REDIS_DOWN;
}

const char *auth_role_name(enum auth_role role)
{
	(void)role;
	unreachable(__func__);
	return "";
}

int http_resp_header(struct http_resp *r, const char *name, const char *value)
{
	(void)r, (void)name, (void)value;
	unreachable(__func__);
	return -1;
}

/* ---- fixed inputs, parsed once ------------------------------------------ */

/* Schemas beside the registry's: every keyword family, a recursive $ref
 * under anyOf (the work budget), a false schema. */
static const char *const schema_texts[] = {
    "{\"type\":\"object\",\"$defs\":{"
    "\"pace\":{\"type\":\"object\",\"properties\":{"
    "\"km\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"
    "\"sec\":{\"type\":\"number\",\"exclusiveMinimum\":0,"
    "\"exclusiveMaximum\":86400,\"multipleOf\":0.5}},"
    "\"required\":[\"km\"],\"additionalProperties\":false},"
    "\"node\":{\"type\":\"object\",\"properties\":{"
    "\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z][a-z0-9_]{0,15}$\"},"
    "\"children\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"},"
    "\"maxItems\":8}}}},"
    "\"properties\":{"
    "\"unit\":{\"enum\":[\"km\",\"mi\",null,1,{\"a\":[1,2.5]}]},"
    "\"laps\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/pace\"},"
    "\"minItems\":1,\"uniqueItems\":true},"
    "\"id\":{\"anyOf\":[{\"type\":\"string\",\"minLength\":1,"
    "\"maxLength\":36,\"pattern\":\"^[0-9a-f-]+$\"},{\"type\":\"integer\"}]},"
    "\"tree\":{\"$ref\":\"#/$defs/node\"},"
    "\"kind\":{\"oneOf\":[{\"const\":\"run\"},{\"const\":\"ride\"},"
    "{\"type\":\"string\",\"pattern\":\"^(x|y)-[[:alpha:]]+\"}]},"
    "\"flags\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":"
    "\"boolean\"},\"uniqueItems\":true},"
    "\"note\":{\"not\":{\"type\":\"null\"},\"allOf\":[{\"type\":\"string\"},"
    "{\"maxLength\":140}]}},"
    "\"required\":[\"unit\"],"
    "\"additionalProperties\":{\"type\":[\"string\",\"number\"]}}",

    "{\"$defs\":{\"t\":{\"anyOf\":["
    "{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/t\"}},"
    "{\"type\":\"object\",\"additionalProperties\":{\"$ref\":\"#/$defs/t\"}},"
    "{\"type\":\"string\",\"pattern\":\"(a|b)*c\"},"
    "{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}]}},"
    "\"$ref\":\"#/$defs/t\"}",

    "{\"type\":\"object\",\"definitions\":{\"s\":{\"type\":\"string\"}},"
    "\"properties\":{\"a\":false,\"b\":true,\"c\":{\"$ref\":"
    "\"#/definitions/s\"},\"d\":{\"const\":{\"x\":[1,{\"y\":null}]}}},"
    "\"additionalProperties\":true}",
};
#define NSCHEMAS (sizeof(schema_texts) / sizeof(schema_texts[0]))

/* A value that conforms to the first schema. */
static const char value_run[] =
    "{\"unit\":\"km\",\"laps\":[{\"km\":5,\"sec\":1500.5},{\"km\":10}],"
    "\"id\":\"ab-12\",\"tree\":{\"name\":\"root\",\"children\":"
    "[{\"name\":\"a\"}]},\"kind\":\"x-run\",\"flags\":[true,false]}";

/* Values the input, taken as a schema, is checked against. */
static const char *const value_texts[] = {value_run, "\"text\"", "42", "-3.5",
    "null", "true", "[1,\"a\",[2],{\"b\":null}]", "{}", "[]", "1e308",
    "9223372036854775807", "\"\\u00e9t\\u00e9\""};
#define NVALUES (sizeof(value_texts) / sizeof(value_texts[0]))

static const char *const templates[] = {
    "test://template/{id}/data",
    "pacer://users/{user}/activities/{id}",
    "x://{a}.{b}",
    "{a}",
    "a{b}c{d}",
    "file:///{path}",
};
#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

static const char *const uris[] = {
    "test://template/42/data",
    "pacer://users/u1/activities/7",
    "x://a.b.c",
    "abcd",
    "",
};
#define NURIS (sizeof(uris) / sizeof(uris[0]))

static const char *const list_keys[] = {"tools", "resources",
    "resourceTemplates", "prompts"};
#define NKEYS (sizeof(list_keys) / sizeof(list_keys[0]))

/* Each registry tool's schemas (borrowed from the registry). */
#define TOOLS_MAX ((size_t)64)
static const json_object *tool_schemas[2 * TOOLS_MAX];
static size_t ntool_schemas;

static json_object *schemas[NSCHEMAS];
static json_object *values[NVALUES];
/* Items of every kind in every module: more than any list's pages. */
static size_t items_max;

static void lists(const struct mcp_view *v, const char *cursor, size_t page);

static json_object *parse_or_die(const char *text)
{
	json_object *o = json_tokener_parse(text);

	if (o == NULL && strcmp(text, "null") != 0) {
		(void)fprintf(stderr, "fuzz_mcp: does not parse: %s\n", text);
		abort();
	}
	return o;
}

static void add_tools(const struct mcp_module *mod)
{
	static const struct mcp_view all = {.user = true, .fixtures = true};

	for (size_t i = 0; i < mod->ntools; i++) {
		const json_object *in = NULL, *out = NULL;

		if (mcp_registry_tool(&all, mod->tools[i].name, &in, &out) ==
		        NULL ||
		    in == NULL || ntool_schemas + 2 > 2 * TOOLS_MAX)
			abort();
		tool_schemas[ntool_schemas++] = in;
		if (out != NULL)
			tool_schemas[ntool_schemas++] = out;
	}
	items_max += mod->ntools + mod->nresources + mod->nprompts;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (mcp_registry_init(err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "fuzz_mcp: registry: %s\n", err);
		abort();
	}
	add_tools(&mcp_core_module);
	add_tools(&mcp_fixtures_module);
	for (size_t i = 0; i < NSCHEMAS; i++) {
		schemas[i] = parse_or_die(schema_texts[i]);
		if (jsonschema_valid(schemas[i], err, sizeof(err)) != 0) {
			(void)fprintf(stderr, "fuzz_mcp: schema %zu: %s\n", i,
			    err);
			abort();
		}
	}
	for (size_t i = 0; i < NVALUES; i++)
		values[i] = parse_or_die(value_texts[i]);
	/* Every list from its first page, for every view and page size. */
	for (unsigned bits = 0; bits < 16; bits++) {
		struct mcp_view v = {(bits & 1) != 0, (bits & 2) != 0};

		lists(&v, NULL, 1 + (bits >> 2));
	}
	return 0;
}

/* ---- checks ------------------------------------------------------------ */

/* A message buffer of exactly n bytes on the heap. */
static char *err_buf(size_t n)
{
	char *p = malloc(n);

	if (p == NULL)
		abort();
	memset(p, 'x', n);
	return p;
}

static void message_ok(const char *err, size_t errlen, bool set)
{
	size_t n = strnlen(err, errlen);

	if (n == errlen)
		abort(); /* not NUL-ended within errlen */
	if (set != (n > 0) && errlen > 1)
		abort(); /* a failure without a reason, or a stale one */
}

/* Whether the check's -1 is one a valid schema may still give. */
static bool limit_reason(const char *err)
{
	size_t n = strlen(err);

	return strstr(err, "nesting deeper") != NULL ||
	    strstr(err, "too much work") != NULL ||
	    strstr(err, "could not be matched") != NULL ||
	    strstr(err, "out of memory") != NULL ||
	    (n >= 3 && strcmp(err + n - 3, "...") == 0); /* reason cut */
}

/* jsonschema_check with a full and a tight message buffer; both must
 * agree. Every schema here passed jsonschema_valid. */
static void check(const json_object *schema, const json_object *value,
    size_t tight)
{
	char *big = err_buf(JSONSCHEMA_ERR_MAX), *small = err_buf(tight);
	int rc = jsonschema_check(schema, value, "arguments", big,
	    JSONSCHEMA_ERR_MAX);
	int rc2 = jsonschema_check(schema, value, "a", small, tight);

	if (rc < -1 || rc > 1 || rc != rc2)
		abort();
	message_ok(big, JSONSCHEMA_ERR_MAX, rc != 0);
	message_ok(small, tight, rc != 0);
	if (rc < 0 && !limit_reason(big)) {
		(void)fprintf(stderr,
		    "fuzz_mcp: valid schema, check says: %s\n", big);
		abort();
	}
	free(big);
	free(small);
}

/* The input as a schema. */
static void as_schema(json_object *doc, json_object *args, size_t tight)
{
	char *err = err_buf(tight);
	int rc;

	if (!json_object_is_type(doc, json_type_object) &&
	    !json_object_is_type(doc, json_type_boolean)) {
		free(err);
		return;
	}
	rc = jsonschema_valid(doc, err, tight);
	if (rc != 0 && rc != -1)
		abort();
	message_ok(err, tight, rc != 0);
	free(err);
	if (rc != 0)
		return;
	for (size_t i = 0; i < NVALUES; i++)
		check(doc, values[i], tight);
	check(doc, doc, tight);
	if (args != NULL)
		check(doc, args, tight);
}

static void arguments(json_object *args, size_t tight)
{
	for (size_t i = 0; i < ntool_schemas; i++)
		check(tool_schemas[i], args, tight);
	for (size_t i = 0; i < NSCHEMAS; i++)
		check(schemas[i], args, tight);
}

/* tmpl with each {name} replaced by vars[name]; false when a name is
 * missing or repeats (the match keeps only its last value). */
static bool expand(const char *tmpl, json_object *vars, char *out, size_t n)
{
	size_t o = 0, nvars = 0;

	while (*tmpl != '\0') {
		const char *close, *v;
		char name[64];
		size_t nl, vl;
		json_object *val;

		if (*tmpl != '{') {
			if (o + 1 >= n)
				return false;
			out[o++] = *tmpl++;
			continue;
		}
		if ((close = strchr(tmpl, '}')) == NULL)
			return false;
		nl = (size_t)(close - tmpl - 1);
		if (nl == 0 || nl >= sizeof(name))
			return false;
		memcpy(name, tmpl + 1, nl);
		name[nl] = '\0';
		if (!json_object_object_get_ex(vars, name, &val))
			return false;
		v = json_object_get_string(val);
		vl = strlen(v);
		if (o + vl + 1 >= n)
			return false;
		memcpy(out + o, v, vl);
		o += vl;
		nvars++;
		tmpl = close + 1;
	}
	out[o] = '\0';
	return nvars == (size_t)json_object_object_length(vars);
}

static void match(const char *tmpl, const char *uri)
{
	json_object *vars = json_object_new_object();
	bool plain = mcp_template_match(tmpl, uri, NULL);
	bool with = mcp_template_match(tmpl, uri, vars);
	static char back[8192];

	if (vars == NULL)
		abort();
	if (plain != with)
		abort();
	if (strchr(tmpl, '{') == NULL && plain != (strcmp(tmpl, uri) == 0))
		abort();
	if (with) {
		json_object_object_foreach(vars, k, v)
		{
			const char *s = json_object_get_string(v);

			(void)k;
			if (s == NULL || s[0] == '\0' ||
			    strpbrk(s, "/?#") != NULL)
				abort(); /* a variable is one or more bytes of
				            one segment */
		}
		if (expand(tmpl, vars, back, sizeof(back)) &&
		    strcmp(back, uri) != 0)
			abort();
	}
	json_object_put(vars);
}

static void uri_checks(const struct mcp_view *v, const char *uri)
{
	json_object *vars = NULL;
	const struct mcp_resource *r;

	for (size_t i = 0; i < NTEMPLATES; i++)
		match(templates[i], uri);
	r = mcp_registry_resource(v, uri, &vars);
	if (r != NULL && r->templated != (vars != NULL))
		abort();
	json_object_put(vars);
}

#define CURSOR_MAX 256

/* One page of list key after cursor (NULL: the first page). ours: the
 * cursor came from an earlier page, so it must be accepted. Returns
 * whether a next page follows, its cursor in next (which may be the
 * buffer cursor points into: it is written last). */
static bool list_page(const struct mcp_view *v, const char *key,
    const char *cursor, bool ours, size_t page, char next[CURSOR_MAX])
{
	json_object *res = json_object_new_object(), *arr, *nc;
	int rc = mcp_registry_list(v, key, cursor, page, res);
	bool more = false;
	int len;

	if (rc != 0 && (rc != -1 || ours || cursor == NULL))
		abort(); /* the first page or a cursor of ours refused */
	if (rc != 0)
		goto out;
	if (!json_object_object_get_ex(res, key, &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) > page)
		abort();
	if (json_object_object_get_ex(res, "nextCursor", &nc)) {
		len = json_object_get_string_len(nc);
		if (!json_object_is_type(nc, json_type_string) || len <= 0 ||
		    len >= CURSOR_MAX)
			abort();
		memcpy(next, json_object_get_string(nc), (size_t)len + 1);
		more = true;
	}
out:
	json_object_put(res);
	return more;
}

/* Every list from cursor, then the pages after it, which must end. */
static void lists(const struct mcp_view *v, const char *cursor, size_t page)
{
	for (size_t k = 0; k < NKEYS; k++) {
		char next[CURSOR_MAX];
		size_t steps = 0;

		if (!list_page(v, list_keys[k], cursor, false, page, next))
			continue;
		do
			if (++steps > items_max)
				abort(); /* the pages do not end */
		while (list_page(v, list_keys[k], next, true, page, next));
	}
}

/* What each kind promises (see mcp_int.h). */
static void classify(json_object *msg)
{
	const char *why = NULL;
	enum mcp_msg_kind k = mcp_jsonrpc_classify(msg, &why);
	json_object *id = NULL, *method = NULL;
	bool has_id = json_object_object_get_ex(msg, "id", &id);
	bool has_method = json_object_object_get_ex(msg, "method", &method);

	switch (k) {
	case MCP_MSG_INVALID: {
		json_object *e;

		if (why == NULL || why[0] == '\0')
			abort();
		e = mcp_error_object(MCP_INVALID_REQUEST, why, NULL);
		if (e == NULL || json_object_to_json_string(e) == NULL)
			abort();
		json_object_put(e);
		return;
	}
	case MCP_MSG_REQUEST:
		if (!has_method || !has_id ||
		    !json_object_is_type(method, json_type_string) ||
		    json_object_is_type(id, json_type_null))
			abort();
		return;
	case MCP_MSG_NOTIFICATION:
		if (!has_method || has_id ||
		    !json_object_is_type(method, json_type_string))
			abort();
		return;
	case MCP_MSG_RESPONSE:
		if (has_method || !has_id ||
		    json_object_is_type(id, json_type_null) ||
		    (!json_object_object_get_ex(msg, "result", NULL) &&
		        !json_object_object_get_ex(msg, "error", NULL)))
			abort();
		return;
	}
	abort();
}

static const char *member_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct input {
	struct mcp_view view;
	size_t page;       /* list page size, 1..4 */
	size_t tight;      /* the small message buffer, 1..48 */
	json_object *args; /* the first message's arguments (borrowed) */
	bool had_cursor;
};

/* completion/complete: ref {type, name}, argument {name, value}. */
static void complete(const struct mcp_view *v, json_object *params)
{
	json_object *ref, *arg, *vals;
	const char *type, *name, *an, *prefix;
	size_t n;

	if (!json_object_object_get_ex(params, "ref", &ref) ||
	    !json_object_object_get_ex(params, "argument", &arg) ||
	    (type = member_str(ref, "type")) == NULL ||
	    (name = member_str(ref, "name")) == NULL ||
	    (an = member_str(arg, "name")) == NULL ||
	    (prefix = member_str(arg, "value")) == NULL)
		return;
	vals = mcp_registry_complete(v, type, name, an, prefix);
	if (!json_object_is_type(vals, json_type_array) ||
	    (n = json_object_array_length(vals)) > 100)
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *c =
		    json_object_get_string(json_object_array_get_idx(vals, i));

		if (c == NULL || strncmp(c, prefix, strlen(prefix)) != 0)
			abort(); /* a value that does not start with it */
	}
	json_object_put(vals);
}

static void message(struct input *in, json_object *msg)
{
	json_object *params = NULL, *args = NULL;
	const char *s;

	classify(msg);
	if (!json_object_object_get_ex(msg, "params", &params) ||
	    !json_object_is_type(params, json_type_object))
		return;
	if (json_object_object_get_ex(params, "arguments", &args)) {
		if (in->args == NULL)
			in->args = args;
		arguments(args, in->tight);
	}
	if ((s = member_str(params, "name")) != NULL) {
		const json_object *input = NULL, *output = NULL;

		if (mcp_registry_tool(&in->view, s, &input, &output) != NULL &&
		    (args == NULL ||
		        json_object_is_type(args, json_type_object))) {
			json_object *a = args != NULL
			    ? json_object_get(args)
			    : json_object_new_object();

			check(input, a, in->tight);
			json_object_put(a);
		}
		(void)mcp_registry_prompt(&in->view, s);
	}
	complete(&in->view, params);
	if ((s = member_str(params, "uri")) != NULL)
		uri_checks(&in->view, s);
	if ((s = member_str(params, "cursor")) != NULL) {
		in->had_cursor = true;
		lists(&in->view, s, in->page);
	}
}

/* Batches longer than this are only classified past it. */
#define BATCH_DEEP 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {{false, false}, 1, 1, NULL, false};
	json_object *doc;
	char text[512];
	size_t tl = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	uint8_t last = size > 0 ? data[size - 1] : 0;

	in.view.user = (last & 1) != 0;
	in.view.fixtures = (last & 2) != 0;
	in.page = 1 + (size_t)((last >> 2) & 3);
	in.tight = 1 + (size % 48);

	if (mcp_jsonrpc_parse((const char *)data, size, &doc) != 0 &&
	    doc != NULL)
		abort(); /* a failed parse leaves nothing */
	if (json_object_is_type(doc, json_type_array)) {
		size_t n = json_object_array_length(doc);

		for (size_t i = 0; i < n; i++) {
			json_object *m = json_object_array_get_idx(doc, i);

			if (i < BATCH_DEEP)
				message(&in, m);
			else
				classify(m);
		}
	} else if (doc != NULL) {
		message(&in, doc);
	}
	as_schema(doc, in.args, in.tight);
	json_object_put(doc);

	/* The raw text, up to its first NUL, as a URI, template, cursor. */
	memcpy(text, data, tl);
	text[tl] = '\0';
	uri_checks(&in.view, text);
	for (size_t i = 0; i < NURIS; i++)
		match(text, uris[i]);
	match(text, text);
	if (!in.had_cursor) {
		/* As a cursor, and as what a cursor holds ("tools:2"). */
		char cur[CURSOR_MAX];

		lists(&in.view, text, in.page);
		if (secret_b64url_encode(text, tl < 96 ? tl : 96, cur,
		        sizeof(cur)) > 0)
			lists(&in.view, cur, in.page);
	}
	return 0;
}
