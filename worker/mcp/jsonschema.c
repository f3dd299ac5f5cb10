/*
 * jsonschema.c - checking MCP tool arguments against their input schema;
 * see jsonschema.h.
 *
 * Runs in worker processes, once per tools/call, and once per schema when
 * the registry starts. The schema is trusted more than the value (it is
 * ours, and jsonschema_valid() has looked at it), but neither is trusted
 * with the process: both may be any json-c value, and the fuzz target
 * feeds both. So:
 *
 * - Recursion is bounded. Every schema level costs one step of depth
 *   (SCHEMA_DEPTH_MAX, which also stops a $ref that points at itself),
 *   and every schema evaluated costs one unit of a work budget
 *   (SCHEMA_WORK_MAX), because anyOf/oneOf under a recursive $ref can
 *   otherwise branch exponentially. Equality, hashing and printing of
 *   values stop at VALUE_DEPTH_MAX.
 * - uniqueItems hashes the items and sorts the hashes, so a long array
 *   costs n log n, not n squared deep comparisons.
 * - Numbers are compared exactly when both are integers (json-c keeps
 *   int64), as doubles otherwise; an integral double (3.0) is an integer,
 *   as JSON Schema says.
 * - A JSON null inside a json-c object or array is a NULL pointer;
 *   json-c's getters take NULL as null, and so does everything here.
 * - json-c's read-only getters for strings are not declared const; str()
 *   drops the qualifier in one place instead of casting all over.
 * - Patterns are POSIX EREs (regcomp), searched unanchored as JSON Schema
 *   asks. ECMA-only escapes that glibc would silently read as letters
 *   (\d) and back-references (slow, not regular) are refused as a schema
 *   error rather than misread. A worker keeps the patterns it compiled
 *   (the last 32), so a tool's schema is not compiled again at each call.
 *
 * Every message goes through a bounded struct buf and is cut on a UTF-8
 * character boundary, ending in "..." when it did not fit.
 */
#include "jsonschema.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define SCHEMA_DEPTH_MAX 64
#define SCHEMA_WORK_MAX (1L << 20)
#define VALUE_DEPTH_MAX 64
#define PATTERN_COST 16
#define PATTERN_LEN_MAX 1024
#define PATTERN_NODES_MAX 4096UL
#define PATTERN_GROUPS_MAX 32
#define REF_NAME_MAX 256
#define ENUM_LIST_MAX 160 /* bytes of "must be one of" list before "..." */

/* ------------------------------------------------------------ keywords */

/* The shape each keyword's value must have. */
enum kw_kind {
	KW_TYPE,        /* a type name or a non-empty array of them */
	KW_ANY,         /* any value (const) */
	KW_ARRAY,       /* any array (enum) */
	KW_STRINGS,     /* array of strings (required) */
	KW_SCHEMA,      /* one schema */
	KW_SCHEMA_MAP,  /* object of schemas */
	KW_SCHEMA_LIST, /* non-empty array of schemas */
	KW_COUNT,       /* non-negative integer */
	KW_BOOL,        /* true or false */
	KW_NUMBER,      /* finite number */
	KW_POSITIVE,    /* finite number > 0 */
	KW_PATTERN,     /* string holding an ERE that compiles */
	KW_REF,         /* string naming a local definition */
};

struct keyword {
	const char *name;
	enum kw_kind kind;
};

static const struct keyword keywords[] = {
    {"type", KW_TYPE},
    {"enum", KW_ARRAY},
    {"const", KW_ANY},
    {"properties", KW_SCHEMA_MAP},
    {"required", KW_STRINGS},
    {"additionalProperties", KW_SCHEMA},
    {"items", KW_SCHEMA},
    {"minItems", KW_COUNT},
    {"maxItems", KW_COUNT},
    {"uniqueItems", KW_BOOL},
    {"minLength", KW_COUNT},
    {"maxLength", KW_COUNT},
    {"pattern", KW_PATTERN},
    {"minimum", KW_NUMBER},
    {"maximum", KW_NUMBER},
    {"exclusiveMinimum", KW_NUMBER},
    {"exclusiveMaximum", KW_NUMBER},
    {"multipleOf", KW_POSITIVE},
    {"anyOf", KW_SCHEMA_LIST},
    {"oneOf", KW_SCHEMA_LIST},
    {"allOf", KW_SCHEMA_LIST},
    {"not", KW_SCHEMA},
    {"$ref", KW_REF},
    {"$defs", KW_SCHEMA_MAP},
    {"definitions", KW_SCHEMA_MAP},
};
#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

static const char *const type_names[] = {"object", "array", "string", "number",
    "integer", "boolean", "null"};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

static const struct keyword *keyword_find(const char *name)
{
	for (size_t i = 0; i < NKEYWORDS; i++)
		if (strcmp(keywords[i].name, name) == 0)
			return &keywords[i];
	return NULL;
}

/* ------------------------------------------------------------ values */

/* The contents of a string value, "" for anything else (json-c would
 * serialise a non-string into a buffer it hangs on the object). The
 * getter only reads, but is not declared const. */
static const char *str(const json_object *v)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return "";
	s = json_object_get_string((json_object *)(uintptr_t)v);
	return s ? s : "";
}

static size_t str_len(const json_object *v)
{
	int n = json_object_get_string_len(v);

	return n > 0 ? (size_t)n : 0;
}

/* A JSON number: exact when it is an integer that fits int64_t. */
struct num {
	bool exact;    /* i holds the value */
	bool integral; /* no fractional part (exact, or a huge double) */
	int64_t i;
	double d; /* the value, rounded when exact and large */
};

static bool num_get(const json_object *v, struct num *n)
{
	memset(n, 0, sizeof(*n));
	if (json_object_is_type(v, json_type_int)) {
		n->i = json_object_get_int64(v);
		n->d = (double)n->i;
		n->exact = n->integral = true;
		if (n->i == INT64_MAX &&
		    json_object_get_uint64(v) > INT64_MAX) {
			n->d = (double)json_object_get_uint64(v);
			n->exact = false;
		}
		return true;
	}
	if (!json_object_is_type(v, json_type_double))
		return false;
	n->d = json_object_get_double(v);
	if (!isfinite(n->d))
		return true;
	if (n->d >= -9223372036854775808.0 && n->d < 9223372036854775808.0) {
		n->i = (int64_t)n->d;
		n->exact = n->integral = ((double)n->i == n->d);
	} else {
		n->integral = true; /* every double this large is whole */
	}
	return true;
}

/* -1, 0 or 1 as a is below, at or above b; 2 when unordered (NaN). */
static int num_cmp(const struct num *a, const struct num *b)
{
	if (a->exact && b->exact)
		return (a->i > b->i) - (a->i < b->i);
	if (a->d < b->d || a->d > b->d)
		return a->d < b->d ? -1 : 1;
	return a->d == b->d ? 0 : 2;
}

static bool num_eq(const struct num *a, const struct num *b)
{
	if (a->exact != b->exact)
		return false; /* an exact one cannot equal an inexact one */
	return a->exact ? a->i == b->i : a->d == b->d;
}

static bool num_multiple_of(const struct num *v, const struct num *m)
{
	double q, diff;

	if (v->exact && m->exact && m->i > 0)
		return v->i % m->i == 0;
	q = v->d / m->d;
	if (!isfinite(q))
		return false;
	if (q >= 9007199254740992.0 || q <= -9007199254740992.0)
		return true; /* past 2^53 every double is whole */
	diff = q - (double)(int64_t)q;
	if (diff > 0.5)
		diff -= 1.0;
	else if (diff < -0.5)
		diff += 1.0;
	/* decimal steps such as 0.1 are not exact in binary */
	return diff < 1e-9 && diff > -1e-9;
}

/* The name of a value's type, for "got ...". */
static const char *value_type(const json_object *v)
{
	struct num n;

	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_int:
	case json_type_double:
		(void)num_get(v, &n);
		return n.integral ? "integer" : "number";
	case json_type_string: return "string";
	case json_type_array: return "array";
	case json_type_object: return "object";
	}
	return "value";
}

static bool type_matches(const char *name, const json_object *v)
{
	struct num n;

	if (strcmp(name, "integer") == 0)
		return num_get(v, &n) && n.integral;
	if (strcmp(name, "number") == 0)
		return num_get(v, &n);
	return strcmp(name, value_type(v)) == 0;
}

static bool type_known(const char *name)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (strcmp(type_names[i], name) == 0)
			return true;
	return false;
}

static bool values_equal(const json_object *a, const json_object *b, int depth);

static bool objects_equal(const json_object *a, const json_object *b, int depth)
{
	struct lh_table *t = json_object_get_object(a);
	json_object *bv;

	if (json_object_object_length(a) != json_object_object_length(b))
		return false;
	for (struct lh_entry *e = t ? lh_table_head(t) : NULL; e != NULL;
	     e = lh_entry_next(e)) {
		if (!json_object_object_get_ex(b, lh_entry_k(e), &bv) ||
		    !values_equal(lh_entry_v(e), bv, depth + 1))
			return false;
	}
	return true;
}

/* Equality as JSON Schema means it: 1 equals 1.0, key order is ignored.
 * Past VALUE_DEPTH_MAX containers count as different. */
static bool values_equal(const json_object *a, const json_object *b, int depth)
{
	struct num na, nb;
	bool an = num_get(a, &na), bn = num_get(b, &nb);
	json_type ta = json_object_get_type(a);
	size_t n;

	if (an || bn)
		return an && bn && num_eq(&na, &nb);
	if (ta != json_object_get_type(b))
		return false;
	if ((ta == json_type_array || ta == json_type_object) &&
	    depth >= VALUE_DEPTH_MAX)
		return false;
	switch (ta) {
	case json_type_boolean:
		return !json_object_get_boolean(a) ==
		    !json_object_get_boolean(b);
	case json_type_string:
		n = str_len(a);
		return n == str_len(b) && memcmp(str(a), str(b), n) == 0;
	case json_type_array:
		n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!values_equal(json_object_array_get_idx(a, i),
			        json_object_array_get_idx(b, i), depth + 1))
				return false;
		return true;
	case json_type_object: return objects_equal(a, b, depth);
	default: return true; /* null */
	}
}

/* FNV-1a, for uniqueItems. */
#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * FNV_PRIME;
	return h;
}

/* A hash that agrees with values_equal(): equal values hash alike. */
static uint64_t value_hash(const json_object *v, int depth)
{
	json_type t = json_object_get_type(v);
	uint64_t h = FNV_OFFSET, x, sum = 0;
	unsigned char tag = (t == json_type_double) ? json_type_int : t, b;
	struct lh_table *tab;
	struct num n;

	h = fnv(h, &tag, 1);
	if (num_get(v, &n))
		return n.exact ? fnv(h, &n.i, sizeof(n.i))
		               : fnv(h, &n.d, sizeof(n.d));
	if (t == json_type_boolean) {
		b = json_object_get_boolean(v) ? 1 : 0;
		return fnv(h, &b, 1);
	}
	if (t == json_type_string)
		return fnv(h, str(v), str_len(v));
	if (depth >= VALUE_DEPTH_MAX)
		return h;
	if (t == json_type_array) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			x = value_hash(json_object_array_get_idx(v, i),
			    depth + 1);
			h = fnv(h, &x, sizeof(x));
		}
		return h;
	}
	tab = json_object_get_object(v);
	for (struct lh_entry *e = tab ? lh_table_head(tab) : NULL; e != NULL;
	     e = lh_entry_next(e)) {
		const char *k = lh_entry_k(e);

		x = value_hash(lh_entry_v(e), depth + 1);
		x = fnv(fnv(FNV_OFFSET, k, strlen(k)), &x, sizeof(x));
		sum += x; /* order-independent */
	}
	return fnv(h, &sum, sizeof(sum));
}

/* Print v as JSON for a message; containers past the depth become "...". */
static void put_double(struct buf *b, double d)
{
	char tmp[40];

	if (!isfinite(d)) {
		buf_puts(b,
		    isnan(d)    ? "NaN"
		        : d < 0 ? "-Infinity"
		                : "Infinity");
		return;
	}
	/* the shortest form that reads back as the same double */
	for (int prec = 1; prec <= 17; prec++) {
		int n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);

		if (n > 0 && (size_t)n < sizeof(tmp) && strtod(tmp, NULL) == d)
			break;
	}
	buf_puts(b, tmp);
}

static void put_num(struct buf *b, const struct num *n)
{
	if (n->exact)
		buf_printf(b, "%lld", (long long)n->i);
	else
		put_double(b, n->d);
}

static void put_value(struct buf *b, const json_object *v, int depth);

static void put_container(struct buf *b, const json_object *v, int depth)
{
	bool arr = json_object_is_type(v, json_type_array);
	struct lh_table *t = json_object_get_object(v);
	size_t i = 0;

	buf_putc(b, arr ? '[' : '{');
	if (depth >= VALUE_DEPTH_MAX) {
		buf_puts(b, "...");
	} else if (arr) {
		for (i = 0; i < json_object_array_length(v) && !b->overflow;
		     i++) {
			if (i > 0)
				buf_putc(b, ',');
			put_value(b, json_object_array_get_idx(v, i),
			    depth + 1);
		}
	} else {
		for (struct lh_entry *e = t ? lh_table_head(t) : NULL;
		     e != NULL && !b->overflow; e = lh_entry_next(e)) {
			const char *k = lh_entry_k(e);

			buf_puts(b, i++ > 0 ? ",\"" : "\"");
			buf_json_escape(b, k, strlen(k));
			buf_puts(b, "\":");
			put_value(b, lh_entry_v(e), depth + 1);
		}
	}
	buf_putc(b, arr ? ']' : '}');
}

static void put_value(struct buf *b, const json_object *v, int depth)
{
	struct num n;

	switch (json_object_get_type(v)) {
	case json_type_null: buf_puts(b, "null"); break;
	case json_type_boolean:
		buf_puts(b, json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_int:
	case json_type_double:
		(void)num_get(v, &n);
		put_num(b, &n);
		break;
	case json_type_string:
		buf_putc(b, '"');
		buf_json_escape(b, str(v), str_len(v));
		buf_putc(b, '"');
		break;
	case json_type_array:
	case json_type_object: put_container(b, v, depth); break;
	}
}

/* Count code points: every byte that does not continue a sequence. */
static size_t utf8_length(const char *s, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

/* ------------------------------------------------------------ messages */

/* Write the message into err, cut on a character boundary with "...". */
static void message_set(char *err, size_t errlen, const char *a,
    const char *sep, const char *b)
{
	struct buf m;
	size_t len, start;
	unsigned char lead;

	if (err == NULL || errlen == 0)
		return;
	if (errlen > JSONSCHEMA_ERR_MAX)
		errlen = JSONSCHEMA_ERR_MAX;
	buf_init_fixed(&m, err, errlen);
	buf_puts(&m, a);
	buf_puts(&m, sep);
	buf_puts(&m, b);
	if (!m.overflow)
		return;
	len = (m.len > 3) ? m.len - 3 : 0;
	start = len;
	while (start > 0 && ((unsigned char)err[start - 1] & 0xC0) == 0x80 &&
	    len - start < 3)
		start--;
	if (start > 0 && (unsigned char)err[start - 1] >= 0xC0) {
		lead = (unsigned char)err[start - 1];
		if (len - start + 1 < (size_t)(lead >= 0xF0  ? 4
		                              : lead >= 0xE0 ? 3
		                                             : 2))
			len = start - 1; /* drop the incomplete character */
	}
	buf_truncate(&m, len);
	m.overflow = false;
	buf_puts(&m, "...");
}

/* ------------------------------------------------------------ $ref */

/* Undo JSON-pointer escaping (~0 is '~', ~1 is '/'); a bare '/' means a
 * deeper pointer, which is not supported. */
static bool ref_name(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		char c = *s;

		if (c == '/')
			return false;
		if (c == '~') {
			s++;
			if (*s != '0' && *s != '1')
				return false;
			c = (*s == '0') ? '~' : '/';
		}
		if (o + 1 >= n)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* The schema ref names in root, or NULL. */
static const json_object *ref_resolve(const json_object *root, const char *ref)
{
	static const char *const prefixes[] = {"#/$defs/", "#/definitions/"};
	char name[REF_NAME_MAX];
	json_object *defs, *target;
	size_t plen;

	if (strcmp(ref, "#") == 0)
		return root;
	for (size_t i = 0; i < 2; i++) {
		plen = strlen(prefixes[i]);
		if (strncmp(ref, prefixes[i], plen) != 0)
			continue;
		if (!ref_name(ref + plen, name, sizeof(name)))
			return NULL;
		/* "#/$defs/" names the key between the slashes */
		if (!json_object_object_get_ex(root,
		        i == 0 ? "$defs" : "definitions", &defs) ||
		    !json_object_object_get_ex(defs, name, &target))
			return NULL;
		if (json_object_is_type(target, json_type_object) ||
		    json_object_is_type(target, json_type_boolean))
			return target;
		return NULL;
	}
	return NULL;
}

/* ------------------------------------------------------------ patterns */

/*
 * glibc's regcomp expands repetitions by copying the tree ("a+" becomes
 * "aa*", "a{3}" three copies), so "a+++...+" or "((a{99}){99}){99}"
 * costs memory exponential in the pattern length. Estimate the expanded
 * size first: every atom is 1, a group 1 + the sum of its atoms, and a
 * quantifier multiplies the atom before it (by 2, or by the bound + 1),
 * saturating at PATTERN_NODES_MAX + 1.
 */
static unsigned long sat_add(unsigned long a, unsigned long b)
{
	return (a + b > PATTERN_NODES_MAX) ? PATTERN_NODES_MAX + 1 : a + b;
}

static unsigned long sat_mul(unsigned long a, unsigned long b)
{
	if (a == 0 || b == 0)
		return 0;
	return (a > PATTERN_NODES_MAX / b) ? PATTERN_NODES_MAX + 1 : a * b;
}

/* Bytes of the bracket expression at p ("[...]"), 0 if unterminated. */
static size_t bracket_len(const char *p)
{
	size_t i = 1;

	i += (p[i] == '^');
	i += (p[i] == ']');
	for (; p[i] != '\0'; i++) {
		if (p[i] == ']')
			return i + 1;
		if (p[i] == '[' && p[i + 1] != '\0' &&
		    strchr(":.=", p[i + 1]) != NULL) {
			const char *end = strchr(p + i + 2, ']');

			while (end != NULL && end[-1] != p[i + 1])
				end = strchr(end + 1, ']');
			if (end == NULL)
				return 0;
			i = (size_t)(end - p);
		}
	}
	return 0;
}

/* The multiplier of a quantifier at p (its length in *len), or 0. */
static unsigned long quantifier(const char *p, size_t *len)
{
	unsigned long bound = 0;
	size_t i = 1;

	if (*p == '*' || *p == '+' || *p == '?') {
		*len = 1;
		return 2;
	}
	if (*p != '{')
		return 0;
	for (; (p[i] >= '0' && p[i] <= '9') || p[i] == ','; i++)
		if (p[i] != ',')
			bound = sat_add(sat_mul(bound, 10),
			    (unsigned long)(p[i] - '0'));
	if (p[i] != '}' || i == 1)
		return 0; /* not an interval; regcomp decides */
	*len = i + 1;
	return sat_add(bound, 1);
}

/* Why p is refused before regcomp sees it, or NULL. */
static const char *pattern_problem(const char *p)
{
	unsigned long sum[PATTERN_GROUPS_MAX + 1] = {0}, last = 0, q;
	size_t i = 0, n, qlen = 0;
	int depth = 0;

	if (strlen(p) > PATTERN_LEN_MAX)
		return "longer than 1024 bytes";
	while (p[i] != '\0') {
		q = quantifier(p + i, &qlen);
		if (q > 0) {
			sum[depth] = sat_add(sum[depth] > PATTERN_NODES_MAX
			        ? sum[depth]
			        : sum[depth] - last,
			    sat_mul(last, q));
			last = sat_mul(last, q);
			i += qlen;
		} else {
			n = 1;
			last = 1;
			if (p[i] == '\\' && p[i + 1] >= '1' && p[i + 1] <= '9')
				return "back-references are not supported";
			if (p[i] == '\\' &&
			    (p[i + 1] == 'd' || p[i + 1] == 'D'))
				return "\\d is not POSIX, write [0-9]";
			if (p[i] == '\\' && p[i + 1] != '\0')
				n = 2;
			else if (p[i] == '[' && (n = bracket_len(p + i)) == 0)
				return NULL; /* regcomp reports it */
			else if (p[i] == '(' && depth == PATTERN_GROUPS_MAX)
				return "groups nested too deeply";
			else if (p[i] == '(')
				sum[++depth] = last = 0;
			else if (p[i] == ')' && depth > 0)
				last = sat_add(sum[depth--], 1);
			sum[depth] = sat_add(sum[depth], last);
			i += n;
		}
		if (sum[depth] > PATTERN_NODES_MAX)
			return "too many repetitions";
	}
	return NULL;
}

/* Compile p: NULL, or why not (a constant, or regerror's words in
 * detail). */
static const char *pattern_compile(regex_t *re, const char *p, char *detail,
    size_t n)
{
	const char *why = pattern_problem(p);
	int rc;

	if (why != NULL)
		return why;
	rc = regcomp(re, p, REG_EXTENDED | REG_NOSUB);
	if (rc == 0)
		return NULL;
	(void)regerror(rc, re, detail, n);
	return detail; /* nothing to regfree after a failed regcomp */
}

/*
 * The compiled patterns a worker has used, so that a tool's schema is
 * compiled once rather than at every call: PATTERN_CACHE of them, the
 * oldest replaced (the registry's schemas hold far fewer). Only patterns
 * that compiled are kept.
 */
#define PATTERN_CACHE 32
#define PATTERN_CACHE_LEN 256 /* longer patterns are compiled each time */

static struct {
	char text[PATTERN_CACHE_LEN];
	regex_t re;
	bool used;
} patterns[PATTERN_CACHE];
static size_t pattern_next;

/* p compiled, from the cache or into *scratch (the caller regfrees it
 * when *scratch_used); NULL with why set when p does not compile. */
static const regex_t *pattern_get(const char *p, regex_t *scratch,
    bool *scratch_used, const char **why, char *detail, size_t n)
{
	size_t len = strlen(p), i;

	*scratch_used = false;
	for (i = 0; i < PATTERN_CACHE; i++)
		if (patterns[i].used && strcmp(patterns[i].text, p) == 0)
			return &patterns[i].re;
	if (len >= PATTERN_CACHE_LEN) {
		if ((*why = pattern_compile(scratch, p, detail, n)) != NULL)
			return NULL;
		*scratch_used = true;
		return scratch;
	}
	i = pattern_next;
	if (patterns[i].used) {
		regfree(&patterns[i].re);
		patterns[i].used = false;
	}
	if ((*why = pattern_compile(&patterns[i].re, p, detail, n)) != NULL)
		return NULL;
	memcpy(patterns[i].text, p, len + 1);
	patterns[i].used = true;
	pattern_next = (i + 1) % PATTERN_CACHE;
	return &patterns[i].re;
}

/* ------------------------------------------------------------ shapes */

static bool is_schema(const json_object *v)
{
	return json_object_is_type(v, json_type_object) ||
	    json_object_is_type(v, json_type_boolean);
}

/* The first name in a type keyword that is not a type, or NULL. */
static const char *type_unknown(const json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		return type_known(str(v)) ? NULL : str(v);
	if (!json_object_is_type(v, json_type_array))
		return NULL; /* json-c asserts on array calls */
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		const json_object *t = json_object_array_get_idx(v, i);

		if (json_object_is_type(t, json_type_string) &&
		    !type_known(str(t)))
			return str(t);
	}
	return NULL;
}

static const char *type_shape(const json_object *v)
{
	size_t n;

	if (json_object_is_type(v, json_type_string))
		return type_known(str(v)) ? NULL : "unknown type";
	if (!json_object_is_type(v, json_type_array))
		return "must be a type name or an array of them";
	n = json_object_array_length(v);
	if (n == 0)
		return "must not be empty";
	for (size_t i = 0; i < n; i++) {
		const json_object *t = json_object_array_get_idx(v, i);

		if (!json_object_is_type(t, json_type_string))
			return "must be a type name or an array of them";
		if (!type_known(str(t)))
			return "unknown type";
	}
	return NULL;
}

static const char *list_shape(enum kw_kind kind, const json_object *v)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return kind == KW_STRINGS    ? "must be an array of strings"
		    : kind == KW_SCHEMA_LIST ? "must be an array of schemas"
		                             : "must be an array";
	n = json_object_array_length(v);
	if (kind == KW_SCHEMA_LIST && n == 0)
		return "must not be empty";
	for (size_t i = 0; i < n; i++) {
		const json_object *e = json_object_array_get_idx(v, i);

		if (kind == KW_STRINGS &&
		    !json_object_is_type(e, json_type_string))
			return "must be an array of strings";
		if (kind == KW_SCHEMA_LIST && !is_schema(e))
			return "must be an array of schemas";
	}
	return NULL;
}

/* What is wrong with a keyword's value, or NULL. Subschemas are only
 * checked to be objects or booleans here; callers recurse. */
static const char *kw_shape(enum kw_kind kind, const json_object *v)
{
	struct num n;

	switch (kind) {
	case KW_TYPE: return type_shape(v);
	case KW_ANY: return NULL;
	case KW_ARRAY:
	case KW_STRINGS:
	case KW_SCHEMA_LIST: return list_shape(kind, v);
	case KW_SCHEMA: return is_schema(v) ? NULL : "must be a schema";
	case KW_SCHEMA_MAP:
		return json_object_is_type(v, json_type_object)
		    ? NULL
		    : "must be an object of schemas";
	case KW_COUNT:
		return (num_get(v, &n) && n.integral && n.d >= 0)
		    ? NULL
		    : "must be a non-negative integer";
	case KW_BOOL:
		return json_object_is_type(v, json_type_boolean)
		    ? NULL
		    : "must be true or false";
	case KW_NUMBER:
		return (num_get(v, &n) && isfinite(n.d)) ? NULL
		                                         : "must be a number";
	case KW_POSITIVE:
		return (num_get(v, &n) && isfinite(n.d) && n.d > 0)
		    ? NULL
		    : "must be a number greater than 0";
	case KW_PATTERN:
	case KW_REF:
		return json_object_is_type(v, json_type_string)
		    ? NULL
		    : "must be a string";
	}
	return "unknown keyword";
}

static uint64_t count_of(const json_object *v)
{
	struct num n;

	(void)num_get(v, &n);
	if (n.exact)
		return (uint64_t)n.i;
	return n.d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)n.d;
}

/* ------------------------------------------------------------ checking */

/* A walk through a value (jsonschema_check) or a schema
 * (jsonschema_valid). */
struct check {
	const json_object *root; /* for $ref */
	/* Where the walk is: "arguments.laps[2]" in a value, a JSON pointer
	 * "#/properties/x" in a schema. */
	struct buf path;
	char *err;
	size_t errlen;
	int depth;
	long work;
};

static void check_start(struct check *c, const json_object *schema, char *store,
    size_t storelen, const char *at, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->root = schema;
	c->err = err;
	c->errlen = errlen;
	buf_init_fixed(&c->path, store, storelen);
	buf_puts(&c->path, at);
}

static int mismatch(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int bad_schema(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void check_message(struct check *c, const char *prefix, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void check_message(struct check *c, const char *prefix, const char *fmt,
    va_list ap)
{
	char store[JSONSCHEMA_ERR_MAX];
	struct buf why;

	buf_init_fixed(&why, store, sizeof(store));
	buf_puts(&why, prefix);
	buf_vprintf(&why, fmt, ap);
	message_set(c->err, c->errlen, buf_str(&c->path),
	    c->path.len > 0 ? ": " : "", buf_str(&why));
}

/* The value does not conform: 1, with the reason. */
static int mismatch(struct check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_message(c, "", fmt, ap);
	va_end(ap);
	return 1;
}

/* The schema is unusable: -1, with the reason. */
static int bad_schema(struct check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_message(c, "bad schema: ", fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_identifier(const char *k)
{
	static const char word[] = "abcdefghijklmnopqrstuvwxyz"
	                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";

	return *k != '\0' && (*k < '0' || *k > '9') &&
	    k[strspn(k, word)] == '\0';
}

/* Append a path step; returns the length to go back to. */
static size_t path_key(struct check *c, const char *key)
{
	size_t saved = c->path.len;

	if (is_identifier(key)) {
		if (saved > 0)
			buf_putc(&c->path, '.');
		buf_puts(&c->path, key);
	} else {
		buf_puts(&c->path, "[\"");
		buf_json_escape(&c->path, key, strlen(key));
		buf_puts(&c->path, "\"]");
	}
	return saved;
}

static size_t path_index(struct check *c, size_t i)
{
	size_t saved = c->path.len;

	buf_printf(&c->path, "[%zu]", i);
	return saved;
}

static void path_back(struct check *c, size_t saved)
{
	buf_truncate(&c->path, saved);
}

/* Look up a keyword and check its shape: 1 present (in *out), 0 absent,
 * -1 misshapen. */
static int kw_get(struct check *c, const json_object *schema, const char *name,
    const json_object **out)
{
	const struct keyword *k = keyword_find(name);
	json_object *v;
	const char *why;

	if (k == NULL || !json_object_object_get_ex(schema, name, &v))
		return 0;
	why = kw_shape(k->kind, v);
	if (why != NULL && k->kind == KW_TYPE && type_unknown(v) != NULL)
		return bad_schema(c, "unknown type \"%s\"", type_unknown(v));
	if (why != NULL)
		return bad_schema(c, "%s %s", name, why);
	*out = v;
	return 1;
}

static int check_schema(struct check *c, const json_object *schema,
    const json_object *value);

static int check_ref(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *ref = NULL, *target;
	int rc = kw_get(c, s, "$ref", &ref);

	if (rc <= 0)
		return rc;
	target = ref_resolve(c->root, str(ref));
	if (target == NULL)
		return bad_schema(c, "$ref \"%s\" does not resolve", str(ref));
	return check_schema(c, target, v);
}

static int check_type(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *t = NULL;
	char store[JSONSCHEMA_ERR_MAX];
	struct buf want;
	size_t n;
	int rc = kw_get(c, s, "type", &t);

	if (rc <= 0)
		return rc;
	if (json_object_is_type(t, json_type_string))
		return type_matches(str(t), v)
		    ? 0
		    : mismatch(c, "expected %s, got %s", str(t), value_type(v));
	n = json_object_array_length(t);
	buf_init_fixed(&want, store, sizeof(store));
	for (size_t i = 0; i < n; i++) {
		const char *name = str(json_object_array_get_idx(t, i));

		if (type_matches(name, v))
			return 0;
		if (i > 0)
			buf_puts(&want, i + 1 == n ? " or " : ", ");
		buf_puts(&want, name);
	}
	return mismatch(c, "expected %s, got %s", buf_str(&want),
	    value_type(v));
}

static int check_enum(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *e = NULL;
	char store[JSONSCHEMA_ERR_MAX];
	struct buf list;
	size_t n, before;
	int rc = kw_get(c, s, "enum", &e);

	if (rc <= 0)
		return rc;
	n = json_object_array_length(e);
	for (size_t i = 0; i < n; i++)
		if (values_equal(json_object_array_get_idx(e, i), v, 0))
			return 0;
	buf_init_fixed(&list, store, sizeof(store));
	for (size_t i = 0; i < n; i++) {
		before = list.len;
		if (i > 0)
			buf_puts(&list, ", ");
		put_value(&list, json_object_array_get_idx(e, i), 0);
		if (list.overflow || list.len > ENUM_LIST_MAX) {
			buf_truncate(&list, before);
			list.overflow = false;
			buf_puts(&list, ", ...");
			break;
		}
	}
	return mismatch(c, "must be one of %s", buf_str(&list));
}

static int check_const(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *k = NULL;
	char store[JSONSCHEMA_ERR_MAX];
	struct buf want;
	int rc = kw_get(c, s, "const", &k);

	if (rc <= 0 || values_equal(k, v, 0))
		return rc < 0 ? rc : 0;
	buf_init_fixed(&want, store, sizeof(store));
	put_value(&want, k, 0);
	return mismatch(c, "must equal %s", buf_str(&want));
}

/* The bounds, with the range num_cmp(value, bound) must fall in. */
static const struct bound {
	const char *name, *words;
	int lo, hi;
} bounds[] = {
    {"minimum", "must be at least", 0, 1},
    {"maximum", "must be at most", -1, 0},
    {"exclusiveMinimum", "must be greater than", 1, 1},
    {"exclusiveMaximum", "must be less than", -1, -1},
};

static int check_number(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *k = NULL;
	char store[64];
	struct buf lim;
	struct num n, b;
	int rc, cmp;

	if (!num_get(v, &n))
		return 0;
	buf_init_fixed(&lim, store, sizeof(store));
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		rc = kw_get(c, s, bounds[i].name, &k);
		if (rc < 0)
			return rc;
		if (rc == 0 || !num_get(k, &b))
			continue;
		cmp = num_cmp(&n, &b);
		if (cmp >= bounds[i].lo && cmp <= bounds[i].hi)
			continue;
		put_num(&lim, &b);
		return mismatch(c, "%s %s", bounds[i].words, buf_str(&lim));
	}
	rc = kw_get(c, s, "multipleOf", &k);
	if (rc <= 0 || !num_get(k, &b) || num_multiple_of(&n, &b))
		return rc < 0 ? rc : 0;
	put_num(&lim, &b);
	return mismatch(c, "must be a multiple of %s", buf_str(&lim));
}

static int check_pattern(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *p = NULL;
	char detail[128];
	const char *why = NULL;
	const regex_t *re;
	regex_t scratch;
	bool scratch_used;
	int rc = kw_get(c, s, "pattern", &p);

	if (rc <= 0)
		return rc;
	c->work += PATTERN_COST;
	re = pattern_get(str(p), &scratch, &scratch_used, &why, detail,
	    sizeof(detail));
	if (re == NULL)
		return bad_schema(c, "pattern %s: %s", str(p), why);
	rc = regexec(re, str(v), 0, NULL, 0);
	if (scratch_used)
		regfree(&scratch);
	if (rc == 0)
		return 0;
	if (rc == REG_NOMATCH)
		return mismatch(c, "must match pattern %s", str(p));
	return bad_schema(c, "pattern %s could not be matched", str(p));
}

/* minLength/maxLength or minItems/maxItems against have. */
static int check_counts(struct check *c, const json_object *s,
    const char *const names[2], uint64_t have, const char *noun)
{
	const json_object *k = NULL;
	uint64_t lim;
	int rc;

	for (int i = 0; i < 2; i++) {
		rc = kw_get(c, s, names[i], &k);
		if (rc < 0)
			return rc;
		if (rc == 0 ||
		    (i == 0 ? have >= count_of(k) : have <= count_of(k)))
			continue;
		lim = count_of(k);
		return mismatch(c, "must have at %s %llu %s%s",
		    i == 0 ? "least" : "most", (unsigned long long)lim, noun,
		    lim == 1 ? "" : "s");
	}
	return 0;
}

static int check_string(struct check *c, const json_object *s,
    const json_object *v)
{
	static const char *const names[2] = {"minLength", "maxLength"};
	int rc;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	rc = check_counts(c, s, names, utf8_length(str(v), str_len(v)),
	    "character");
	return rc != 0 ? rc : check_pattern(c, s, v);
}

struct hashed {
	uint64_t h;
	size_t i;
};

static int hashed_cmp(const void *a, const void *b)
{
	const struct hashed *x = a, *y = b;

	return (x->h > y->h) - (x->h < y->h);
}

/* 0 when the items are unique, 1 when not, -1 out of memory. */
static int unique_items(const json_object *v)
{
	size_t n = json_object_array_length(v);
	struct hashed *h;
	int rc = 0;

	if (n < 2)
		return 0;
	h = calloc(n, sizeof(*h));
	if (h == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		h[i].h = value_hash(json_object_array_get_idx(v, i), 0);
		h[i].i = i;
	}
	qsort(h, n, sizeof(*h), hashed_cmp);
	for (size_t i = 0; i < n && rc == 0; i++)
		for (size_t j = i + 1; j < n && h[j].h == h[i].h && rc == 0;
		     j++)
			if (values_equal(json_object_array_get_idx(v, h[i].i),
			        json_object_array_get_idx(v, h[j].i), 0))
				rc = 1;
	free(h);
	return rc;
}

static int check_array_size(struct check *c, const json_object *s,
    const json_object *v, size_t n)
{
	static const char *const names[2] = {"minItems", "maxItems"};
	const json_object *u = NULL;
	int rc = check_counts(c, s, names, n, "item");

	if (rc != 0)
		return rc;
	rc = kw_get(c, s, "uniqueItems", &u);
	if (rc <= 0 || !json_object_get_boolean(u))
		return rc < 0 ? rc : 0;
	c->work += (long)(n < (size_t)SCHEMA_WORK_MAX ? n : SCHEMA_WORK_MAX);
	rc = unique_items(v);
	if (rc < 0)
		return bad_schema(c, "out of memory");
	return rc > 0 ? mismatch(c, "items must be unique") : 0;
}

static int check_array(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *items = NULL;
	size_t n, saved;
	int rc;

	if (!json_object_is_type(v, json_type_array))
		return 0;
	n = json_object_array_length(v);
	rc = check_array_size(c, s, v, n);
	if (rc != 0)
		return rc;
	rc = kw_get(c, s, "items", &items);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		saved = path_index(c, i);
		rc = check_schema(c, items, json_object_array_get_idx(v, i));
		path_back(c, saved);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int check_required(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *req = NULL;
	char store[JSONSCHEMA_ERR_MAX];
	struct buf name;
	int rc = kw_get(c, s, "required", &req);

	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < json_object_array_length(req); i++) {
		const json_object *r = json_object_array_get_idx(req, i);

		if (json_object_object_get_ex(v, str(r), NULL))
			continue;
		buf_init_fixed(&name, store, sizeof(store));
		buf_json_escape(&name, str(r), str_len(r));
		return mismatch(c, "missing required property \"%s\"",
		    buf_str(&name));
	}
	return 0;
}

/* One property of the value against properties / additionalProperties. */
static int check_property(struct check *c, const json_object *props,
    const json_object *extra, const char *key, const json_object *val)
{
	json_object *sub;
	size_t saved = path_key(c, key);
	int rc = 0;

	if (props != NULL && json_object_object_get_ex(props, key, &sub))
		rc = check_schema(c, sub, val);
	else if (json_object_is_type(extra, json_type_boolean) &&
	    !json_object_get_boolean(extra))
		rc = mismatch(c, "property not allowed");
	else if (extra != NULL)
		rc = check_schema(c, extra, val);
	path_back(c, saved);
	return rc;
}

static int check_object(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *props = NULL, *extra = NULL;
	struct lh_table *t;
	int rc;

	if (!json_object_is_type(v, json_type_object))
		return 0;
	rc = check_required(c, s, v);
	if (rc != 0 || kw_get(c, s, "properties", &props) < 0 ||
	    kw_get(c, s, "additionalProperties", &extra) < 0)
		return rc != 0 ? rc : -1;
	t = json_object_get_object(v);
	for (struct lh_entry *e = t ? lh_table_head(t) : NULL; e != NULL;
	     e = lh_entry_next(e)) {
		rc = check_property(c, props, extra, lh_entry_k(e),
		    lh_entry_v(e));
		if (rc != 0)
			return rc;
	}
	return 0;
}

enum combine { ALL_OF, ANY_OF, ONE_OF };

/* allOf reports the first failing branch's own reason; anyOf and oneOf
 * cannot tell which branch was meant, so they say what they need. */
static int check_combined(struct check *c, const json_object *s,
    const json_object *v, enum combine how)
{
	static const char *const names[] = {"allOf", "anyOf", "oneOf"};
	const json_object *list = NULL;
	size_t matched = 0, n;
	int rc = kw_get(c, s, names[how], &list);

	if (rc <= 0)
		return rc;
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		rc = check_schema(c, json_object_array_get_idx(list, i), v);
		if (rc < 0 || (rc > 0 && how == ALL_OF))
			return rc;
		if (rc == 0 && how == ANY_OF)
			return 0;
		matched += (rc == 0);
	}
	if (how == ALL_OF || (how == ONE_OF && matched == 1))
		return 0;
	if (how == ANY_OF)
		return mismatch(c, "must match one of the allowed schemas");
	return mismatch(c, "must match exactly one schema (matched %zu)",
	    matched);
}

static int check_logic(struct check *c, const json_object *s,
    const json_object *v)
{
	const json_object *not = NULL;
	int rc = check_combined(c, s, v, ALL_OF);

	if (rc == 0)
		rc = check_combined(c, s, v, ANY_OF);
	if (rc == 0)
		rc = check_combined(c, s, v, ONE_OF);
	if (rc != 0)
		return rc;
	rc = kw_get(c, s, "not", &not );
	if (rc <= 0)
		return rc;
	rc = check_schema(c, not, v);
	if (rc < 0)
		return rc;
	return rc == 0 ? mismatch(c, "must not match the excluded schema") : 0;
}

typedef int check_fn(struct check *, const json_object *, const json_object *);

/* In the order a failure is reported. */
static check_fn *const checks[] = {check_ref, check_type, check_enum,
    check_const, check_number, check_string, check_array, check_object,
    check_logic};

static int check_schema(struct check *c, const json_object *schema,
    const json_object *value)
{
	int rc = 0;

	if (json_object_is_type(schema, json_type_boolean))
		return json_object_get_boolean(schema)
		    ? 0
		    : mismatch(c, "value not allowed");
	if (!json_object_is_type(schema, json_type_object))
		return bad_schema(c, "a schema must be an object or a boolean");
	if (c->depth >= SCHEMA_DEPTH_MAX)
		return bad_schema(c, "nesting deeper than %d (a $ref loop?)",
		    SCHEMA_DEPTH_MAX);
	if (++c->work > SCHEMA_WORK_MAX)
		return bad_schema(c, "too much work for one value");
	c->depth++;
	for (size_t i = 0; rc == 0 && i < sizeof(checks) / sizeof(checks[0]);
	     i++)
		rc = checks[i](c, schema, value);
	c->depth--;
	return rc;
}

int jsonschema_check(const json_object *schema, const json_object *value,
    const char *root, char *err, size_t errlen)
{
	char store[JSONSCHEMA_ERR_MAX];
	struct check c;
	int rc;

	check_start(&c, schema, store, sizeof(store), root != NULL ? root : "",
	    err, errlen);
	rc = check_schema(&c, schema, value);
	if (rc == 0 && err != NULL && errlen > 0)
		err[0] = '\0'; /* a failed branch of anyOf may have written */
	return rc;
}

/* ------------------------------------------------------------ validity */

static int valid_schema(struct check *c, const json_object *s);

static int valid_fail(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int valid_fail(struct check *c, const char *fmt, ...)
{
	char store[JSONSCHEMA_ERR_MAX];
	struct buf why;
	va_list ap;

	buf_init_fixed(&why, store, sizeof(store));
	va_start(ap, fmt);
	buf_vprintf(&why, fmt, ap);
	va_end(ap);
	message_set(c->err, c->errlen, buf_str(&c->path), ": ", buf_str(&why));
	return -1;
}

static size_t valid_push(struct check *c, const char *key)
{
	size_t saved = c->path.len;

	buf_putc(&c->path, '/');
	for (; *key != '\0'; key++)
		if (*key == '~')
			buf_puts(&c->path, "~0");
		else if (*key == '/')
			buf_puts(&c->path, "~1");
		else
			buf_putc(&c->path, *key);
	return saved;
}

static int valid_each(struct check *c, const json_object *v, bool map)
{
	size_t saved;
	int rc = 0;

	if (map) {
		struct lh_table *t = json_object_get_object(v);

		for (struct lh_entry *e = t ? lh_table_head(t) : NULL;
		     e != NULL && rc == 0; e = lh_entry_next(e)) {
			saved = valid_push(c, lh_entry_k(e));
			rc = valid_schema(c, lh_entry_v(e));
			buf_truncate(&c->path, saved);
		}
		return rc;
	}
	for (size_t i = 0; i < json_object_array_length(v) && rc == 0; i++) {
		saved = c->path.len;
		buf_printf(&c->path, "/%zu", i);
		rc = valid_schema(c, json_object_array_get_idx(v, i));
		buf_truncate(&c->path, saved);
	}
	return rc;
}

static int valid_keyword(struct check *c, const struct keyword *k,
    const json_object *v)
{
	char detail[128];
	const char *why = kw_shape(k->kind, v);
	regex_t re;

	if (why != NULL && k->kind == KW_TYPE && type_unknown(v) != NULL)
		return valid_fail(c, "unknown type \"%s\"", type_unknown(v));
	if (why != NULL)
		return valid_fail(c, "%s", why);
	switch (k->kind) {
	case KW_SCHEMA: return valid_schema(c, v);
	case KW_SCHEMA_MAP: return valid_each(c, v, true);
	case KW_SCHEMA_LIST: return valid_each(c, v, false);
	case KW_PATTERN:
		why = pattern_compile(&re, str(v), detail, sizeof(detail));
		if (why != NULL)
			return valid_fail(c, "bad pattern: %s", why);
		regfree(&re);
		return 0;
	case KW_REF:
		if (ref_resolve(c->root, str(v)) != NULL)
			return 0;
		return valid_fail(c, "\"%s\" does not resolve", str(v));
	default: return 0;
	}
}

static int valid_schema(struct check *c, const json_object *s)
{
	struct lh_table *t;
	int rc = 0;

	if (json_object_is_type(s, json_type_boolean))
		return 0;
	if (!json_object_is_type(s, json_type_object))
		return valid_fail(c, "a schema must be an object or a boolean");
	if (c->depth >= SCHEMA_DEPTH_MAX)
		return valid_fail(c, "schema nested deeper than 64");
	c->depth++;
	t = json_object_get_object(s);
	for (struct lh_entry *e = t ? lh_table_head(t) : NULL;
	     e != NULL && rc == 0; e = lh_entry_next(e)) {
		const struct keyword *k = keyword_find(lh_entry_k(e));
		size_t saved;

		if (k == NULL)
			continue; /* annotation or unknown keyword */
		saved = valid_push(c, k->name);
		rc = valid_keyword(c, k, lh_entry_v(e));
		buf_truncate(&c->path, saved);
	}
	c->depth--;
	return rc;
}

int jsonschema_valid(const json_object *schema, char *err, size_t errlen)
{
	char store[JSONSCHEMA_ERR_MAX];
	struct check c;
	int rc;

	check_start(&c, schema, store, sizeof(store), "#", err, errlen);
	rc = valid_schema(&c, schema);
	if (rc == 0 && err != NULL && errlen > 0)
		err[0] = '\0';
	return rc;
}
