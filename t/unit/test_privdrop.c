/*
 * test_privdrop.c - resolving the workers' user and group, and switching
 * to them in a child (as root; the switch tests skip otherwise).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privdrop.h"

static struct privdrop pd;
static char note[256], err[256];

Test(privdrop, empty_user_keeps_the_identity)
{
	cr_assert(eq(int,
	    privdrop_resolve("", "", 0, &pd, note, sizeof(note), err,
	        sizeof(err)),
	    0));
	cr_expect(not(pd.active));
	cr_expect(eq(str, note, ""));
	cr_expect(eq(int, privdrop_apply(&pd, err, sizeof(err)), 0));
}

Test(privdrop, a_user_without_root_is_a_warning_not_an_error)
{
	cr_assert(eq(int,
	    privdrop_resolve("nobody", "", 1000, &pd, note, sizeof(note), err,
	        sizeof(err)),
	    0));
	cr_expect(not(pd.active));
	cr_expect(eq(str, note,
	    "user is \"nobody\" but pacerd was not started as root: workers "
	    "keep uid 1000"));
}

Test(privdrop, unknown_names_are_refused)
{
	cr_expect(eq(int,
	    privdrop_resolve("no-such-user-here", "", 0, &pd, note,
	        sizeof(note), err, sizeof(err)),
	    -1));
	cr_expect(eq(str, err, "user \"no-such-user-here\": no such user"));
	cr_expect(eq(int,
	    privdrop_resolve("nobody", "no-such-group-here", 0, &pd, note,
	        sizeof(note), err, sizeof(err)),
	    -1));
	cr_expect(eq(str, err, "group \"no-such-group-here\": no such group"));
}

Test(privdrop, root_as_the_worker_user_is_refused)
{
	cr_expect(eq(int,
	    privdrop_resolve("root", "", 0, &pd, note, sizeof(note), err,
	        sizeof(err)),
	    -1));
	cr_expect(eq(str, err,
	    "user \"root\" is root: workers must not run as root"));
}

Test(privdrop, a_child_switches_and_cannot_come_back)
{
	struct passwd *pw;
	struct group *gr;
	int status;
	bool ok;
	pid_t c;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	pw = getpwnam("nobody");
	gr = getgrnam("nogroup");
	cr_assert(not(eq(ptr, pw, NULL)));
	cr_assert(not(eq(ptr, gr, NULL)));
	cr_assert(eq(int,
	              privdrop_resolve("nobody", "nogroup", 0, &pd, note,
	                  sizeof(note), err, sizeof(err)),
	              0),
	    "%s", err);
	cr_assert(pd.active);
	c = fork();
	cr_assert(c >= 0);
	if (c == 0) {
		gid_t groups[4];

		if (privdrop_apply(&pd, err, sizeof(err)) != 0)
			_exit(1);
		if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid)
			_exit(2);
		if (getgid() != gr->gr_gid || getegid() != gr->gr_gid)
			_exit(3);
		/* No supplementary group of root's survives. */
		if (getgroups(4, groups) != 1 || groups[0] != gr->gr_gid)
			_exit(4);
		if (setuid(0) == 0 || seteuid(0) == 0)
			_exit(5);
		_exit(0);
	}
	cr_assert(eq(int, waitpid(c, &status, 0), c));
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	cr_expect(ok, "child failed at step %d", WEXITSTATUS(status));
}
