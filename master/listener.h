/*
 * listener.h - the listening sockets of the master.
 *
 * The master binds every address of the `listen` key before it forks (and
 * before it drops privileges), and the workers inherit the sockets. On a
 * reload the set is reconciled: a socket whose address did not change is
 * kept as it is, so connections queued on it are never refused; new
 * addresses are bound; removed ones closed.
 *
 * Callers: the master only.
 */
#ifndef PACER_LISTENER_H
#define PACER_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct listener {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[64]; /* "127.0.0.1:8080", "[::1]:8080" for messages */
	bool tls;      /* marked tls in the config: HTTPS */
};

struct listeners {
	struct listener *v;
	size_t n;
};

/*
 * Bind the addresses of spec (the `listen` syntax of pacerd.conf) with the
 * given backlog into *out, reusing the sockets of old whose address is the
 * same (old may be NULL; reused ones are moved out of old, whose remaining
 * sockets the caller closes with listeners_close once the new set is in
 * use). Addresses marked tls have tls set (the same address listed with
 * and without it is an error). Sockets are non-blocking and close-on-exec.
 * Returns 0, or -1 with
 * the reason in err ("could not bind 127.0.0.1:80: Permission denied"),
 * in which case nothing of old was taken and *out is empty.
 */
int listeners_open(const char *spec, int backlog, struct listeners *old,
    struct listeners *out, char *err, size_t errlen);

/* Close every socket and free the set; it is left empty. */
void listeners_close(struct listeners *set);

/* Render a socket address as "host:port" or "[v6]:port". */
void listener_name(const struct sockaddr *sa, socklen_t len, char *dst,
    size_t n);

#endif /* PACER_LISTENER_H */
