-- fcgi-auth schema, version 1. Never edit a shipped migration: add a new one.

CREATE TABLE users (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	username		text NOT NULL CHECK (length(username) BETWEEN 3 AND 32),
	email			text NOT NULL CHECK (length(email) <= 254),
	password_hash		text NOT NULL,
	display_name		text NOT NULL DEFAULT '',
	avatar_url		text NOT NULL DEFAULT '',
	role			text NOT NULL DEFAULT 'user'
				    CHECK (role IN ('user', 'admin')),
	email_verified		boolean NOT NULL DEFAULT false,
	-- SHA-256 (hex) of the current password-reset token and its expiry;
	-- both NULL when no reset is pending (seed 001).
	reset_token		text NULL,
	reset_token_expire	timestamptz NULL,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_reset_token_key ON users (reset_token)
    WHERE reset_token IS NOT NULL;

CREATE TABLE sessions (
	id			uuid PRIMARY KEY,
	user_id			uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at		timestamptz NOT NULL DEFAULT now(),
	last_used_at		timestamptz NOT NULL DEFAULT now(),
	idle_expires_at		timestamptz NOT NULL,
	absolute_expires_at	timestamptz NOT NULL,
	ip			text NOT NULL DEFAULT '',
	user_agent		text NOT NULL DEFAULT '',
	revoked_at		timestamptz NULL,
	revoke_reason		text NULL
);
CREATE INDEX sessions_user_active ON sessions (user_id, created_at DESC)
    WHERE revoked_at IS NULL;

-- Only hashes of refresh tokens are stored. A token's successor is
-- derived as HMAC-SHA256(token, salt), so a replay within the grace
-- window can be answered with the same successor without storing it.
CREATE TABLE refresh_tokens (
	id			bigserial PRIMARY KEY,
	session_id		uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	token_hash		text NOT NULL UNIQUE,
	salt			text NOT NULL,
	created_at		timestamptz NOT NULL DEFAULT now(),
	rotated_at		timestamptz NULL,
	successor_id		bigint NULL REFERENCES refresh_tokens (id)
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE email_verifications (
	token_hash		text PRIMARY KEY,
	user_id			uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at		timestamptz NOT NULL,
	used_at			timestamptz NULL,
	created_at		timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE email_outbox (
	id			bigserial PRIMARY KEY,
	created_at		timestamptz NOT NULL DEFAULT now(),
	kind			text NOT NULL,
	to_addr			text NOT NULL,
	subject			text NOT NULL,
	body			text NOT NULL,
	attempts		integer NOT NULL DEFAULT 0,
	next_attempt_at		timestamptz NOT NULL DEFAULT now(),
	sent_at			timestamptz NULL,
	failed_at		timestamptz NULL,
	last_error		text NULL
);
CREATE INDEX email_outbox_pending ON email_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE audit_log (
	id			bigserial PRIMARY KEY,
	at			timestamptz NOT NULL DEFAULT now(),
	user_id			uuid NULL,
	ip			text NOT NULL DEFAULT '',
	user_agent		text NOT NULL DEFAULT '',
	event			text NOT NULL,
	outcome			text NOT NULL
);
CREATE INDEX audit_log_user ON audit_log (user_id, at);

-- The audit log is append-only.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
