-- 0004: the outbox of signed callbacks to sites, written in the same transaction as the
-- state change it reports, delivered at least once by the worker.

CREATE TABLE notifications (
    id               text PRIMARY KEY,
    site_id          text NOT NULL REFERENCES sites (id),
    event_type       text NOT NULL CHECK (
                         event_type IN ('enrollment.granted', 'enrollment.revoked', 'order.paid',
                                        'payment.failed', 'refund.processed', 'refund.failed')),
    -- Deliveries to one site about one subject (an order, or a customer's SKU) go out in
    -- the order they were written.
    subject          text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (
                         status IN ('pending', 'delivered', 'dead', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    -- Retries go on for 24 hours from here: the creation, or an admin's redelivery.
    window_started_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_subject_idx ON notifications (site_id, subject, created_at)
    WHERE status = 'pending';
CREATE INDEX notifications_created_idx ON notifications (created_at DESC, id DESC);

-- When the worker last asked Razorpay about an unpaid order, so each is asked now and
-- then rather than on every pass.
ALTER TABLE orders ADD COLUMN checked_at timestamptz;
