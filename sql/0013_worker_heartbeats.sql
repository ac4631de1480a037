-- 0013: when a worker last started a pass, per Razorpay mode, so `flask --app
-- payments_service check` can tell that a worker is running. Nothing else shows it: with no
-- notification due and no order open, a pass changes no other row. One row per mode (every
-- worker of a mode updates it), so a test-mode worker never vouches for live payments.

CREATE TABLE worker_heartbeats (
    mode            text PRIMARY KEY CHECK (mode IN ('test', 'live')),
    last_pass_at    timestamptz NOT NULL
);
