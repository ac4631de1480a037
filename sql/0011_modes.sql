-- 0011: Razorpay's test and live keys see disjoint data, and so does this service: every
-- row made from Razorpay's data (or leading to it) records the mode of the keys that made
-- it, 'test' or 'live', and is only ever read in that mode. Sites are not: a site works in
-- both modes.
--
-- Rows that exist already were made with the keys in use now: `apply_migrations` sets
-- payments.mode for this transaction to that mode (Settings.mode) and each column takes it
-- as a default just long enough to fill them in. No default remains afterwards, so an
-- insert that forgets the mode fails loudly instead of landing in the wrong one.
--
-- Our ids and Razorpay's ids stay unique across modes (each names one record, whichever
-- mode made it); what a customer owns, an Idempotency-Key, and the ordering of a site's
-- notifications are per mode. Composite foreign keys keep every row in its record's mode.

ALTER TABLE orders ADD COLUMN mode text NOT NULL DEFAULT current_setting('payments.mode')
    CONSTRAINT orders_mode CHECK (mode IN ('test', 'live'));
ALTER TABLE payments ADD COLUMN mode text NOT NULL DEFAULT current_setting('payments.mode')
    CONSTRAINT payments_mode CHECK (mode IN ('test', 'live'));
ALTER TABLE refunds ADD COLUMN mode text NOT NULL DEFAULT current_setting('payments.mode')
    CONSTRAINT refunds_mode CHECK (mode IN ('test', 'live'));
ALTER TABLE enrollments ADD COLUMN mode text NOT NULL DEFAULT current_setting('payments.mode')
    CONSTRAINT enrollments_mode CHECK (mode IN ('test', 'live'));
ALTER TABLE razorpay_events
    ADD COLUMN mode text NOT NULL DEFAULT current_setting('payments.mode')
    CONSTRAINT razorpay_events_mode CHECK (mode IN ('test', 'live'));
ALTER TABLE notifications
    ADD COLUMN mode text NOT NULL DEFAULT current_setting('payments.mode')
    CONSTRAINT notifications_mode CHECK (mode IN ('test', 'live'));
ALTER TABLE order_reservations
    ADD COLUMN mode text NOT NULL DEFAULT current_setting('payments.mode')
    CONSTRAINT order_reservations_mode CHECK (mode IN ('test', 'live'));

ALTER TABLE orders ALTER COLUMN mode DROP DEFAULT;
ALTER TABLE payments ALTER COLUMN mode DROP DEFAULT;
ALTER TABLE refunds ALTER COLUMN mode DROP DEFAULT;
ALTER TABLE enrollments ALTER COLUMN mode DROP DEFAULT;
ALTER TABLE razorpay_events ALTER COLUMN mode DROP DEFAULT;
ALTER TABLE notifications ALTER COLUMN mode DROP DEFAULT;
ALTER TABLE order_reservations ALTER COLUMN mode DROP DEFAULT;

-- A payment, refund, enrollment or event of an order is in the order's mode.
ALTER TABLE orders ADD CONSTRAINT orders_id_mode UNIQUE (id, mode);
ALTER TABLE payments ADD CONSTRAINT payments_id_mode UNIQUE (id, mode);
ALTER TABLE payments ADD CONSTRAINT payments_order_mode
    FOREIGN KEY (order_id, mode) REFERENCES orders (id, mode);
ALTER TABLE refunds ADD CONSTRAINT refunds_order_mode
    FOREIGN KEY (order_id, mode) REFERENCES orders (id, mode);
ALTER TABLE refunds ADD CONSTRAINT refunds_payment_mode
    FOREIGN KEY (payment_id, mode) REFERENCES payments (id, mode);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_order_mode
    FOREIGN KEY (order_id, mode) REFERENCES orders (id, mode);
ALTER TABLE razorpay_events ADD CONSTRAINT razorpay_events_order_mode
    FOREIGN KEY (order_id, mode) REFERENCES orders (id, mode);

-- Idempotency-Keys are per site (or refund scope) per mode.
ALTER TABLE orders DROP CONSTRAINT orders_site_idempotency_key,
    ADD CONSTRAINT orders_site_idempotency_key UNIQUE (site_id, mode, idempotency_key);
ALTER TABLE refunds DROP CONSTRAINT refunds_idempotency_key,
    ADD CONSTRAINT refunds_idempotency_key UNIQUE (idempotency_scope, mode, idempotency_key);
ALTER TABLE order_reservations DROP CONSTRAINT order_reservations_pkey,
    ADD CONSTRAINT order_reservations_pkey PRIMARY KEY (site_id, mode, idempotency_key);

-- A person owns a course once per mode: a test purchase never blocks a live one.
DROP INDEX enrollments_one_active;
CREATE UNIQUE INDEX enrollments_one_active ON enrollments (mode, customer_email, sku)
    WHERE status = 'active';

-- An event about a record of the other mode is stored in that mode, applied to nothing.
ALTER TABLE razorpay_events DROP CONSTRAINT razorpay_events_status_check,
    ADD CONSTRAINT razorpay_events_status_check CHECK (
        status IN ('received', 'applied', 'unmatched', 'ignored', 'failed', 'other_mode'));

-- Lists, sweeps and the outbox read one mode: their indexes lead with it.
DROP INDEX orders_created_idx;
CREATE INDEX orders_created_idx ON orders (mode, created_at DESC, id DESC);
DROP INDEX orders_site_created_idx;
CREATE INDEX orders_site_created_idx ON orders (site_id, mode, created_at DESC, id DESC);
DROP INDEX orders_customer_email_idx;
CREATE INDEX orders_customer_email_idx ON orders (customer_email, mode, created_at DESC);
DROP INDEX orders_open_idx;
CREATE INDEX orders_open_idx ON orders (mode, created_at) WHERE status IN ('created', 'attempted');
DROP INDEX payments_created_idx;
CREATE INDEX payments_created_idx ON payments (mode, razorpay_created_at DESC, id DESC);
DROP INDEX payments_attention_idx;
CREATE INDEX payments_attention_idx ON payments (mode, razorpay_created_at DESC, id DESC)
    WHERE needs_attention IS NOT NULL;
DROP INDEX payments_refund_undecided_idx;
CREATE INDEX payments_refund_undecided_idx ON payments (mode, captured_at) WHERE refund_undecided;
DROP INDEX refunds_created_idx;
CREATE INDEX refunds_created_idx ON refunds (mode, created_at DESC, id DESC);
DROP INDEX refunds_unsettled_idx;
CREATE INDEX refunds_unsettled_idx ON refunds (mode, created_at) WHERE status = 'requested';
DROP INDEX enrollments_customer_idx;
CREATE INDEX enrollments_customer_idx ON enrollments (customer_email, mode, granted_at);
DROP INDEX razorpay_events_status_idx;
CREATE INDEX razorpay_events_status_idx ON razorpay_events (mode, status, received_at);
DROP INDEX razorpay_events_received_idx;
CREATE INDEX razorpay_events_received_idx ON razorpay_events (mode, received_at DESC, id DESC);
DROP INDEX notifications_due_idx;
CREATE INDEX notifications_due_idx ON notifications (mode, next_attempt_at)
    WHERE status = 'pending';
DROP INDEX notifications_subject_idx;
CREATE INDEX notifications_subject_idx ON notifications (site_id, mode, subject, created_at)
    WHERE status = 'pending';
DROP INDEX notifications_created_idx;
CREATE INDEX notifications_created_idx ON notifications (mode, created_at DESC, id DESC);
