-- The mailer waits on LISTEN email_outbox; every queued message wakes it
-- (delivered when the inserting transaction commits).
CREATE FUNCTION email_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('email_outbox', NEW.id::text);
	RETURN NEW;
END;
$$;
CREATE TRIGGER email_outbox_inserted AFTER INSERT ON email_outbox
    FOR EACH ROW EXECUTE FUNCTION email_outbox_notify();
