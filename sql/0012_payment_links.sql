-- 0012: payment links. A link sells one product to one customer through Razorpay's hosted
-- page, with no site code. Each link has an order of ours (its Razorpay reference_id, so
-- one link per order), created before Razorpay is asked for the link. Razorpay makes the
-- order behind the link only when the buyer opens it, so such an order has no Razorpay
-- order id until then; it is learnt from the callback, a webhook or reconciliation.
-- A link that expires or is cancelled unpaid leaves its order expired or cancelled.

ALTER TABLE orders ALTER COLUMN razorpay_order_id DROP NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (
    status IN ('created', 'attempted', 'paid', 'partially_refunded', 'refunded',
               'expired', 'cancelled'));

CREATE TABLE payment_links (
    -- Our order, sent to Razorpay as the link's reference_id (unique per account there too).
    order_id             text PRIMARY KEY REFERENCES orders (id),
    mode                 text NOT NULL CHECK (mode IN ('test', 'live')),
    site_id              text NOT NULL REFERENCES sites (id),
    -- NULL while the link is being created at Razorpay (status 'creating').
    razorpay_link_id     text CONSTRAINT payment_links_razorpay_link_id_key UNIQUE
                             CHECK (razorpay_link_id ~ '^plink_'),
    status               text NOT NULL CHECK (
                             status IN ('creating', 'created', 'partially_paid', 'paid',
                                        'expired', 'cancelled')),
    short_url            text,
    return_url           text NOT NULL CHECK (return_url ~ '^https?://'),
    expire_by            timestamptz NOT NULL,
    notify_email         boolean NOT NULL,
    notify_sms           boolean NOT NULL,
    description          text NOT NULL,
    idempotency_key      text,
    request_fingerprint  text NOT NULL,
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    expired_at           timestamptz,
    cancelled_at         timestamptz,
    -- When reconciliation last asked Razorpay about the open link (at most hourly).
    checked_at           timestamptz,
    CHECK ((status = 'creating') = (razorpay_link_id IS NULL)),
    CHECK ((status = 'creating') = (short_url IS NULL)),
    CONSTRAINT payment_links_site_idempotency_key UNIQUE (mode, site_id, idempotency_key)
);
CREATE INDEX payment_links_site_created_idx
    ON payment_links (mode, site_id, created_at DESC, order_id DESC);
CREATE INDEX payment_links_created_idx ON payment_links (mode, created_at DESC, order_id DESC);
CREATE INDEX payment_links_open_idx ON payment_links (mode, created_at)
    WHERE status IN ('creating', 'created', 'partially_paid');
