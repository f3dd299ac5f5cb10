/*
 * email.c - the email check; see email.h.
 */
#include "email.h"

#include <string.h>

bool email_valid(const char *e)
{
	size_t n = strlen(e), at;
	const char *dom;

	if (n < 3 || n > EMAIL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)e[i] <= ' ' || e[i] == 0x7f)
			return false;
	at = strcspn(e, "@");
	if (at == 0 || at > 64 || at == n || strchr(e + at + 1, '@') != NULL)
		return false;
	dom = e + at + 1;
	return strchr(dom, '.') != NULL && dom[0] != '.' &&
	    dom[strlen(dom) - 1] != '.';
}

bool audit_action_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AUDIT_ACTION_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		        s[i] == '.'))
			return false;
	return true;
}
