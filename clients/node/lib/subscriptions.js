'use strict';
/**
 * Memberships: plans (read; an admin defines them) and the site's subscriptions.
 *
 *   const [plan] = (await payments.listPlans({ sku: 'all-courses' })).items;
 *   const sub = await payments.createSubscription(
 *     { plan_id: plan.id, customer: { email }, total_count: 12 },
 *     { idempotencyKey: `membership-${user.id}-${plan.id}` },
 *   );
 *   res.json(sub.checkout);           // new Razorpay({ ...checkout, handler }) in the browser
 *   await payments.verifySubscription(sub.id, checkoutResult);   // access.granted
 *   await payments.cancelSubscription(sub.id, { atCycleEnd: true });
 *
 * Access follows billing on every site: the plan's SKU is an enrollment (owns(email, sku)),
 * granted while the subscription is authenticated or active (and pending, by default), and
 * revoked when it halts, is cancelled (at the end of the paid cycle if asked), or completes.
 */
const PLANS = '/v1/plans';
const SUBSCRIPTIONS = '/v1/subscriptions';

/** A subscription's body as openapi.yaml names it, from snake_case or camelCase fields. */
function subscriptionBody({ planId, totalCount, startAt, ...sub }) {
  const body = { ...sub };
  if (planId !== undefined) body.plan_id = planId;
  if (totalCount !== undefined) body.total_count = totalCount;
  if (typeof body.plan_id !== 'string' || !body.plan_id) throw new TypeError('plan_id is required');
  if (!Number.isSafeInteger(body.total_count) || body.total_count < 1) {
    throw new TypeError('total_count must be a positive integer number of billing cycles');
  }
  const start = startAt ?? sub.start_at;
  if (start !== undefined && start !== null) {
    const at = new Date(start);
    if (Number.isNaN(at.getTime())) throw new TypeError('startAt must be a date');
    body.start_at = at.toISOString();
  }
  return body;
}

/**
 * The plan and subscription methods of a client, over its `call` (retries, tokens, errors)
 * and helpers `{ segment, queryString, keyOr }`.
 */
function subscriptionMethods(call, { segment, queryString, keyOr }) {
  const one = (id) => `${SUBSCRIPTIONS}/${segment(id, 'subscriptionId')}`;
  return {
    /** GET /v1/plans: newest first; filter by `sku`. Plans are made by an admin only. */
    async listPlans(query = {}) {
      return call('GET', `${PLANS}${queryString(query)}`);
    },
    async getPlan(planId) {
      return call('GET', `${PLANS}/${segment(planId, 'planId')}`);
    },

    /**
     * POST /v1/subscriptions: { plan_id, customer: {email, site_user_id?}, total_count,
     * start_at? (or startAt), notes? }. Answers the subscription with `checkout`, the
     * options for `new Razorpay({...})`. Your Idempotency-Key (e.g. the user and the plan)
     * makes a retry or a double click return the same subscription.
     */
    async createSubscription(subscription, { idempotencyKey, userId } = {}) {
      const body = subscriptionBody(subscription || {});
      const subject = userId ?? (body.customer && body.customer.site_user_id);
      return call('POST', SUBSCRIPTIONS, {
        body,
        idempotencyKey: keyOr(idempotencyKey),
        auth: { subject },
      });
    },
    /**
     * POST /v1/subscriptions/{id}/verify with what Checkout's handler received
     * ({razorpay_payment_id, razorpay_subscription_id, razorpay_signature}).
     */
    async verifySubscription(subscriptionId, result) {
      const { razorpay_payment_id, razorpay_subscription_id, razorpay_signature } = result || {};
      const body = { razorpay_payment_id, razorpay_signature };
      if (razorpay_subscription_id) body.razorpay_subscription_id = razorpay_subscription_id;
      return call('POST', `${one(subscriptionId)}/verify`, { body, safe: true });
    },
    /** GET /v1/subscriptions/{id} (ours, msb_…, or Razorpay's, sub_…): one this site sold. */
    async getSubscription(subscriptionId) {
      return call('GET', one(subscriptionId));
    },
    /** GET /v1/subscriptions: this site's, newest first (customer_email, status filters). */
    async listSubscriptions(query = {}) {
      return call('GET', `${SUBSCRIPTIONS}${queryString(query)}`);
    },
    /** Cancel now, or `{ atCycleEnd: true }` to keep access until the paid cycle ends. */
    async cancelSubscription(subscriptionId, { atCycleEnd = false } = {}) {
      return call('POST', `${one(subscriptionId)}/cancel`, {
        body: { at_cycle_end: Boolean(atCycleEnd) },
        safe: true, // cancelling a cancelled subscription returns it
      });
    },
    /** Pause an active subscription (access goes while paused). Sent once. */
    async pauseSubscription(subscriptionId) {
      return call('POST', `${one(subscriptionId)}/pause`);
    },
    /** Resume a paused subscription. Sent once. */
    async resumeSubscription(subscriptionId) {
      return call('POST', `${one(subscriptionId)}/resume`);
    },
  };
}

module.exports = { subscriptionMethods, subscriptionBody, PLANS, SUBSCRIPTIONS };
