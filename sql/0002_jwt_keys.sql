-- 0002_jwt_keys.sql - the keys that sign access tokens (issue 5).
--
-- secret_enc is the HS256 secret or the RS256 private key, encrypted with
-- AES-256-GCM under the master key (ciphertext followed by the 16-byte
-- tag), with its own random 96-bit nonce; the associated data binds it to
-- its kid. public_key is the RS256 public half (PEM) that
-- /.well-known/jwks.json serves. A key signs while it is the newest one
-- not retired, and verifies until retired_at.
CREATE TABLE IF NOT EXISTS jwt_keys (
    kid text PRIMARY KEY
        CONSTRAINT jwt_keys_kid_check
        CHECK (kid ~ '^[A-Za-z0-9_-]{8,64}$'),
    alg text NOT NULL
        CONSTRAINT jwt_keys_alg_check
        CHECK (alg IN ('HS256', 'RS256')),
    secret_enc bytea NOT NULL
        CONSTRAINT jwt_keys_secret_enc_check
        CHECK (length(secret_enc) > 16),
    nonce bytea NOT NULL
        CONSTRAINT jwt_keys_nonce_check
        CHECK (length(nonce) = 12),
    public_key text,
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz,
    CONSTRAINT jwt_keys_retired_check
        CHECK (retired_at IS NULL OR retired_at >= created_at)
);

-- The signing key: the newest one not retired.
CREATE INDEX IF NOT EXISTS jwt_keys_live_idx
    ON jwt_keys (created_at DESC) WHERE retired_at IS NULL;
