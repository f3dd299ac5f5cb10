-- 0003_api_keys.sql - API keys (issue 5).
--
-- A key (pk_live_ or pk_trial_ and 32 base62 characters) is shown once;
-- only its SHA-256 (key_hash, looked up on every request) and a display
-- prefix are kept. A trial key always expires. last_used_at is refreshed
-- now and then, not on every request.
CREATE TABLE IF NOT EXISTS api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL
        CONSTRAINT api_keys_user_id_fkey
        REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL DEFAULT ''
        CONSTRAINT api_keys_name_check
        CHECK (length(name) <= 100),
    key_hash bytea NOT NULL
        CONSTRAINT api_keys_key_hash_key UNIQUE
        CONSTRAINT api_keys_key_hash_check
        CHECK (length(key_hash) = 32),
    key_prefix text NOT NULL
        CONSTRAINT api_keys_key_prefix_check
        CHECK (key_prefix ~ '^pk_(live|trial)_[0-9A-Za-z]{0,16}$'),
    tier text NOT NULL
        CONSTRAINT api_keys_tier_check
        CHECK (tier IN ('trial', 'starter', 'professional', 'enterprise')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz,
    CONSTRAINT api_keys_expires_check
        CHECK (expires_at IS NULL OR expires_at > created_at),
    CONSTRAINT api_keys_trial_expires_check
        CHECK (tier <> 'trial' OR expires_at IS NOT NULL)
);

-- A user's keys, newest first.
CREATE INDEX IF NOT EXISTS api_keys_user_idx
    ON api_keys (user_id, created_at DESC);
