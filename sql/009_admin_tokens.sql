-- Administration and personal access tokens (issue 17).

-- A disabled account cannot sign in (403 account_disabled after the
-- password check); disabling it ended every session and token it had.
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN last_login_at timestamptz NULL;

-- The admin search: q matches username or email, case-insensitively,
-- anywhere in them (trigram indexes: fast at a million users); pages
-- follow lower(username), which users_username_key indexes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_username_trgm ON users USING gin (lower(username) gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);
CREATE INDEX users_admins ON users (id) WHERE role = 'admin' AND NOT disabled;

-- Who did it: an admin's user id, "cli" for the operator's command
-- line, NULL for the user themself.
ALTER TABLE audit_log ADD COLUMN actor text NULL;

-- Personal access tokens: only the SHA-256 of the token is stored.
CREATE TABLE personal_access_tokens (
	id		uuid PRIMARY KEY,
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash	text NOT NULL UNIQUE,
	name		text NOT NULL,
	scopes		text[] NOT NULL DEFAULT '{}',
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	last_used_at	timestamptz NULL,
	revoked_at	timestamptz NULL
);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id, created_at)
    WHERE revoked_at IS NULL;
