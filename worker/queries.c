/*
 * queries.c - the table of named SQL statements; see queries.h.
 */
#include "queries.h"

#include <assert.h>

#include "sb.h"

static_assert(Q_NQUERIES <= SB_MAX_QUERIES,
    "every query needs a scoreboard record");

const struct query queries_table[Q_NQUERIES] = {
    [Q_PING] = {"ping", "SELECT 1", 0, true},
    /* Read from the primary: readiness is about the database the writes
     * go to, and a replica may lag behind a migration. */
    [Q_SCHEMA_STATE] = {"schema_state",
        "SELECT count(*), coalesce(max(version), 0) FROM schema_migrations", 0,
        false},

    /* Identity reads go to the primary: a replica's lag must never bring
     * back a revoked key, a spent token or a suspended user. */
    [Q_JWT_KEYS] = {"jwt_keys",
        "SELECT kid, alg, secret_enc, nonce, public_key, "
        "extract(epoch FROM created_at)::bigint, "
        "coalesce(extract(epoch FROM retired_at)::bigint, 0) FROM jwt_keys "
        "WHERE retired_at IS NULL OR retired_at > now() "
        "ORDER BY created_at DESC, kid LIMIT 16",
        0, false},
    [Q_USER_INSERT] = {"user_insert",
        "INSERT INTO users (email, password_hash, display_name, status) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING "
        "RETURNING id, email, status, role, display_name, created_at",
        4, false},
    [Q_USER_BY_EMAIL] = {"user_by_email",
        "SELECT id, email, password_hash, status, role FROM users "
        "WHERE lower(email) = lower($1)",
        1, false},
    [Q_USER_BY_ID] = {"user_by_id",
        "SELECT id, email, status, role, display_name, created_at, "
        "last_login_at FROM users WHERE id = $1",
        1, false},
    [Q_USER_LOGGED_IN] = {"user_logged_in",
        "UPDATE users SET last_login_at = now(), "
        "password_hash = coalesce($2, password_hash) WHERE id = $1",
        2, false},
    [Q_USER_STATUS] = {"user_status",
        "SELECT status, role, email FROM users WHERE id = $1", 1, false},
    [Q_REFRESH_INSERT] = {"refresh_insert",
        "INSERT INTO refresh_tokens (user_id, token_hash, family_id, "
        "expires_at) VALUES ($1, $2::bytea, gen_random_uuid(), "
        "now() + make_interval(secs => $3::bigint)) RETURNING family_id",
        3, false},
    /* Spending and issuing in one statement: both or neither. The
     * partial unique index on parent_id makes a second spend of the same
     * token fail even when two race. First-party tokens only: an OAuth
     * client's (client_id set) rotate through Q_OAUTH_REFRESH_ROTATE. */
    [Q_REFRESH_ROTATE] = {"refresh_rotate",
        "WITH spent AS (UPDATE refresh_tokens t SET used_at = now() "
        "FROM users u WHERE t.token_hash = $1::bytea AND t.used_at IS NULL "
        "AND t.revoked_at IS NULL AND t.expires_at > now() "
        "AND t.client_id IS NULL "
        "AND u.id = t.user_id AND u.status = 'active' "
        "RETURNING t.id, t.user_id, t.family_id, u.email, u.role) "
        "INSERT INTO refresh_tokens (user_id, token_hash, family_id, "
        "parent_id, expires_at) SELECT user_id, $2::bytea, family_id, id, "
        "now() + make_interval(secs => $3::bigint) FROM spent "
        "RETURNING user_id, (SELECT email FROM spent), "
        "(SELECT role FROM spent), family_id",
        3, false},
    [Q_REFRESH_LOOKUP] = {"refresh_lookup",
        "SELECT t.user_id, t.family_id, t.used_at IS NOT NULL, "
        "t.revoked_at IS NOT NULL, t.expires_at <= now(), u.status, "
        "t.client_id FROM refresh_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.token_hash = $1::bytea",
        1, false},
    [Q_REFRESH_REVOKE_FAM] = {"refresh_revoke_family",
        "UPDATE refresh_tokens SET revoked_at = now() "
        "WHERE family_id = $1 AND revoked_at IS NULL",
        1, false},
    [Q_REFRESH_OWNER_FAM] = {"refresh_owner_family",
        "SELECT family_id FROM refresh_tokens "
        "WHERE token_hash = $1::bytea AND user_id = $2",
        2, false},
    [Q_JTI_REVOKE] = {"jti_revoke",
        "INSERT INTO revoked_tokens (jti, user_id, expires_at) "
        "VALUES ($1, $2, to_timestamp($3::bigint)) ON CONFLICT DO NOTHING",
        3, false},
    [Q_JTI_CHECK] = {"jti_check", "SELECT 1 FROM revoked_tokens WHERE jti = $1",
        1, false},
    [Q_JTI_ACTIVE] = {"jti_active",
        "SELECT jti, extract(epoch FROM expires_at)::bigint "
        "FROM revoked_tokens WHERE expires_at > now() "
        "ORDER BY expires_at DESC LIMIT 10000",
        0, false},
    [Q_APIKEY_INSERT] = {"apikey_insert",
        "INSERT INTO api_keys (user_id, name, key_hash, key_prefix, tier, "
        "expires_at) VALUES ($1, $2, $3::bytea, $4, $5, CASE WHEN "
        "$6::bigint > 0 THEN now() + make_interval(secs => $6::bigint) END) "
        "RETURNING id, created_at, expires_at",
        6, false},
    [Q_APIKEY_AUTH] = {"apikey_auth",
        "SELECT k.id, k.user_id, k.tier, "
        "extract(epoch FROM k.created_at)::bigint, "
        "coalesce(extract(epoch FROM k.expires_at)::bigint, 0), "
        "k.revoked_at IS NOT NULL, k.quota_window, k.quota_used, u.email, "
        "u.status, u.role FROM api_keys k JOIN users u ON u.id = k.user_id "
        "WHERE k.key_hash = $1::bytea",
        1, false},
    [Q_APIKEY_LIST] = {"apikey_list",
        "SELECT id, name, key_prefix, tier, created_at, expires_at, "
        "revoked_at, last_used_at FROM api_keys WHERE user_id = $1 "
        "ORDER BY created_at DESC, id LIMIT 200",
        1, false},
    [Q_APIKEY_REVOKE] = {"apikey_revoke",
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
        "WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2) "
        "RETURNING id, user_id, key_prefix, revoked_at",
        2, false},
    [Q_APIKEY_TOUCH] = {"apikey_touch",
        "UPDATE api_keys SET last_used_at = greatest(last_used_at, "
        "to_timestamp($2::bigint)), quota_used = CASE WHEN quota_window = "
        "$3::bigint THEN quota_used + $4::bigint ELSE $4::bigint END, "
        "quota_window = $3::bigint WHERE id = $1 AND quota_window <= "
        "$3::bigint",
        4, false},
    [Q_APIKEY_COUNT] = {"apikey_count",
        "SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at "
        "IS NULL AND (expires_at IS NULL OR expires_at > now())",
        1, false},
    [Q_AUDIT_INSERT] = {"audit_insert",
        "INSERT INTO audit_log (action, outcome, reason, user_id, actor_id, "
        "client_addr, user_agent, details) VALUES ($1, $2, $3, $4, $5, "
        "$6::inet, $7, coalesce($8::jsonb, '{}'))",
        8, false},
    /* The admin API: $1 a status or NULL for all, $2 limit, $3 offset. */
    [Q_ADMIN_USER_LIST] = {"admin_user_list",
        "SELECT id, email, display_name, status, role, created_at, "
        "last_login_at FROM users WHERE $1::text IS NULL OR status = $1 "
        "ORDER BY created_at DESC, id DESC LIMIT $2::integer "
        "OFFSET $3::bigint",
        3, false},
    /* Set user $1's status to $2 when it is one of $3 (comma-separated)
     * and the user is no super_admin unless $4; with $5 also revoke
     * every refresh token of the user (suspend), in the same statement.
     * The last column counts the families revoked. */
    [Q_ADMIN_USER_STATUS] = {"admin_user_status",
        "WITH u AS (UPDATE users SET status = $2, updated_at = now() "
        "WHERE id = $1 AND status = ANY (string_to_array($3, ',')) "
        "AND (role <> 'super_admin' OR $4::boolean) RETURNING id, email, "
        "display_name, status, role, created_at, last_login_at), "
        "r AS (UPDATE refresh_tokens t SET revoked_at = now() FROM u "
        "WHERE $5::boolean AND t.user_id = u.id AND t.revoked_at IS NULL "
        "AND t.expires_at > now() RETURNING t.family_id) "
        "SELECT id, email, display_name, status, role, created_at, "
        "last_login_at, (SELECT count(DISTINCT family_id) FROM r) FROM u",
        5, false},
    /* $1 user or NULL, $2 action or NULL, $3 the id of the row to page
     * back from or NULL, $4 limit. Newest first as the indexes run. */
    [Q_ADMIN_AUDIT_LIST] = {"admin_audit_list",
        "SELECT a.id, a.created_at, a.action, a.outcome, a.reason, "
        "a.user_id, a.actor_id, host(a.client_addr), a.user_agent, "
        "a.details FROM audit_log a WHERE ($1::uuid IS NULL OR "
        "a.user_id = $1) AND ($2::text IS NULL OR a.action = $2) AND "
        "($3::bigint IS NULL OR (a.created_at, a.id) < (SELECT b.created_at, "
        "b.id FROM audit_log b WHERE b.id = $3)) "
        "ORDER BY a.created_at DESC, a.id DESC LIMIT $4::integer",
        4, false},
    /* The first admin: claim admin_setup's only row and create the
     * super_admin only while no admin exists, in one statement, so of two
     * set-ups racing one waits on the other's row and creates nothing.
     * An email taken by another user fails the whole statement (unique
     * violation), so the set-up stays open. */
    [Q_ADMIN_SETUP] = {"admin_setup",
        "WITH vacant AS (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM users "
        "WHERE role IN ('admin', 'super_admin'))), "
        "claim AS (INSERT INTO admin_setup (id) SELECT 1 FROM vacant "
        "ON CONFLICT DO NOTHING RETURNING id) "
        "INSERT INTO users (email, password_hash, status, role) "
        "SELECT $1, $2, 'active', 'super_admin' FROM claim "
        "RETURNING id, email, status, role, display_name, created_at",
        2, false},
    /* MCP (worker/mcp/). $1 the session id's SHA-256, $2 user or NULL,
     * $3 version, $4 client name, $5 client version, $6 capabilities,
     * $7 the idle timeout in seconds (for the sweep). */
    [Q_MCP_SESSION_NEW] = {"mcp_session_new",
        "WITH sweep AS (DELETE FROM mcp_sessions WHERE id_hash IN "
        "(SELECT id_hash FROM mcp_sessions WHERE ended_at IS NOT NULL OR "
        "last_seen < now() - make_interval(secs => $7::float8) LIMIT 100)) "
        "INSERT INTO mcp_sessions (id_hash, user_id, protocol_version, "
        "client_name, client_version, client_caps) "
        "VALUES ($1, $2::uuid, $3, $4, $5, $6::integer)",
        7, false},
    /* A session is usable by its own caller only (NULL for anonymous),
     * while not ended and not idle past $3 seconds. A use moves
     * last_seen only when it is older than $4 seconds: most requests
     * then write nothing, which spares a WAL flush per request. */
    [Q_MCP_SESSION_USE] = {"mcp_session_use",
        "WITH s AS (SELECT id_hash, protocol_version, client_caps, "
        "log_level, last_seen FROM mcp_sessions WHERE id_hash = $1 AND "
        "user_id IS NOT DISTINCT FROM $2::uuid AND ended_at IS NULL AND "
        "last_seen > now() - make_interval(secs => $3::float8)), "
        "touch AS (UPDATE mcp_sessions m SET last_seen = now() FROM s "
        "WHERE m.id_hash = s.id_hash AND "
        "s.last_seen < now() - make_interval(secs => $4::float8)) "
        "SELECT protocol_version, client_caps, log_level FROM s",
        4, false},
    [Q_MCP_SESSION_END] = {"mcp_session_end",
        "UPDATE mcp_sessions SET ended_at = now() WHERE id_hash = $1 AND "
        "user_id IS NOT DISTINCT FROM $2::uuid AND ended_at IS NULL "
        "RETURNING 1",
        2, false},
    [Q_MCP_SESSION_LEVEL] = {"mcp_session_level",
        "UPDATE mcp_sessions SET log_level = $2 WHERE id_hash = $1", 2, false},
    /* $3 true: subscribe to $2; false: unsubscribe. */
    [Q_MCP_SESSION_SUB] = {"mcp_session_sub",
        "UPDATE mcp_sessions SET subscriptions = CASE WHEN $3::boolean "
        "THEN array_append(array_remove(subscriptions, $2), $2) "
        "ELSE array_remove(subscriptions, $2) END WHERE id_hash = $1",
        3, false},
    [Q_MCP_WAIT_ADD] = {"mcp_wait_add",
        "INSERT INTO mcp_waits (session_hash, request_id, method) "
        "VALUES ($1, $2, $3)",
        3, false},
    /* The notification carries the request id; it is sent at commit. */
    [Q_MCP_WAIT_ANSWER] = {"mcp_wait_answer",
        "UPDATE mcp_waits SET answer = $3, answered_at = now() "
        "WHERE session_hash = $1 AND request_id = $2 AND answer IS NULL "
        "RETURNING pg_notify('pacer_mcp', request_id)",
        3, false},
    [Q_MCP_WAIT_TAKE] = {"mcp_wait_take",
        "DELETE FROM mcp_waits WHERE session_hash = $1 AND request_id = $2 "
        "AND answer IS NOT NULL RETURNING answer",
        2, false},
    [Q_MCP_WAIT_DROP] = {"mcp_wait_drop",
        "DELETE FROM mcp_waits WHERE session_hash = $1 AND request_id = $2", 2,
        false},
    [Q_MCP_LISTEN] = {"mcp_listen", "LISTEN pacer_mcp", 0, false},
    [Q_MCP_UNLISTEN] = {"mcp_unlisten", "UNLISTEN pacer_mcp", 0, false},
    [Q_MCP_CANCEL] = {"mcp_cancel", "SELECT pg_notify('pacer_mcp', $1)", 1,
        false},
    /* OAuth for MCP clients (worker/oauth/). Arrays travel as JSON text.
     * $1 name, $2 redirect_uris, $3 grant_types, $4 auth method, $5
     * secret hash or NULL, $6 owner or NULL, $7 scope. */
    [Q_OAUTH_CLIENT_INSERT] = {"oauth_client_insert",
        "INSERT INTO oauth_clients (client_name, redirect_uris, grant_types, "
        "auth_method, secret_hash, owner_id, scope) VALUES ($1, "
        "ARRAY(SELECT jsonb_array_elements_text($2::jsonb)), "
        "ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4, $5::bytea, "
        "$6::uuid, $7) RETURNING id, extract(epoch FROM created_at)::bigint",
        7, false},
    [Q_OAUTH_CLIENT_GET] = {"oauth_client_get",
        "SELECT c.client_name, array_to_json(c.redirect_uris)::text, "
        "array_to_string(c.grant_types, ' '), c.auth_method, "
        "coalesce(encode(c.secret_hash, 'hex'), ''), c.owner_id, u.email, "
        "u.role, u.status FROM oauth_clients c LEFT JOIN users u "
        "ON u.id = c.owner_id WHERE c.id = $1::uuid",
        1, false},
    /* $1 hash, $2 client, $3 user, $4 redirect_uri, $5 whether the
     * request named it, $6 challenge, $7 scope, $8 resource, $9 seconds
     * to live. Records (or renews) the user's consent in the same
     * statement. */
    [Q_OAUTH_CODE_INSERT] = {"oauth_code_insert",
        "WITH sweep AS (DELETE FROM oauth_codes WHERE code_hash IN "
        "(SELECT code_hash FROM oauth_codes WHERE expires_at < "
        "now() - interval '1 day' LIMIT 100)), "
        "consent AS (INSERT INTO oauth_consents (user_id, client_id, scope) "
        "VALUES ($3::uuid, $2::uuid, $7) ON CONFLICT (user_id, client_id) "
        "DO UPDATE SET scope = EXCLUDED.scope, updated_at = now()) "
        "INSERT INTO oauth_codes (code_hash, client_id, user_id, "
        "redirect_uri, redirect_uri_sent, code_challenge, scope, resource, "
        "expires_at) VALUES ($1::bytea, $2::uuid, $3::uuid, $4, $5::boolean, "
        "$6, $7, $8, now() + make_interval(secs => $9::bigint))",
        9, false},
    /* $1 hash, $2 the client presenting it, $3 and $4 the jti and expiry
     * (unix seconds) of the access token about to be issued from it. */
    [Q_OAUTH_CODE_CLAIM] = {"oauth_code_claim",
        "UPDATE oauth_codes c SET used_at = now(), access_jti = $3, "
        "access_exp = to_timestamp($4::bigint) FROM users u "
        "WHERE c.code_hash = $1::bytea AND c.client_id = $2::uuid "
        "AND c.used_at IS NULL AND c.expires_at > now() AND u.id = c.user_id "
        "RETURNING c.user_id, u.email, u.role, u.status, c.redirect_uri, "
        "c.redirect_uri_sent, c.code_challenge, c.scope, c.resource, "
        "c.family_id",
        4, false},
    [Q_OAUTH_CODE_LOOKUP] = {"oauth_code_lookup",
        "SELECT client_id, user_id, used_at IS NOT NULL, expires_at <= now(), "
        "family_id, coalesce(access_jti, ''), "
        "coalesce(extract(epoch FROM access_exp)::bigint, 0) "
        "FROM oauth_codes WHERE code_hash = $1::bytea",
        1, false},
    /* $1 user, $2 hash, $3 seconds to live, $4 family, $5 client, $6
     * resource, $7 scope. */
    [Q_OAUTH_REFRESH_INSERT] = {"oauth_refresh_insert",
        "INSERT INTO refresh_tokens (user_id, token_hash, family_id, "
        "expires_at, client_id, resource, scope) VALUES ($1::uuid, $2::bytea, "
        "$4::uuid, now() + make_interval(secs => $3::bigint), $5::uuid, $6, "
        "$7)",
        7, false},
    /* As Q_REFRESH_ROTATE, for the tokens of client $4 only. */
    [Q_OAUTH_REFRESH_ROTATE] = {"oauth_refresh_rotate",
        "WITH spent AS (UPDATE refresh_tokens t SET used_at = now() "
        "FROM users u WHERE t.token_hash = $1::bytea AND t.client_id = "
        "$4::uuid AND t.used_at IS NULL AND t.revoked_at IS NULL "
        "AND t.expires_at > now() AND u.id = t.user_id "
        "AND u.status = 'active' RETURNING t.id, t.user_id, t.family_id, "
        "t.client_id, t.resource, t.scope, u.email, u.role) "
        "INSERT INTO refresh_tokens (user_id, token_hash, family_id, "
        "parent_id, expires_at, client_id, resource, scope) "
        "SELECT user_id, $2::bytea, family_id, id, now() + "
        "make_interval(secs => $3::bigint), client_id, resource, scope "
        "FROM spent RETURNING user_id, (SELECT email FROM spent), "
        "(SELECT role FROM spent), resource, scope",
        4, false},
    [Q_OAUTH_SESSION_INSERT] = {"oauth_session_insert",
        "WITH sweep AS (DELETE FROM oauth_sessions WHERE session_hash IN "
        "(SELECT session_hash FROM oauth_sessions WHERE expires_at < now() "
        "LIMIT 100)) INSERT INTO oauth_sessions (session_hash, user_id, "
        "expires_at) VALUES ($1::bytea, $2::uuid, "
        "now() + make_interval(secs => $3::bigint))",
        3, false},
    /* $1 the session's hash, $2 the client asking: the user and whether
     * they allowed that client before. */
    [Q_OAUTH_SESSION_GET] = {"oauth_session_get",
        "SELECT u.id, u.email, u.role, u.status, EXISTS (SELECT 1 FROM "
        "oauth_consents k WHERE k.user_id = u.id AND k.client_id = $2::uuid) "
        "FROM oauth_sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.session_hash = $1::bytea AND s.expires_at > now() "
        "AND s.revoked_at IS NULL",
        2, false},
};
