-- 0005_audit_log.sql - the audit log of authentication and admin events
-- (issue 5).
--
-- One row per event: logins (success and failure, with the reason),
-- registrations, refresh-token reuse, logouts, key creation and
-- revocation, admin actions and rate-limit denials of auth endpoints.
-- Never a password, token or key. user_id is the account concerned and
-- actor_id who acted when that is someone else (an admin); both survive
-- the account's deletion as NULL, so the history stays. The admin API
-- lists by user and by action, newest first.
CREATE TABLE IF NOT EXISTS audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    action text NOT NULL
        CONSTRAINT audit_log_action_check
        CHECK (action ~ '^[a-z][a-z0-9_.]{0,63}$'),
    outcome text NOT NULL
        CONSTRAINT audit_log_outcome_check
        CHECK (outcome IN ('success', 'failure', 'denied')),
    reason text,
    user_id uuid
        CONSTRAINT audit_log_user_id_fkey
        REFERENCES users (id) ON DELETE SET NULL,
    actor_id uuid
        CONSTRAINT audit_log_actor_id_fkey
        REFERENCES users (id) ON DELETE SET NULL,
    client_addr inet,
    user_agent text,
    details jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT audit_log_details_check
        CHECK (jsonb_typeof(details) = 'object')
);

CREATE INDEX IF NOT EXISTS audit_log_created_idx
    ON audit_log (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS audit_log_user_idx
    ON audit_log (user_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS audit_log_action_idx
    ON audit_log (action, created_at DESC, id DESC);
