/*
 * cfg_doc.h - documentation generated from the configuration key table.
 *
 * pacerd.conf(5) carries a generated block between two comment markers and
 * conf/pacerd.conf is generated whole, both from cfg_keys_table, so the
 * docs cannot drift from the code: the test suite compares them, and
 * `make update-docs` rewrites them.
 *
 * Callers: the update-docs tool and tests (never the daemon's run path).
 */
#ifndef PACER_CFG_DOC_H
#define PACER_CFG_DOC_H

#include <stddef.h>

#include "buf.h"

#define CFG_DOC_MAN_BEGIN ".\\\" BEGIN GENERATED KEYS (make update-docs)\n"
#define CFG_DOC_MAN_END ".\\\" END GENERATED KEYS\n"

/* The KEYS and ENVIRONMENT sections of pacerd.conf(5), in man(7) markup. */
int cfg_doc_man(struct buf *out);

/* The whole sample conf/pacerd.conf: every key commented out at its
 * default, grouped, with its doc, bounds and environment variable. */
int cfg_doc_conf(struct buf *out);

/* Replace what lies between begin and end (markers kept) in text[0..len)
 * with generated, into out. Returns 0, or -1 with a reason in err when a
 * marker is missing or out overflowed. */
int cfg_doc_splice(const char *text, size_t len, const char *begin,
    const char *end, const char *generated, struct buf *out, char *err,
    size_t errlen);

#endif /* PACER_CFG_DOC_H */
