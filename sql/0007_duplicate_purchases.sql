-- 0007: a second order for a product its buyer already owns (two tabs, each pressing Buy
-- before either paid), paid while the first order's enrollment is active, is a duplicate
-- purchase: its payment grants nothing and is marked with the enrollment it duplicates,
-- then refunded or flagged like a duplicate payment.
--
-- orders.allow_owned is what POST /v1/orders was told: true for a deliberate repeat (never
-- a duplicate), false otherwise. Orders made before this migration, and orders adopted
-- from the old site, have NULL: nobody said, so such a purchase is flagged for an admin
-- and never refunded automatically.
ALTER TABLE orders ADD COLUMN allow_owned boolean;
ALTER TABLE orders ALTER COLUMN allow_owned SET DEFAULT false;

ALTER TABLE payments
    ADD COLUMN duplicate_of_enrollment text REFERENCES enrollments (id),
    ADD CONSTRAINT payments_one_kind_of_duplicate
        CHECK (duplicate_of IS NULL OR duplicate_of_enrollment IS NULL);
