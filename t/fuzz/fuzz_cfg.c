/*
 * fuzz_cfg.c - libFuzzer target for the pacerd.conf parser.
 *
 * Feeds arbitrary bytes to cfg_load_buffer (includes and the environment
 * off, so the input is the only input), then renders the result with
 * cfg_dump, which walks every value the parser stored. Built by
 * `make fuzz` with clang -fsanitize=fuzzer,address,undefined.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errs errs = {0};
	struct cfg *cfg = cfg_new();
	struct buf out;

	if (cfg == NULL)
		abort();
	(void)cfg_load_buffer(cfg, "fuzz.conf", (const char *)data, size,
	    CFG_NO_ENV | CFG_NO_INCLUDE, &errs);
	for (size_t i = 0; i < errs.n; i++)
		if (errs.msg[i] == NULL || errs.msg[i][0] == '\0')
			abort(); /* every error has a message */
	buf_init_dynamic(&out, 1 << 20);
	if (cfg_dump(cfg, &out) != 0)
		abort();
	buf_free(&out);
	cfg_errs_free(&errs);
	cfg_free(&cfg);
	return 0;
}
