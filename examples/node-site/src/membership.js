'use strict';
/**
 * The membership ("all courses, billed monthly"): subscribe with Razorpay Checkout, verify,
 * show the buyer's subscriptions, cancel. The plan (price, period) is defined by the seller's
 * admin at the service; this site finds it by SKU, so it never holds a price for it.
 *
 *   GET  /membership                  the plan on sale, or 404 before one is defined
 *   POST /subscriptions               {email, request_id, user_id?} -> {subscription_id, checkout}
 *   POST /subscriptions/:id/verify    Checkout's result -> {status, access}
 *   GET  /subscriptions?email=        the buyer's subscriptions on this site
 *   POST /subscriptions/:id/cancel    {email, at_cycle_end = true} -> {status, ...}
 *
 * Access is not decided here: the plan's SKU arrives as an enrollment.granted / .revoked
 * notification like a course (GET /access), and follows the billing (a halted subscription
 * loses it, a successful charge brings it back, a cancel at cycle end keeps it until then).
 */
const { asyncRoute } = require('payments-service-client');

const MEMBERSHIP_SKU = 'all-courses';
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{1,63}$/;
const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
const USER_ID = /^[A-Za-z0-9_.:@-]{1,100}$/;
const CYCLES = 12; // a year of months; renew with a new subscription

function summary(sub) {
  return {
    id: sub.id,
    status: sub.status,
    plan_id: sub.plan_id,
    current_end: sub.current_end,
    cancel_at_cycle_end: sub.cancel_at_cycle_end,
    ...(sub.access ? { access: sub.access.granted } : {}),
  };
}

const emailOf = (value) => (typeof value === 'string' ? value.trim().toLowerCase() : '');

/**
 * @param {import('express').Express} app
 * @param {{ payments: object, json: Function, badRequest: Function, sku?: string }} deps
 */
function addMembershipRoutes(app, { payments, json, badRequest, sku = MEMBERSHIP_SKU }) {
  /** The newest plan the admin defined for the membership's SKU, or null. */
  async function planOnSale() {
    const { items } = await payments.listPlans({ sku });
    return items[0] || null;
  }

  app.get(
    '/membership',
    asyncRoute(async (req, res) => {
      const plan = await planOnSale();
      if (!plan) return res.status(404).json({ error: 'not_on_sale', detail: 'no plan yet' });
      const { id, name, amount, currency, period, interval } = plan;
      return res.json({ sku, plan: { id, name, amount, currency, period, interval } });
    }),
  );

  // Subscribe: the browser's request id is the Idempotency-Key, so a double click or a
  // retried request gets the same subscription (and the same Checkout) instead of two.
  app.post(
    '/subscriptions',
    json,
    asyncRoute(async (req, res) => {
      const body = req.body || {};
      const email = emailOf(body.email); // DEMO ONLY: a real site takes it from the session
      if (!EMAIL.test(email)) return badRequest(res, 'email', 'a valid email is required');
      if (typeof body.request_id !== 'string' || !REQUEST_ID.test(body.request_id)) {
        return badRequest(res, 'request_id', '1-64 letters, digits, "_" or "-"');
      }
      if (body.user_id !== undefined && !USER_ID.test(String(body.user_id))) {
        return badRequest(res, 'user_id', 'not a valid user id');
      }
      const plan = await planOnSale();
      if (!plan) return res.status(409).json({ error: 'not_on_sale', detail: 'no plan yet' });
      const customer = { email, ...(body.user_id ? { site_user_id: String(body.user_id) } : {}) };
      const sub = await payments.createSubscription(
        { plan_id: plan.id, customer, total_count: CYCLES },
        { idempotencyKey: `membership-${body.request_id}` },
      );
      return res.status(201).json({ subscription_id: sub.id, checkout: sub.checkout });
    }),
  );

  // Checkout's handler posts its three fields here; the service checks the signature over
  // the subscription id IT stored and asks Razorpay before granting access.
  app.post(
    '/subscriptions/:id/verify',
    json,
    asyncRoute(async (req, res) => {
      const body = req.body || {};
      const sub = await payments.verifySubscription(req.params.id, {
        razorpay_payment_id: body.razorpay_payment_id,
        razorpay_subscription_id: body.razorpay_subscription_id,
        razorpay_signature: body.razorpay_signature,
      });
      res.json(summary(sub));
    }),
  );

  app.get(
    '/subscriptions',
    asyncRoute(async (req, res) => {
      const email = emailOf(req.query.email);
      if (!EMAIL.test(email)) return badRequest(res, 'email', 'a valid email is required');
      const { items } = await payments.listSubscriptions({ customer_email: email });
      const paid = items.filter((s) => s.status !== 'created'); // not abandoned Checkouts
      return res.json({ email, subscriptions: paid.map(summary) });
    }),
  );

  // Cancel, by default at the end of the paid month (access until then). Only the buyer's
  // own: a real site compares with its logged-in user; this demo with the email sent.
  app.post(
    '/subscriptions/:id/cancel',
    json,
    asyncRoute(async (req, res) => {
      const body = req.body || {};
      const sub = await payments.getSubscription(req.params.id);
      if (sub.customer.email !== emailOf(body.email)) {
        const detail = 'no such subscription of yours';
        return res.status(404).json({ error: 'not_found', detail });
      }
      const atCycleEnd = body.at_cycle_end !== false;
      return res.json(summary(await payments.cancelSubscription(sub.id, { atCycleEnd })));
    }),
  );
}

module.exports = { addMembershipRoutes, MEMBERSHIP_SKU };
