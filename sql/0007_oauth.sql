-- 0007_oauth.sql - the OAuth 2.1 authorization server for MCP clients
-- (issue 6): registered clients, authorization codes, consents, browser
-- sign-in sessions, and which client a refresh token was issued to.
--
-- No secret is stored in the clear: a confidential client's secret, an
-- authorization code and a browser session id are kept as their SHA-256
-- only, like refresh tokens and API keys.

-- oauth_clients: one row per dynamic registration (RFC 7591). Public
-- clients (auth_method 'none') have no secret and no owner; a
-- confidential one has both: it was registered by a signed-in user, and
-- its client_credentials tokens act as that user.
CREATE TABLE IF NOT EXISTS oauth_clients (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_name text NOT NULL DEFAULT ''
        CONSTRAINT oauth_clients_client_name_check
        CHECK (length(client_name) <= 200),
    redirect_uris text[] NOT NULL DEFAULT '{}'
        CONSTRAINT oauth_clients_redirect_uris_check
        CHECK (cardinality(redirect_uris) <= 10),
    grant_types text[] NOT NULL
        CONSTRAINT oauth_clients_grant_types_check
        CHECK (cardinality(grant_types) >= 1 AND grant_types <@
            ARRAY['authorization_code', 'refresh_token',
                  'client_credentials']::text[]),
    auth_method text NOT NULL
        CONSTRAINT oauth_clients_auth_method_check
        CHECK (auth_method IN ('none', 'client_secret_basic',
                               'client_secret_post')),
    secret_hash bytea
        CONSTRAINT oauth_clients_secret_hash_check
        CHECK (length(secret_hash) = 32),
    owner_id uuid
        CONSTRAINT oauth_clients_owner_id_fkey
        REFERENCES users (id) ON DELETE CASCADE,
    scope text NOT NULL DEFAULT 'mcp',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT oauth_clients_secret_check
        CHECK ((auth_method = 'none') = (secret_hash IS NULL)),
    CONSTRAINT oauth_clients_owner_check
        CHECK (secret_hash IS NULL OR owner_id IS NOT NULL)
);

CREATE INDEX IF NOT EXISTS oauth_clients_owner_idx
    ON oauth_clients (owner_id) WHERE owner_id IS NOT NULL;

-- oauth_consents: a user allowed a client (for scope); a later
-- authorization request of that client from the same signed-in browser
-- is answered at once.
CREATE TABLE IF NOT EXISTS oauth_consents (
    user_id uuid NOT NULL
        CONSTRAINT oauth_consents_user_id_fkey
        REFERENCES users (id) ON DELETE CASCADE,
    client_id uuid NOT NULL
        CONSTRAINT oauth_consents_client_id_fkey
        REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scope text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT oauth_consents_pkey PRIMARY KEY (user_id, client_id)
);

-- oauth_codes: authorization codes, single use (used_at is set by the
-- one UPDATE that claims a code) and short-lived (oauth_code_ttl). The
-- refresh family and access token issued from a code are known in
-- advance (family_id, access_jti), so a code presented twice revokes
-- what it gave. Rows are swept a day after they expired.
CREATE TABLE IF NOT EXISTS oauth_codes (
    code_hash bytea PRIMARY KEY
        CONSTRAINT oauth_codes_code_hash_check
        CHECK (length(code_hash) = 32),
    client_id uuid NOT NULL
        CONSTRAINT oauth_codes_client_id_fkey
        REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id uuid NOT NULL
        CONSTRAINT oauth_codes_user_id_fkey
        REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri text NOT NULL,
    redirect_uri_sent boolean NOT NULL,
    code_challenge text NOT NULL
        CONSTRAINT oauth_codes_code_challenge_check
        CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
    scope text NOT NULL,
    resource text NOT NULL,
    family_id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    access_jti text,
    access_exp timestamptz,
    CONSTRAINT oauth_codes_expires_check CHECK (expires_at > created_at)
);

CREATE INDEX IF NOT EXISTS oauth_codes_expires_idx
    ON oauth_codes (expires_at);

-- oauth_sessions: a browser that signed in at /oauth2/authorize (the
-- cookie holds the session id; only its hash is here). Expired rows are
-- swept when new sessions start.
CREATE TABLE IF NOT EXISTS oauth_sessions (
    session_hash bytea PRIMARY KEY
        CONSTRAINT oauth_sessions_session_hash_check
        CHECK (length(session_hash) = 32),
    user_id uuid NOT NULL
        CONSTRAINT oauth_sessions_user_id_fkey
        REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CONSTRAINT oauth_sessions_expires_check CHECK (expires_at > created_at)
);

CREATE INDEX IF NOT EXISTS oauth_sessions_expires_idx
    ON oauth_sessions (expires_at);

-- Refresh tokens of OAuth clients share the rotation and reuse
-- detection of the first-party ones; these columns say whose they are
-- (NULL: first-party), for which resource (the audience of the access
-- tokens they give) and scope.
ALTER TABLE refresh_tokens
    ADD COLUMN IF NOT EXISTS client_id uuid
        CONSTRAINT refresh_tokens_client_id_fkey
        REFERENCES oauth_clients (id) ON DELETE CASCADE,
    ADD COLUMN IF NOT EXISTS resource text,
    ADD COLUMN IF NOT EXISTS scope text;
