/*
 * pacerd.c - the pacerd entry point: command line, configuration test and
 * dump, then the server (master.c).
 *
 * Runs in the master process only.
 *
 * Exit codes: 0 success, 1 a problem to fix (bad configuration, bad
 * usage, could not start: among others an unreachable database or a
 * modified or failed migration), 2 fatal error reported by a worker (no
 * point in restarting before it is fixed). The configuration test (-t)
 * never connects to the database; it loads the master key (and a tls
 * listener's certificate), as start-up would.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "log.h"
#include "master.h"
#include "secret.h"
#include "tls.h"
#include "version.h"

#define DEFAULT_CONFIG PACER_SYSCONFDIR "/pacerd.conf"

enum mode { MODE_SERVE, MODE_TEST, MODE_SHOW };

static void usage(FILE *fp)
{
	(void)fprintf(fp,
	    "usage: pacerd [-D] [-f file] [-t | -T | -V | -h]\n"
	    "\n"
	    "  -f, --config FILE   configuration file (default %s)\n"
	    "  -D, --foreground    stay in the foreground and log to "
	    "stderr\n"
	    "  -t, --test          check the configuration and exit\n"
	    "  -T, --show-config   print the effective configuration, with "
	    "the\n"
	    "                      source of each value (secrets masked), and "
	    "exit\n"
	    "  -V, --version       print the version, build options and "
	    "libraries\n"
	    "  -h, --help          print this help\n"
	    "\n"
	    "See pacerd(8) and pacerd.conf(5).\n",
	    DEFAULT_CONFIG);
}

/* Load path into a new cfg; print every error on stderr. */
static struct cfg *load(const char *path)
{
	struct cfg_errs errs = {0};
	struct cfg *cfg;
	size_t n;

	if ((cfg = cfg_new()) == NULL) {
		log_errx("could not allocate the configuration");
		return NULL;
	}
	if (cfg_load(cfg, path, 0, &errs) != 0) {
		n = cfg_errs_write(&errs, path, stderr);
		(void)fprintf(stderr,
		    "pacerd: configuration %s has %zu error%s\n", path, n,
		    n == 1 ? "" : "s");
		cfg_free(&cfg);
	}
	cfg_errs_free(&errs);
	return cfg;
}

static int print_buf(const struct buf *b)
{
	if (buf_fwrite(b, stdout) != 0) {
		log_err("could not write to standard output");
		return 1;
	}
	return 0;
}

/* -t: a tls listener's certificate and key must load, as at start-up. */
static int test_tls(const struct cfg *cfg)
{
	char err[1024];
	SSL_CTX *ctx;

	if (!cfg_listen_has_tls(cfg->listen))
		return 0;
	if ((ctx = tls_ctx_new(cfg->tls_cert_file, cfg->tls_key_file, err,
	         sizeof(err))) == NULL) {
		(void)fprintf(stderr, "pacerd: %s\n", err);
		return 1;
	}
	tls_ctx_free(&ctx);
	return 0;
}

/* -t: the master key must load, as at start-up; the message never holds
 * the key. */
static int test_master_key(const struct cfg *cfg)
{
	struct secret_key key;
	char err[1024];
	int rc = 0;

	if (secret_key_load(cfg, &key, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "pacerd: %s\n", err);
		rc = 1;
	}
	secret_wipe(&key, sizeof(key));
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'f'},
	    {"foreground", no_argument, NULL, 'D'},
	    {"test", no_argument, NULL, 't'},
	    {"show-config", no_argument, NULL, 'T'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG;
	enum mode mode = MODE_SERVE;
	bool foreground = false;
	struct cfg *cfg = NULL;
	struct buf out;
	int ch, rc;

	log_init("master");
	while (
	    (ch = getopt_long(argc, argv, "f:DtTVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': path = optarg; break;
		case 'D': foreground = true; break;
		case 't': mode = MODE_TEST; break;
		case 'T': mode = MODE_SHOW; break;
		case 'V': return version_print("pacerd");
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		(void)fprintf(stderr, "pacerd: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return 1;
	}

	if ((cfg = load(path)) == NULL)
		return 1;
	switch (mode) {
	case MODE_TEST:
		rc = test_master_key(cfg);
		if (test_tls(cfg) != 0)
			rc = 1;
		if (rc == 0)
			(void)printf("pacerd: configuration ok: %s\n", path);
		break;
	case MODE_SHOW:
		buf_init_dynamic(&out, (size_t)1024 * 1024);
		(void)cfg_dump(cfg, &out);
		rc = print_buf(&out);
		buf_free(&out);
		break;
	case MODE_SERVE:
	default:
		/* The master owns cfg from here and frees it. */
		return master_run(path, cfg, foreground);
	}
	cfg_free(&cfg);
	return rc;
}
