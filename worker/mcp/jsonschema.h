/*
 * jsonschema.h - checking a JSON value against a JSON Schema (the subset
 * of draft 2020-12 that MCP tool input schemas use), with an error that
 * names the field and the reason.
 *
 * Supported keywords: type (a name or an array of names; "integer" is a
 * number without a fractional part), enum, const, properties, required,
 * additionalProperties (boolean or schema), items (schema), minItems,
 * maxItems, uniqueItems, minLength and maxLength (in Unicode code
 * points), pattern (POSIX extended regular expression), minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, anyOf, oneOf,
 * allOf, not, $ref to "#/$defs/<name>" or "#/definitions/<name>" within
 * the same schema. Annotations (title, description, default, examples,
 * format, $schema, $id, $comment, readOnly, ...) are accepted and not
 * checked. A keyword the checker does not know is ignored, as the
 * specification asks. A schema is an object or a boolean (true accepts
 * anything, false nothing), at the root as anywhere else.
 *
 * Patterns are searched, not anchored; they are POSIX EREs, so ECMA-only
 * escapes are refused (\d: write [0-9]), as are back-references and
 * repetitions that would blow up when compiled.
 *
 * Error messages name the path from the root ("arguments.laps[2].pace")
 * with the given root name, and say why in plain words:
 *   arguments.count: expected integer, got string
 *   arguments: missing required property "name"
 *   arguments.unit: must be one of "km", "mi"
 *   arguments.extra: property not allowed
 *
 * Callers: worker processes (MCP), the unit tests, the fuzz target. No
 * state; thread-safe as json-c reads are.
 */
#ifndef PACER_JSONSCHEMA_H
#define PACER_JSONSCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* Longest error message written (NUL included). */
#define JSONSCHEMA_ERR_MAX 256

/*
 * Check value against schema. root names the value in messages
 * ("arguments"; NULL or "" starts the path at the first field). Returns
 * 0 when it conforms (err is then ""); 1 when it does not, with the
 * first reason found in err (at most errlen and JSONSCHEMA_ERR_MAX
 * bytes, always NUL-terminated, cut on a character boundary and ending
 * in "..." when cut; err may be NULL); -1 when the schema itself is
 * unusable (an unknown type name, a bad pattern, a misshapen keyword, a
 * $ref that does not resolve, nesting deeper than 64, or more work than
 * a budget allows, as a branching recursive $ref would need), with the
 * reason in err ("arguments.n: bad schema: ...").
 */
int jsonschema_check(const json_object *schema, const json_object *value,
    const char *root, char *err, size_t errlen);

/* Whether schema is usable at all: an object (or a boolean) whose
 * keywords have the right shapes (checked recursively), its patterns
 * compile and its $refs resolve. Returns 0, or -1 with the reason in err,
 * after a JSON pointer into the schema ("#/properties/n/type: unknown type
 * \"float\""). Used when the registry loads its schemas, so a bad schema
 * fails at start-up, not at the first call. */
int jsonschema_valid(const json_object *schema, char *err, size_t errlen);

#endif /* PACER_JSONSCHEMA_H */
