-- 0001: sites, orders, payments and enrollments: the core purchase flow.
-- Money is bigint minor units (paise); statuses are checked; Razorpay ids are unique.

CREATE TABLE sites (
    id               text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{1,62}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    callback_url     text CHECK (callback_url ~ '^https?://'),
    callback_secret  text NOT NULL CHECK (length(callback_secret) >= 32),
    jwt_secret       text NOT NULL CHECK (length(jwt_secret) >= 32),
    allowed_origins  text[] NOT NULL DEFAULT '{}',
    is_active        boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id                   text PRIMARY KEY,
    razorpay_order_id    text NOT NULL CONSTRAINT orders_razorpay_order_id_key UNIQUE,
    site_id              text NOT NULL REFERENCES sites (id),
    status               text NOT NULL DEFAULT 'created' CHECK (
                             status IN ('created', 'attempted', 'paid',
                                        'partially_refunded', 'refunded')),
    amount               bigint NOT NULL CHECK (amount >= 100),
    currency             char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_paid          bigint NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    amount_refunded      bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
    product_sku          text NOT NULL,
    product_name         text NOT NULL,
    customer_email       text NOT NULL CHECK (customer_email = lower(customer_email)),
    customer_name        text,
    customer_contact     text,
    site_user_id         text,
    receipt              text CHECK (length(receipt) <= 40),
    notes                jsonb NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key      text,
    request_fingerprint  text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    paid_at              timestamptz,
    CHECK (amount_paid <= amount),
    CHECK (amount_refunded <= amount_paid),
    CHECK ((idempotency_key IS NULL) = (request_fingerprint IS NULL)),
    CONSTRAINT orders_site_idempotency_key UNIQUE (site_id, idempotency_key)
);
CREATE INDEX orders_customer_email_idx ON orders (customer_email, created_at DESC);
CREATE INDEX orders_site_created_idx ON orders (site_id, created_at DESC, id DESC);
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);

CREATE TABLE payments (
    id                   text PRIMARY KEY CHECK (id ~ '^pay_'),
    order_id             text NOT NULL REFERENCES orders (id),
    status               text NOT NULL CHECK (
                             status IN ('created', 'authorized', 'captured',
                                        'refunded', 'failed')),
    amount               bigint NOT NULL CHECK (amount > 0),
    currency             char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_refunded      bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
    method               text,
    card_network         text,
    card_last4           text,
    bank                 text,
    wallet               text,
    vpa                  text,
    fee                  bigint CHECK (fee >= 0),
    tax                  bigint CHECK (tax >= 0),
    error_code           text,
    error_description    text,
    error_reason         text,
    razorpay_created_at  timestamptz NOT NULL,
    authorized_at        timestamptz,
    captured_at          timestamptz,
    failed_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (amount_refunded <= amount)
);
CREATE INDEX payments_order_idx ON payments (order_id);

CREATE TABLE enrollments (
    id              text PRIMARY KEY,
    customer_email  text NOT NULL CHECK (customer_email = lower(customer_email)),
    sku             text NOT NULL,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    source          text NOT NULL CHECK (source IN ('purchase', 'manual', 'import')),
    order_id        text REFERENCES orders (id),
    granted_by      text NOT NULL,
    grant_reason    text,
    granted_at      timestamptz NOT NULL DEFAULT now(),
    revoked_by      text,
    revoke_reason   text,
    revoked_at      timestamptz,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
    CHECK (source <> 'purchase' OR order_id IS NOT NULL)
);
-- A person owns a course once, whichever site sold it.
CREATE UNIQUE INDEX enrollments_one_active ON enrollments (customer_email, sku)
    WHERE status = 'active';
CREATE INDEX enrollments_sku_idx ON enrollments (sku);
CREATE INDEX enrollments_order_idx ON enrollments (order_id);
