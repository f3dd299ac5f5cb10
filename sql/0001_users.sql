-- 0001_users.sql - accounts (issue 5, identity).
--
-- One row per account. The email is unique without regard to case (a
-- unique index on lower(email), so no extension is needed); it is stored
-- as given. password_hash is a PHC string ($scrypt$ln=...$salt$hash), so
-- the cost parameters travel with each hash and can rise later. A user
-- starts pending unless auto_approve_users; only active users get tokens.
CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL
        CONSTRAINT users_email_check
        CHECK (length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
    password_hash text NOT NULL
        CONSTRAINT users_password_hash_check
        CHECK (password_hash ~ '^\$[a-z0-9-]+\$'),
    display_name text
        CONSTRAINT users_display_name_check
        CHECK (length(display_name) <= 200),
    status text NOT NULL DEFAULT 'pending'
        CONSTRAINT users_status_check
        CHECK (status IN ('pending', 'active', 'suspended')),
    role text NOT NULL DEFAULT 'user'
        CONSTRAINT users_role_check
        CHECK (role IN ('user', 'admin', 'super_admin')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower_key
    ON users (lower(email));

-- The admin list: users by status, newest first.
CREATE INDEX IF NOT EXISTS users_status_created_idx
    ON users (status, created_at DESC);
