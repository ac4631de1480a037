-- 0008: the payment state machine only marks a duplicate payment (and flags it); whether
-- to refund it is decided once, by the worker, under REFUND_DUPLICATE_PAYMENTS as it is
-- then. refund_undecided is true from the marking until that decision. Duplicates marked
-- before this migration were decided when they were marked (a refund reserved, or a flag).
ALTER TABLE payments ADD COLUMN refund_undecided boolean NOT NULL DEFAULT false;
CREATE INDEX payments_refund_undecided_idx ON payments (captured_at) WHERE refund_undecided;
