/*
 * version.c - version and build report; see version.h.
 */
#include "version.h"

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jwt.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "config.h"
#include "log.h"

const char *version_string(void)
{
	return PACKAGE_VERSION;
}

int version_report(struct buf *out, const char *prog)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	const char *args = PACER_CONFIGURE_ARGS;
	int pq = PQlibVersion();

	(void)buf_printf(out, "%s %s\n", prog, PACKAGE_VERSION);
	(void)buf_printf(out, "build: %s\n", PACER_BUILD_OPTIONS);
	while (*args == ' ')
		args++;
	(void)buf_printf(out, "configure arguments: %s\n",
	    args[0] != '\0' ? args : "(none)");
	(void)buf_puts(out, "libraries:\n");
	(void)buf_printf(out, "  libpq %d.%d\n", pq / 10000, pq % 10000);
	(void)buf_printf(out, "  json-c %s\n", json_c_version());
	(void)buf_printf(out, "  %s\n", OpenSSL_version(OPENSSL_VERSION));
	(void)buf_printf(out, "  libcurl %s (%s)\n", cv->version,
	    cv->ssl_version != NULL ? cv->ssl_version : "no TLS");
	(void)buf_printf(out, "  hiredis %d.%d.%d (built with)\n",
	    HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
	(void)buf_printf(out, "  libjwt %s (built with)\n",
	    PACER_LIBJWT_VERSION);
	return out->overflow ? -1 : 0;
}

int version_print(const char *prog)
{
	struct buf out;
	int rc = 0;

	buf_init_dynamic(&out, (size_t)64 * 1024);
	(void)version_report(&out, prog);
	if (buf_fwrite(&out, stdout) != 0) {
		log_err("could not write the version report");
		rc = 1;
	}
	buf_free(&out);
	return rc;
}

const char *version_build_time(void)
{
	return PACER_BUILD_TIME;
}

const char *version_git_commit(void)
{
	return PACER_GIT_COMMIT;
}
