-- 0015: a subscription that ends while a paid period is still running (Razorpay completes
-- it at its LAST charge, or reports a cancel at cycle end before that cycle is over) keeps
-- its enrollment until that period ends. access_until is the end of that paid period, set
-- when the subscription reaches its final status; the worker's sweep revokes the
-- enrollment once it has passed. NULL: access ends with the final status itself (a cancel
-- now, an expiry, a cycle-end cancel reported at the cycle's end).

ALTER TABLE subscriptions ADD COLUMN access_until timestamptz;

-- The sweep's question: ended subscriptions whose paid period has run out.
CREATE INDEX subscriptions_access_until_idx ON subscriptions (mode, access_until)
    WHERE access_until IS NOT NULL;
