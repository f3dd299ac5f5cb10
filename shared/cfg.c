/*
 * cfg.c - load, validate and print pacerd.conf; see cfg.h for the format.
 *
 * Runs in the master before fork (and on SIGHUP, on a fresh struct cfg so
 * a bad reload leaves the running one untouched), in pacerctl and in tests.
 * Values are parsed by the type in the key table; defaults are parsed the
 * same way, so a default is always a value a user could have written.
 * The loader never stops at the first mistake: it records each with its
 * file:line and goes on, so `pacerd -t` shows everything to fix at once.
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cfg_keys.h"
#include "log.h"

#define CFG_MAX_VALUE 8192
#define CFG_ERR_MAX 512

struct loader {
	struct cfg *cfg;
	struct cfg_errs *errs;
	unsigned flags;
	struct {
		dev_t dev;
		ino_t ino;
		const char *name;
	} stack[CFG_MAX_INCLUDE_DEPTH];
	int depth;
};

/* ------------------------------------------------------------------ errors */

static void errs_addv(struct cfg_errs *errs, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void errs_addv(struct cfg_errs *errs, const char *fmt, va_list ap)
{
	char store[CFG_ERR_MAX];
	struct buf b;
	char **nmsg, *copy;

	if (errs->n >= CFG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_vprintf(&b, fmt, ap);
	copy = strdup(buf_str(&b));
	nmsg = realloc(errs->msg, (errs->n + 1) * sizeof(*nmsg));
	if (copy == NULL || nmsg == NULL) {
		free(copy);
		if (nmsg != NULL)
			errs->msg = nmsg;
		errs->dropped++;
		return;
	}
	errs->msg = nmsg;
	errs->msg[errs->n++] = copy;
}

static void errs_add(struct cfg_errs *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void errs_add(struct cfg_errs *errs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_addv(errs, fmt, ap);
	va_end(ap);
}

size_t cfg_errs_write(const struct cfg_errs *errs, const char *path, FILE *fp)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		(void)fprintf(fp, "%s\n", errs->msg[i]);
	if (errs->dropped > 0)
		(void)fprintf(fp, "%s: %zu more errors not shown\n", path,
		    errs->dropped);
	return errs->n + errs->dropped;
}

void cfg_errs_free(struct cfg_errs *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = 0;
	errs->dropped = 0;
}

/* Quote s for a message: at most 60 bytes, control characters escaped. */
static const char *show(const char *s, char *store, size_t n)
{
	struct buf b;
	size_t i;

	buf_init_fixed(&b, store, n);
	for (i = 0; i < 60 && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			(void)buf_printf(&b, "\\x%02x", c);
		else
			(void)buf_putc(&b, (char)c);
	}
	if (s[i] != '\0')
		(void)buf_puts(&b, "...");
	return buf_str(&b);
}

/* ------------------------------------------------------------------ values */

static char **str_field(struct cfg *cfg, const struct cfg_key *k)
{
	return (char **)(void *)((char *)cfg + k->offset);
}

static int64_t *int_field(struct cfg *cfg, const struct cfg_key *k)
{
	return (int64_t *)(void *)((char *)cfg + k->offset);
}

static int *enum_field(struct cfg *cfg, const struct cfg_key *k)
{
	return (int *)(void *)((char *)cfg + k->offset);
}

static bool *bool_field(struct cfg *cfg, const struct cfg_key *k)
{
	return (bool *)(void *)((char *)cfg + k->offset);
}

/* Parse an optionally signed decimal integer at the start of s; *end is
 * set past it. Returns 0, or -1 on no digits or overflow. */
static int parse_number(const char *s, int64_t *out, const char **end)
{
	long long v;
	char *e;

	if (!isdigit((unsigned char)s[0]) &&
	    !((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1])))
		return -1;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno == ERANGE)
		return -1;
	*out = v;
	*end = e;
	return 0;
}

struct unit {
	const char *name;
	int64_t mult;
};

static const struct unit duration_units[] = {
    {"ms", 1},
    {"s", 1000},
    {"min", 60000},
    {"h", 3600000},
    {"d", 86400000},
    {NULL, 0},
};

static const struct unit size_units[] = {
    {"B", 1},
    {"kB", 1024},
    {"MB", 1024LL * 1024},
    {"GB", 1024LL * 1024 * 1024},
    {"TB", 1024LL * 1024 * 1024 * 1024},
    {NULL, 0},
};

/* "<number>[ ]<unit>" with unit from units. bare_ok: a number alone is in
 * units[0]. Returns 0 or -1. */
static int parse_with_unit(const char *s, const struct unit *units,
    bool bare_ok, int64_t *out)
{
	const char *end;
	int64_t v;
	size_t i;

	if (parse_number(s, &v, &end) != 0)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end == '\0') {
		if (!bare_ok && v != 0)
			return -1;
		*out = v;
		return 0;
	}
	for (i = 0; units[i].name != NULL; i++) {
		if (strcmp(end, units[i].name) == 0) {
			if (v > INT64_MAX / units[i].mult ||
			    v < -(INT64_MAX / units[i].mult))
				return -1;
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* Render v (ms or bytes) with the largest unit that divides it. */
static void put_with_unit(struct buf *out, int64_t v, const struct unit *units)
{
	size_t i, best = 0;

	if (v == 0) {
		(void)buf_putc(out, '0');
		return;
	}
	for (i = 0; units[i].name != NULL; i++)
		if (v % units[i].mult == 0)
			best = i;
	(void)buf_printf(out, "%lld%s", (long long)(v / units[best].mult),
	    units[best].name);
}

static void put_bound(struct buf *out, const struct cfg_key *k, int64_t v)
{
	if (k->type == CFG_DURATION)
		put_with_unit(out, v, duration_units);
	else if (k->type == CFG_SIZE)
		put_with_unit(out, v, size_units);
	else
		(void)buf_printf(out, "%lld", (long long)v);
}

static void put_choices(struct buf *out, const struct cfg_key *k)
{
	size_t i;

	for (i = 0; k->choices[i].name != NULL; i++)
		(void)buf_printf(out, "%s%s", i ? ", " : "",
		    k->choices[i].name);
}

/* Parse value for key k and store it. On error, err holds the reason
 * (without place or key name) and the old value is kept. */
static int set_value(struct cfg *cfg, const struct cfg_key *k,
    const char *value, char *err, size_t errlen)
{
	char shown[128], range[128];
	struct buf eb, rb;
	int64_t v = 0;
	size_t i;
	bool bv;
	char *copy;

	buf_init_fixed(&eb, err, errlen);
	buf_init_fixed(&rb, range, sizeof(range));
	switch (k->type) {
	case CFG_BOOL:
		if (parse_bool(value, &bv) != 0) {
			(void)buf_printf(&eb,
			    "\"%s\" is not a boolean (use on/off, "
			    "true/false, yes/no or 1/0)",
			    show(value, shown, sizeof(shown)));
			return -1;
		}
		*bool_field(cfg, k) = bv;
		return 0;
	case CFG_INT:
	case CFG_DURATION:
	case CFG_SIZE: {
		const char *end = NULL;
		int rc;

		if (k->type == CFG_INT) {
			rc = parse_number(value, &v, &end);
			if (rc == 0 && *end != '\0')
				rc = -1;
		} else if (k->type == CFG_DURATION) {
			rc = parse_with_unit(value, duration_units, false, &v);
		} else {
			rc = parse_with_unit(value, size_units, true, &v);
		}
		if (rc != 0) {
			(void)buf_printf(&eb, "\"%s\" is not %s",
			    show(value, shown, sizeof(shown)),
			    k->type == CFG_INT ? "an integer"
			        : k->type == CFG_DURATION
			        ? "a duration (a whole number and a unit: ms, "
			          "s, min, h, d)"
			        : "a size (a whole number and a unit: B, kB, "
			          "MB, GB, TB)");
			return -1;
		}
		if (v < k->min || v > k->max) {
			put_bound(&rb, k, k->min);
			(void)buf_puts(&rb, " to ");
			put_bound(&rb, k, k->max);
			(void)buf_printf(&eb, "%s is out of range (%s)",
			    show(value, shown, sizeof(shown)), buf_str(&rb));
			return -1;
		}
		*int_field(cfg, k) = v;
		return 0;
	}
	case CFG_ENUM:
		for (i = 0; k->choices[i].name != NULL; i++) {
			if (strcmp(value, k->choices[i].name) == 0) {
				*enum_field(cfg, k) = k->choices[i].value;
				return 0;
			}
		}
		put_choices(&rb, k);
		(void)buf_printf(&eb, "\"%s\" is not one of: %s",
		    show(value, shown, sizeof(shown)), buf_str(&rb));
		return -1;
	case CFG_STRING:
		if (strlen(value) > CFG_MAX_VALUE) {
			(void)buf_printf(&eb, "value is longer than %d bytes",
			    CFG_MAX_VALUE);
			return -1;
		}
		if (value[0] == '\0' && !(k->flags & CFG_EMPTY_OK)) {
			(void)buf_puts(&eb, "must not be empty");
			return -1;
		}
		if ((k->flags & CFG_ABSPATH) && value[0] != '\0' &&
		    value[0] != '/') {
			(void)buf_printf(&eb, "\"%s\" is not an absolute path",
			    show(value, shown, sizeof(shown)));
			return -1;
		}
		if (k->check != NULL && k->check(value, err, errlen) != 0)
			return -1;
		if ((copy = strdup(value)) == NULL) {
			(void)buf_puts(&eb, "out of memory");
			return -1;
		}
		free(*str_field(cfg, k));
		*str_field(cfg, k) = copy;
		return 0;
	}
	(void)buf_puts(&eb, "unknown key type");
	return -1;
}

int cfg_value_string(const struct cfg *cfg, size_t i, struct buf *out)
{
	const struct cfg_key *k = &cfg_keys_table[i];
	struct cfg *c = (struct cfg *)(uintptr_t)cfg; /* read-only use */
	size_t j;

	switch (k->type) {
	case CFG_BOOL:
		(void)buf_puts(out, *bool_field(c, k) ? "on" : "off");
		break;
	case CFG_INT:
		(void)buf_printf(out, "%lld", (long long)*int_field(c, k));
		break;
	case CFG_DURATION:
		put_with_unit(out, *int_field(c, k), duration_units);
		break;
	case CFG_SIZE: put_with_unit(out, *int_field(c, k), size_units); break;
	case CFG_ENUM:
		for (j = 0; k->choices[j].name != NULL; j++) {
			if (k->choices[j].value == *enum_field(c, k)) {
				(void)buf_puts(out, k->choices[j].name);
				break;
			}
		}
		break;
	case CFG_STRING: (void)buf_puts(out, *str_field(c, k)); break;
	}
	return out->overflow ? -1 : 0;
}

/* ------------------------------------------------------------------ life */

struct cfg *cfg_new(void)
{
	char err[CFG_ERR_MAX];
	struct cfg *cfg;
	size_t i;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return NULL;
	if ((cfg->origin = calloc(cfg_keys_count, sizeof(*cfg->origin))) ==
	    NULL)
		goto fail;
	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];

		/* A string's default may be "" even when a user may not set it
		 * empty: store it directly. */
		if (k->type == CFG_STRING && k->def[0] == '\0') {
			if ((*str_field(cfg, k) = strdup("")) == NULL)
				goto fail;
			continue;
		}
		if (set_value(cfg, k, k->def, err, sizeof(err)) != 0)
			goto fail; /* a broken table: the test suite catches it */
	}
	return cfg;
fail:
	cfg_free(&cfg);
	return NULL;
}

void cfg_free(struct cfg **cfgp)
{
	struct cfg *cfg;
	size_t i;

	if (cfgp == NULL || (cfg = *cfgp) == NULL)
		return;
	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];

		if (k->type == CFG_STRING) {
			char **p = str_field(cfg, k);

			/* Wipe secrets before the memory goes back to malloc. */
			if (*p != NULL && (k->flags & CFG_SECRET))
				explicit_bzero(*p, strlen(*p));
			free(*p);
		}
	}
	for (i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->origin);
	free(cfg);
	*cfgp = NULL;
}

/* ------------------------------------------------------------------ parser */

static const char *intern_file(struct cfg *cfg, const char *name)
{
	char **nf, *copy;

	if ((copy = strdup(name)) == NULL)
		return NULL;
	if ((nf = realloc(cfg->files, (cfg->nfiles + 1) * sizeof(*nf))) ==
	    NULL) {
		free(copy);
		return NULL;
	}
	cfg->files = nf;
	cfg->files[cfg->nfiles++] = copy;
	return copy;
}

static int parse_text(struct loader *ld, const char *file, const char *data,
    size_t len);

/* Read a whole regular file of at most CFG_MAX_FILE_SIZE bytes. */
static char *read_file(const char *path, size_t *lenp, struct stat *st,
    char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	int fd;

	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd == -1 && errno == EINTR);
	if (fd == -1) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, st) == -1) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		(void)snprintf(err, errlen, "not a regular file");
		goto fail;
	}
	if (st->st_size > CFG_MAX_FILE_SIZE) {
		(void)snprintf(err, errlen, "larger than %ld bytes",
		    CFG_MAX_FILE_SIZE);
		goto fail;
	}
	if ((data = malloc((size_t)st->st_size + 1)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (len < (size_t)st->st_size) {
		ssize_t r = read(fd, data + len, (size_t)st->st_size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			(void)snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	data[len] = '\0';
	(void)close(fd);
	*lenp = len;
	return data;
fail:
	free(data);
	(void)close(fd);
	return NULL;
}

/* Resolve an include target relative to the including file's folder. */
static int include_path(const char *from, const char *target, struct buf *out)
{
	const char *slash;

	if (target[0] == '/' || (slash = strrchr(from, '/')) == NULL)
		return buf_puts(out, target);
	(void)buf_append(out, from, (size_t)(slash - from + 1));
	return buf_puts(out, target);
}

static void do_include(struct loader *ld, const char *file, int line,
    const char *target, bool must_exist)
{
	char pstore[PATH_MAX], err[256], chain[CFG_ERR_MAX], shown[128];
	struct buf path, ch;
	struct stat st;
	const char *name;
	char *data;
	size_t len;
	int i;

	buf_init_fixed(&path, pstore, sizeof(pstore));
	if (ld->flags & CFG_NO_INCLUDE) {
		errs_add(ld->errs,
		    "%s:%d: include \"%s\": includes are not allowed here",
		    file, line, show(target, shown, sizeof(shown)));
		return;
	}
	if (target[0] == '\0' || include_path(file, target, &path) != 0) {
		errs_add(ld->errs, "%s:%d: include \"%s\": bad file name", file,
		    line, show(target, shown, sizeof(shown)));
		return;
	}
	if (ld->depth >= CFG_MAX_INCLUDE_DEPTH) {
		errs_add(ld->errs,
		    "%s:%d: include \"%s\": includes nested deeper than %d",
		    file, line, show(target, shown, sizeof(shown)),
		    CFG_MAX_INCLUDE_DEPTH);
		return;
	}
	data = read_file(buf_str(&path), &len, &st, err, sizeof(err));
	if (data == NULL) {
		if (!must_exist && errno == ENOENT)
			return;
		errs_add(ld->errs, "%s:%d: include \"%s\": %s", file, line,
		    show(target, shown, sizeof(shown)), err);
		return;
	}
	for (i = 0; i < ld->depth; i++) {
		if (ld->stack[i].dev == st.st_dev &&
		    ld->stack[i].ino == st.st_ino) {
			buf_init_fixed(&ch, chain, sizeof(chain));
			for (; i < ld->depth; i++)
				(void)buf_printf(&ch, "%s -> ",
				    ld->stack[i].name);
			(void)buf_puts(&ch, buf_str(&path));
			errs_add(ld->errs,
			    "%s:%d: include \"%s\": include loop (%s)", file,
			    line, show(target, shown, sizeof(shown)),
			    buf_str(&ch));
			free(data);
			return;
		}
	}
	if ((name = intern_file(ld->cfg, buf_str(&path))) == NULL) {
		errs_add(ld->errs, "%s:%d: include \"%s\": out of memory", file,
		    line, show(target, shown, sizeof(shown)));
		free(data);
		return;
	}
	ld->stack[ld->depth].dev = st.st_dev;
	ld->stack[ld->depth].ino = st.st_ino;
	ld->stack[ld->depth].name = name;
	ld->depth++;
	(void)parse_text(ld, name, data, len);
	ld->depth--;
	free(data);
}

/* Read a quoted value starting at *pp (on the quote) into out. */
static int parse_quoted(const char **pp, const char *end, struct buf *out)
{
	const char *p = *pp;
	char q = *p++;

	while (p < end) {
		char c = *p++;

		if (c == q) {
			if (q == '\'' && p < end &&
			    *p == '\'') { /* '' is a quote */
				(void)buf_putc(out, '\'');
				p++;
				continue;
			}
			*pp = p;
			return 0;
		}
		if (c == '\\' && p < end) {
			c = *p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			default:
				break; /* \\, \', \" and any other: the character */
			}
		}
		(void)buf_putc(out, c);
	}
	return -1; /* no closing quote on this line */
}

static bool is_key_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

static void parse_line(struct loader *ld, const char *file, int lineno,
    const char *p, const char *end)
{
	char kstore[80], vstore[CFG_MAX_VALUE + 2], err[CFG_ERR_MAX],
	    shown[128];
	struct buf key, val;
	const struct cfg_key *k;
	const char *suggest;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == '#')
		return;
	buf_init_fixed(&key, kstore, sizeof(kstore));
	buf_init_fixed(&val, vstore, sizeof(vstore));
	if (!is_key_start(*p)) {
		buf_init_fixed(&val, vstore, 32);
		(void)buf_append(&val, p, (size_t)(end - p));
		errs_add(ld->errs,
		    "%s:%d: syntax error: expected a key name at \"%s\"", file,
		    lineno, show(buf_str(&val), shown, sizeof(shown)));
		return;
	}
	while (p < end && is_key_char(*p))
		(void)buf_putc(&key, *p++);
	if (key.overflow) {
		errs_add(ld->errs, "%s:%d: key name too long", file, lineno);
		return;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '=')
		p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;

	if (p < end && (*p == '\'' || *p == '"')) {
		if (parse_quoted(&p, end, &val) != 0) {
			errs_add(ld->errs,
			    "%s:%d: %s: unterminated quoted string", file,
			    lineno, buf_str(&key));
			return;
		}
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p != '#') {
			buf_reset(&val);
			(void)buf_append(&val, p, (size_t)(end - p));
			errs_add(ld->errs,
			    "%s:%d: %s: unexpected text after the quoted "
			    "value: \"%s\"",
			    file, lineno, buf_str(&key),
			    show(buf_str(&val), shown, sizeof(shown)));
			return;
		}
	} else {
		const char *v = p, *vend;

		while (p < end && *p != '#')
			p++;
		vend = p;
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		if (vend == v) {
			errs_add(ld->errs,
			    "%s:%d: %s: missing value (write '' for an "
			    "empty one)",
			    file, lineno, buf_str(&key));
			return;
		}
		(void)buf_append(&val, v, (size_t)(vend - v));
	}
	if (val.overflow) {
		errs_add(ld->errs, "%s:%d: %s: value is longer than %d bytes",
		    file, lineno, buf_str(&key), CFG_MAX_VALUE);
		return;
	}
	if (val.len != strlen(buf_str(&val))) {
		errs_add(ld->errs, "%s:%d: %s: value holds a NUL byte", file,
		    lineno, buf_str(&key));
		return;
	}

	if (strcmp(buf_str(&key), "include") == 0 ||
	    strcmp(buf_str(&key), "include_if_exists") == 0) {
		do_include(ld, file, lineno, buf_str(&val),
		    strcmp(buf_str(&key), "include") == 0);
		return;
	}
	if ((k = cfg_keys_find(buf_str(&key))) == NULL) {
		if ((suggest = cfg_keys_suggest(buf_str(&key))) != NULL)
			errs_add(ld->errs,
			    "%s:%d: unknown key \"%s\" (did you mean "
			    "\"%s\"?)",
			    file, lineno, buf_str(&key), suggest);
		else
			errs_add(ld->errs, "%s:%d: unknown key \"%s\"", file,
			    lineno, buf_str(&key));
		return;
	}
	if (set_value(ld->cfg, k, buf_str(&val), err, sizeof(err)) != 0) {
		errs_add(ld->errs, "%s:%d: %s: %s", file, lineno, k->name, err);
		return;
	}
	ld->cfg->origin[k - cfg_keys_table].source = CFG_SRC_FILE;
	ld->cfg->origin[k - cfg_keys_table].file = file;
	ld->cfg->origin[k - cfg_keys_table].line = lineno;
}

static int parse_text(struct loader *ld, const char *file, const char *data,
    size_t len)
{
	const char *p = data, *end = data + len;
	int lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = (nl != NULL) ? nl : end;

		lineno++;
		if (eol > p && eol[-1] == '\r')
			parse_line(ld, file, lineno, p, eol - 1);
		else
			parse_line(ld, file, lineno, p, eol);
		p = (nl != NULL) ? nl + 1 : end;
	}
	return 0;
}

/* ------------------------------------------------------------------ checks */

static void apply_env(struct loader *ld)
{
	char err[CFG_ERR_MAX];
	size_t i;

	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];
		const char *v;

		/* An empty variable counts as unset, as container tools often
		 * pass every name whether it has a value or not. */
		if (k->env == NULL || (v = getenv(k->env)) == NULL ||
		    v[0] == '\0')
			continue;
		if (set_value(ld->cfg, k, v, err, sizeof(err)) != 0) {
			errs_add(ld->errs, "environment variable %s: %s: %s",
			    k->env, k->name, err);
			continue;
		}
		ld->cfg->origin[i].source = CFG_SRC_ENV;
		ld->cfg->origin[i].file = NULL;
		ld->cfg->origin[i].line = 0;
	}
}

/* "file:line: " of where key name was set, or "" for a default. */
static const char *where(const struct cfg *cfg, const char *name, char *store,
    size_t n)
{
	const struct cfg_key *k = cfg_keys_find(name);
	const struct cfg_origin *o = &cfg->origin[k - cfg_keys_table];
	struct buf b;

	buf_init_fixed(&b, store, n);
	if (o->source == CFG_SRC_FILE)
		(void)buf_printf(&b, "%s:%d: ", o->file, o->line);
	else if (o->source == CFG_SRC_ENV)
		(void)buf_printf(&b, "environment variable %s: ", k->env);
	return buf_str(&b);
}

/* The place of whichever of a and b was set last in a file (or either). */
static const char *where2(const struct cfg *cfg, const char *a, const char *b,
    char *store, size_t n)
{
	const struct cfg_origin *oa =
	    &cfg->origin[cfg_keys_find(a) - cfg_keys_table];
	const struct cfg_origin *ob =
	    &cfg->origin[cfg_keys_find(b) - cfg_keys_table];

	if (ob->source != CFG_SRC_DEFAULT &&
	    (oa->source == CFG_SRC_DEFAULT ||
	        (oa->file == ob->file && ob->line > oa->line)))
		return where(cfg, b, store, n);
	return where(cfg, a, store, n);
}

/* cfg_listen_foreach callback: 1 at the first address that is not
 * loopback (an empty host means every address). */
static int not_loopback(const char *host, const char *port, void *arg)
{
	(void)port;
	(void)arg;
	if (strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	    strcmp(host, "localhost") == 0)
		return 0;
	return 1;
}

static void cross_check(struct loader *ld)
{
	const struct cfg *c = ld->cfg;
	char at[256];

	if (c->start_workers > c->max_workers)
		errs_add(ld->errs,
		    "%sstart_workers (%lld) must not exceed "
		    "max_workers (%lld)",
		    where2(c, "start_workers", "max_workers", at, sizeof(at)),
		    (long long)c->start_workers, (long long)c->max_workers);
	if (c->min_spare_workers >= c->max_spare_workers)
		errs_add(ld->errs,
		    "%smin_spare_workers (%lld) must be less than "
		    "max_spare_workers (%lld)",
		    where2(c, "min_spare_workers", "max_spare_workers", at,
		        sizeof(at)),
		    (long long)c->min_spare_workers,
		    (long long)c->max_spare_workers);
	if (c->max_spare_workers > c->max_workers)
		errs_add(ld->errs,
		    "%smax_spare_workers (%lld) must not exceed "
		    "max_workers (%lld)",
		    where2(c, "max_spare_workers", "max_workers", at,
		        sizeof(at)),
		    (long long)c->max_spare_workers, (long long)c->max_workers);
	if (c->log_destination == LOG_DEST_FILE && c->log_file[0] == '\0')
		errs_add(ld->errs,
		    "%slog_destination is file but log_file is empty",
		    where2(c, "log_destination", "log_file", at, sizeof(at)));
	if (c->group[0] != '\0' && c->user[0] == '\0')
		errs_add(ld->errs,
		    "%sgroup is set but user is not (workers change "
		    "both or neither)",
		    where(c, "group", at, sizeof(at)));
	if (c->debug_routes &&
	    cfg_listen_foreach(c->listen, not_loopback, NULL) != 0)
		errs_add(ld->errs,
		    "%sdebug_routes is on but listen (%s) has an address "
		    "that is not loopback; the debug routes can tie up "
		    "workers and are for tests only",
		    where2(c, "debug_routes", "listen", at, sizeof(at)),
		    c->listen);
	if (c->mcp_fixtures &&
	    cfg_listen_foreach(c->listen, not_loopback, NULL) != 0)
		errs_add(ld->errs,
		    "%smcp_fixtures is on but listen (%s) has an address "
		    "that is not loopback; the conformance fixtures let "
		    "anonymous clients in and are for tests only",
		    where2(c, "mcp_fixtures", "listen", at, sizeof(at)),
		    c->listen);
	if (cfg_listen_has_tls(c->listen) &&
	    (c->tls_cert_file[0] == '\0' || c->tls_key_file[0] == '\0'))
		errs_add(ld->errs,
		    "%slisten (%s) has a tls address but %s is not set; "
		    "a tls listener needs tls_cert_file and tls_key_file",
		    where(c, "listen", at, sizeof(at)), c->listen,
		    c->tls_cert_file[0] == '\0' ? "tls_cert_file"
		                                : "tls_key_file");
}

int cfg_load_buffer(struct cfg *cfg, const char *name, const char *data,
    size_t len, unsigned flags, struct cfg_errs *errs)
{
	struct loader ld;
	const char *file;

	memset(&ld, 0, sizeof(ld));
	ld.cfg = cfg;
	ld.errs = errs;
	ld.flags = flags;
	if ((file = intern_file(cfg, name)) == NULL) {
		errs_add(errs, "%s: out of memory", name);
		return -1;
	}
	(void)parse_text(&ld, file, data, len);
	if (!(flags & CFG_NO_ENV))
		apply_env(&ld);
	cross_check(&ld);
	return (errs->n > 0 || errs->dropped > 0) ? -1 : 0;
}

int cfg_load(struct cfg *cfg, const char *path, unsigned flags,
    struct cfg_errs *errs)
{
	char err[256];
	struct stat st;
	struct loader ld;
	const char *file;
	char *data;
	size_t len;

	memset(&ld, 0, sizeof(ld));
	ld.cfg = cfg;
	ld.errs = errs;
	ld.flags = flags;
	if ((data = read_file(path, &len, &st, err, sizeof(err))) == NULL) {
		errs_add(errs, "%s: %s", path, err);
		return -1;
	}
	if ((file = intern_file(cfg, path)) == NULL) {
		errs_add(errs, "%s: out of memory", path);
		free(data);
		return -1;
	}
	ld.stack[0].dev = st.st_dev;
	ld.stack[0].ino = st.st_ino;
	ld.stack[0].name = file;
	ld.depth = 1;
	(void)parse_text(&ld, file, data, len);
	free(data);
	if (!(flags & CFG_NO_ENV))
		apply_env(&ld);
	cross_check(&ld);
	return (errs->n > 0 || errs->dropped > 0) ? -1 : 0;
}

/* ------------------------------------------------------------------ dump */

/* Credentials in a URL are replaced by ********; a value that cannot be
 * parsed as a URL but might hold one is masked whole. */
static void put_masked(struct buf *out, const char *value)
{
	static const char mask[] = "********";
	CURLU *u = NULL;
	char *pw = NULL, *url = NULL;

	if (value[0] == '\0')
		return;
	/* A URL with neither userinfo nor query has no room for a credential
	 * and is shown as written (curl would normalise it, and
	 * postgresql:///db must stay what it is). */
	if (strstr(value, "://") != NULL && strchr(value, '@') == NULL &&
	    strchr(value, '?') == NULL) {
		(void)buf_puts(out, value);
		return;
	}
	if (strstr(value, "://") == NULL || (u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, value, CURLU_NON_SUPPORT_SCHEME) !=
	        CURLUE_OK) {
		(void)buf_puts(out, mask);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, mask, 0) != CURLUE_OK)
		goto fail;
	/* A query can carry password=...: mask it whole. */
	if (strchr(value, '?') != NULL &&
	    curl_url_set(u, CURLUPART_QUERY, mask, 0) != CURLUE_OK)
		goto fail;
	if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto fail;
	(void)buf_puts(out, url);
	goto out;
fail:
	(void)buf_puts(out, mask);
out:
	if (pw != NULL)
		explicit_bzero(pw, strlen(pw));
	curl_free(pw);
	curl_free(url);
	curl_url_cleanup(u);
}

static void put_quoted_value(struct buf *out, const char *v)
{
	(void)buf_putc(out, '\'');
	for (; *v != '\0'; v++) {
		if (*v == '\'' || *v == '\\')
			(void)buf_putc(out, '\\');
		(void)buf_putc(out, *v);
	}
	(void)buf_putc(out, '\'');
}

int cfg_dump(const struct cfg *cfg, struct buf *out)
{
	char vstore[CFG_MAX_VALUE + 64], mstore[CFG_MAX_VALUE + 64];
	struct buf val, masked;
	size_t i, start;

	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];
		const struct cfg_origin *o = &cfg->origin[i];

		buf_init_fixed(&val, vstore, sizeof(vstore));
		(void)cfg_value_string(cfg, i, &val);
		start = out->len;
		(void)buf_printf(out, "%s = ", k->name);
		if (k->type == CFG_STRING && (k->flags & CFG_SECRET)) {
			buf_init_fixed(&masked, mstore, sizeof(mstore));
			put_masked(&masked, buf_str(&val));
			put_quoted_value(out, buf_str(&masked));
		} else if (k->type == CFG_STRING) {
			put_quoted_value(out, buf_str(&val));
		} else {
			(void)buf_puts(out, buf_str(&val));
		}
		while (out->len - start < 48 && !out->overflow)
			(void)buf_putc(out, ' ');
		if (o->source == CFG_SRC_FILE)
			(void)buf_printf(out, " # %s:%d\n", o->file, o->line);
		else if (o->source == CFG_SRC_ENV)
			(void)buf_printf(out, " # environment %s\n", k->env);
		else
			(void)buf_puts(out, " # default\n");
	}
	return out->overflow ? -1 : 0;
}

/* ------------------------------------------------------------------ listen */

/* Whether the word at p (up to a separator) is the tls marker; *end gets
 * the first byte after it. */
static bool tls_marker(const char *p, const char **end)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "tls", 3) != 0 ||
	    (p[3] != '\0' && p[3] != ',' && p[3] != ' ' && p[3] != '\t'))
		return false;
	*end = p + 3;
	return true;
}

int cfg_listen_each(const char *listen,
    int (*fn)(const char *host, const char *port, bool tls, void *arg),
    void *arg)
{
	char item[300], host[300];
	const char *p = listen;
	bool tls;
	int rc;

	while (*p != '\0') {
		const char *start, *colon;
		size_t n;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		n = (size_t)(p - start);
		if (n >= sizeof(item))
			return -1;
		memcpy(item, start, n);
		item[n] = '\0';
		/* "0.0.0.0:8443 tls": the marker belongs to the address
		 * before it; a marker on its own is left to fn as a host
		 * without a port. */
		tls = strcmp(item, "tls") != 0 && tls_marker(p, &p);

		if (item[0] == '[') { /* [v6]:port */
			const char *close = strchr(item, ']');

			if (close == NULL || close[1] != ':')
				return -1;
			n = (size_t)(close - item - 1);
			memcpy(host, item + 1, n);
			host[n] = '\0';
			rc = fn(host, close + 2, tls, arg);
		} else if ((colon = strrchr(item, ':')) == NULL) {
			/* a bare port, or a host missing its port */
			if (strspn(item, "0123456789") == strlen(item))
				rc = fn("", item, tls, arg);
			else
				rc = fn(item, "", tls, arg);
		} else {
			n = (size_t)(colon - item);
			memcpy(host, item, n);
			host[n] = '\0';
			if (strcmp(host, "*") == 0)
				host[0] = '\0';
			else if (strchr(host, ':') != NULL)
				return -1; /* IPv6 without brackets */
			rc = fn(host, colon + 1, tls, arg);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

struct listen_plain {
	int (*fn)(const char *host, const char *port, void *arg);
	void *arg;
};

static int listen_plain(const char *host, const char *port, bool tls, void *arg)
{
	const struct listen_plain *lp = arg;

	(void)tls;
	return lp->fn(host, port, lp->arg);
}

int cfg_listen_foreach(const char *listen,
    int (*fn)(const char *host, const char *port, void *arg), void *arg)
{
	struct listen_plain lp = {fn, arg};

	return cfg_listen_each(listen, listen_plain, &lp);
}

/* cfg_listen_each callback: 1 at the first tls address. */
static int is_tls(const char *host, const char *port, bool tls, void *arg)
{
	(void)host;
	(void)port;
	(void)arg;
	return tls ? 1 : 0;
}

bool cfg_listen_has_tls(const char *listen)
{
	return cfg_listen_each(listen, is_tls, NULL) == 1;
}
