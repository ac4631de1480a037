-- 0006: a payment captured on an order that another payment had already paid (a buyer
-- paying in two tabs, a late authorisation) is a duplicate: recorded as Razorpay reports
-- it, with the payment that paid the order, refunded in full automatically or flagged for
-- an admin. Its refunds never count towards the order's own refund status.

ALTER TABLE payments
    ADD COLUMN duplicate_of text REFERENCES payments (id),
    ADD COLUMN needs_attention text,
    ADD CONSTRAINT payments_duplicate_of_another CHECK (duplicate_of <> id);
-- GET /v1/payments?needs_attention=true: the few payments an admin must decide about.
CREATE INDEX payments_attention_idx ON payments (razorpay_created_at DESC, id DESC)
    WHERE needs_attention IS NOT NULL;
