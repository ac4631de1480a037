-- 0009: an order's Idempotency-Key is reserved, and the reservation committed, before
-- Razorpay is asked for the order, so one key makes one Razorpay order, ever. The request
-- holding the key has a lease; once it runs out (the request died, or Razorpay's answer was
-- lost) the next request with the key and body takes it over and first looks for the order
-- at Razorpay by its receipt, our order id. The reservation ends when the order is stored.

CREATE TABLE order_reservations (
    site_id              text NOT NULL REFERENCES sites (id),
    idempotency_key      text NOT NULL,
    -- The id the order will have here, sent to Razorpay as its receipt.
    order_id             text NOT NULL CONSTRAINT order_reservations_order_id_key UNIQUE,
    request_fingerprint  text NOT NULL,
    holder               text NOT NULL,
    leased_until         timestamptz NOT NULL,
    -- How many requests have held the key (more than one: taken over after a lease ran out).
    holders              integer NOT NULL DEFAULT 1 CHECK (holders >= 1),
    -- The holder's order creation ended without Razorpay's answer: only the lease's end
    -- (not the holder) can change anything now.
    outcome_unknown      boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT order_reservations_pkey PRIMARY KEY (site_id, idempotency_key)
);
