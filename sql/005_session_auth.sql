-- How and when a session's user signed in, for the forward-auth policy
-- (AUTH_REQUIRE_MFA, AUTH_MAX_AGE) and the access token's amr and
-- auth_time claims (RFC 8176): 'pwd' for a password alone. A session
-- made before this migration signed in with a password when it was
-- created.
ALTER TABLE sessions
    ADD COLUMN amr text NOT NULL DEFAULT 'pwd',
    ADD COLUMN auth_time timestamptz NOT NULL DEFAULT now();
UPDATE sessions SET auth_time = created_at;
