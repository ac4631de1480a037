-- 0014: memberships. An admin defines plans (a price for a SKU, billed every period x
-- interval), immutable once made at Razorpay; sites sell subscriptions to them.
--
-- Every charge of a subscription is an order of ours (one per Razorpay invoice, carrying
-- the invoice's Razorpay order id) with its payment in `payments`, so the one payment
-- state machine, refunds and the money trail treat a month paid exactly like a one-time
-- purchase. Such an order grants nothing itself: the subscription grants the SKU's
-- enrollment (source 'subscription') while its billing allows, and revokes only that one.
-- A one-time enrollment of the same SKU is left alone (one active enrollment per mode,
-- customer and SKU still holds).

CREATE TABLE plans (
    id            text PRIMARY KEY CHECK (id ~ '^plan_'),  -- Razorpay's plan id
    mode          text NOT NULL CHECK (mode IN ('test', 'live')),
    sku           text NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description   text,
    period        text NOT NULL CHECK (period IN ('daily', 'weekly', 'monthly', 'yearly')),
    interval      integer NOT NULL CHECK (interval BETWEEN 1 AND 1000),
    amount        bigint NOT NULL CHECK (amount >= 100),
    currency      char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_id_mode UNIQUE (id, mode)
);
CREATE INDEX plans_created_idx ON plans (mode, created_at DESC, id DESC);

-- A plan never changes (Razorpay's cannot): a new price is a new plan.
CREATE FUNCTION plans_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'plans are immutable: make a new plan instead';
END;
$$;
CREATE TRIGGER plans_immutable BEFORE UPDATE ON plans
    FOR EACH ROW EXECUTE FUNCTION plans_are_immutable();

CREATE TABLE subscriptions (
    id                        text PRIMARY KEY,  -- ours (msb_...), in Razorpay's notes
    mode                      text NOT NULL CHECK (mode IN ('test', 'live')),
    site_id                   text NOT NULL REFERENCES sites (id),
    plan_id                   text NOT NULL,
    -- NULL while Razorpay is being asked for it (status 'creating').
    razorpay_subscription_id  text CONSTRAINT subscriptions_razorpay_id_key UNIQUE
                                  CHECK (razorpay_subscription_id ~ '^sub_'),
    status                    text NOT NULL CHECK (
                                  status IN ('creating', 'created', 'authenticated', 'active',
                                             'pending', 'halted', 'paused', 'cancelled',
                                             'completed', 'expired')),
    customer_email            text NOT NULL CHECK (customer_email = lower(customer_email)),
    site_user_id              text,
    total_count               integer NOT NULL CHECK (total_count BETWEEN 1 AND 1200),
    start_at                  timestamptz,
    current_start             timestamptz,
    current_end               timestamptz,
    charge_at                 timestamptz,
    paid_count                integer NOT NULL DEFAULT 0 CHECK (paid_count >= 0),
    -- Failed attempts at the current cycle's charge (Razorpay's auth_attempts).
    auth_attempts             integer NOT NULL DEFAULT 0 CHECK (auth_attempts >= 0),
    cancel_at_cycle_end       boolean NOT NULL DEFAULT false,
    short_url                 text,
    notes                     jsonb NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key           text,
    request_fingerprint       text NOT NULL,
    created_by                text NOT NULL,
    -- Who made the latest change (the whole history is in subscription_changes).
    changed_by                text NOT NULL,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    ended_at                  timestamptz,
    -- When the worker last asked Razorpay about it.
    checked_at                timestamptz,
    CONSTRAINT subscriptions_id_mode UNIQUE (id, mode),
    CONSTRAINT subscriptions_plan_mode FOREIGN KEY (plan_id, mode) REFERENCES plans (id, mode),
    CONSTRAINT subscriptions_site_idempotency_key UNIQUE (mode, site_id, idempotency_key),
    CHECK ((status = 'creating') = (razorpay_subscription_id IS NULL))
);
CREATE INDEX subscriptions_site_created_idx
    ON subscriptions (mode, site_id, created_at DESC, id DESC);
CREATE INDEX subscriptions_created_idx ON subscriptions (mode, created_at DESC, id DESC);
CREATE INDEX subscriptions_customer_idx ON subscriptions (mode, customer_email);
CREATE INDEX subscriptions_open_idx ON subscriptions (mode, created_at)
    WHERE status NOT IN ('cancelled', 'completed', 'expired');

-- Every change of a subscription's status or schedule, with who (or what) made it.
CREATE TABLE subscription_changes (
    id               bigserial PRIMARY KEY,
    mode             text NOT NULL CHECK (mode IN ('test', 'live')),
    subscription_id  text NOT NULL,
    from_status      text,
    to_status        text NOT NULL,
    actor            text NOT NULL,
    detail           text,
    at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscription_changes_subscription_mode
        FOREIGN KEY (subscription_id, mode) REFERENCES subscriptions (id, mode)
);
CREATE INDEX subscription_changes_subscription_idx ON subscription_changes (subscription_id, id);

-- A charge's order: the subscription and Razorpay invoice it pays.
ALTER TABLE orders ADD COLUMN subscription_id text,
    ADD COLUMN razorpay_invoice_id text CONSTRAINT orders_razorpay_invoice_id_key UNIQUE,
    ADD CONSTRAINT orders_subscription_mode
        FOREIGN KEY (subscription_id, mode) REFERENCES subscriptions (id, mode),
    ADD CONSTRAINT orders_subscription_invoice
        CHECK ((subscription_id IS NULL) = (razorpay_invoice_id IS NULL));
CREATE INDEX orders_subscription_idx ON orders (subscription_id) WHERE subscription_id IS NOT NULL;

-- The access a subscription grants (and the only one it ever revokes).
ALTER TABLE enrollments ADD COLUMN subscription_id text,
    ADD CONSTRAINT enrollments_subscription_mode
        FOREIGN KEY (subscription_id, mode) REFERENCES subscriptions (id, mode),
    DROP CONSTRAINT enrollments_source_check,
    ADD CONSTRAINT enrollments_source_check
        CHECK (source IN ('purchase', 'manual', 'import', 'subscription')),
    ADD CONSTRAINT enrollments_subscription_source
        CHECK ((source = 'subscription') = (subscription_id IS NOT NULL));
CREATE INDEX enrollments_subscription_idx ON enrollments (subscription_id)
    WHERE subscription_id IS NOT NULL;

ALTER TABLE notifications DROP CONSTRAINT notifications_event_type_check,
    ADD CONSTRAINT notifications_event_type_check CHECK (
        event_type IN ('enrollment.granted', 'enrollment.revoked', 'order.paid',
                       'payment.failed', 'refund.processed', 'refund.failed',
                       'subscription.activated', 'subscription.charged',
                       'subscription.halted', 'subscription.cancelled'));
