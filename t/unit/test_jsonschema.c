/*
 * test_jsonschema.c - MCP tool arguments checked against their input
 * schema: every keyword passes and fails with the exact message, paths
 * name the field, unusable schemas are -1, and jsonschema_valid() finds
 * a broken schema before it is used.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "jsonschema.h"

/* Deeper than json-c's default of 32, for the nesting tests. */
static json_object *parse(const char *text)
{
	json_tokener *tok = json_tokener_new_ex(128);
	json_object *o;
	enum json_tokener_error e;

	cr_assert(tok != NULL);
	o = json_tokener_parse_ex(tok, text, -1);
	e = json_tokener_get_error(tok);
	json_tokener_free(tok);
	cr_assert(eq(int, e, json_tokener_success), "cannot parse %s", text);
	return o;
}

static int check(const char *schema, const char *value, char *err)
{
	json_object *s = parse(schema), *v = parse(value);
	int rc = jsonschema_check(s, v, "arguments", err, JSONSCHEMA_ERR_MAX);

	json_object_put(s);
	json_object_put(v);
	return rc;
}

static void expect_ok(const char *schema, const char *value)
{
	char err[JSONSCHEMA_ERR_MAX];
	int rc = check(schema, value, err);

	cr_expect(eq(int, rc, 0), "%s against %s: %s", value, schema, err);
	cr_expect(eq(str, err, ""), "error left behind for %s", value);
}

static void expect_fail(const char *schema, const char *value, int want_rc,
    const char *want)
{
	char err[JSONSCHEMA_ERR_MAX];
	int rc = check(schema, value, err);

	cr_expect(eq(int, rc, want_rc), "%s against %s", value, schema);
	cr_expect(eq(str, err, (char *)want), "%s against %s", value, schema);
}

static int valid(const char *schema, char *err)
{
	json_object *s = parse(schema);
	int rc = jsonschema_valid(s, err, JSONSCHEMA_ERR_MAX);

	json_object_put(s);
	return rc;
}

static void expect_invalid(const char *schema, const char *want)
{
	char err[JSONSCHEMA_ERR_MAX];

	cr_expect(eq(int, valid(schema, err), -1), "%s", schema);
	cr_expect(eq(str, err, (char *)want), "%s", schema);
}

/* ------------------------------------------------------------ type */

Test(jsonschema, type_names_each_kind_of_value)
{
	static const char *const ok[][2] = {{"object", "{}"}, {"array", "[]"},
	    {"string", "\"x\""}, {"number", "1.5"}, {"number", "2"},
	    {"integer", "-7"}, {"boolean", "false"}, {"null", "null"}};
	char schema[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(schema, sizeof(schema), "{\"type\":\"%s\"}", ok[i][0]);
		expect_ok(schema, ok[i][1]);
	}
	expect_fail("{\"type\":\"object\"}", "[1]", 1,
	    "arguments: expected object, got array");
	expect_fail("{\"type\":\"boolean\"}", "null", 1,
	    "arguments: expected boolean, got null");
	expect_fail("{\"type\":\"string\"}", "12", 1,
	    "arguments: expected string, got integer");
}

Test(jsonschema, integer_means_no_fractional_part)
{
	expect_ok("{\"type\":\"integer\"}", "3.0");
	expect_ok("{\"type\":\"integer\"}", "-0.0");
	expect_ok("{\"type\":\"integer\"}", "1e300");
	expect_ok("{\"type\":\"integer\"}", "18446744073709551615");
	expect_fail("{\"type\":\"integer\"}", "3.5", 1,
	    "arguments: expected integer, got number");
	expect_fail("{\"type\":\"integer\"}", "\"3\"", 1,
	    "arguments: expected integer, got string");
}

Test(jsonschema, type_list_accepts_any_of_its_names)
{
	expect_ok("{\"type\":[\"string\",\"null\"]}", "null");
	expect_ok("{\"type\":[\"string\",\"null\"]}", "\"x\"");
	expect_fail("{\"type\":[\"string\",\"null\"]}", "3", 1,
	    "arguments: expected string or null, got integer");
	expect_fail("{\"type\":[\"string\",\"integer\",\"null\"]}", "{}", 1,
	    "arguments: expected string, integer or null, got object");
}

/* ------------------------------------------------------------ enum, const */

Test(jsonschema, enum_lists_the_allowed_values)
{
	const char *s = "{\"type\":\"object\",\"properties\":"
	                "{\"unit\":{\"enum\":[\"km\",\"mi\"]}}}";

	expect_ok(s, "{\"unit\":\"mi\"}");
	expect_fail(s, "{\"unit\":\"m\"}", 1,
	    "arguments.unit: must be one of \"km\", \"mi\"");
	/* numbers compare by value */
	expect_ok("{\"enum\":[1,2]}", "1.0");
	expect_fail("{\"enum\":[1,null,[true]]}", "[false]", 1,
	    "arguments: must be one of 1, null, [true]");
}

Test(jsonschema, enum_message_shortens_a_long_list)
{
	char schema[2048], err[JSONSCHEMA_ERR_MAX];
	struct buf b;

	buf_init_fixed(&b, schema, sizeof(schema));
	buf_puts(&b, "{\"enum\":[");
	for (int i = 0; i < 60; i++)
		buf_printf(&b, "%s\"value-%02d\"", i ? "," : "", i);
	buf_puts(&b, "]}");
	cr_assert(not(b.overflow));
	cr_expect(eq(int, check(schema, "\"other\"", err), 1));
	cr_expect(eq(int,
	              strncmp(err, "arguments: must be one of \"value-00\", ",
	                  38),
	              0),
	    "%s", err);
	cr_expect(eq(str, err + strlen(err) - 5, ", ..."), "%s", err);
	cr_expect(lt(sz, strlen(err), (size_t)200), "%s", err);
}

Test(jsonschema, const_prints_the_wanted_value)
{
	expect_ok("{\"const\":{\"a\":[1,true,null]}}",
	    "{\"a\":[1.0,true,null]}");
	expect_fail("{\"const\":{\"a\":[1,true,null]}}", "{\"a\":[1,true]}", 1,
	    "arguments: must equal {\"a\":[1,true,null]}");
	expect_ok("{\"const\":null}", "null");
	expect_fail("{\"const\":\"a\\\"b\"}", "\"ab\"", 1,
	    "arguments: must equal \"a\\\"b\"");
	expect_fail("{\"const\":0.1}", "0.2", 1, "arguments: must equal 0.1");
}

/* ------------------------------------------------------------ objects */

Test(jsonschema, required_names_the_missing_property)
{
	const char *s = "{\"type\":\"object\",\"required\":[\"name\",\"age\"]}";

	expect_ok(s, "{\"name\":\"a\",\"age\":null}");
	expect_fail(s, "{\"age\":1}", 1,
	    "arguments: missing required property \"name\"");
	expect_fail(s, "{\"name\":1}", 1,
	    "arguments: missing required property \"age\"");
}

Test(jsonschema, nested_paths_name_the_field)
{
	const char *s =
	    "{\"type\":\"object\",\"properties\":{\"laps\":{\"type\":\"array\","
	    "\"items\":{\"type\":\"object\",\"required\":[\"pace\"],"
	    "\"properties\":{\"pace\":{\"type\":\"number\"}}}}}}";

	expect_ok(s, "{\"laps\":[{\"pace\":1},{\"pace\":2.5}]}");
	expect_fail(s,
	    "{\"laps\":[{\"pace\":1},{\"pace\":2},{\"pace\":\"x\"}]}", 1,
	    "arguments.laps[2].pace: expected number, got string");
	expect_fail(s, "{\"laps\":[{\"pace\":1},{}]}", 1,
	    "arguments.laps[1]: missing required property \"pace\"");
}

Test(jsonschema, odd_property_names_are_quoted)
{
	const char *s = "{\"properties\":{\"odd name\":{\"type\":\"string\"},"
	                "\"2x\":{\"type\":\"string\"}}}";

	expect_fail(s, "{\"odd name\":1}", 1,
	    "arguments[\"odd name\"]: expected string, got integer");
	expect_fail(s, "{\"2x\":1}", 1,
	    "arguments[\"2x\"]: expected string, got integer");
	expect_fail("{\"additionalProperties\":false}", "{\"b\\\"c\":1}", 1,
	    "arguments[\"b\\\"c\"]: property not allowed");
}

Test(jsonschema, additional_properties)
{
	const char *no = "{\"properties\":{\"a\":{}},"
	                 "\"additionalProperties\":false}";
	const char *typed = "{\"properties\":{\"a\":{}},"
	                    "\"additionalProperties\":{\"type\":\"string\"}}";

	expect_ok(no, "{\"a\":1}");
	expect_fail(no, "{\"a\":1,\"extra\":2}", 1,
	    "arguments.extra: property not allowed");
	expect_ok(typed, "{\"a\":1,\"b\":\"x\"}");
	expect_fail(typed, "{\"b\":2}", 1,
	    "arguments.b: expected string, got integer");
	/* without the keyword anything goes */
	expect_ok("{\"properties\":{\"a\":{}}}", "{\"zz\":[1]}");
}

Test(jsonschema, boolean_schemas)
{
	expect_ok("true", "{\"x\":1}");
	expect_fail("false", "1", 1, "arguments: value not allowed");
	expect_fail("{\"properties\":{\"x\":false}}", "{\"x\":null}", 1,
	    "arguments.x: value not allowed");
	expect_ok("{\"properties\":{\"x\":false}}", "{\"y\":null}");
	expect_ok("{\"items\":true}", "[1,\"a\"]");
}

/* ------------------------------------------------------------ numbers */

Test(jsonschema, minimum_and_maximum)
{
	const char *s = "{\"minimum\":1,\"maximum\":10}";

	expect_ok(s, "1");
	expect_ok(s, "10.0");
	expect_fail(s, "0.5", 1, "arguments: must be at least 1");
	expect_fail(s, "11", 1, "arguments: must be at most 10");
	expect_fail("{\"minimum\":-2.5}", "-3", 1,
	    "arguments: must be at least -2.5");
	/* bounds only apply to numbers */
	expect_ok(s, "\"0\"");
	/* exact for large integers */
	expect_fail("{\"maximum\":9007199254740992}", "9007199254740993", 1,
	    "arguments: must be at most 9007199254740992");
}

Test(jsonschema, exclusive_bounds)
{
	const char *s = "{\"exclusiveMinimum\":0,\"exclusiveMaximum\":100}";

	expect_ok(s, "0.001");
	expect_ok(s, "99");
	expect_fail(s, "0", 1, "arguments: must be greater than 0");
	expect_fail(s, "100.0", 1, "arguments: must be less than 100");
}

Test(jsonschema, multiple_of)
{
	expect_ok("{\"multipleOf\":5}", "10");
	expect_ok("{\"multipleOf\":5}", "-15.0");
	expect_fail("{\"multipleOf\":5}", "7", 1,
	    "arguments: must be a multiple of 5");
	/* decimal steps despite binary rounding */
	expect_ok("{\"multipleOf\":0.1}", "0.3");
	expect_ok("{\"multipleOf\":0.01}", "19.99");
	expect_fail("{\"multipleOf\":0.1}", "0.35", 1,
	    "arguments: must be a multiple of 0.1");
}

/* ------------------------------------------------------------ strings */

Test(jsonschema, string_lengths)
{
	const char *s = "{\"minLength\":3,\"maxLength\":5}";

	expect_ok(s, "\"abc\"");
	expect_ok(s, "\"abcde\"");
	expect_fail(s, "\"ab\"", 1,
	    "arguments: must have at least 3 characters");
	expect_fail(s, "\"abcdef\"", 1,
	    "arguments: must have at most 5 characters");
	expect_fail("{\"maxLength\":1}", "\"ab\"", 1,
	    "arguments: must have at most 1 character");
	expect_ok(s, "12"); /* lengths only apply to strings */
}

Test(jsonschema, lengths_count_code_points_not_bytes)
{
	/* "héé" is 5 bytes, U+1F3C3 (a runner) 4, "日本語" 9 */
	expect_ok("{\"minLength\":3,\"maxLength\":3}", "\"h\\u00e9\\u00e9\"");
	expect_ok("{\"minLength\":3,\"maxLength\":3}", "\"日本語\"");
	expect_ok("{\"maxLength\":1}", "\"\\ud83c\\udfc3\"");
	expect_fail("{\"maxLength\":2}", "\"日本語\"", 1,
	    "arguments: must have at most 2 characters");
	expect_fail("{\"minLength\":2}", "\"\\ud83c\\udfc3\"", 1,
	    "arguments: must have at least 2 characters");
}

Test(jsonschema, pattern_searches_unanchored)
{
	expect_ok("{\"pattern\":\"^[a-z]+$\"}", "\"abc\"");
	expect_fail("{\"pattern\":\"^[a-z]+$\"}", "\"abC\"", 1,
	    "arguments: must match pattern ^[a-z]+$");
	expect_ok("{\"pattern\":\"b+\"}", "\"abbc\"");
	expect_fail("{\"pattern\":\"b+\"}", "\"ac\"", 1,
	    "arguments: must match pattern b+");
	expect_ok("{\"pattern\":\"^x\"}", "5"); /* only strings */
}

/* ------------------------------------------------------------ arrays */

Test(jsonschema, item_counts)
{
	const char *s = "{\"minItems\":1,\"maxItems\":2}";

	expect_ok(s, "[0]");
	expect_ok(s, "[0,1]");
	expect_fail(s, "[]", 1, "arguments: must have at least 1 item");
	expect_fail(s, "[1,2,3]", 1, "arguments: must have at most 2 items");
	expect_fail("{\"minItems\":2}", "[1]", 1,
	    "arguments: must have at least 2 items");
}

Test(jsonschema, unique_items_compare_by_value)
{
	const char *s = "{\"uniqueItems\":true}";

	expect_ok(s, "[1,\"1\",true,null,[1],{\"a\":1}]");
	expect_fail(s, "[1,2,1.0]", 1, "arguments: items must be unique");
	expect_fail(s, "[{\"a\":1,\"b\":[2]},{\"b\":[2.0],\"a\":1}]", 1,
	    "arguments: items must be unique");
	expect_fail(s, "[\"x\",null,\"y\",null]", 1,
	    "arguments: items must be unique");
	expect_ok("{\"uniqueItems\":false}", "[1,1]");
	expect_ok(s, "[{\"a\":1},{\"a\":2},{\"b\":1}]");
}

Test(jsonschema, unique_items_scale_to_long_arrays)
{
	json_object *s = parse("{\"uniqueItems\":true}");
	json_object *v = json_object_new_array();
	char err[JSONSCHEMA_ERR_MAX];

	for (int i = 0; i < 50000; i++)
		json_object_array_add(v, json_object_new_int(i));
	cr_expect(eq(int, jsonschema_check(s, v, "a", err, sizeof(err)), 0));
	json_object_array_add(v, json_object_new_double(49999.0));
	cr_expect(eq(int, jsonschema_check(s, v, "a", err, sizeof(err)), 1));
	cr_expect(eq(str, err, "a: items must be unique"));
	json_object_put(v);
	json_object_put(s);
}

/* ------------------------------------------------------------ logic */

Test(jsonschema, any_of)
{
	const char *s = "{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":5}]}";

	expect_ok(s, "\"x\"");
	expect_ok(s, "6");
	expect_fail(s, "4", 1,
	    "arguments: must match one of the allowed schemas");
}

Test(jsonschema, one_of_counts_matches)
{
	const char *s = "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":5}]}";

	expect_ok(s, "3");
	expect_ok(s, "5.5");
	expect_fail(s, "6", 1,
	    "arguments: must match exactly one schema (matched 2)");
	expect_fail(s, "1.5", 1,
	    "arguments: must match exactly one schema (matched 0)");
}

Test(jsonschema, all_of_reports_the_failing_part)
{
	const char *s = "{\"properties\":{\"n\":{\"allOf\":[{\"type\":"
	                "\"integer\"},{\"maximum\":3}]}}}";

	expect_ok(s, "{\"n\":2}");
	expect_fail(s, "{\"n\":4}", 1, "arguments.n: must be at most 3");
}

Test(jsonschema, not_excludes)
{
	expect_ok("{\"not\":{\"type\":\"null\"}}", "0");
	expect_fail("{\"not\":{\"type\":\"null\"}}", "null", 1,
	    "arguments: must not match the excluded schema");
}

/* ------------------------------------------------------------ $ref */

Test(jsonschema, refs_resolve_locally)
{
	const char *s =
	    "{\"$defs\":{\"pace\":{\"type\":\"number\",\"minimum\":0},"
	    "\"a/b~c\":{\"type\":\"string\"}},"
	    "\"definitions\":{\"lap\":{\"type\":\"object\",\"properties\":"
	    "{\"pace\":{\"$ref\":\"#/$defs/pace\"}}}},"
	    "\"properties\":{\"laps\":{\"items\":{\"$ref\":"
	    "\"#/definitions/lap\"}},\"odd\":{\"$ref\":\"#/$defs/a~1b~0c\"}}}";

	expect_ok(s, "{\"laps\":[{\"pace\":3}],\"odd\":\"x\"}");
	expect_fail(s, "{\"laps\":[{},{\"pace\":-1}]}", 1,
	    "arguments.laps[1].pace: must be at least 0");
	expect_fail(s, "{\"odd\":1}", 1,
	    "arguments.odd: expected string, got integer");
}

Test(jsonschema, recursive_schemas_follow_the_value)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"kids\":"
	                "{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}";

	expect_ok(s, "{\"kids\":[{\"kids\":[{\"kids\":[]}]},{}]}");
	expect_fail(s, "{\"kids\":[{\"kids\":[1]}]}", 1,
	    "arguments.kids[0].kids[0]: expected object, got integer");
}

/* ------------------------------------------------------------ unusable */

Test(jsonschema, unusable_schemas_are_minus_one)
{
	expect_fail("{\"properties\":{\"n\":{\"pattern\":\"[a-\"}}}",
	    "{\"n\":\"x\"}", -1,
	    "arguments.n: bad schema: pattern [a-: Unmatched [, [^, [:, [., "
	    "or [=");
	expect_fail("{\"pattern\":\"^\\\\d+$\"}", "\"12\"", -1,
	    "arguments: bad schema: pattern ^\\d+$: \\d is not POSIX, write "
	    "[0-9]");
	expect_fail("{\"pattern\":\"(a)\\\\1\"}", "\"aa\"", -1,
	    "arguments: bad schema: pattern (a)\\1: back-references are not "
	    "supported");
	expect_fail("{\"$ref\":\"#/$defs/nope\"}", "1", -1,
	    "arguments: bad schema: $ref \"#/$defs/nope\" does not resolve");
	expect_fail("{\"$ref\":\"other.json#/x\"}", "1", -1,
	    "arguments: bad schema: $ref \"other.json#/x\" does not resolve");
	expect_fail("{\"type\":\"float\"}", "1", -1,
	    "arguments: bad schema: unknown type \"float\"");
	expect_fail("{\"type\":[\"string\",\"text\"]}", "1", -1,
	    "arguments: bad schema: unknown type \"text\"");
	expect_fail("{\"minLength\":\"3\"}", "\"x\"", -1,
	    "arguments: bad schema: minLength must be a non-negative integer");
	expect_fail("{\"multipleOf\":0}", "1", -1,
	    "arguments: bad schema: multipleOf must be a number greater than "
	    "0");
	expect_fail("[]", "1", -1,
	    "arguments: bad schema: a schema must be an object or a boolean");
}

Test(jsonschema, ref_loops_stop_at_the_depth_limit)
{
	expect_fail("{\"$ref\":\"#\"}", "1", -1,
	    "arguments: bad schema: nesting deeper than 64 (a $ref loop?)");
	expect_fail("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":"
	            "{\"$ref\":\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}",
	    "1", -1,
	    "arguments: bad schema: nesting deeper than 64 (a $ref loop?)");
}

Test(jsonschema, branching_refs_stop_at_the_work_limit)
{
	char schema[4096];
	struct buf b;

	/* d0 .. d24 each try d(i+1) twice: 2^25 paths to d25, which fails */
	buf_init_fixed(&b, schema, sizeof(schema));
	buf_puts(&b, "{\"$ref\":\"#/$defs/d0\",\"$defs\":{");
	for (int i = 0; i < 25; i++)
		buf_printf(&b,
		    "\"d%d\":{\"anyOf\":[{\"$ref\":\"#/$defs/d%d\"},"
		    "{\"$ref\":\"#/$defs/d%d\"}]},",
		    i, i + 1, i + 1);
	buf_puts(&b, "\"d25\":false}}");
	cr_assert(not(b.overflow));
	expect_fail(schema, "1", -1,
	    "arguments: bad schema: too much work for one value");
}

Test(jsonschema, unknown_keywords_and_annotations_are_ignored)
{
	expect_ok("{\"title\":\"t\",\"description\":\"d\",\"default\":3,"
	          "\"examples\":[1],\"format\":\"date-time\",\"$schema\":"
	          "\"https://json-schema.org/draft/2020-12/schema\","
	          "\"x-vendor\":{\"minimum\":9},\"readOnly\":true}",
	    "\"2024\"");
}

/* ------------------------------------------------------------ messages */

Test(jsonschema, messages_are_cut_safely)
{
	json_object *s = parse("{\"properties\":{\"日本語日本語日本語日本語\":"
	                       "{\"type\":\"string\"}}}");
	json_object *v = parse("{\"日本語日本語日本語日本語\":1}");
	char err[20];

	memset(err, 'x', sizeof(err));
	cr_expect(eq(int, jsonschema_check(s, v, "a", err, sizeof(err)), 1));
	/* 19 bytes: "a[\"", four 3-byte characters, one byte of the fifth
	 * (dropped) and room for "..." */
	cr_expect(eq(str, err, "a[\"日本語日..."), "%s", err);
	cr_expect(eq(int, jsonschema_check(s, v, "a", err, 1), 1));
	cr_expect(eq(str, err, ""));
	cr_expect(eq(int, jsonschema_check(s, v, "a", NULL, 0), 1));
	json_object_put(v);
	json_object_put(s);
}

Test(jsonschema, null_and_odd_inputs_do_not_crash)
{
	char err[JSONSCHEMA_ERR_MAX];
	json_object *s = parse("{\"type\":\"null\"}");

	cr_expect(
	    eq(int, jsonschema_check(NULL, s, "a", err, sizeof(err)), -1));
	cr_expect(
	    eq(int, jsonschema_check(s, NULL, NULL, err, sizeof(err)), 0));
	cr_expect(eq(int, jsonschema_valid(NULL, err, sizeof(err)), -1));
	json_object_put(s);
	expect_fail("{\"properties\":{\"a\":{\"const\":null}}}", "{\"a\":0}", 1,
	    "arguments.a: must equal null");
	expect_fail("{\"properties\":{\"a\":null}}", "{\"a\":0}", -1,
	    "arguments.a: bad schema: a schema must be an object or a "
	    "boolean");
}

Test(jsonschema, without_a_root_name_the_path_starts_at_the_field)
{
	char err[JSONSCHEMA_ERR_MAX];
	json_object *s =
	    parse("{\"properties\":{\"a\":{\"type\":\"string\"}}}");
	json_object *v = parse("{\"a\":1}");

	cr_expect(eq(int, jsonschema_check(s, v, "", err, sizeof(err)), 1));
	cr_expect(eq(str, err, "a: expected string, got integer"));
	cr_expect(eq(int, jsonschema_check(s, v, NULL, err, sizeof(err)), 1));
	cr_expect(eq(str, err, "a: expected string, got integer"));
	json_object_put(v);
	json_object_put(s);
}

/* ------------------------------------------------------------ valid */

Test(jsonschema, valid_accepts_good_schemas)
{
	char err[JSONSCHEMA_ERR_MAX];

	cr_expect(
	    eq(int,
	        valid(
	            "{\"type\":\"object\",\"properties\":{\"unit\":{\"enum\":"
	            "[\"km\",\"mi\"]},\"laps\":{\"type\":\"array\",\"items\":"
	            "{\"$ref\":\"#/$defs/lap\"},\"minItems\":1,\"uniqueItems\":"
	            "true},\"name\":{\"type\":[\"string\",\"null\"],"
	            "\"pattern\":\"^[a-z]+$\",\"maxLength\":40}},\"required\":"
	            "[\"unit\"],\"additionalProperties\":false,\"$defs\":{"
	            "\"lap\":"
	            "{\"oneOf\":[{\"minimum\":0,\"exclusiveMaximum\":1e3},"
	            "{\"not\":true}],\"multipleOf\":0.5}},\"title\":\"x\"}",
	            err),
	        0),
	    "%s", err);
	cr_expect(eq(int, valid("true", err), 0));
	cr_expect(eq(int, valid("{}", err), 0));
	cr_expect(eq(int, valid("{\"$ref\":\"#\",\"minItems\":2.0}", err), 0));
}

Test(jsonschema, valid_names_what_is_wrong_and_where)
{
	static const char *const bad[][2] = {
	    {"{\"type\":\"float\"}", "#/type: unknown type \"float\""},
	    {"{\"type\":5}", "#/type: must be a type name or an array of them"},
	    {"{\"type\":[]}", "#/type: must not be empty"},
	    {"{\"properties\":{\"a\":{\"type\":\"strin\"}}}",
	        "#/properties/a/type: unknown type \"strin\""},
	    {"{\"properties\":[]}",
	        "#/properties: must be an object of schemas"},
	    {"{\"properties\":{\"a\":3}}",
	        "#/properties/a: a schema must be an object or a boolean"},
	    {"{\"required\":[\"a\",1]}",
	        "#/required: must be an array of strings"},
	    {"{\"items\":[{}]}", "#/items: must be a schema"},
	    {"{\"minLength\":-1}",
	        "#/minLength: must be a non-negative integer"},
	    {"{\"maxItems\":1.5}",
	        "#/maxItems: must be a non-negative integer"},
	    {"{\"maximum\":\"10\"}", "#/maximum: must be a number"},
	    {"{\"multipleOf\":0}",
	        "#/multipleOf: must be a number greater than 0"},
	    {"{\"pattern\":\"(a\"}",
	        "#/pattern: bad pattern: Unmatched ( or \\("},
	    {"{\"pattern\":\"\\\\d\"}",
	        "#/pattern: bad pattern: \\d is not POSIX, write [0-9]"},
	    {"{\"$ref\":\"#/$defs/missing\"}",
	        "#/$ref: \"#/$defs/missing\" does not resolve"},
	    {"{\"anyOf\":[]}", "#/anyOf: must not be empty"},
	    {"{\"oneOf\":[{},2]}", "#/oneOf: must be an array of schemas"},
	    {"{\"enum\":\"a\"}", "#/enum: must be an array"},
	    {"{\"uniqueItems\":\"yes\"}",
	        "#/uniqueItems: must be true or false"},
	    {"{\"additionalProperties\":null}",
	        "#/additionalProperties: must be a schema"},
	    {"{\"$defs\":{\"a/b\":{\"not\":{\"type\":\"nope\"}}}}",
	        "#/$defs/a~1b/not/type: unknown type \"nope\""},
	    {"[]", "#: a schema must be an object or a boolean"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i][0], bad[i][1]);
}

Test(jsonschema, valid_bounds_the_nesting)
{
	char schema[1024], err[JSONSCHEMA_ERR_MAX];
	struct buf b;

	buf_init_fixed(&b, schema, sizeof(schema));
	for (int i = 0; i < 70; i++)
		buf_puts(&b, "{\"not\":");
	buf_puts(&b, "{}");
	for (int i = 0; i < 70; i++)
		buf_putc(&b, '}');
	cr_assert(not(b.overflow));
	/* the pointer alone fills the message, which is cut */
	cr_expect(eq(int, valid(schema, err), -1));
	cr_expect(eq(int, strncmp(err, "#/not/not/", 10), 0), "%s", err);
	cr_expect(eq(str, err + strlen(err) - 3, "..."), "%s", err);
	cr_expect(lt(sz, strlen(err), (size_t)JSONSCHEMA_ERR_MAX));
	/* 63 levels are fine */
	buf_reset(&b);
	for (int i = 0; i < 63; i++)
		buf_puts(&b, "{\"not\":");
	buf_puts(&b, "{}");
	for (int i = 0; i < 63; i++)
		buf_putc(&b, '}');
	cr_expect(eq(int, valid(schema, err), 0), "%s", err);
}
