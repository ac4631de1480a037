-- 0003: refunds (full or partial, several up to the captured amount) and the indexes the
-- customer money trail reads by.

CREATE TABLE refunds (
    id                   text PRIMARY KEY,
    razorpay_refund_id   text CONSTRAINT refunds_razorpay_refund_id_key UNIQUE,
    payment_id           text NOT NULL REFERENCES payments (id),
    order_id             text NOT NULL REFERENCES orders (id),
    -- requested: amount reserved here, Razorpay's answer not yet known.
    status               text NOT NULL CHECK (
                             status IN ('requested', 'pending', 'processed', 'failed')),
    amount               bigint NOT NULL CHECK (amount > 0),
    currency             char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    speed_requested      text NOT NULL DEFAULT 'normal'
                             CHECK (speed_requested IN ('normal', 'optimum')),
    speed_processed      text,
    reason               text CHECK (length(reason) <= 500),
    revokes_access       boolean NOT NULL DEFAULT true,
    revoked_access       boolean NOT NULL DEFAULT false,
    needs_attention      text,
    requested_by         text NOT NULL,
    idempotency_scope    text,
    idempotency_key      text,
    request_fingerprint  text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    processed_at         timestamptz,
    failed_at            timestamptz,
    CHECK ((idempotency_key IS NULL) = (request_fingerprint IS NULL)),
    CHECK (status = 'requested' OR razorpay_refund_id IS NOT NULL),
    CONSTRAINT refunds_idempotency_key UNIQUE (idempotency_scope, idempotency_key)
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id);
CREATE INDEX refunds_order_idx ON refunds (order_id);
CREATE INDEX refunds_created_idx ON refunds (created_at DESC, id DESC);
CREATE INDEX refunds_unsettled_idx ON refunds (created_at) WHERE status = 'requested';

CREATE INDEX enrollments_customer_idx ON enrollments (customer_email, granted_at);
CREATE INDEX payments_created_idx ON payments (razorpay_created_at DESC, id DESC);
