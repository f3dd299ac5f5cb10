/*
 * privdrop.h - who the workers run as.
 *
 * When pacerd starts as root with `user` set, the master binds its
 * sockets and opens its files as root, then every worker switches to that
 * user and group right after fork (setgid, setgroups, setuid, each
 * checked, and a check that root cannot be regained). The names are
 * resolved once in the master, before any fork, because name services are
 * not safe to call between fork and the worker's first request.
 *
 * Callers: the master (privdrop_resolve at start, privdrop_apply in a
 * child right after fork).
 */
#ifndef PACER_PRIVDROP_H
#define PACER_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privdrop {
	bool active; /* false: workers keep the master's identity */
	uid_t uid;
	gid_t gid;
	char user[64];
};

/*
 * Resolve user and group (group empty: user's primary group) for a master
 * running with effective uid euid. Not root, or user empty: pd->active is
 * false (a warning for "user set but not root" goes to *note, "" when
 * none). Returns 0, or -1 with the reason in err (unknown user or group).
 */
int privdrop_resolve(const char *user, const char *group, uid_t euid,
    struct privdrop *pd, char *note, size_t notelen, char *err, size_t errlen);

/* In a child: switch to pd's identity. Returns 0 (or 0 at once when not
 * active), or -1 with the failed step in err. Async-signal-safe apart from
 * the formatting of err. */
int privdrop_apply(const struct privdrop *pd, char *err, size_t errlen);

#endif /* PACER_PRIVDROP_H */
