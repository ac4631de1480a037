-- Notifications from payments_service this site has applied: one row per event id,
-- inserted in the same transaction as the access change it made (pgDedupe does this).
CREATE TABLE IF NOT EXISTS payments_events_applied (
    event_id text PRIMARY KEY,
    event_type text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
