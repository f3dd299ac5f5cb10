/*
 * test_buf.c - the bounded string builder never writes out of bounds,
 * always stays NUL-terminated, and reports truncation.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "buf.h"

Test(buf, fixed_storage_truncates_and_flags_overflow)
{
	char store[8];
	struct buf b;

	buf_init_fixed(&b, store, sizeof(store));
	cr_assert(eq(int, buf_puts(&b, "abc"), 0));
	cr_assert(eq(int, buf_puts(&b, "defghij"), -1));
	cr_assert(eq(str, (char *)buf_str(&b), "abcdefg"));
	cr_assert(eq(sz, b.len, 7));
	cr_assert(b.overflow, "overflow flag not set after a truncated write");
}

Test(buf, printf_truncates_at_capacity_with_terminator)
{
	char store[6];
	struct buf b;

	buf_init_fixed(&b, store, sizeof(store));
	cr_assert(eq(int, buf_printf(&b, "%d-%s", 1234, "xyz"), -1));
	cr_assert(eq(str, store, "1234-"));
	cr_assert(b.overflow);
	buf_reset(&b);
	cr_assert(not(b.overflow));
	cr_assert(eq(int, buf_printf(&b, "%s", "ok"), 0));
	cr_assert(eq(str, store, "ok"));
}

Test(buf, dynamic_grows_up_to_its_limit)
{
	struct buf b;
	size_t i;

	buf_init_dynamic(&b, 100);
	for (i = 0; i < 99; i++)
		cr_assert(eq(int, buf_putc(&b, 'x'), 0), "append %zu failed",
		    i);
	cr_assert(eq(sz, b.len, 99));
	cr_assert(eq(int, buf_putc(&b, 'y'), -1), "append past max succeeded");
	cr_assert(eq(sz, b.len, 99));
	cr_assert(eq(sz, strlen(buf_str(&b)), 99));
	buf_free(&b);
	cr_assert(eq(str, (char *)buf_str(&b), ""));
}

Test(buf, empty_dynamic_buffer_reads_as_empty_string)
{
	struct buf b;

	buf_init_dynamic(&b, 10);
	cr_assert(eq(str, (char *)buf_str(&b), ""));
	cr_assert(eq(int, buf_printf(&b, "%s", ""), 0));
	buf_free(&b);
}

Test(buf, json_escape_escapes_quotes_backslashes_and_controls)
{
	char store[128];
	struct buf b;
	const char in[] = "a\"b\\c\nd\x01\x7f\xc3\xa9";

	buf_init_fixed(&b, store, sizeof(store));
	cr_assert(eq(int, buf_json_escape(&b, in, sizeof(in) - 1), 0));
	cr_assert(eq(str, store, "a\\\"b\\\\c\\nd\\u0001\x7f\xc3\xa9"));
}

Test(buf, truncate_drops_the_tail)
{
	char store[16];
	struct buf b;

	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_puts(&b, "hello world");
	buf_truncate(&b, 5);
	cr_assert(eq(str, store, "hello"));
	buf_truncate(&b, 50); /* longer than the contents: no change */
	cr_assert(eq(str, store, "hello"));
}

Test(buf, sigsafe_helpers_bound_and_terminate)
{
	char s[8];
	size_t n;

	n = buf_sigsafe_puts(s, 0, sizeof(s), "ab");
	n = buf_sigsafe_putu(s, n, sizeof(s), 12345);
	cr_assert(eq(str, s, "ab12345"));
	cr_assert(eq(sz, n, 7));
	n = buf_sigsafe_putu(s, n, sizeof(s), 9);
	cr_assert(eq(sz, n, 7), "wrote past the end");
	n = buf_sigsafe_putu(s, 0, sizeof(s), 0);
	cr_assert(eq(str, s, "0"));
}

Test(buf, fwrite_writes_all_and_reports_failures)
{
	char store[8], text[16] = "";
	struct buf b;
	FILE *fp = tmpfile(), *full;

	cr_assert(not(eq(ptr, fp, NULL)));
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_puts(&b, "hello");
	cr_assert(eq(int, buf_fwrite(&b, fp), 0));
	rewind(fp);
	cr_assert(not(eq(ptr, fgets(text, sizeof(text), fp), NULL)));
	cr_assert(eq(str, text, "hello"));
	(void)fclose(fp);

	/* A device that is always full: the flush must fail. */
	full = fopen("/dev/full", "w");
	cr_assert(not(eq(ptr, full, NULL)));
	cr_assert(eq(int, buf_fwrite(&b, full), -1),
	    "a failed write was reported ok");
	(void)fclose(full);

	/* A truncated buffer is never written as if it were whole. */
	(void)buf_puts(&b, ", world");
	cr_assert(b.overflow);
	fp = tmpfile();
	cr_assert(eq(int, buf_fwrite(&b, fp), -1));
	cr_assert(eq(long, ftell(fp), 0L),
	    "wrote part of an overflowed buffer");
	(void)fclose(fp);
}
