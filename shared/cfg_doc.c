/*
 * cfg_doc.c - write pacerd.conf(5)'s key list and conf/pacerd.conf from the
 * key table; see cfg_doc.h. Output is deterministic, so the committed
 * files can be compared byte for byte with a fresh rendering.
 */
#include "cfg_doc.h"

#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cfg_keys.h"

static const char *const type_names[] = {
    [CFG_BOOL] = "boolean",
    [CFG_INT] = "integer",
    [CFG_DURATION] = "duration",
    [CFG_SIZE] = "size",
    [CFG_STRING] = "string",
    [CFG_ENUM] = "enum",
};

/* Text for a man page line: backslashes escaped, a leading '.' or '\''
 * neutralised, double quotes (inside macro arguments) escaped. */
static void man_text(struct buf *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		(void)buf_puts(out, "\\&");
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			(void)buf_puts(out, "\\e");
		else if (*s == '"')
			(void)buf_puts(out, "\\(dq");
		else if (*s == '-')
			(void)buf_puts(out, "\\-");
		else
			(void)buf_putc(out, *s);
	}
}

/* "integer, 1 to 4096" / "duration, 1s to 1h" / "one of: a, b" */
static void describe_type(struct buf *out, const struct cfg_key *k)
{
	char lo[64], hi[64];
	struct cfg *tmp;
	size_t i;

	if (k->type == CFG_ENUM) {
		(void)buf_puts(out, "one of ");
		for (i = 0; k->choices[i].name != NULL; i++)
			(void)buf_printf(out, "%s%s", i ? ", " : "",
			    k->choices[i].name);
		return;
	}
	(void)buf_puts(out, type_names[k->type]);
	if (k->type != CFG_INT && k->type != CFG_DURATION &&
	    k->type != CFG_SIZE)
		return;
	/* Render the bounds through the value printer, so units match -T. */
	if ((tmp = cfg_new()) == NULL)
		return;
	{
		int64_t *f = (int64_t *)(void *)((char *)tmp + k->offset);
		struct buf lb, hb;

		buf_init_fixed(&lb, lo, sizeof(lo));
		buf_init_fixed(&hb, hi, sizeof(hi));
		*f = k->min;
		(void)cfg_value_string(tmp, (size_t)(k - cfg_keys_table), &lb);
		*f = k->max;
		(void)cfg_value_string(tmp, (size_t)(k - cfg_keys_table), &hb);
		(void)buf_printf(out, ", %s to %s", buf_str(&lb), buf_str(&hb));
	}
	cfg_free(&tmp);
}

int cfg_doc_man(struct buf *out)
{
	char tstore[256];
	struct buf t;
	const char *group = NULL;
	size_t i;

	(void)buf_puts(out, ".SH KEYS\n");
	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];

		if (group == NULL || strcmp(group, k->group) != 0) {
			group = k->group;
			(void)buf_printf(out, ".SS %s\n", group);
		}
		buf_init_fixed(&t, tstore, sizeof(tstore));
		describe_type(&t, k);
		(void)buf_printf(out, ".TP\n.B %s\n(", k->name);
		man_text(out, buf_str(&t));
		(void)buf_puts(out, "; default ");
		if (k->def[0] == '\0') {
			(void)buf_puts(out, "empty)\n");
		} else {
			(void)buf_puts(out, "\\(oq");
			man_text(out, k->def);
			(void)buf_puts(out, "\\(cq)\n");
		}
		man_text(out, k->doc);
		(void)buf_putc(out, '\n');
		if (k->env != NULL)
			(void)buf_printf(out,
			    "The environment variable\n.B %s\n"
			    "overrides it.\n",
			    k->env);
		if (k->flags & CFG_SECRET)
			(void)buf_puts(out,
			    "A secret: masked by\n.BR \"pacerd \\-T\" "
			    "and never logged.\n");
		if (k->flags & CFG_RESTART)
			(void)buf_puts(out, "Changing it takes a restart.\n");
	}
	(void)buf_puts(out,
	    ".SH ENVIRONMENT\n"
	    "These variables override the keys they name; an empty variable "
	    "counts as unset.\n");
	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];

		if (k->env != NULL)
			(void)buf_printf(out, ".TP\n.B %s\n.BR %s .\n", k->env,
			    k->name);
	}
	return out->overflow ? -1 : 0;
}

/* Append text as "# "-prefixed comment lines of at most 78 columns. */
static void conf_comment(struct buf *out, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		size_t n = strlen(p), cut = n;

		if (n > 76) {
			cut = 76;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = 76;
		}
		(void)buf_puts(out, "# ");
		(void)buf_append(out, p, cut);
		(void)buf_putc(out, '\n');
		p += cut;
		while (*p == ' ')
			p++;
	}
}

int cfg_doc_conf(struct buf *out)
{
	char tstore[1024];
	struct buf t;
	const char *group = NULL;
	size_t i;

	(void)buf_puts(out,
	    "# pacerd.conf - configuration of pacerd(8); pacerd.conf(5) "
	    "explains "
	    "each key.\n"
	    "#\n"
	    "# Every key is listed at its default, commented out: uncomment a "
	    "line to\n"
	    "# change it. Format: key = value; '#' starts a comment; quote "
	    "values "
	    "that\n"
	    "# hold spaces or '#'. Durations take a unit (ms, s, min, h, d), "
	    "sizes\n"
	    "# one of B, kB, MB, GB, TB. Another file is read with: include "
	    "'file.conf'\n"
	    "#\n"
	    "# Secrets and URLs may come from the environment instead, which "
	    "wins over\n"
	    "# this file, so the file can stay world-readable.\n"
	    "#\n"
	    "# Check a file with: pacerd -t -f FILE; see what is in effect "
	    "with: "
	    "pacerd -T\n"
	    "#\n"
	    "# This file is generated from the key table (make "
	    "update-docs).\n");
	for (i = 0; i < cfg_keys_count; i++) {
		const struct cfg_key *k = &cfg_keys_table[i];

		if (group == NULL || strcmp(group, k->group) != 0) {
			group = k->group;
			(void)buf_printf(out,
			    "\n#---------------------------------------"
			    "---------------------------------------\n# %s\n"
			    "#---------------------------------------"
			    "---------------------------------------\n",
			    group);
		}
		buf_init_fixed(&t, tstore, sizeof(tstore));
		(void)buf_printf(&t, "%s (", k->doc);
		describe_type(&t, k);
		if (k->env != NULL)
			(void)buf_printf(&t, "; environment: %s", k->env);
		if (k->flags & CFG_RESTART)
			(void)buf_puts(&t, "; needs a restart");
		(void)buf_putc(&t, ')');
		(void)buf_putc(out, '\n');
		conf_comment(out, buf_str(&t));
		if (k->type == CFG_STRING)
			(void)buf_printf(out, "#%s = '%s'\n", k->name, k->def);
		else
			(void)buf_printf(out, "#%s = %s\n", k->name, k->def);
	}
	return out->overflow ? -1 : 0;
}

int cfg_doc_splice(const char *text, size_t len, const char *begin,
    const char *end, const char *generated, struct buf *out, char *err,
    size_t errlen)
{
	const char *b, *e;

	b = memmem(text, len, begin, strlen(begin));
	if (b == NULL) {
		(void)snprintf(err, errlen, "marker \"%.*s\" not found",
		    (int)strcspn(begin, "\n"), begin);
		return -1;
	}
	b += strlen(begin);
	e = memmem(b, len - (size_t)(b - text), end, strlen(end));
	if (e == NULL) {
		(void)snprintf(err, errlen, "marker \"%.*s\" not found",
		    (int)strcspn(end, "\n"), end);
		return -1;
	}
	(void)buf_append(out, text, (size_t)(b - text));
	(void)buf_puts(out, generated);
	(void)buf_append(out, e, len - (size_t)(e - text));
	if (out->overflow) {
		(void)snprintf(err, errlen, "output too large");
		return -1;
	}
	return 0;
}
