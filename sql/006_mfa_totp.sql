-- Second factors (issue 15), TOTP first. The secret is kept sealed
-- under the data key (AUTH_DATA_KEY_FILE, label "fcgi-auth totp secret",
-- the user id as associated data): a copy of the database cannot make
-- codes. last_step is the last accepted time step: a code is accepted
-- once, and never one older than the last.
CREATE TABLE mfa_totp (
	user_id		uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	secret_sealed	text NOT NULL,
	confirmed_at	timestamptz NULL,
	last_step	bigint NOT NULL DEFAULT 0,
	created_at	timestamptz NOT NULL DEFAULT now()
);
-- Recovery codes: HMAC-SHA256 under a subkey of the data key, so a copy
-- of the database cannot test guesses offline; each is single use.
CREATE TABLE mfa_recovery_codes (
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash	text NOT NULL,
	used_at		timestamptz NULL,
	PRIMARY KEY (user_id, code_hash)
);
-- The mfa_token of a login that passed the password and waits for the
-- second factor: only its SHA-256 is stored; 5 minutes, single use, at
-- most 5 wrong codes.
CREATE TABLE mfa_tickets (
	token_hash	text PRIMARY KEY,
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	failures	integer NOT NULL DEFAULT 0,
	used_at		timestamptz NULL
);
CREATE INDEX mfa_tickets_expiry ON mfa_tickets (expires_at);
