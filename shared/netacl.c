/*
 * netacl.c - address allow-lists (see netacl.h).
 */
#include "netacl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NETACL_MAX 64 /* entries in one list */

static void clear_host_bits(unsigned char *addr, unsigned len, unsigned prefix)
{
	unsigned i;

	for (i = 0; i < len; i++) {
		unsigned bit = i * 8;

		if (bit >= prefix)
			addr[i] = 0;
		else if (prefix - bit < 8)
			addr[i] &=
			    (unsigned char)(0xffu << (8 - (prefix - bit)));
	}
}

static int parse_entry(struct netacl_entry *e, const char *tok, char *err,
    size_t errlen)
{
	char host[64];
	const char *slash = strchr(tok, '/');
	size_t hlen = slash ? (size_t)(slash - tok) : strlen(tok);
	unsigned maxp;

	if (hlen == 0 || hlen >= sizeof(host)) {
		(void)snprintf(err, errlen, "\"%s\" is not an address", tok);
		return -1;
	}
	memcpy(host, tok, hlen);
	host[hlen] = '\0';
	memset(e, 0, sizeof(*e));
	if (inet_pton(AF_INET, host, e->addr) == 1) {
		e->family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, host, e->addr) == 1) {
		e->family = AF_INET6;
		maxp = 128;
	} else {
		(void)snprintf(err, errlen,
		    "\"%s\" is not an IPv4 or IPv6 address", host);
		return -1;
	}
	e->prefix = maxp;
	if (slash != NULL) {
		const char *p = slash + 1;
		unsigned v = 0;

		if (*p == '\0') {
			(void)snprintf(err, errlen,
			    "\"%s\" has no prefix length", tok);
			return -1;
		}
		for (; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p) || v > maxp) {
				v = maxp + 1;
				break;
			}
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (v > maxp) {
			(void)snprintf(err, errlen,
			    "\"%s\": the prefix length must be 0 to %u", tok,
			    maxp);
			return -1;
		}
		e->prefix = v;
	}
	clear_host_bits(e->addr, maxp / 8, e->prefix);
	return 0;
}

int netacl_parse(struct netacl *acl, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	acl->v = NULL;
	acl->n = 0;
	while (*p != '\0') {
		char tok[96];
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, " \t,");
		if (len >= sizeof(tok)) {
			(void)snprintf(err, errlen, "an entry is too long");
			goto fail;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len;
		if (acl->n == NETACL_MAX) {
			(void)snprintf(err, errlen, "more than %d entries",
			    NETACL_MAX);
			goto fail;
		}
		if (acl->v == NULL) {
			acl->v = calloc(NETACL_MAX, sizeof(*acl->v));
			if (acl->v == NULL) {
				(void)snprintf(err, errlen, "out of memory");
				goto fail;
			}
		}
		if (parse_entry(&acl->v[acl->n], tok, err, errlen) != 0)
			goto fail;
		acl->n++;
	}
	return 0;
fail:
	netacl_free(acl);
	return -1;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *net,
    unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ net[full]) & (0xffu << (8 - rest))) == 0;
}

bool netacl_match(const struct netacl *acl, const struct sockaddr *sa)
{
	unsigned char a4[4], a6[16];
	bool have4 = false, have6 = false;
	size_t i;

	if (acl == NULL || sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		memcpy(a4, &in->sin_addr, 4);
		have4 = true;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		memcpy(a6, &in6->sin6_addr, 16);
		have6 = true;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			memcpy(a4, a6 + 12, 4);
			have4 = true;
		}
	}
	for (i = 0; i < acl->n; i++) {
		const struct netacl_entry *e = &acl->v[i];

		if (e->family == AF_INET && have4 &&
		    prefix_equal(a4, e->addr, e->prefix))
			return true;
		if (e->family == AF_INET6 && have6 &&
		    prefix_equal(a6, e->addr, e->prefix))
			return true;
	}
	return false;
}

bool netacl_match_str(const struct netacl *acl, const char *addr)
{
	struct sockaddr_in in4 = {0};
	struct sockaddr_in6 in6 = {0};

	if (addr == NULL)
		return false;
	if (inet_pton(AF_INET, addr, &in4.sin_addr) == 1) {
		in4.sin_family = AF_INET;
		return netacl_match(acl, (const struct sockaddr *)&in4);
	}
	if (inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		return netacl_match(acl, (const struct sockaddr *)&in6);
	}
	return false;
}

void netacl_free(struct netacl *acl)
{
	if (acl == NULL)
		return;
	free(acl->v);
	acl->v = NULL;
	acl->n = 0;
}
