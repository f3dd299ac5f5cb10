/*
 * email.h - the shape of an account's email address, as pacer accepts it
 * everywhere (registration, the first admin's set-up, pacerctl admin
 * create), and of an audit action's name (the admin API's and pacerctl
 * audit's filters). Not a full RFC 5322 parser: it refuses what is surely wrong
 * and leaves the rest to the mail that is never sent.
 *
 * Callers: workers and pacerctl. Pure; no state.
 */
#ifndef PACER_EMAIL_H
#define PACER_EMAIL_H

#include <stdbool.h>

/* Longest address accepted, in bytes (RFC 5321's path limit). */
#define EMAIL_MAX 254

/* Whether e is a plausible email: 3..EMAIL_MAX bytes, one '@' with 1..64
 * bytes before it, a dot inside the domain (not at either end), no space
 * or control character. */
bool email_valid(const char *e);

/* Longest audit action name (audit_log's check constraint). */
#define AUDIT_ACTION_MAX 64

/* Whether s is an audit action name: [a-z][a-z0-9_.]{0,63}. */
bool audit_action_valid(const char *s);

#endif /* PACER_EMAIL_H */
