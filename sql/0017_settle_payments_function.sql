-- 0017: the statement that settles payments (store them, move their orders on, grant access,
-- read who is to be told) becomes a function, so PostgreSQL plans it once per session
-- instead of on every verify and webhook.
--
-- Why: it is the largest statement of both paths, and planning it anew each time cost as
-- much of the server's CPU as running it (EXPLAIN: 0.31-0.45 ms of planning per call). A
-- PL/pgSQL function keeps the plans of its statements for the life of the session, and
-- that works behind any pooler: the plan lives in the server session, whichever client
-- borrows it (prepared statements would not survive PgBouncer's transaction mode, which
-- Neon's pooled URL uses). The plan is generic from the first call (plan_cache_mode): what
-- changes between calls is only how many elements each array holds, and the rows are found
-- by key whatever their number (left to choose, PostgreSQL would plan every call anew, as
-- a plan for one element looks cheaper than one for any number). A cached plan is made
-- again when the tables' statistics change (ANALYZE, which autovacuum runs as they grow)
-- and after any change to the tables' definitions. Measured (bench/settle_call.py, one
-- paid order, its grant and its one recipient): PostgreSQL's CPU per settlement 1.1-1.7 ms
-- -> 0.8-1.2 ms.
--
-- Arrays of one length per part describe what to do, as db/settlements.py passes them; an
-- empty part does nothing. The rows come back whole, one part per row (the other parts
-- NULL there): payments as stored, orders as moved, enrollments granted (of two for the
-- same customer and SKU, only the first), and, when recipients_of names a customer, each
-- active site with a callback URL and the customer's latest user id on it.
--
-- The orders are locked by the caller's transaction before this runs. Each status's time
-- on a payment is stamped the first time it is seen; amount and currency, once recorded,
-- are never changed by an update.

CREATE FUNCTION settle_payments(
    in_mode text,
    p_id text[], p_order_id text[], p_status text[], p_amount bigint[], p_currency text[],
    p_amount_refunded bigint[], p_method text[], p_card_network text[], p_card_last4 text[],
    p_bank text[], p_wallet text[], p_vpa text[], p_fee bigint[], p_tax bigint[],
    p_error_code text[], p_error_description text[], p_error_reason text[],
    p_razorpay_created_at timestamptz[],
    o_id text[], o_status text[], o_amount_paid bigint[],
    g_id text[], g_customer_email text[], g_sku text[], g_source text[], g_order_id text[],
    g_granted_by text[], g_grant_reason text[],
    recipients_of text
) RETURNS TABLE (
    stored_payment payments, moved_order orders, granted_enrollment enrollments,
    told_site_id text, told_site_user_id text
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    WITH stored AS (
        INSERT INTO payments AS p (
            id, order_id, status, amount, currency, amount_refunded, method, card_network,
            card_last4, bank, wallet, vpa, fee, tax, error_code, error_description,
            error_reason, razorpay_created_at, authorized_at, captured_at, failed_at, mode)
        SELECT r.id, r.order_id, r.status, r.amount, r.currency, r.amount_refunded, r.method,
               r.card_network, r.card_last4, r.bank, r.wallet, r.vpa, r.fee, r.tax,
               r.error_code, r.error_description, r.error_reason, r.razorpay_created_at,
               CASE WHEN r.status IN ('authorized', 'captured', 'refunded') THEN now() END,
               CASE WHEN r.status IN ('captured', 'refunded') THEN now() END,
               CASE WHEN r.status = 'failed' THEN now() END, in_mode
          FROM unnest(p_id, p_order_id, p_status, p_amount, p_currency, p_amount_refunded,
                      p_method, p_card_network, p_card_last4, p_bank, p_wallet, p_vpa, p_fee,
                      p_tax, p_error_code, p_error_description, p_error_reason,
                      p_razorpay_created_at) WITH ORDINALITY
               AS r (id, order_id, status, amount, currency, amount_refunded, method,
                     card_network, card_last4, bank, wallet, vpa, fee, tax, error_code,
                     error_description, error_reason, razorpay_created_at, n)
         ORDER BY r.n
        ON CONFLICT (id) DO UPDATE SET
            status = EXCLUDED.status, amount_refunded = EXCLUDED.amount_refunded,
            method = EXCLUDED.method, card_network = EXCLUDED.card_network,
            card_last4 = EXCLUDED.card_last4, bank = EXCLUDED.bank, wallet = EXCLUDED.wallet,
            vpa = EXCLUDED.vpa, fee = EXCLUDED.fee, tax = EXCLUDED.tax,
            error_code = EXCLUDED.error_code, error_description = EXCLUDED.error_description,
            error_reason = EXCLUDED.error_reason, updated_at = now(),
            authorized_at = coalesce(p.authorized_at, EXCLUDED.authorized_at),
            captured_at = coalesce(p.captured_at, EXCLUDED.captured_at),
            failed_at = coalesce(p.failed_at, EXCLUDED.failed_at)
        RETURNING p
    ),
    -- Each order to its new status and paid amount, stamping paid_at the first time it is
    -- paid. The orders are found by key (`= ANY`) whatever the statistics say: the mode is
    -- compared with IS NOT DISTINCT FROM (the same here: neither is ever NULL) because an
    -- index cannot serve that, so a plan made while the table had no statistics yet cannot
    -- scan every order of the mode instead.
    moved AS (
        UPDATE orders AS o
           SET status = v.status, amount_paid = v.amount_paid, updated_at = now(),
               paid_at = CASE WHEN v.amount_paid > 0 THEN coalesce(o.paid_at, now()) END
          FROM unnest(o_id, o_status, o_amount_paid) AS v (id, status, amount_paid)
         WHERE o.id = ANY(o_id) AND o.id = v.id AND o.mode IS NOT DISTINCT FROM in_mode
        RETURNING o
    ),
    -- In the order given: the first of two grants for one customer and SKU wins, and
    -- transactions take the unique index's locks in one order.
    granted AS (
        INSERT INTO enrollments AS e (id, customer_email, sku, source, order_id, granted_by,
                                      grant_reason, mode)
        SELECT g.id, g.customer_email, g.sku, g.source, g.order_id, g.granted_by,
               g.grant_reason, in_mode
          FROM unnest(g_id, g_customer_email, g_sku, g_source, g_order_id, g_granted_by,
                      g_grant_reason) WITH ORDINALITY
               AS g (id, customer_email, sku, source, order_id, granted_by, grant_reason, n)
         ORDER BY g.n
        ON CONFLICT (mode, customer_email, sku) WHERE status = 'active' DO NOTHING
        RETURNING e
    ),
    -- As db/notifications.py's recipients (for every site): read from the statement's
    -- snapshot, which is right, as nothing it depends on is changed above.
    told AS (
        SELECT s.id,
               (SELECT o.site_user_id FROM orders o
                 WHERE o.site_id = s.id AND o.customer_email = recipients_of
                   AND o.mode = in_mode AND o.site_user_id IS NOT NULL
                 ORDER BY o.created_at DESC LIMIT 1) AS site_user_id
          FROM sites s
         WHERE recipients_of IS NOT NULL AND s.is_active AND s.callback_url IS NOT NULL
    )
    SELECT st.p, mv.o, gr.e, t.id, t.site_user_id
      FROM stored st FULL JOIN moved mv ON false FULL JOIN granted gr ON false
           FULL JOIN told t ON false;
END
$$;
