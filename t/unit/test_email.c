/*
 * test_email.c - the email check shared by registration, the admin
 * set-up and pacerctl admin create.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "email.h"

Test(email, accepts_plausible_addresses)
{
	static const char *const ok[] = {"a@b.c", "ann.lee+tag@example.org",
	    "x@sub.domain.example", "UPPER@EXAMPLE.ORG"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect(email_valid(ok[i]), "%s", ok[i]);
}

Test(email, refuses_what_is_surely_wrong)
{
	static const char *const bad[] = {"", "a@", "@b.c", "ab.c", "a@b",
	    "a@@b.c", "a@b@c.d", "a b@c.d", "a@b.c ", "a@.b.c", "a@b.c.",
	    "a\t@b.c", "a@b.c\x7f"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(not(email_valid(bad[i])), "\"%s\"", bad[i]);
}

Test(email, bounds_the_lengths)
{
	char e[EMAIL_MAX + 2];

	/* 64 bytes before the '@' are fine, 65 are not */
	memset(e, 'a', 64);
	memcpy(e + 64, "@b.c", 5);
	cr_expect(email_valid(e));
	memset(e, 'a', 65);
	memcpy(e + 65, "@b.c", 5);
	cr_expect(not(email_valid(e)));
	/* EMAIL_MAX bytes in all are fine, one more is not */
	memset(e, 'a', sizeof(e));
	e[0] = 'x';
	e[1] = '@';
	e[EMAIL_MAX - 2] = '.';
	e[EMAIL_MAX] = '\0';
	cr_expect(email_valid(e));
	e[EMAIL_MAX] = 'a';
	e[EMAIL_MAX + 1] = '\0';
	cr_expect(not(email_valid(e)));
}

Test(email, audit_action_names)
{
	char a[AUDIT_ACTION_MAX + 2];

	cr_expect(audit_action_valid("auth.login"));
	cr_expect(audit_action_valid("admin.key_provision"));
	cr_expect(audit_action_valid("x"));
	cr_expect(not(audit_action_valid("")));
	cr_expect(not(audit_action_valid("Auth.login")));
	cr_expect(not(audit_action_valid("1auth")));
	cr_expect(not(audit_action_valid("auth login")));
	cr_expect(not(audit_action_valid("auth;drop")));
	memset(a, 'a', AUDIT_ACTION_MAX);
	a[AUDIT_ACTION_MAX] = '\0';
	cr_expect(audit_action_valid(a));
	a[AUDIT_ACTION_MAX] = 'a';
	a[AUDIT_ACTION_MAX + 1] = '\0';
	cr_expect(not(audit_action_valid(a)));
}
