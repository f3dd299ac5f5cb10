-- 0008_mcp.sql - MCP sessions and the server-to-client requests a tool
-- call waits on (issue 6).
--
-- mcp_sessions: one row per Mcp-Session-Id. The id itself is never
-- stored, only its SHA-256, so a database dump cannot resume anyone's
-- session. user_id is NULL for an anonymous session (the conformance
-- fixtures only); a session is usable only by the user who made it.
-- A session ends at DELETE /mcp (ended_at) or after mcp_session_idle_timeout
-- without a request (last_seen); ended and expired rows are swept when
-- new sessions start.
CREATE TABLE IF NOT EXISTS mcp_sessions (
    id_hash bytea PRIMARY KEY
        CONSTRAINT mcp_sessions_id_hash_check CHECK (length(id_hash) = 32),
    user_id uuid
        CONSTRAINT mcp_sessions_user_id_fkey
        REFERENCES users (id) ON DELETE CASCADE,
    protocol_version text NOT NULL,
    client_name text NOT NULL DEFAULT '',
    client_version text NOT NULL DEFAULT '',
    -- 1 sampling, 2 elicitation, 4 roots (declared at initialize)
    client_caps integer NOT NULL DEFAULT 0,
    log_level text NOT NULL DEFAULT 'info',
    subscriptions text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz
);

CREATE INDEX IF NOT EXISTS mcp_sessions_last_seen_idx
    ON mcp_sessions (last_seen);

-- mcp_waits: a request a tool sent to its client (sampling, elicitation)
-- and is waiting on. The client's answer comes in another POST, perhaps
-- to another worker or node: that worker writes answer here and sends
-- NOTIFY pacer_mcp with the request id; the waiting worker LISTENs,
-- takes the row and deletes it. A row left by a worker that died is
-- swept with its session.
CREATE TABLE IF NOT EXISTS mcp_waits (
    session_hash bytea NOT NULL
        CONSTRAINT mcp_waits_session_fkey
        REFERENCES mcp_sessions (id_hash) ON DELETE CASCADE,
    request_id text NOT NULL,
    method text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    answer text,
    answered_at timestamptz,
    PRIMARY KEY (session_hash, request_id)
);
