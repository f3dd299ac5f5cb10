/*
 * netacl.h - an address allow-list: IPv4 and IPv6 networks written as
 * "127.0.0.1/32 ::1/128 10.0.0.0/8" (spaces or commas between entries; an
 * address without /prefix is one host). An IPv4-mapped IPv6 client
 * (::ffff:a.b.c.d) matches the IPv4 entries.
 *
 * Ownership: struct netacl owns its entry array; netacl_free() releases it
 * and is safe on a zeroed or already-freed list. Any process may use it.
 */
#ifndef PACER_NETACL_H
#define PACER_NETACL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct netacl_entry {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network address, host bits cleared */
	unsigned prefix;        /* 0..32 or 0..128 */
};

struct netacl {
	struct netacl_entry *v;
	size_t n;
};

/* Parse list into acl (an empty list allows nobody). Returns 0, or -1 with
 * the reason in err naming the bad entry; acl is then empty. */
int netacl_parse(struct netacl *acl, const char *list, char *err,
    size_t errlen);

/* Whether the address (AF_INET or AF_INET6 sockaddr) is in the list. */
bool netacl_match(const struct netacl *acl, const struct sockaddr *sa);

/* The same for a numeric address string ("127.0.0.1", "::1"); false for
 * anything that is not one. */
bool netacl_match_str(const struct netacl *acl, const char *addr);

void netacl_free(struct netacl *acl);

#endif /* PACER_NETACL_H */
