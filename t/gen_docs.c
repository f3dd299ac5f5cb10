/*
 * gen_docs.c - `make update-docs`: rewrite the generated block of
 * man/pacerd.conf.5 and the whole conf/pacerd.conf from the key table.
 * Usage: gen-docs SRCDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg_doc.h"
#include "testutil.h"

static int write_file(const char *path, const struct buf *b)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fwrite(b->data, 1, b->len, fp) != b->len) {
		perror(path);
		if (fp != NULL)
			(void)fclose(fp);
		return -1;
	}
	if (fclose(fp) != 0) {
		perror(path);
		return -1;
	}
	(void)printf("  GEN      %s\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	char man[4096], conf[4096], err[256];
	struct buf gen, out;
	char *text;
	size_t len;
	int rc = 1;

	if (argc != 2) {
		(void)fprintf(stderr, "usage: gen-docs SRCDIR\n");
		return 1;
	}
	(void)snprintf(man, sizeof(man), "%s/man/pacerd.conf.5", argv[1]);
	(void)snprintf(conf, sizeof(conf), "%s/conf/pacerd.conf", argv[1]);
	buf_init_dynamic(&gen, 1 << 20);
	buf_init_dynamic(&out, 1 << 21);
	if ((text = tu_read(man, &len)) == NULL) {
		perror(man);
		goto out;
	}
	if (cfg_doc_man(&gen) != 0 ||
	    cfg_doc_splice(text, len, CFG_DOC_MAN_BEGIN, CFG_DOC_MAN_END,
	        buf_str(&gen), &out, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "%s: %s\n", man, err);
		goto out;
	}
	if (write_file(man, &out) != 0)
		goto out;
	buf_reset(&gen);
	if (cfg_doc_conf(&gen) != 0 || write_file(conf, &gen) != 0)
		goto out;
	rc = 0;
out:
	free(text);
	buf_free(&gen);
	buf_free(&out);
	return rc;
}
