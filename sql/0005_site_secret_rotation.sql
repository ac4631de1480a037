-- 0005: a site's previous secrets stay valid while it switches to new ones, so secrets
-- rotate without downtime (tokens signed with either verify; callbacks carry both
-- signatures) until the rotation is finished.

ALTER TABLE sites
    ADD COLUMN previous_jwt_secret text CHECK (length(previous_jwt_secret) >= 32),
    ADD COLUMN previous_callback_secret text CHECK (length(previous_callback_secret) >= 32);
