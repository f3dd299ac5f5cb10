-- 0004_refresh_tokens.sql - rotating, single-use refresh tokens (issue 5).
--
-- Only the SHA-256 of a token is kept. Each refresh spends a token
-- (used_at) and issues its child (parent_id) in the same family; a token
-- has at most one child, so two refreshes racing with one token cannot
-- both succeed. Presenting a spent token revokes its whole family.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL
        CONSTRAINT refresh_tokens_user_id_fkey
        REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL
        CONSTRAINT refresh_tokens_token_hash_key UNIQUE
        CONSTRAINT refresh_tokens_token_hash_check
        CHECK (length(token_hash) = 32),
    family_id uuid NOT NULL,
    parent_id uuid
        CONSTRAINT refresh_tokens_parent_id_fkey
        REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT refresh_tokens_expires_check CHECK (expires_at > created_at)
);

CREATE UNIQUE INDEX IF NOT EXISTS refresh_tokens_parent_key
    ON refresh_tokens (parent_id) WHERE parent_id IS NOT NULL;

-- Revoking a family; a user's sessions; purging expired tokens.
CREATE INDEX IF NOT EXISTS refresh_tokens_family_idx
    ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_user_idx
    ON refresh_tokens (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS refresh_tokens_expires_idx
    ON refresh_tokens (expires_at);
