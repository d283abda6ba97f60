-- Passkeys (WebAuthn Level 2, issue 15). A passkey's public key is the
-- COSE key of its registration as a DER SubjectPublicKeyInfo (base64url;
-- not a secret). sign_count is the authenticator's signature counter:
-- one that does not increase (when either is non-zero) is refused.
CREATE TABLE passkeys (
	id		uuid PRIMARY KEY,
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id	text NOT NULL UNIQUE,
	public_key	text NOT NULL,
	alg		integer NOT NULL CHECK (alg IN (-7, -8, -257)),
	sign_count	bigint NOT NULL DEFAULT 0,
	backup_eligible	boolean NOT NULL,
	backup_state	boolean NOT NULL,
	name		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_used_at	timestamptz NULL
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);
-- Every challenge is single use, 5 minutes, stored as SHA-256. A
-- registration's belongs to its user; a second factor's to its login
-- ticket (the mfa_token's hash).
CREATE TABLE webauthn_challenges (
	challenge_hash	text PRIMARY KEY,
	purpose		text NOT NULL CHECK (purpose IN ('register', 'login', 'mfa')),
	user_id		uuid NULL REFERENCES users (id) ON DELETE CASCADE,
	ticket_hash	text NULL,
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz NULL
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);
