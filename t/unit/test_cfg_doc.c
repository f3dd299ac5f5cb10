/*
 * test_cfg_doc.c - the committed docs match the key table: pacerd.conf(5)
 * lists every key as cfg_doc renders it, and conf/pacerd.conf is exactly
 * the generated sample, which loads cleanly and, uncommented, yields every
 * default. When this fails after a table change, run `make update-docs`.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_doc.h"
#include "cfg_keys.h"
#include "testutil.h"

Test(cfg_doc, man_page_block_matches_the_key_table)
{
	char *path = tu_srcpath("man/pacerd.conf.5"), *text, err[256];
	struct buf gen, spliced;
	size_t len;

	text = tu_read(path, &len);
	cr_assert(not(eq(ptr, text, NULL)), "cannot read %s", path);
	buf_init_dynamic(&gen, 1 << 20);
	buf_init_dynamic(&spliced, 1 << 21);
	cr_assert(eq(int, cfg_doc_man(&gen), 0));
	cr_assert(eq(int,
	              cfg_doc_splice(text, len, CFG_DOC_MAN_BEGIN,
	                  CFG_DOC_MAN_END, buf_str(&gen), &spliced, err,
	                  sizeof(err)),
	              0),
	    "%s", err);
	cr_assert(eq(str, (char *)buf_str(&spliced), text),
	    "man/pacerd.conf.5 is out of date with the key table: run make "
	    "update-docs");
	buf_free(&gen);
	buf_free(&spliced);
	free(text);
	free(path);
}

Test(cfg_doc, man_page_names_every_key_and_variable)
{
	char *path = tu_srcpath("man/pacerd.conf.5"),
	     *text = tu_read(path, NULL);
	char want[96];
	size_t i;

	cr_assert(not(eq(ptr, text, NULL)));
	for (i = 0; i < cfg_keys_count; i++) {
		(void)snprintf(want, sizeof(want), ".B %s\n",
		    cfg_keys_table[i].name);
		cr_expect(not(eq(ptr, strstr(text, want), NULL)),
		    "no entry for %s", cfg_keys_table[i].name);
		if (cfg_keys_table[i].env != NULL) {
			(void)snprintf(want, sizeof(want), ".B %s\n",
			    cfg_keys_table[i].env);
			cr_expect(not(eq(ptr, strstr(text, want), NULL)),
			    "no entry for %s", cfg_keys_table[i].env);
		}
	}
	free(text);
	free(path);
}

Test(cfg_doc, sample_conf_is_the_generated_one)
{
	char *path = tu_srcpath("conf/pacerd.conf"),
	     *text = tu_read(path, NULL);
	struct buf gen;

	cr_assert(not(eq(ptr, text, NULL)), "cannot read %s", path);
	buf_init_dynamic(&gen, 1 << 20);
	cr_assert(eq(int, cfg_doc_conf(&gen), 0));
	cr_assert(eq(str, text, (char *)buf_str(&gen)),
	    "conf/pacerd.conf is out of date with the key table: run make "
	    "update-docs");
	buf_free(&gen);
	free(text);
	free(path);
}

Test(cfg_doc, sample_conf_loads_and_uncommented_gives_the_defaults)
{
	char *path = tu_srcpath("conf/pacerd.conf"),
	     *text = tu_read(path, NULL);
	struct cfg *plain = cfg_new(), *uncommented = cfg_new(),
	           *defaults = cfg_new();
	struct cfg_errs errs = {0};
	struct buf un;
	char av[9000], bv[9000];
	const char *key;
	const char *p;
	size_t keys = 0;

	cr_assert(not(eq(ptr, text, NULL)));
	cr_assert(eq(int, cfg_load(plain, path, CFG_NO_ENV, &errs), 0),
	    "sample does not load");
	/* Uncomment every "#key = value" line. */
	buf_init_dynamic(&un, 1 << 20);
	for (p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (p[0] == '#' && p[1] != ' ' && p[1] != '\n' && p[1] != '-') {
			(void)buf_append(&un, p + 1, n - 1);
			keys++;
		}
		p += n;
	}
	cr_assert(eq(sz, keys, cfg_keys_count),
	    "sample lists %zu keys, table has %zu", keys, cfg_keys_count);
	cr_assert(eq(int,
	              cfg_load_buffer(uncommented, "sample", buf_str(&un),
	                  un.len, CFG_NO_ENV, &errs),
	              0),
	    "uncommented sample: %s", errs.n ? errs.msg[0] : "?");
	key = tu_cfg_diff(defaults, uncommented, av, bv, sizeof(av));
	cr_expect(eq(ptr, (void *)key, NULL),
	    "sample sets %s to %s, default is %s", key, bv, av);
	buf_free(&un);
	cfg_errs_free(&errs);
	cfg_free(&plain);
	cfg_free(&uncommented);
	cfg_free(&defaults);
	free(text);
	free(path);
}

Test(cfg_doc, splice_needs_both_markers)
{
	struct buf out;
	char err[128];

	buf_init_dynamic(&out, 1024);
	cr_assert(eq(int,
	    cfg_doc_splice("a\n", 2, "B\n", "E\n", "x", &out, err, sizeof(err)),
	    -1));
	cr_assert(eq(str, err, "marker \"B\" not found"));
	buf_reset(&out);
	cr_assert(eq(int,
	    cfg_doc_splice("a\nB\nold\nE\nz\n", 12, "B\n", "E\n", "new\n", &out,
	        err, sizeof(err)),
	    0));
	cr_assert(eq(str, (char *)buf_str(&out), "a\nB\nnew\nE\nz\n"));
	buf_free(&out);
}
