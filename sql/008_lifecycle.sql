-- Account lifecycle (issue 16): email changes waiting for their link,
-- the devices an account has signed in from, and the outbox's lookup of
-- a recent notice (one per kind and address per AUTH_NOTICE_INTERVAL).

-- A change of address happens when the link sent to the new address is
-- confirmed. Only the link token's SHA-256 is stored; session_id is the
-- session that asked (it survives the change, the user's others end).
CREATE TABLE email_changes (
	token_hash	text PRIMARY KEY,
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	new_email	text NOT NULL CHECK (length(new_email) <= 254),
	session_id	uuid NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz NULL
);
CREATE INDEX email_changes_user ON email_changes (user_id);

-- A device is the keyed hash of its device cookie, or, for a client
-- without cookies, of its user agent and address prefix (docs/security-mail).
CREATE TABLE known_devices (
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	device_hash	text NOT NULL,
	first_seen	timestamptz NOT NULL DEFAULT now(),
	last_seen	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, device_hash)
);
CREATE INDEX known_devices_user_seen ON known_devices (user_id, last_seen);

CREATE INDEX email_outbox_recent ON email_outbox (lower(to_addr), kind, created_at);
