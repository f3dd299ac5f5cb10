/*
 * test_netacl.c - address allow-lists: parsing, refusals and matching of
 * IPv4, IPv6 and IPv4-mapped clients.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <string.h>

#include "cfg_keys.h"
#include "netacl.h"

static bool match(const struct netacl *acl, const char *addr)
{
	struct sockaddr_in in4 = {0};
	struct sockaddr_in6 in6 = {0};

	if (inet_pton(AF_INET, addr, &in4.sin_addr) == 1) {
		in4.sin_family = AF_INET;
		return netacl_match(acl, (struct sockaddr *)&in4);
	}
	cr_assert(inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1, "%s", addr);
	in6.sin6_family = AF_INET6;
	return netacl_match(acl, (struct sockaddr *)&in6);
}

Test(netacl, default_list_allows_loopback_only)
{
	struct netacl acl;
	char err[128];
	int rc = netacl_parse(&acl, "127.0.0.1/32 ::1/128", err, sizeof(err));

	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(eq(sz, acl.n, 2));
	cr_assert(match(&acl, "127.0.0.1"));
	cr_assert(match(&acl, "::1"));
	cr_assert(match(&acl, "::ffff:127.0.0.1"));
	cr_assert(not(match(&acl, "127.0.0.2")));
	cr_assert(not(match(&acl, "10.0.0.1")));
	cr_assert(not(match(&acl, "::2")));
	cr_assert(netacl_match_str(&acl, "::ffff:127.0.0.1"));
	cr_assert(not(netacl_match_str(&acl, "127.0.0.1:80")));
	cr_assert(not(netacl_match_str(&acl, NULL)));
	netacl_free(&acl);
}

Test(netacl, prefixes_commas_and_bare_hosts)
{
	struct netacl acl;
	char err[128];
	int rc = netacl_parse(&acl,
	    "10.1.0.0/16, 192.168.7.9,fd00::/8 0.0.0.0/0", err, sizeof(err));

	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(eq(sz, acl.n, 4));
	cr_assert(match(&acl, "fd12::5"));
	cr_assert(not(match(&acl, "fe80::1")));
	netacl_free(&acl);

	rc = netacl_parse(&acl, "10.1.255.3/17 192.168.7.9", err, sizeof(err));
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(
	    match(&acl, "10.1.128.1")); /* host bits of the entry dropped */
	cr_assert(not(match(&acl, "10.1.127.1"))); /* other half of the /16 */
	cr_assert(match(&acl, "192.168.7.9"));
	cr_assert(not(match(&acl, "192.168.7.8")));
	netacl_free(&acl);
}

Test(netacl, empty_list_allows_nobody)
{
	struct netacl acl;
	char err[128];

	cr_assert(eq(int, netacl_parse(&acl, "  ", err, sizeof(err)), 0));
	cr_assert(eq(sz, acl.n, 0));
	cr_assert(not(match(&acl, "127.0.0.1")));
	netacl_free(&acl);
	netacl_free(&acl); /* twice is harmless */
}

Test(netacl, bad_entries_are_named)
{
	static const struct {
		const char *list, *want;
	} cases[] = {
	    {"127.0.0.1/33",
	        "\"127.0.0.1/33\": the prefix length must be 0 to 32"},
	    {"::1/129", "must be 0 to 128"},
	    {"localhost", "\"localhost\" is not an IPv4 or IPv6 address"},
	    {"10.0.0.0/", "has no prefix length"},
	    {"10.0.0.0/8x", "the prefix length must be"},
	    {"/8", "is not an address"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct netacl acl;
		char err[128] = "";
		int rc = netacl_parse(&acl, cases[i].list, err, sizeof(err));

		cr_expect(eq(int, rc, -1), "%s accepted", cases[i].list);
		cr_expect(not(eq(ptr, strstr(err, cases[i].want), NULL)),
		    "%s: got \"%s\"", cases[i].list, err);
		cr_expect(eq(sz, acl.n, 0));
		cr_expect(eq(int,
		    cfg_keys_check_admin_allow(cases[i].list, err, sizeof(err)),
		    -1));
	}
}
