-- Refresh-token rotation in one round trip.
--
-- A token's successor is HMAC-SHA256(server secret, token), computed by
-- the service, so a replay within the grace window is answered with the
-- same successor without ever storing a token. The secret lives here, is
-- read once per connection, and is never sent anywhere else.
CREATE TABLE server_secrets (
	name		text PRIMARY KEY,
	secret		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO server_secrets (name, secret) VALUES ('refresh_successor',
    encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
    || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')), 'hex'));

ALTER TABLE refresh_tokens ALTER COLUMN salt SET DEFAULT '';

-- Outcomes: ok (rotated, or the immediately previous token replayed within
-- the grace window: the caller answers with the same successor), unknown
-- (no such token, or it does not belong to the cookie's session),
-- inactive (session revoked or expired), reuse (an older token: the
-- session is revoked). Every call writes its audit row in the same
-- transaction.
CREATE FUNCTION refresh_rotate(p_hash text, p_next_hash text, p_sid uuid,
    p_idle_exp double precision, p_grace double precision, p_ip text,
    p_ua text)
RETURNS TABLE (outcome text, session_id uuid, user_id uuid, email text,
    idle_exp bigint, abs_exp bigint)
LANGUAGE plpgsql AS $$
DECLARE
	rt	refresh_tokens%ROWTYPE;
	s_user	uuid;
	s_email	text;
	s_abs	timestamptz;
	new_id	bigint;
	fresh	boolean;
	v_idle	timestamptz;
BEGIN
	SELECT * INTO rt FROM refresh_tokens r WHERE r.token_hash = p_hash
	    FOR UPDATE;
	IF NOT FOUND OR (p_sid IS NOT NULL AND rt.session_id <> p_sid) THEN
		INSERT INTO audit_log (user_id, ip, user_agent, event, outcome)
		    VALUES (NULL, p_ip, left(p_ua, 512), 'refresh', 'unknown');
		RETURN QUERY SELECT 'unknown'::text, NULL::uuid, NULL::uuid,
		    NULL::text, NULL::bigint, NULL::bigint;
		RETURN;
	END IF;
	SELECT s.user_id, u.email, s.absolute_expires_at
	    INTO s_user, s_email, s_abs
	    FROM sessions s JOIN users u ON u.id = s.user_id
	    WHERE s.id = rt.session_id AND s.revoked_at IS NULL
	    AND s.idle_expires_at > now() AND s.absolute_expires_at > now();
	IF NOT FOUND THEN
		INSERT INTO audit_log (user_id, ip, user_agent, event, outcome)
		    VALUES (NULL, p_ip, left(p_ua, 512), 'refresh',
		    'session_inactive');
		RETURN QUERY SELECT 'inactive'::text, rt.session_id, NULL::uuid,
		    NULL::text, NULL::bigint, NULL::bigint;
		RETURN;
	END IF;
	IF rt.rotated_at IS NULL THEN
		INSERT INTO refresh_tokens (session_id, token_hash)
		    VALUES (rt.session_id, p_next_hash) RETURNING id INTO new_id;
		UPDATE refresh_tokens SET rotated_at = now(), successor_id = new_id
		    WHERE id = rt.id;
	ELSE
		-- A new statement, a new snapshot: a successor committed while
		-- we waited for the row lock is visible here.
		SELECT r2.rotated_at IS NULL INTO fresh FROM refresh_tokens r2
		    WHERE r2.id = rt.successor_id;
		IF NOT (clock_timestamp() - rt.rotated_at <=
		    make_interval(secs => p_grace) AND coalesce(fresh, false)) THEN
			UPDATE sessions SET revoked_at = now(),
			    revoke_reason = 'refresh_reuse'
			    WHERE id = rt.session_id AND revoked_at IS NULL;
			INSERT INTO audit_log (user_id, ip, user_agent, event, outcome)
			    VALUES (s_user, p_ip, left(p_ua, 512), 'refresh',
			    'reuse_detected');
			RETURN QUERY SELECT 'reuse'::text, rt.session_id, s_user,
			    s_email, NULL::bigint,
			    extract(epoch FROM s_abs)::bigint;
			RETURN;
		END IF;
	END IF;
	UPDATE sessions SET last_used_at = now(), idle_expires_at =
	    LEAST(to_timestamp(p_idle_exp), absolute_expires_at)
	    WHERE id = rt.session_id RETURNING idle_expires_at INTO v_idle;
	INSERT INTO audit_log (user_id, ip, user_agent, event, outcome)
	    VALUES (s_user, p_ip, left(p_ua, 512), 'refresh', 'success');
	RETURN QUERY SELECT 'ok'::text, rt.session_id, s_user, s_email,
	    extract(epoch FROM v_idle)::bigint, extract(epoch FROM s_abs)::bigint;
END;
$$;
