/*
 * registry.c - the tools, resources and prompts of every module, checked
 * once per worker, and what a caller may see of them.
 *
 * The modules are constant tables (mcp.h). At start-up each tool's
 * schemas are parsed and checked with jsonschema_valid(), names are
 * checked for shape and for clashes across modules, and a template
 * resource must have at least one {variable}. A failure stops the
 * worker with the item named: a broken table is a bug, found at the
 * first start rather than at the first call.
 *
 * Visibility (struct mcp_view): a user sees every module that is on; an
 * anonymous caller, who exists only with mcp_fixtures on, sees the items
 * of anonymous_ok modules that are not MCP_USER. Lookups by name see
 * exactly what lists show, so a hidden tool is "unknown" rather than
 * "forbidden" and reveals nothing.
 *
 * Lists are paged by mcp_page_size with an opaque cursor: the base64url
 * of "<key>:<index>", so a cursor from another list or a forged number
 * is refused as invalid params rather than silently restarting.
 */
#include "mcp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "jsonschema.h"
#include "log.h"
#include "secret.h"

static const struct mcp_module *const modules[] = {
    &mcp_core_module,
    &mcp_fixtures_module,
};
#define NMODULES (sizeof(modules) / sizeof(modules[0]))

/* The parsed schemas of each module's tools, in table order. */
struct schemas {
	json_object **input;
	json_object **output;
};

static struct schemas parsed[NMODULES];

static bool name_ok(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 128)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		        ch == '.'))
			return false;
	}
	return true;
}

static json_object *parse_schema(const char *text, const char *tool,
    const char *which, char *err, size_t errlen)
{
	char why[JSONSCHEMA_ERR_MAX];
	json_object *o = json_tokener_parse(text);

	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		(void)snprintf(err, errlen,
		    "tool %s: the %s schema is not a JSON object", tool, which);
		json_object_put(o);
		return NULL;
	}
	if (jsonschema_valid(o, why, sizeof(why)) != 0) {
		(void)snprintf(err, errlen, "tool %s: the %s schema: %s", tool,
		    which, why);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int init_tools(size_t m, char *err, size_t errlen)
{
	const struct mcp_module *mod = modules[m];
	size_t i, n = mod->ntools;

	parsed[m].input = calloc(n > 0 ? n : 1, sizeof(json_object *));
	parsed[m].output = calloc(n > 0 ? n : 1, sizeof(json_object *));
	if (parsed[m].input == NULL || parsed[m].output == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct mcp_tool *t = &mod->tools[i];

		if (!name_ok(t->name) || t->run == NULL ||
		    t->description == NULL || t->input_schema == NULL) {
			(void)snprintf(err, errlen,
			    "module %s: tool %zu (%s) lacks a valid name, a "
			    "description, a schema or a handler",
			    mod->name, i, t->name != NULL ? t->name : "?");
			return -1;
		}
		if ((parsed[m].input[i] = parse_schema(t->input_schema, t->name,
		         "input", err, errlen)) == NULL)
			return -1;
		if (t->output_schema != NULL &&
		    (parsed[m].output[i] = parse_schema(t->output_schema,
		         t->name, "output", err, errlen)) == NULL)
			return -1;
	}
	return 0;
}

static int init_others(const struct mcp_module *mod, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < mod->nresources; i++) {
		const struct mcp_resource *r = &mod->resources[i];

		if (r->uri == NULL || r->name == NULL || r->read == NULL ||
		    (r->templated && strchr(r->uri, '{') == NULL)) {
			(void)snprintf(err, errlen,
			    "module %s: resource %zu (%s) is incomplete",
			    mod->name, i, r->uri != NULL ? r->uri : "?");
			return -1;
		}
	}
	for (i = 0; i < mod->nprompts; i++) {
		const struct mcp_prompt *p = &mod->prompts[i];

		if (!name_ok(p->name) || p->get == NULL ||
		    (p->nargs > 0 && p->args == NULL)) {
			(void)snprintf(err, errlen,
			    "module %s: prompt %zu (%s) is incomplete",
			    mod->name, i, p->name != NULL ? p->name : "?");
			return -1;
		}
	}
	return 0;
}

/* No tool or prompt name twice across modules. */
static int check_clashes(char *err, size_t errlen)
{
	size_t a, b, i, j;

	for (a = 0; a < NMODULES; a++)
		for (b = a; b < NMODULES; b++)
			for (i = 0; i < modules[a]->ntools; i++)
				for (j = a == b ? i + 1 : 0;
				     j < modules[b]->ntools; j++)
					if (strcmp(modules[a]->tools[i].name,
					        modules[b]->tools[j].name) ==
					    0) {
						(void)snprintf(err, errlen,
						    "tool %s is defined twice",
						    modules[a]->tools[i].name);
						return -1;
					}
	return 0;
}

int mcp_registry_init(char *err, size_t errlen)
{
	size_t m;

	if (parsed[0].input != NULL)
		return 0; /* once per process */
	for (m = 0; m < NMODULES; m++)
		if (init_tools(m, err, errlen) != 0 ||
		    init_others(modules[m], err, errlen) != 0)
			return -1;
	return check_clashes(err, errlen);
}

/* ---- visibility -------------------------------------------------------- */

static bool module_on(const struct mcp_view *v, size_t m)
{
	if (modules[m] == &mcp_fixtures_module && !v->fixtures)
		return false;
	return v->user || modules[m]->anonymous_ok;
}

static bool item_visible(const struct mcp_view *v, size_t m, unsigned flags)
{
	return module_on(v, m) && (v->user || (flags & MCP_USER) == 0);
}

const struct mcp_tool *mcp_registry_tool(const struct mcp_view *v,
    const char *name, const json_object **input, const json_object **output)
{
	size_t m, i;

	for (m = 0; m < NMODULES; m++)
		for (i = 0; i < modules[m]->ntools; i++) {
			const struct mcp_tool *t = &modules[m]->tools[i];

			if (strcmp(t->name, name) != 0 ||
			    !item_visible(v, m, t->flags))
				continue;
			*input = parsed[m].input[i];
			*output = parsed[m].output[i];
			return t;
		}
	return NULL;
}

const struct mcp_prompt *mcp_registry_prompt(const struct mcp_view *v,
    const char *name)
{
	size_t m, i;

	for (m = 0; m < NMODULES; m++)
		for (i = 0; i < modules[m]->nprompts; i++) {
			const struct mcp_prompt *p = &modules[m]->prompts[i];

			if (strcmp(p->name, name) == 0 &&
			    item_visible(v, m, p->flags))
				return p;
		}
	return NULL;
}

bool mcp_template_match(const char *tmpl, const char *uri, json_object *vars)
{
	while (*tmpl != '\0') {
		const char *close, *end;
		char name[64];
		size_t nl;

		if (*tmpl != '{') {
			if (*uri != *tmpl)
				return false;
			tmpl++;
			uri++;
			continue;
		}
		if ((close = strchr(tmpl, '}')) == NULL)
			return false;
		nl = (size_t)(close - tmpl - 1);
		if (nl == 0 || nl >= sizeof(name))
			return false;
		end = uri + strcspn(uri, "/?#");
		/* The variable also ends where the template's next literal
		 * byte appears within the segment. */
		if (close[1] != '\0' && close[1] != '/') {
			const char *lit =
			    memchr(uri, close[1], (size_t)(end - uri));

			if (lit != NULL)
				end = lit;
		}
		if (end == uri)
			return false;
		if (vars != NULL) {
			memcpy(name, tmpl + 1, nl);
			name[nl] = '\0';
			json_object_object_add(vars, name,
			    json_object_new_string_len(uri, (int)(end - uri)));
		}
		uri = end;
		tmpl = close + 1;
	}
	return *uri == '\0';
}

const struct mcp_resource *mcp_registry_resource(const struct mcp_view *v,
    const char *uri, json_object **vars)
{
	size_t m, i;

	*vars = NULL;
	for (m = 0; m < NMODULES; m++)
		for (i = 0; i < modules[m]->nresources; i++) {
			const struct mcp_resource *r =
			    &modules[m]->resources[i];

			if (!r->templated && strcmp(r->uri, uri) == 0 &&
			    item_visible(v, m, r->flags))
				return r;
		}
	for (m = 0; m < NMODULES; m++)
		for (i = 0; i < modules[m]->nresources; i++) {
			const struct mcp_resource *r =
			    &modules[m]->resources[i];
			json_object *o;

			if (!r->templated || !item_visible(v, m, r->flags) ||
			    !mcp_template_match(r->uri, uri, NULL))
				continue;
			if ((o = json_object_new_object()) == NULL)
				return NULL;
			(void)mcp_template_match(r->uri, uri, o);
			*vars = o;
			return r;
		}
	return NULL;
}

/* ---- lists ------------------------------------------------------------- */

static json_object *tool_entry(size_t m, size_t i)
{
	const struct mcp_tool *t = &modules[m]->tools[i];
	json_object *o = json_object_new_object(), *ann;

	json_object_object_add(o, "name", json_object_new_string(t->name));
	if (t->title != NULL)
		json_object_object_add(o, "title",
		    json_object_new_string(t->title));
	json_object_object_add(o, "description",
	    json_object_new_string(t->description));
	json_object_object_add(o, "inputSchema",
	    json_object_get(parsed[m].input[i]));
	if (parsed[m].output[i] != NULL)
		json_object_object_add(o, "outputSchema",
		    json_object_get(parsed[m].output[i]));
	ann = json_object_new_object();
	if (t->title != NULL)
		json_object_object_add(ann, "title",
		    json_object_new_string(t->title));
	json_object_object_add(ann, "readOnlyHint",
	    json_object_new_boolean((t->hints & MCP_HINT_READ_ONLY) != 0));
	json_object_object_add(ann, "destructiveHint",
	    json_object_new_boolean((t->hints & MCP_HINT_DESTRUCTIVE) != 0));
	json_object_object_add(ann, "idempotentHint",
	    json_object_new_boolean((t->hints & MCP_HINT_IDEMPOTENT) != 0));
	json_object_object_add(ann, "openWorldHint",
	    json_object_new_boolean((t->hints & MCP_HINT_OPEN_WORLD) != 0));
	json_object_object_add(o, "annotations", ann);
	return o;
}

static void add_str(json_object *o, const char *key, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, key, json_object_new_string(v));
}

static json_object *resource_entry(const struct mcp_resource *r)
{
	json_object *o = json_object_new_object();

	add_str(o, r->templated ? "uriTemplate" : "uri", r->uri);
	add_str(o, "name", r->name);
	add_str(o, "title", r->title);
	add_str(o, "description", r->description);
	add_str(o, "mimeType", r->mime_type);
	return o;
}

static json_object *prompt_entry(const struct mcp_prompt *p)
{
	json_object *o = json_object_new_object(), *args;
	size_t i;

	add_str(o, "name", p->name);
	add_str(o, "title", p->title);
	add_str(o, "description", p->description);
	args = json_object_new_array();
	for (i = 0; i < p->nargs; i++) {
		json_object *a = json_object_new_object();

		add_str(a, "name", p->args[i].name);
		add_str(a, "description", p->args[i].description);
		json_object_object_add(a, "required",
		    json_object_new_boolean(p->args[i].required));
		json_object_array_add(args, a);
	}
	json_object_object_add(o, "arguments", args);
	return o;
}

enum list_kind { L_TOOLS, L_RESOURCES, L_TEMPLATES, L_PROMPTS };

/* The entry of the n-th item of kind in module m, or NULL when the
 * module has fewer; *hidden when the caller does not see it. */
static json_object *nth(const struct mcp_view *v, enum list_kind k, size_t m,
    size_t n, bool *hidden, bool *exists)
{
	const struct mcp_module *mod = modules[m];

	*exists = true;
	switch (k) {
	case L_TOOLS:
		if (n >= mod->ntools)
			break;
		*hidden = !item_visible(v, m, mod->tools[n].flags);
		return *hidden ? NULL : tool_entry(m, n);
	case L_RESOURCES:
	case L_TEMPLATES:
		if (n >= mod->nresources)
			break;
		*hidden = !item_visible(v, m, mod->resources[n].flags) ||
		    mod->resources[n].templated != (k == L_TEMPLATES);
		return *hidden ? NULL : resource_entry(&mod->resources[n]);
	case L_PROMPTS:
		if (n >= mod->nprompts)
			break;
		*hidden = !item_visible(v, m, mod->prompts[n].flags);
		return *hidden ? NULL : prompt_entry(&mod->prompts[n]);
	}
	*exists = false;
	*hidden = true;
	return NULL;
}

/* A cursor is base64url("<key>:<position>"); position counts every
 * item of the kind across modules, visible or not. */
static int cursor_read(const char *key, const char *cursor, size_t *pos)
{
	unsigned char raw[96];
	char text[97], *end;
	ssize_t n;
	size_t kl = strlen(key);
	unsigned long v;

	*pos = 0;
	if (cursor == NULL)
		return 0;
	n = secret_b64url_decode(cursor, strlen(cursor), raw, sizeof(raw) - 1);
	if (n <= 0 || (size_t)n <= kl + 1)
		return -1;
	memcpy(text, raw, (size_t)n);
	text[n] = '\0';
	if (strncmp(text, key, kl) != 0 || text[kl] != ':' ||
	    text[kl + 1] < '0' || text[kl + 1] > '9')
		return -1;
	v = strtoul(text + kl + 1, &end, 10);
	if (*end != '\0' || v > 1000000)
		return -1;
	*pos = (size_t)v;
	return 0;
}

static void cursor_write(const char *key, size_t pos, json_object *result)
{
	char text[96], out[160];
	int n = snprintf(text, sizeof(text), "%s:%zu", key, pos);

	if (n > 0 &&
	    secret_b64url_encode(text, (size_t)n, out, sizeof(out)) > 0)
		json_object_object_add(result, "nextCursor",
		    json_object_new_string(out));
}

int mcp_registry_list(const struct mcp_view *v, const char *key,
    const char *cursor, size_t page, json_object *result)
{
	enum list_kind k = strcmp(key, "tools") == 0 ? L_TOOLS
	    : strcmp(key, "resources") == 0          ? L_RESOURCES
	    : strcmp(key, "resourceTemplates") == 0  ? L_TEMPLATES
	                                             : L_PROMPTS;
	json_object *arr;
	size_t start, pos = 0, m, n, added = 0;

	if (cursor_read(key, cursor, &start) != 0)
		return -1;
	arr = json_object_new_array();
	for (m = 0; m < NMODULES; m++) {
		size_t count = k == L_TOOLS ? modules[m]->ntools
		    : k == L_PROMPTS        ? modules[m]->nprompts
		                            : modules[m]->nresources;

		for (n = 0; n < count; n++, pos++) {
			bool hidden, exists;
			json_object *e;

			if (pos < start)
				continue;
			e = nth(v, k, m, n, &hidden, &exists);
			if (hidden)
				continue;
			if (added == page) {
				json_object_put(e);
				cursor_write(key, pos, result);
				goto done;
			}
			json_object_array_add(arr, e);
			added++;
		}
	}
done:
	json_object_object_add(result, key, arr);
	return 0;
}

/* ---- completion -------------------------------------------------------- */

json_object *mcp_registry_complete(const struct mcp_view *v,
    const char *ref_type, const char *ref, const char *arg, const char *prefix)
{
	json_object *values = json_object_new_array();
	const struct mcp_prompt *p;
	size_t i, pl = strlen(prefix);

	if (strcmp(ref_type, "ref/prompt") != 0 ||
	    (p = mcp_registry_prompt(v, ref)) == NULL)
		return values;
	for (i = 0; i < p->nargs; i++) {
		const char *const *c = p->args[i].completions;

		if (strcmp(p->args[i].name, arg) != 0 || c == NULL)
			continue;
		for (; *c != NULL; c++)
			if (strncmp(*c, prefix, pl) == 0 &&
			    json_object_array_length(values) < 100)
				json_object_array_add(values,
				    json_object_new_string(*c));
	}
	return values;
}
