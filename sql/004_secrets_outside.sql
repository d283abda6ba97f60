-- The refresh-successor key now derives from the data key
-- (AUTH_DATA_KEY_FILE), a file outside the database: a copy of the
-- database must not be able to compute successors. Its old copy goes.
-- Rotations in flight lose only their 10 s replay grace.
DELETE FROM server_secrets WHERE name = 'refresh_successor';
-- What is waiting in the outbox is sealed from now on; bodies of
-- messages already delivered or given up are wiped.
UPDATE email_outbox SET body = ''
    WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL;
