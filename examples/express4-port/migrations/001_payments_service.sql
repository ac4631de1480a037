-- Moving onto payments_service. SKUs are merchant-wide: use the code your other site uses.
ALTER TABLE courses ADD COLUMN sku VARCHAR(64) UNIQUE;
UPDATE courses SET sku = trim(both '-' from lower(regexp_replace(name, '[^A-Za-z0-9]+', '-', 'g')));
ALTER TABLE course_enrollments ALTER COLUMN order_id DROP NOT NULL; -- bought on another site
CREATE INDEX idx_users_email_lower ON users (lower(email)); -- buyers are matched by email
CREATE TABLE payments_events_applied (event_id text PRIMARY KEY, event_type text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
