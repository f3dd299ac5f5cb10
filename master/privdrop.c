/*
 * privdrop.c - resolve and switch the workers' identity; see privdrop.h.
 *
 * Runs in the master (resolve) and in a freshly forked child (apply).
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

int privdrop_resolve(const char *user, const char *group, uid_t euid,
    struct privdrop *pd, char *note, size_t notelen, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	struct buf b;

	memset(pd, 0, sizeof(*pd));
	if (notelen > 0)
		note[0] = '\0';
	if (user[0] == '\0')
		return 0;
	if (euid != 0) {
		buf_init_fixed(&b, note, notelen);
		(void)buf_printf(&b,
		    "user is \"%s\" but pacerd was not started as root: "
		    "workers keep uid %u",
		    user, (unsigned)euid);
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		(void)snprintf(err, errlen, "user \"%s\": %s", user,
		    errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	pd->uid = pw->pw_uid;
	pd->gid = pw->pw_gid;
	if (group[0] != '\0') {
		errno = 0;
		if ((gr = getgrnam(group)) == NULL) {
			(void)snprintf(err, errlen, "group \"%s\": %s", group,
			    errno != 0 ? strerror(errno) : "no such group");
			return -1;
		}
		pd->gid = gr->gr_gid;
	}
	if (pd->uid == 0) {
		(void)snprintf(err, errlen,
		    "user \"%s\" is root: workers must not run as root", user);
		return -1;
	}
	buf_init_fixed(&b, pd->user, sizeof(pd->user));
	(void)buf_puts(&b, user);
	pd->active = true;
	return 0;
}

int privdrop_apply(const struct privdrop *pd, char *err, size_t errlen)
{
	if (!pd->active)
		return 0;
	/* Group first: once the uid is gone, so is the right to change it. */
	if (setgid(pd->gid) == -1) {
		(void)snprintf(err, errlen, "setgid(%u): %s", (unsigned)pd->gid,
		    strerror(errno));
		return -1;
	}
	if (setgroups(1, &pd->gid) == -1) {
		(void)snprintf(err, errlen, "setgroups(%u): %s",
		    (unsigned)pd->gid, strerror(errno));
		return -1;
	}
	if (setuid(pd->uid) == -1) {
		(void)snprintf(err, errlen, "setuid(%u): %s", (unsigned)pd->uid,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || getuid() != pd->uid || geteuid() != pd->uid ||
	    getgid() != pd->gid || getegid() != pd->gid) {
		(void)snprintf(err, errlen,
		    "identity check failed after switching to %s", pd->user);
		return -1;
	}
	return 0;
}
