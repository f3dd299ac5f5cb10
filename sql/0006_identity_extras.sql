-- 0006_identity_extras.sql - what identity (issue 5) needs beyond the
-- first tables: revoked access tokens, API-key quota bookkeeping and the
-- one-time admin set-up.
--
-- revoked_tokens: the jti of every access token revoked before it expired
-- (logout). Redis holds the same set for the fast check; this table is
-- the truth it falls back to and is rebuilt from. A row is useless once
-- expires_at has passed (the token is refused as expired anyway).
CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti text PRIMARY KEY
        CONSTRAINT revoked_tokens_jti_check
        CHECK (jti ~ '^[A-Za-z0-9_-]{16,64}$'),
    user_id uuid
        CONSTRAINT revoked_tokens_user_id_fkey
        REFERENCES users (id) ON DELETE CASCADE,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS revoked_tokens_expires_idx
    ON revoked_tokens (expires_at);

-- An API key's use of its 30-day quota, as last written back by the
-- workers (Redis counts between write-backs): quota_window is the index
-- of the 30-day window since the key's creation, quota_used the requests
-- counted in it.
ALTER TABLE api_keys
    ADD COLUMN IF NOT EXISTS quota_window bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS quota_used bigint NOT NULL DEFAULT 0;

-- POST /admin/setup works once, while no admin exists: the row with id 1
-- is inserted in the same statement that creates the first admin, so two
-- set-ups racing cannot both succeed.
CREATE TABLE IF NOT EXISTS admin_setup (
    id integer PRIMARY KEY
        CONSTRAINT admin_setup_id_check CHECK (id = 1),
    done_at timestamptz NOT NULL DEFAULT now()
);
