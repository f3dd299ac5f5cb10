/*
 * pacerctl.c - the operator's control tool.
 *
 * Runs as its own process, never inside pacerd. `status` maps the
 * scoreboard file read-only and prints it, so it answers even when every
 * worker is stuck and without any HTTP. The commands that signal the
 * master (reload, stop, graceful-stop, configtest) are not built yet and
 * say so.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cfg.h"
#include "log.h"
#include "sb.h"
#include "status.h"
#include "version.h"

#define DEFAULT_CONFIG PACER_SYSCONFDIR "/pacerd.conf"

static void usage(FILE *fp)
{
	(void)fprintf(fp,
	    "usage: pacerctl [-f file] [-s scoreboard] status [--json | "
	    "--prometheus]\n"
	    "       pacerctl -V | -h\n"
	    "\n"
	    "  -f, --config FILE      pacerd configuration, to find run_dir\n"
	    "                         (default %s)\n"
	    "  -s, --scoreboard FILE  read this scoreboard instead\n"
	    "  -V, --version          print the version, build options and "
	    "libraries\n"
	    "  -h, --help             print this help\n"
	    "\n"
	    "status                   summary and per-worker table of the "
	    "running pacerd\n"
	    "  --json, --prometheus   the same data for machines\n"
	    "\n"
	    "See pacerctl(8).\n",
	    DEFAULT_CONFIG);
}

static int write_out(const struct buf *b)
{
	if (buf_fwrite(b, stdout) != 0) {
		log_err("could not write the output");
		return 1;
	}
	return 0;
}

/* The scoreboard path: -s, or run_dir from the configuration. */
static int scoreboard_path(const char *conf, const char *given, struct buf *out)
{
	struct cfg_errs errs = {0};
	struct cfg *cfg;
	size_t i;
	int rc = 0;

	if (given != NULL)
		return buf_puts(out, given);
	if ((cfg = cfg_new()) == NULL)
		return -1;
	if (cfg_load(cfg, conf, 0, &errs) != 0) {
		for (i = 0; i < errs.n; i++)
			(void)fprintf(stderr, "%s\n", errs.msg[i]);
		(void)fprintf(stderr,
		    "pacerctl: cannot find the scoreboard without a "
		    "valid configuration (or give -s FILE)\n");
		rc = -1;
	} else {
		rc = buf_printf(out, "%s/%s", cfg->run_dir, SB_FILE_NAME);
	}
	cfg_errs_free(&errs);
	cfg_free(&cfg);
	return rc;
}

static int cmd_status(const char *path, int argc, char **argv)
{
	enum status_format fmt = STATUS_TEXT;
	struct sb *sb;
	struct buf out;
	char err[512];
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			fmt = STATUS_JSON;
		else if (strcmp(argv[i], "--prometheus") == 0)
			fmt = STATUS_PROMETHEUS;
		else {
			(void)fprintf(stderr,
			    "pacerctl: status: unknown option \"%s\"\n",
			    argv[i]);
			return 1;
		}
	}
	if ((sb = sb_attach(path, err, sizeof(err))) == NULL) {
		(void)fprintf(stderr, "pacerctl: %s\n", err);
		return 1;
	}
	buf_init_dynamic(&out, (size_t)16 << 20);
	if (status_render(sb, fmt, (int64_t)time(NULL), sb_clock_us(), &out,
	        err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "pacerctl: %s: %s\n", path, err);
		rc = 1;
	} else {
		rc = write_out(&out);
	}
	buf_free(&out);
	sb_close(&sb);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'f'},
	    {"scoreboard", required_argument, NULL, 's'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf = DEFAULT_CONFIG, *sbpath = NULL;
	char pstore[4096];
	struct buf path;
	int ch;

	log_init("pacerctl");
	while (
	    (ch = getopt_long(argc, argv, "+f:s:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': conf = optarg; break;
		case 's': sbpath = optarg; break;
		case 'V': return version_print("pacerctl");
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[optind], "status") != 0) {
		(void)fprintf(stderr,
		    "pacerctl: command \"%s\" is not built yet in "
		    "pacer %s\n",
		    argv[optind], version_string());
		return 1;
	}
	buf_init_fixed(&path, pstore, sizeof(pstore));
	if (scoreboard_path(conf, sbpath, &path) != 0 || path.overflow)
		return 1;
	return cmd_status(buf_str(&path), argc - optind, argv + optind);
}
