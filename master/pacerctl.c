/*
 * pacerctl.c - the operator's control tool.
 *
 * Runs as its own process, never inside pacerd. It will read the
 * scoreboard, signal the master and run admin tasks; in this version only
 * -V and -h exist, and every other command says it is not built yet.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "version.h"

static void usage(FILE *fp)
{
	(void)fprintf(fp,
	    "usage: pacerctl [-V | -h]\n"
	    "\n"
	    "  -V, --version   print the version, build options and libraries\n"
	    "  -h, --help      print this help\n"
	    "\n"
	    "No commands are built yet in this version. See pacerctl(8).\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct buf out;
	int ch, rc = 0;

	log_init("pacerctl");
	while ((ch = getopt_long(argc, argv, "+Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'V':
			buf_init_dynamic(&out, (size_t)64 * 1024);
			(void)version_report(&out, "pacerctl");
			if (out.overflow ||
			    fwrite(out.data, 1, out.len, stdout) != out.len ||
			    fflush(stdout) != 0) {
				log_err("could not write the version report");
				rc = 1;
			}
			buf_free(&out);
			return rc;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		(void)fprintf(stderr,
		    "pacerctl: command \"%s\" is not built yet in "
		    "pacer %s\n",
		    argv[optind], version_string());
		return 1;
	}
	usage(stderr);
	return 1;
}
