/*
 * test_listener.c - listening sockets: bound as configured, precise
 * errors, and on reload unchanged addresses keep their socket (queued
 * connections survive) while removed ones close.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"

/* A port nothing listens on right now. */
static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, getsockname(fd, (struct sockaddr *)&sa, &len), 0));
	port = ntohs(sa.sin_port);
	(void)close(fd);
	return port;
}

static int connect_to(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

Test(listener, binds_a_nonblocking_cloexec_listening_socket)
{
	struct listeners set;
	char err[256], spec[64], want[64];
	int port = free_port(), c, a, fl, fd_fl;
	bool nonblock, cloexec;

	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	cr_assert(eq(int,
	              listeners_open(spec, 16, NULL, &set, err, sizeof(err)),
	              0),
	    "%s", err);
	cr_assert(eq(sz, set.n, 1));
	(void)snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	cr_assert(eq(str, set.v[0].name, want));
	/* Criterion's cr_assert(expr) misreads '&' and a leading '(': use
	 * plain booleans. */
	fl = fcntl(set.v[0].fd, F_GETFL);
	fd_fl = fcntl(set.v[0].fd, F_GETFD);
	nonblock = (fl & O_NONBLOCK) != 0;
	cloexec = (fd_fl & FD_CLOEXEC) != 0;
	cr_assert(nonblock, "not non-blocking: flags %#x", fl);
	cr_assert(cloexec, "not close-on-exec: flags %#x", fd_fl);
	c = connect_to(port);
	cr_assert(c >= 0, "connect: %s", strerror(errno));
	a = accept(set.v[0].fd, NULL, NULL);
	cr_assert(a >= 0, "accept: %s", strerror(errno));
	(void)close(a);
	(void)close(c);
	listeners_close(&set);
	cr_assert(eq(int, connect_to(port), -1), "still listening after close");
}

Test(listener, taken_port_is_a_precise_error)
{
	struct listeners a, b;
	char err[256], spec[64], want[96];
	int port = free_port();

	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	cr_assert(eq(int, listeners_open(spec, 16, NULL, &a, err, sizeof(err)),
	              0),
	    "%s", err);
	cr_assert(
	    eq(int, listeners_open(spec, 16, NULL, &b, err, sizeof(err)), -1));
	(void)snprintf(want, sizeof(want),
	    "could not bind 127.0.0.1:%d: Address already in use", port);
	cr_assert(eq(str, err, want));
	cr_assert(eq(sz, b.n, 0));
	listeners_close(&a);
}

Test(listener, unresolvable_host_is_reported)
{
	struct listeners set;
	char err[256];

	cr_assert(eq(int,
	    listeners_open("no-such-host.invalid:8080", 16, NULL, &set, err,
	        sizeof(err)),
	    -1));
	cr_assert(not(eq(ptr,
	              strstr(err,
	                  "could not resolve \"no-such-host.invalid:8080\""),
	              NULL)),
	    "got: %s", err);
}

Test(listener, reload_keeps_unchanged_sockets_and_their_queued_connections)
{
	struct listeners old, cur;
	char err[256], spec[96];
	int p1 = free_port(), p2 = free_port(), fd1, c, a;

	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d", p1);
	cr_assert(eq(int,
	              listeners_open(spec, 16, NULL, &old, err, sizeof(err)),
	              0),
	    "%s", err);
	fd1 = old.v[0].fd;
	c = connect_to(p1); /* queued, not yet accepted */
	cr_assert(c >= 0);
	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d, 127.0.0.1:%d", p1,
	    p2);
	cr_assert(eq(int,
	              listeners_open(spec, 16, &old, &cur, err, sizeof(err)),
	              0),
	    "%s", err);
	cr_assert(eq(sz, cur.n, 2));
	cr_assert(eq(int, cur.v[0].fd, fd1),
	    "unchanged address got a new socket");
	cr_assert(eq(int, old.v[0].fd, -1),
	    "reused socket not moved out of the old set");
	listeners_close(&old);
	a = accept(cur.v[0].fd, NULL, NULL);
	cr_assert(a >= 0,
	    "the connection queued before the reload was lost: %s",
	    strerror(errno));
	(void)close(a);
	(void)close(c);
	c = connect_to(p2);
	cr_assert(c >= 0, "new address not listening");
	(void)close(c);
	listeners_close(&cur);
}

Test(listener, reload_closes_removed_addresses)
{
	struct listeners old, cur;
	char err[256], spec[96];
	int p1 = free_port(), p2 = free_port();

	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d,127.0.0.1:%d", p1, p2);
	cr_assert(eq(int,
	              listeners_open(spec, 16, NULL, &old, err, sizeof(err)),
	              0),
	    "%s", err);
	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d", p2);
	cr_assert(eq(int,
	              listeners_open(spec, 16, &old, &cur, err, sizeof(err)),
	              0),
	    "%s", err);
	listeners_close(&old);
	cr_assert(eq(int, connect_to(p1), -1),
	    "removed address still listening");
	listeners_close(&cur);
}

Test(listener, failed_reload_leaves_the_old_set_intact)
{
	struct listeners old, cur, blocker;
	char err[256], spec[96];
	int p1 = free_port(), p2 = free_port(), c, a;

	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d", p2);
	cr_assert(
	    eq(int, listeners_open(spec, 16, NULL, &blocker, err, sizeof(err)),
	        0),
	    "%s", err);
	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d", p1);
	cr_assert(eq(int,
	              listeners_open(spec, 16, NULL, &old, err, sizeof(err)),
	              0),
	    "%s", err);
	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d, 127.0.0.1:%d", p1,
	    p2);
	cr_assert(eq(int,
	    listeners_open(spec, 16, &old, &cur, err, sizeof(err)), -1));
	cr_assert(not(eq(ptr, strstr(err, "Address already in use"), NULL)),
	    "got: %s", err);
	cr_assert(old.v[0].fd >= 0, "old socket taken by a failed reload");
	c = connect_to(p1);
	cr_assert(c >= 0, "old socket closed by a failed reload");
	a = accept(old.v[0].fd, NULL, NULL);
	cr_assert(a >= 0);
	(void)close(a);
	(void)close(c);
	listeners_close(&old);
	listeners_close(&blocker);
}

Test(listener, ipv6_loopback_is_named_with_brackets)
{
	struct listeners set;
	char err[256];
	int probe = socket(AF_INET6, SOCK_STREAM, 0);

	if (probe < 0)
		cr_skip_test("no IPv6 on this host");
	(void)close(probe);
	if (listeners_open("[::1]:0", 16, NULL, &set, err, sizeof(err)) != 0)
		cr_skip_test("cannot bind ::1 here: %s", err);
	cr_assert(eq(str, set.v[0].name, "[::1]:0"));
	listeners_close(&set);
}
