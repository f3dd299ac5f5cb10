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

/* One value against one schema: what jsonschema_check() returns (0: the
 * value is fine) and the message it leaves ("" when fine). */
struct row {
	const char *schema, *value;
	int rc;
	const char *err;
};

/* Check each of the n rows; a failure names the row. */
static void expect_rows(const struct row *rows, size_t n)
{
	char err[JSONSCHEMA_ERR_MAX];

	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		int rc = check(r->schema, r->value, err);

		cr_expect(eq(int, rc, r->rc), "row %zu: %s against %s: %s", i,
		    r->value, r->schema, err);
		cr_expect(eq(str, err, (char *)r->err),
		    "row %zu: %s against %s", i, r->value, r->schema);
	}
}

#define NROWS(rows) (sizeof(rows) / sizeof((rows)[0]))

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
	static const struct row rows[] = {
	    {"{\"type\":\"object\"}", "{}", 0, ""},
	    {"{\"type\":\"array\"}", "[]", 0, ""},
	    {"{\"type\":\"string\"}", "\"x\"", 0, ""},
	    {"{\"type\":\"number\"}", "1.5", 0, ""},
	    {"{\"type\":\"number\"}", "2", 0, ""},
	    {"{\"type\":\"integer\"}", "-7", 0, ""},
	    {"{\"type\":\"boolean\"}", "false", 0, ""},
	    {"{\"type\":\"null\"}", "null", 0, ""},
	    {"{\"type\":\"object\"}", "[1]", 1,
	        "arguments: expected object, got array"},
	    {"{\"type\":\"boolean\"}", "null", 1,
	        "arguments: expected boolean, got null"},
	    {"{\"type\":\"string\"}", "12", 1,
	        "arguments: expected string, got integer"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, integer_means_no_fractional_part)
{
	static const char s[] = "{\"type\":\"integer\"}";
	static const struct row rows[] = {
	    {s, "3.0", 0, ""},
	    {s, "-0.0", 0, ""},
	    {s, "1e300", 0, ""},
	    {s, "18446744073709551615", 0, ""},
	    {s, "3.5", 1, "arguments: expected integer, got number"},
	    {s, "\"3\"", 1, "arguments: expected integer, got string"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, type_list_accepts_any_of_its_names)
{
	static const char s[] = "{\"type\":[\"string\",\"null\"]}";
	static const struct row rows[] = {
	    {s, "null", 0, ""},
	    {s, "\"x\"", 0, ""},
	    {s, "3", 1, "arguments: expected string or null, got integer"},
	    {"{\"type\":[\"string\",\"integer\",\"null\"]}", "{}", 1,
	        "arguments: expected string, integer or null, got object"},
	};

	expect_rows(rows, NROWS(rows));
}

/* ------------------------------------------------------------ enum, const */

Test(jsonschema, enum_lists_the_allowed_values)
{
	static const char s[] = "{\"type\":\"object\",\"properties\":"
	                        "{\"unit\":{\"enum\":[\"km\",\"mi\"]}}}";
	static const struct row rows[] = {
	    {s, "{\"unit\":\"mi\"}", 0, ""},
	    {s, "{\"unit\":\"m\"}", 1,
	        "arguments.unit: must be one of \"km\", \"mi\""},
	    /* numbers compare by value */
	    {"{\"enum\":[1,2]}", "1.0", 0, ""},
	    {"{\"enum\":[1,null,[true]]}", "[false]", 1,
	        "arguments: must be one of 1, null, [true]"},
	};

	expect_rows(rows, NROWS(rows));
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
	static const char s[] = "{\"const\":{\"a\":[1,true,null]}}";
	static const struct row rows[] = {
	    {s, "{\"a\":[1.0,true,null]}", 0, ""},
	    {s, "{\"a\":[1,true]}", 1,
	        "arguments: must equal {\"a\":[1,true,null]}"},
	    {"{\"const\":null}", "null", 0, ""},
	    {"{\"const\":\"a\\\"b\"}", "\"ab\"", 1,
	        "arguments: must equal \"a\\\"b\""},
	    {"{\"const\":0.1}", "0.2", 1, "arguments: must equal 0.1"},
	};

	expect_rows(rows, NROWS(rows));
}

/* ------------------------------------------------------------ objects */

Test(jsonschema, required_names_the_missing_property)
{
	static const char s[] =
	    "{\"type\":\"object\",\"required\":[\"name\",\"age\"]}";
	static const struct row rows[] = {
	    {s, "{\"name\":\"a\",\"age\":null}", 0, ""},
	    {s, "{\"age\":1}", 1,
	        "arguments: missing required property \"name\""},
	    {s, "{\"name\":1}", 1,
	        "arguments: missing required property \"age\""},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, nested_paths_name_the_field)
{
	static const char s[] =
	    "{\"type\":\"object\",\"properties\":{\"laps\":{\"type\":\"array\","
	    "\"items\":{\"type\":\"object\",\"required\":[\"pace\"],"
	    "\"properties\":{\"pace\":{\"type\":\"number\"}}}}}}";
	static const struct row rows[] = {
	    {s, "{\"laps\":[{\"pace\":1},{\"pace\":2.5}]}", 0, ""},
	    {s, "{\"laps\":[{\"pace\":1},{\"pace\":2},{\"pace\":\"x\"}]}", 1,
	        "arguments.laps[2].pace: expected number, got string"},
	    {s, "{\"laps\":[{\"pace\":1},{}]}", 1,
	        "arguments.laps[1]: missing required property \"pace\""},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, odd_property_names_are_quoted)
{
	static const char s[] = "{\"properties\":{\"odd name\":{\"type\":"
	                        "\"string\"},\"2x\":{\"type\":\"string\"}}}";
	static const struct row rows[] = {
	    {s, "{\"odd name\":1}", 1,
	        "arguments[\"odd name\"]: expected string, got integer"},
	    {s, "{\"2x\":1}", 1,
	        "arguments[\"2x\"]: expected string, got integer"},
	    {"{\"additionalProperties\":false}", "{\"b\\\"c\":1}", 1,
	        "arguments[\"b\\\"c\"]: property not allowed"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, additional_properties)
{
	static const char no[] = "{\"properties\":{\"a\":{}},"
	                         "\"additionalProperties\":false}";
	static const char typed[] =
	    "{\"properties\":{\"a\":{}},"
	    "\"additionalProperties\":{\"type\":\"string\"}}";
	static const struct row rows[] = {
	    {no, "{\"a\":1}", 0, ""},
	    {no, "{\"a\":1,\"extra\":2}", 1,
	        "arguments.extra: property not allowed"},
	    {typed, "{\"a\":1,\"b\":\"x\"}", 0, ""},
	    {typed, "{\"b\":2}", 1,
	        "arguments.b: expected string, got integer"},
	    /* without the keyword anything goes */
	    {"{\"properties\":{\"a\":{}}}", "{\"zz\":[1]}", 0, ""},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, boolean_schemas)
{
	static const struct row rows[] = {
	    {"true", "{\"x\":1}", 0, ""},
	    {"false", "1", 1, "arguments: value not allowed"},
	    {"{\"properties\":{\"x\":false}}", "{\"x\":null}", 1,
	        "arguments.x: value not allowed"},
	    {"{\"properties\":{\"x\":false}}", "{\"y\":null}", 0, ""},
	    {"{\"items\":true}", "[1,\"a\"]", 0, ""},
	};

	expect_rows(rows, NROWS(rows));
}

/* ------------------------------------------------------------ numbers */

Test(jsonschema, minimum_and_maximum)
{
	static const char s[] = "{\"minimum\":1,\"maximum\":10}";
	static const struct row rows[] = {
	    {s, "1", 0, ""},
	    {s, "10.0", 0, ""},
	    {s, "0.5", 1, "arguments: must be at least 1"},
	    {s, "11", 1, "arguments: must be at most 10"},
	    {"{\"minimum\":-2.5}", "-3", 1, "arguments: must be at least -2.5"},
	    /* bounds only apply to numbers */
	    {s, "\"0\"", 0, ""},
	    /* exact for large integers */
	    {"{\"maximum\":9007199254740992}", "9007199254740993", 1,
	        "arguments: must be at most 9007199254740992"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, exclusive_bounds)
{
	static const char s[] =
	    "{\"exclusiveMinimum\":0,\"exclusiveMaximum\":100}";
	static const struct row rows[] = {
	    {s, "0.001", 0, ""},
	    {s, "99", 0, ""},
	    {s, "0", 1, "arguments: must be greater than 0"},
	    {s, "100.0", 1, "arguments: must be less than 100"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, multiple_of)
{
	static const char s[] = "{\"multipleOf\":5}";
	static const struct row rows[] = {
	    {s, "10", 0, ""},
	    {s, "-15.0", 0, ""},
	    {s, "7", 1, "arguments: must be a multiple of 5"},
	    /* decimal steps despite binary rounding */
	    {"{\"multipleOf\":0.1}", "0.3", 0, ""},
	    {"{\"multipleOf\":0.01}", "19.99", 0, ""},
	    {"{\"multipleOf\":0.1}", "0.35", 1,
	        "arguments: must be a multiple of 0.1"},
	};

	expect_rows(rows, NROWS(rows));
}

/* ------------------------------------------------------------ strings */

Test(jsonschema, string_lengths)
{
	static const char s[] = "{\"minLength\":3,\"maxLength\":5}";
	static const struct row rows[] = {
	    {s, "\"abc\"", 0, ""}, {s, "\"abcde\"", 0, ""},
	    {s, "\"ab\"", 1, "arguments: must have at least 3 characters"},
	    {s, "\"abcdef\"", 1, "arguments: must have at most 5 characters"},
	    {"{\"maxLength\":1}", "\"ab\"", 1,
	        "arguments: must have at most 1 character"},
	    {s, "12", 0, ""}, /* lengths only apply to strings */
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, lengths_count_code_points_not_bytes)
{
	/* "héé" is 5 bytes, U+1F3C3 (a runner) 4, "日本語" 9 */
	static const struct row rows[] = {
	    {"{\"minLength\":3,\"maxLength\":3}", "\"h\\u00e9\\u00e9\"", 0, ""},
	    {"{\"minLength\":3,\"maxLength\":3}", "\"日本語\"", 0, ""},
	    {"{\"maxLength\":1}", "\"\\ud83c\\udfc3\"", 0, ""},
	    {"{\"maxLength\":2}", "\"日本語\"", 1,
	        "arguments: must have at most 2 characters"},
	    {"{\"minLength\":2}", "\"\\ud83c\\udfc3\"", 1,
	        "arguments: must have at least 2 characters"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, pattern_searches_unanchored)
{
	static const struct row rows[] = {
	    {"{\"pattern\":\"^[a-z]+$\"}", "\"abc\"", 0, ""},
	    {"{\"pattern\":\"^[a-z]+$\"}", "\"abC\"", 1,
	        "arguments: must match pattern ^[a-z]+$"},
	    {"{\"pattern\":\"b+\"}", "\"abbc\"", 0, ""},
	    {"{\"pattern\":\"b+\"}", "\"ac\"", 1,
	        "arguments: must match pattern b+"},
	    {"{\"pattern\":\"^x\"}", "5", 0, ""}, /* only strings */
	};

	expect_rows(rows, NROWS(rows));
}

/* ------------------------------------------------------------ arrays */

Test(jsonschema, item_counts)
{
	static const char s[] = "{\"minItems\":1,\"maxItems\":2}";
	static const struct row rows[] = {
	    {s, "[0]", 0, ""},
	    {s, "[0,1]", 0, ""},
	    {s, "[]", 1, "arguments: must have at least 1 item"},
	    {s, "[1,2,3]", 1, "arguments: must have at most 2 items"},
	    {"{\"minItems\":2}", "[1]", 1,
	        "arguments: must have at least 2 items"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, unique_items_compare_by_value)
{
	static const char s[] = "{\"uniqueItems\":true}";
	static const struct row rows[] = {
	    {s, "[1,\"1\",true,null,[1],{\"a\":1}]", 0, ""},
	    {s, "[1,2,1.0]", 1, "arguments: items must be unique"},
	    {s, "[{\"a\":1,\"b\":[2]},{\"b\":[2.0],\"a\":1}]", 1,
	        "arguments: items must be unique"},
	    {s, "[\"x\",null,\"y\",null]", 1,
	        "arguments: items must be unique"},
	    {"{\"uniqueItems\":false}", "[1,1]", 0, ""},
	    {s, "[{\"a\":1},{\"a\":2},{\"b\":1}]", 0, ""},
	};

	expect_rows(rows, NROWS(rows));
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
	static const char s[] =
	    "{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":5}]}";
	static const struct row rows[] = {
	    {s, "\"x\"", 0, ""},
	    {s, "6", 0, ""},
	    {s, "4", 1, "arguments: must match one of the allowed schemas"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, one_of_counts_matches)
{
	static const char s[] =
	    "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":5}]}";
	static const struct row rows[] = {
	    {s, "3", 0, ""},
	    {s, "5.5", 0, ""},
	    {s, "6", 1, "arguments: must match exactly one schema (matched 2)"},
	    {s, "1.5", 1,
	        "arguments: must match exactly one schema (matched 0)"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, all_of_reports_the_failing_part)
{
	static const char s[] = "{\"properties\":{\"n\":{\"allOf\":[{\"type\":"
	                        "\"integer\"},{\"maximum\":3}]}}}";
	static const struct row rows[] = {
	    {s, "{\"n\":2}", 0, ""},
	    {s, "{\"n\":4}", 1, "arguments.n: must be at most 3"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, not_excludes)
{
	static const char s[] = "{\"not\":{\"type\":\"null\"}}";
	static const struct row rows[] = {
	    {s, "0", 0, ""},
	    {s, "null", 1, "arguments: must not match the excluded schema"},
	};

	expect_rows(rows, NROWS(rows));
}

/* ------------------------------------------------------------ $ref */

Test(jsonschema, refs_resolve_locally)
{
	static const char s[] =
	    "{\"$defs\":{\"pace\":{\"type\":\"number\",\"minimum\":0},"
	    "\"a/b~c\":{\"type\":\"string\"}},"
	    "\"definitions\":{\"lap\":{\"type\":\"object\",\"properties\":"
	    "{\"pace\":{\"$ref\":\"#/$defs/pace\"}}}},"
	    "\"properties\":{\"laps\":{\"items\":{\"$ref\":"
	    "\"#/definitions/lap\"}},\"odd\":{\"$ref\":\"#/$defs/a~1b~0c\"}}}";
	static const struct row rows[] = {
	    {s, "{\"laps\":[{\"pace\":3}],\"odd\":\"x\"}", 0, ""},
	    {s, "{\"laps\":[{},{\"pace\":-1}]}", 1,
	        "arguments.laps[1].pace: must be at least 0"},
	    {s, "{\"odd\":1}", 1,
	        "arguments.odd: expected string, got integer"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, recursive_schemas_follow_the_value)
{
	static const char s[] =
	    "{\"type\":\"object\",\"properties\":{\"kids\":"
	    "{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}";
	static const struct row rows[] = {
	    {s, "{\"kids\":[{\"kids\":[{\"kids\":[]}]},{}]}", 0, ""},
	    {s, "{\"kids\":[{\"kids\":[1]}]}", 1,
	        "arguments.kids[0].kids[0]: expected object, got integer"},
	};

	expect_rows(rows, NROWS(rows));
}

/* ------------------------------------------------------------ unusable */

Test(jsonschema, unusable_schemas_are_minus_one)
{
	static const struct row rows[] = {
	    {"{\"properties\":{\"n\":{\"pattern\":\"[a-\"}}}", "{\"n\":\"x\"}",
	        -1,
	        "arguments.n: bad schema: pattern [a-: Unmatched [, [^, [:, "
	        "[., or [="},
	    {"{\"pattern\":\"^\\\\d+$\"}", "\"12\"", -1,
	        "arguments: bad schema: pattern ^\\d+$: \\d is not POSIX, "
	        "write [0-9]"},
	    {"{\"pattern\":\"(a)\\\\1\"}", "\"aa\"", -1,
	        "arguments: bad schema: pattern (a)\\1: back-references are "
	        "not supported"},
	    {"{\"$ref\":\"#/$defs/nope\"}", "1", -1,
	        "arguments: bad schema: $ref \"#/$defs/nope\" does not "
	        "resolve"},
	    {"{\"$ref\":\"other.json#/x\"}", "1", -1,
	        "arguments: bad schema: $ref \"other.json#/x\" does not "
	        "resolve"},
	    {"{\"type\":\"float\"}", "1", -1,
	        "arguments: bad schema: unknown type \"float\""},
	    {"{\"type\":[\"string\",\"text\"]}", "1", -1,
	        "arguments: bad schema: unknown type \"text\""},
	    {"{\"minLength\":\"3\"}", "\"x\"", -1,
	        "arguments: bad schema: minLength must be a non-negative "
	        "integer"},
	    {"{\"multipleOf\":0}", "1", -1,
	        "arguments: bad schema: multipleOf must be a number greater "
	        "than 0"},
	    {"[]", "1", -1,
	        "arguments: bad schema: a schema must be an object or a "
	        "boolean"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, ref_loops_stop_at_the_depth_limit)
{
	static const struct row rows[] = {
	    {"{\"$ref\":\"#\"}", "1", -1,
	        "arguments: bad schema: nesting deeper than 64 (a $ref "
	        "loop?)"},
	    {"{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":"
	     "{\"$ref\":\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}",
	        "1", -1,
	        "arguments: bad schema: nesting deeper than 64 (a $ref "
	        "loop?)"},
	};

	expect_rows(rows, NROWS(rows));
}

Test(jsonschema, branching_refs_stop_at_the_work_limit)
{
	char schema[4096];
	struct buf b;
	struct row row = {schema, "1", -1,
	    "arguments: bad schema: too much work for one value"};

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
	expect_rows(&row, 1);
}

Test(jsonschema, unknown_keywords_and_annotations_are_ignored)
{
	static const struct row row = {
	    "{\"title\":\"t\",\"description\":\"d\",\"default\":3,"
	    "\"examples\":[1],\"format\":\"date-time\",\"$schema\":"
	    "\"https://json-schema.org/draft/2020-12/schema\","
	    "\"x-vendor\":{\"minimum\":9},\"readOnly\":true}",
	    "\"2024\"", 0, ""};

	expect_rows(&row, 1);
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
	static const struct row rows[] = {
	    {"{\"properties\":{\"a\":{\"const\":null}}}", "{\"a\":0}", 1,
	        "arguments.a: must equal null"},
	    {"{\"properties\":{\"a\":null}}", "{\"a\":0}", -1,
	        "arguments.a: bad schema: a schema must be an object or a "
	        "boolean"},
	};
	char err[JSONSCHEMA_ERR_MAX];
	json_object *s = parse("{\"type\":\"null\"}");

	cr_expect(
	    eq(int, jsonschema_check(NULL, s, "a", err, sizeof(err)), -1));
	cr_expect(
	    eq(int, jsonschema_check(s, NULL, NULL, err, sizeof(err)), 0));
	cr_expect(eq(int, jsonschema_valid(NULL, err, sizeof(err)), -1));
	json_object_put(s);
	expect_rows(rows, NROWS(rows));
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
	static const char *const good[] = {
	    "{\"type\":\"object\",\"properties\":{\"unit\":{\"enum\":"
	    "[\"km\",\"mi\"]},\"laps\":{\"type\":\"array\",\"items\":"
	    "{\"$ref\":\"#/$defs/lap\"},\"minItems\":1,\"uniqueItems\":"
	    "true},\"name\":{\"type\":[\"string\",\"null\"],"
	    "\"pattern\":\"^[a-z]+$\",\"maxLength\":40}},\"required\":"
	    "[\"unit\"],\"additionalProperties\":false,\"$defs\":{"
	    "\"lap\":"
	    "{\"oneOf\":[{\"minimum\":0,\"exclusiveMaximum\":1e3},"
	    "{\"not\":true}],\"multipleOf\":0.5}},\"title\":\"x\"}",
	    "true",
	    "{}",
	    "{\"$ref\":\"#\",\"minItems\":2.0}",
	};
	char err[JSONSCHEMA_ERR_MAX];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect(eq(int, valid(good[i], err), 0), "%s: %s", good[i],
		    err);
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
