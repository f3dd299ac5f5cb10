/*
 * listener.c - bind, keep and close the listening sockets; see listener.h.
 *
 * Runs in the master. Host names are resolved once, when the set is built
 * (at start and on reload), and every address they resolve to is bound.
 * An empty host ("*:8080" or a bare port) binds the IPv6 wildcard as a
 * dual-stack socket, or the IPv4 wildcard when the host has no IPv6; a
 * named IPv6 address is bound IPv6-only so that "0.0.0.0:80, [::]:80"
 * works as written. An address marked tls only sets the listener's tls
 * flag here; the master builds the TLS context (tls.c).
 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"

void listener_name(const struct sockaddr *sa, socklen_t len, char *dst,
    size_t n)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	struct buf b;

	buf_init_fixed(&b, dst, n);
	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
	        NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		(void)buf_puts(&b, "(unknown address)");
		return;
	}
	if (sa->sa_family == AF_INET6)
		(void)buf_printf(&b, "[%s]:%s", host, port);
	else
		(void)buf_printf(&b, "%s:%s", host, port);
}

void listeners_close(struct listeners *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i].fd != -1)
			(void)close(set->v[i].fd);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static int same_addr(const struct listener *l, const struct addrinfo *ai)
{
	return l->fd != -1 && l->addrlen == ai->ai_addrlen &&
	    memcmp(&l->addr, ai->ai_addr, ai->ai_addrlen) == 0;
}

static int bind_one(const struct addrinfo *ai, int backlog, int *fdp, char *err,
    size_t errlen, const char *name)
{
	int fd, on = 1, v6only;

	fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		(void)snprintf(err, errlen,
		    "could not create a socket for %s: %s", name,
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (ai->ai_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ai->ai_addr;

		/* The wildcard serves IPv4 too; a named address only itself. */
		v6only = !IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		        sizeof(v6only)) == -1)
			goto fail;
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, backlog) == -1)
		goto fail;
	*fdp = fd;
	return 0;
fail:
	(void)snprintf(err, errlen, "could not bind %s: %s", name,
	    strerror(errno));
	(void)close(fd);
	return -1;
}

struct build {
	int backlog;
	bool tls; /* the address being added is marked tls */
	struct listeners *old, *out;
	char *err;
	size_t errlen;
};

static int add_addr(struct build *bd, const struct addrinfo *ai)
{
	struct listener *nv, *l;
	size_t i;

	for (i = 0; i < bd->out->n; i++) {
		if (!same_addr(&bd->out->v[i], ai))
			continue;
		if (bd->out->v[i].tls != bd->tls) {
			(void)snprintf(bd->err, bd->errlen,
			    "%s is listed both with and without tls",
			    bd->out->v[i].name);
			return -1;
		}
		return 0; /* listed twice, or a name resolving twice */
	}
	nv = realloc(bd->out->v, (bd->out->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		(void)snprintf(bd->err, bd->errlen, "out of memory");
		return -1;
	}
	bd->out->v = nv;
	l = &nv[bd->out->n];
	memset(l, 0, sizeof(*l));
	memcpy(&l->addr, ai->ai_addr, ai->ai_addrlen);
	l->addrlen = ai->ai_addrlen;
	listener_name(ai->ai_addr, ai->ai_addrlen, l->name, sizeof(l->name));
	l->fd = -1;
	l->tls = bd->tls;
	for (i = 0; bd->old != NULL && i < bd->old->n; i++) {
		if (same_addr(&bd->old->v[i], ai)) {
			l->fd = bd->old->v[i].fd; /* taken back if we fail */
			break;
		}
	}
	if (l->fd == -1 &&
	    bind_one(ai, bd->backlog, &l->fd, bd->err, bd->errlen, l->name) !=
	        0)
		return -1; /* not counted: the caller closes only counted ones */
	bd->out->n++;
	return 0;
}

static int add_spec(const char *host, const char *port, bool tls, void *arg)
{
	struct build *bd = arg;
	struct addrinfo hints, *res = NULL, *ai;
	int rc, tried_v4 = 0;

	bd->tls = tls;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_family = AF_UNSPEC;
	if (host[0] == '\0')
		hints.ai_family = AF_INET6; /* dual-stack wildcard first */
again:
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		(void)snprintf(bd->err, bd->errlen,
		    "could not resolve \"%s:%s\": %s", host, port,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (add_addr(bd, ai) != 0) {
			/* No IPv6 on this host: fall back to the IPv4 wildcard. */
			if (host[0] == '\0' && !tried_v4 &&
			    strstr(bd->err, "Address family not supported") !=
			        NULL) {
				freeaddrinfo(res);
				hints.ai_family = AF_INET;
				tried_v4 = 1;
				goto again;
			}
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	return 0;
}

int listeners_open(const char *spec, int backlog, struct listeners *old,
    struct listeners *out, char *err, size_t errlen)
{
	struct build bd = {backlog, false, old, out, err, errlen};
	size_t i, j;

	out->v = NULL;
	out->n = 0;
	if (cfg_listen_each(spec, add_spec, &bd) != 0) {
		/* Give reused sockets back to old; close only what we bound. */
		for (i = 0; i < out->n; i++) {
			for (j = 0; old != NULL && j < old->n; j++)
				if (old->v[j].fd == out->v[i].fd)
					out->v[i].fd = -1;
		}
		listeners_close(out);
		return -1;
	}
	/* Now move the reused sockets out of old. */
	for (i = 0; i < out->n; i++)
		for (j = 0; old != NULL && j < old->n; j++)
			if (old->v[j].fd == out->v[i].fd)
				old->v[j].fd = -1;
	return 0;
}
