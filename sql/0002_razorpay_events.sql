-- 0002: every verified Razorpay webhook, stored before it is applied, deduplicated by
-- X-Razorpay-Event-Id, with its processing outcome (so nothing is lost or applied twice).

CREATE TABLE razorpay_events (
    id                   text PRIMARY KEY,
    event_type           text NOT NULL,
    account_id           text,
    payload              jsonb NOT NULL,
    status               text NOT NULL DEFAULT 'received' CHECK (
                             status IN ('received', 'applied', 'unmatched', 'ignored',
                                        'failed')),
    detail               text,
    order_id             text REFERENCES orders (id),
    attempts             integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    razorpay_created_at  timestamptz,
    received_at          timestamptz NOT NULL DEFAULT now(),
    processed_at         timestamptz
);
CREATE INDEX razorpay_events_status_idx ON razorpay_events (status, received_at);
CREATE INDEX razorpay_events_received_idx ON razorpay_events (received_at DESC, id DESC);
CREATE INDEX razorpay_events_order_idx ON razorpay_events (order_id);

-- The worker's reconcile pass looks for orders still waiting for a payment.
CREATE INDEX orders_open_idx ON orders (created_at) WHERE status IN ('created', 'attempted');
