/*
 * ctlid.c - pacerctl's identity commands: admin create, jwt rotate and
 * list, audit; see ctlid.h and pacerctl(8).
 *
 * Runs in pacerctl, never in pacerd. Each command opens one connection
 * to database_url (as `pacerctl migrate` does) and runs parameterised
 * statements; nothing is built from text. The only secret ever printed is
 * the one-time password of `admin create`, on standard output, once; it is
 * wiped from memory afterwards and only its scrypt hash is stored.
 *
 * Workers re-read the signing keys every 30 s and at once when a token
 * names a kid they do not hold, so a rotation needs no signal; until a
 * worker has re-read them it still signs with the old key. The old keys
 * therefore retire access_token_ttl plus ROTATE_GRACE_S after the
 * rotation, so every token they signed expires before they do. A rotation
 * is refused unless the master key given opens the current signing key:
 * a key sealed under another one would open nowhere.
 */
#include "ctlid.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "email.h"
#include "jwtkeys.h"
#include "migrate.h"
#include "pwhash.h"
#include "secret.h"

/* Exit codes (as pacerctl's). */
enum { ID_OK = 0, ID_FAILED = 1, ID_USAGE = 2 };

/* The one-time password: base62 characters (about 119 bits). */
#define PASSWORD_LEN 20
/* Twice the workers' key refresh (AUTH_KEYS_REFRESH_S, 30 s). */
#define ROTATE_GRACE_S 60
#define AUDIT_DEFAULT 50
#define AUDIT_MAX 10000

#define UTC_FMT "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"

const char ctlid_usage[] =
    "  admin create --email E [--role admin|super_admin]\n"
    "                 an active admin with a one-time password (printed "
    "once)\n"
    "  jwt rotate     a new signing key; the old ones retire after the "
    "tokens\n"
    "                 they signed expire\n"
    "  jwt list       the signing keys: kid, algorithm, created, state\n"
    "  audit [--limit N] [--user UUID] [--action NAME]\n"
    "                 the newest audit rows, one line each\n";

bool ctlid_handles(const char *cmd)
{
	return strcmp(cmd, "admin") == 0 || strcmp(cmd, "jwt") == 0 ||
	    strcmp(cmd, "audit") == 0;
}

/* ------------------------------------------------------------ arguments */

/* Print "pacerctl: ", what, arg (may be NULL) in quotes and after on
 * standard error, as one line; give ID_USAGE. */
static int usage_err(const char *what, const char *arg, const char *after)
{
	if (arg != NULL)
		(void)fprintf(stderr, "pacerctl: %s\"%s\"%s\n", what, arg,
		    after);
	else
		(void)fprintf(stderr, "pacerctl: %s%s\n", what, after);
	return ID_USAGE;
}

/*
 * Whether argv[*i] is option name, as "--name value" or "--name=value";
 * then *val is its value and *i moves past it. -1 when the value is
 * missing (the problem printed).
 */
static int opt_value(int argc, char **argv, int *i, const char *name,
    const char **val)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		(void)usage_err("", name, " needs a value");
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

static bool uuid_valid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-'
		         : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		               (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static int parse_admin(int argc, char **argv, struct ctlid_args *a)
{
	int k;

	if (argc < 2 || strcmp(argv[1], "create") != 0)
		return usage_err("usage: pacerctl [-f file] admin create "
		                 "--email E [--role admin|super_admin]",
		    NULL, "");
	a->cmd = CTLID_ADMIN_CREATE;
	a->role = "admin";
	for (int i = 2; i < argc; i++) {
		if ((k = opt_value(argc, argv, &i, "--email", &a->email)) < 0 ||
		    (k == 0 &&
		        (k = opt_value(argc, argv, &i, "--role", &a->role)) <
		            0))
			return ID_USAGE;
		if (k == 0)
			return usage_err("admin create: unknown argument ",
			    argv[i], "");
	}
	if (a->email == NULL)
		return usage_err("admin create: give --email", NULL, "");
	if (!email_valid(a->email))
		return usage_err("admin create: ", a->email,
		    " is not a valid email address");
	if (strcmp(a->role, "admin") != 0 &&
	    strcmp(a->role, "super_admin") != 0)
		return usage_err("admin create: --role is admin or "
		                 "super_admin, not ",
		    a->role, "");
	return ID_OK;
}

static int parse_audit(int argc, char **argv, struct ctlid_args *a)
{
	const char *lim = NULL;
	int k;

	a->cmd = CTLID_AUDIT;
	a->limit = AUDIT_DEFAULT;
	for (int i = 1; i < argc; i++) {
		k = opt_value(argc, argv, &i, "--limit", &lim);
		if (k == 0)
			k = opt_value(argc, argv, &i, "--user", &a->user);
		if (k == 0)
			k = opt_value(argc, argv, &i, "--action", &a->action);
		if (k < 0)
			return ID_USAGE;
		if (k == 0)
			return usage_err("audit: unknown argument ", argv[i],
			    "");
	}
	if (lim != NULL) {
		char *end;

		a->limit = strtol(lim, &end, 10);
		if (end == lim || *end != '\0' || a->limit < 1 ||
		    a->limit > AUDIT_MAX)
			return usage_err("audit: --limit is a number from 1 "
			                 "to 10000, not ",
			    lim, "");
	}
	if (a->user != NULL && !uuid_valid(a->user))
		return usage_err("audit: --user is a user's id (a uuid), "
		                 "not ",
		    a->user, "");
	if (a->action != NULL && !audit_action_valid(a->action))
		return usage_err("audit: --action is an action name such "
		                 "as auth.login, not ",
		    a->action, "");
	return ID_OK;
}

int ctlid_parse(int argc, char **argv, struct ctlid_args *a)
{
	memset(a, 0, sizeof(*a));
	if (strcmp(argv[0], "admin") == 0)
		return parse_admin(argc, argv, a);
	if (strcmp(argv[0], "audit") == 0)
		return parse_audit(argc, argv, a);
	if (argc == 2 && strcmp(argv[1], "rotate") == 0) {
		a->cmd = CTLID_JWT_ROTATE;
		return ID_OK;
	}
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		a->cmd = CTLID_JWT_LIST;
		return ID_OK;
	}
	return usage_err("usage: pacerctl [-f file] jwt rotate|list", NULL, "");
}

/* ------------------------------------------------------------ commands */

/* Print a failed statement's message and give ID_FAILED. */
static int sql_failed(PGresult *res, const char *what)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	(void)fprintf(stderr, "pacerctl: could not %s: %s\n", what,
	    m != NULL ? m : "the query failed");
	PQclear(res);
	return ID_FAILED;
}

static int flush_out(void)
{
	if (fflush(stdout) != 0) {
		(void)fprintf(stderr, "pacerctl: could not write the output\n");
		return ID_FAILED;
	}
	return ID_OK;
}

/* Print s with every control character as '?': rows hold what clients
 * sent, and one row is one line. */
static void put_clean(const char *s)
{
	for (; *s != '\0'; s++)
		(void)putchar((unsigned char)*s < ' ' || *s == 0x7f ? '?' : *s);
}

/* The user and its audit row in one statement; no row when the email is
 * taken (the unique index on lower(email)). */
#define SQL_ADMIN_CREATE                                                       \
	"WITH u AS (INSERT INTO users (email, password_hash, status, role) "   \
	"VALUES ($1, $2, 'active', $3) ON CONFLICT DO NOTHING "                \
	"RETURNING id, email, role), "                                         \
	"a AS (INSERT INTO audit_log (action, outcome, user_id, details) "     \
	"SELECT 'admin.create', 'success', id, jsonb_build_object('via', "     \
	"'pacerctl', 'role', role) FROM u) "                                   \
	"SELECT id, email, role FROM u"
#define SQL_ADMIN_TAKEN                                                        \
	"INSERT INTO audit_log (action, outcome, reason, user_id, details) "   \
	"SELECT 'admin.create', 'failure', 'email_taken', (SELECT id FROM "    \
	"users WHERE lower(email) = lower($1)), jsonb_build_object('via', "    \
	"'pacerctl', 'email', $1::text)"

static int admin_taken(PGconn *conn, const char *email)
{
	const char *params[1] = {email};
	PGresult *res =
	    PQexecParams(conn, SQL_ADMIN_TAKEN, 1, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		(void)sql_failed(res, "record the refusal in the audit log");
	else
		PQclear(res);
	(void)fprintf(stderr,
	    "pacerctl: admin create: an account with email %s exists; "
	    "nothing created\n",
	    email);
	return ID_FAILED;
}

static int admin_create(const struct ctlid_args *a, const struct cfg *cfg,
    PGconn *conn)
{
	char pw[PASSWORD_LEN + 1], phc[PWHASH_MAX_LEN];
	const char *params[3] = {a->email, phc, a->role};
	PGresult *res;
	int rc;

	if (secret_random_base62(pw, PASSWORD_LEN) != 0 ||
	    pwhash_hash(pw, PASSWORD_LEN, (int)cfg->password_scrypt_ln, phc,
	        sizeof(phc)) != 0) {
		secret_wipe(pw, sizeof(pw));
		(void)fprintf(stderr,
		    "pacerctl: admin create: could not make the password\n");
		return ID_FAILED;
	}
	res = PQexecParams(conn, SQL_ADMIN_CREATE, 3, NULL, params, NULL, NULL,
	    0);
	secret_wipe(phc, sizeof(phc));
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		secret_wipe(pw, sizeof(pw));
		return sql_failed(res, "create the admin");
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		secret_wipe(pw, sizeof(pw));
		return admin_taken(conn, a->email);
	}
	(void)printf("pacerctl: created %s %s (id %s)\n", PQgetvalue(res, 0, 2),
	    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0));
	(void)printf("email: %s\npassword: %s\n", PQgetvalue(res, 0, 1), pw);
	(void)printf("pacerctl: the password is shown this once and stored "
	             "only as a hash; log in with it (POST /api/auth/login)\n");
	rc = flush_out();
	secret_wipe(pw, sizeof(pw));
	PQclear(res);
	return rc;
}

/*
 * Whether mk opens the newest live signing key: a rotation under another
 * master key than pacerd's would make a key no worker can open, and the
 * old ones would retire with nothing to sign. Returns 0 (also when there
 * is no key yet), or -1 with the reason printed.
 */
static int check_master_key(PGconn *conn, const struct secret_key *mk)
{
	char kid[JWTKEYS_KID_LEN + 1], err[512];

	switch (jwtkeys_check(conn, mk, kid, err, sizeof(err))) {
	case 0: return 0;
	case 1:
		(void)fprintf(stderr,
		    "pacerctl: jwt rotate: this master key does not open the "
		    "current signing key %s; give pacerctl the master key "
		    "pacerd has (master_key or master_key_file); nothing "
		    "changed\n",
		    kid);
		return -1;
	default:
		(void)fprintf(stderr, "pacerctl: jwt rotate: %s\n", err);
		return -1;
	}
}

static int jwt_rotate(const struct cfg *cfg, PGconn *conn)
{
	char kid[JWTKEYS_KID_LEN + 1], err[512];
	int64_t after = cfg->access_token_ttl / 1000 + ROTATE_GRACE_S;
	struct secret_key key;
	const char *params[1] = {kid};
	PGresult *res;

	if (secret_key_load(cfg, &key, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "pacerctl: %s\n", err);
		return ID_FAILED;
	}
	if (check_master_key(conn, &key) != 0) {
		secret_wipe(&key, sizeof(key));
		return ID_FAILED;
	}
	if (jwtkeys_rotate(conn, &key, cfg->jwt_algorithm, after, kid, err,
	        sizeof(err)) != 0) {
		secret_wipe(&key, sizeof(key));
		(void)fprintf(stderr, "pacerctl: jwt rotate: %s\n", err);
		return ID_FAILED;
	}
	secret_wipe(&key, sizeof(key));
	(void)printf("pacerctl: new signing key %s (%s); workers sign with it "
	             "within 30 s, no reload needed\n",
	    kid, jwtkeys_alg_name(cfg->jwt_algorithm));
	res = PQexecParams(conn,
	    "SELECT count(*), coalesce(to_char(max(retired_at) AT TIME ZONE "
	    "'UTC', " UTC_FMT "), '') FROM jwt_keys WHERE kid <> $1 AND "
	    "retired_at > now()",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		return sql_failed(res, "read the retiring keys");
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		(void)printf("pacerctl: no older key was live\n");
	else
		(void)
		    printf("pacerctl: older keys (%s) retire at %s "
		           "(access_token_ttl + %d s); until then they verify "
		           "the tokens they signed\n",
		        PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		        ROTATE_GRACE_S);
	PQclear(res);
	return flush_out();
}

static int jwt_list(PGconn *conn)
{
	PGresult *res = PQexec(conn,
	    "SELECT kid, alg, to_char(created_at AT TIME ZONE 'UTC', " UTC_FMT
	    "), coalesce(to_char(retired_at AT TIME ZONE 'UTC', " UTC_FMT
	    "), ''), retired_at IS NOT NULL AND retired_at <= now() "
	    "FROM jwt_keys ORDER BY created_at DESC, kid");
	bool signer_seen = false;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return sql_failed(res, "read the signing keys");
	(void)printf("%-*s %-5s %-20s %s\n", JWTKEYS_KID_LEN, "kid", "alg",
	    "created", "state");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *retired = PQgetvalue(res, i, 3);
		char state[64];

		if (retired[0] == '\0') {
			(void)snprintf(state, sizeof(state), "%s",
			    signer_seen ? "verifying" : "signing");
			signer_seen = true;
		} else {
			(void)snprintf(state, sizeof(state), "%s %s",
			    strcmp(PQgetvalue(res, i, 4), "t") == 0 ? "retired"
			                                            : "retires",
			    retired);
		}
		(void)printf("%-*s %-5s %-20s %s\n", JWTKEYS_KID_LEN,
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), state);
	}
	PQclear(res);
	return flush_out();
}

static int audit_list(const struct ctlid_args *a, PGconn *conn)
{
	static const char *const tags[] = {" reason=", " user=", " actor=",
	    " client="};
	char lim[24];
	const char *params[3] = {a->user, a->action, lim};
	PGresult *res;

	(void)snprintf(lim, sizeof(lim), "%ld", a->limit);
	res = PQexecParams(conn,
	    "SELECT to_char(created_at AT TIME ZONE 'UTC', " UTC_FMT "), id, "
	    "action, outcome, coalesce(reason, ''), "
	    "coalesce(user_id::text, ''), coalesce(actor_id::text, ''), "
	    "coalesce(host(client_addr), ''), details::text FROM audit_log "
	    "WHERE ($1::uuid IS NULL OR user_id = $1) AND "
	    "($2::text IS NULL OR action = $2) "
	    "ORDER BY created_at DESC, id DESC LIMIT $3::integer",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return sql_failed(res, "read the audit log");
	for (int i = 0; i < PQntuples(res); i++) {
		(void)printf("%s %s ", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1));
		put_clean(PQgetvalue(res, i, 2));
		(void)putchar(' ');
		put_clean(PQgetvalue(res, i, 3));
		for (int c = 4; c < 8; c++) {
			if (PQgetvalue(res, i, c)[0] == '\0')
				continue;
			(void)fputs(tags[c - 4], stdout);
			put_clean(PQgetvalue(res, i, c));
		}
		if (strcmp(PQgetvalue(res, i, 8), "{}") != 0) {
			(void)putchar(' ');
			put_clean(PQgetvalue(res, i, 8));
		}
		(void)putchar('\n');
	}
	PQclear(res);
	return flush_out();
}

int ctlid_run(const struct ctlid_args *a, const struct cfg *cfg)
{
	char err[2048];
	PGconn *conn;
	int rc;

	conn = migrate_connect(cfg->database_url, cfg->database_connect_timeout,
	    err, sizeof(err));
	if (conn == NULL) {
		(void)fprintf(stderr,
		    "pacerctl: the database is unreachable: %s\n", err);
		return ID_FAILED;
	}
	switch (a->cmd) {
	case CTLID_ADMIN_CREATE: rc = admin_create(a, cfg, conn); break;
	case CTLID_JWT_ROTATE: rc = jwt_rotate(cfg, conn); break;
	case CTLID_JWT_LIST: rc = jwt_list(conn); break;
	default: rc = audit_list(a, conn); break;
	}
	migrate_disconnect(&conn);
	return rc;
}
