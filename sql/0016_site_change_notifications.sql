-- 0016: every change to the sites table is announced, in the changing transaction, on the
-- channel `payments_service_sites` (payload: the site's id; '' for a TRUNCATE). Each API
-- process keeps the active sites' JWT secrets and the tokens it verified in memory
-- (payments_service/auth_cache.py) and forgets them when it hears this, so a rotation, the
-- end of one, a deactivation or a new site is honoured at once by every process, whoever
-- made the change (the CLI, an operator's psql, a restore).
--
-- A trigger rather than a NOTIFY next to each UPDATE in db/sites.py: no writer can forget
-- it. pg_notify is transactional: a change that rolls back announces nothing, and one that
-- commits is heard after the commit. Sites have no `mode` (0011: a site works in both), and
-- neither does this announcement: it concerns the site in every mode.

CREATE FUNCTION notify_site_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('payments_service_sites', '');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('payments_service_sites', OLD.id);
    ELSE
        PERFORM pg_notify('payments_service_sites', NEW.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sites_announce_change AFTER INSERT OR UPDATE OR DELETE ON sites
    FOR EACH ROW EXECUTE FUNCTION notify_site_change();
CREATE TRIGGER sites_announce_truncate AFTER TRUNCATE ON sites
    FOR EACH STATEMENT EXECUTE FUNCTION notify_site_change();
