'use strict';
/**
 * Memberships through the package against a REAL payments service and its Razorpay sandbox:
 * plans (read), subscribe with an Idempotency-Key, verify Checkout's result, read, list,
 * pause, resume, cancel at cycle end and now, with access following on every site.
 *
 *   PAYMENTS_API_URL, PAYMENTS_SITE_ID, PAYMENTS_JWT_SECRET, PAYMENTS_AUDIENCE   this site
 *   PAYMENTS_PLAN_ID   a plan an admin made (SKU all-courses)        SANDBOX_URL   the sandbox
 *
 * Skipped when PAYMENTS_API_URL or PAYMENTS_PLAN_ID is unset.
 */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { describe, it } = require('node:test');

const { createPaymentsClient, paymentsConfigFromEnv, PaymentsApiError } = require('..');
const {
  PLAN_ID,
  freshEmail,
  authenticateInSandbox,
  subscribeAndPay,
} = require('./support/memberships');

const SKIP =
  process.env.PAYMENTS_API_URL && PLAN_ID
    ? false
    : 'PAYMENTS_API_URL and PAYMENTS_PLAN_ID are not set: needs a running service and sandbox';

describe('memberships against the running service', { skip: SKIP, timeout: 120_000 }, () => {
  const payments = SKIP ? null : createPaymentsClient(paymentsConfigFromEnv());

  it('reads the plans a site sells, and finds none it cannot make', async () => {
    const plan = await payments.getPlan(PLAN_ID);
    assert.equal(plan.sku, 'all-courses');
    assert.equal(plan.created_by, undefined); // which admin made it is not a site's to know
    assert.ok(Number.isSafeInteger(plan.amount) && plan.amount > 0);
    const { items } = await payments.listPlans({ sku: plan.sku });
    assert.ok(items.some((p) => p.id === PLAN_ID));
    assert.equal(payments.createPlan, undefined); // an admin defines plans
  });

  it('subscribes once per Idempotency-Key and verifies Checkout into access on every site', async () => {
    const email = freshEmail('buy');
    const key = `membership-${crypto.randomUUID()}`;
    const body = { planId: PLAN_ID, customer: { email, site_user_id: 'u-9' }, totalCount: 12 };
    const sub = await payments.createSubscription(body, { idempotencyKey: key });
    assert.equal(sub.status, 'created');
    assert.equal(sub.checkout.subscription_id, sub.razorpay_subscription_id);
    assert.equal(sub.checkout.key.length > 0, true);
    assert.equal(sub.access.granted, false);
    const again = await payments.createSubscription(body, { idempotencyKey: key });
    assert.equal(again.id, sub.id);

    const verified = await payments.verifySubscription(
      sub.id,
      await authenticateInSandbox(sub.razorpay_subscription_id),
    );
    assert.equal(verified.status, 'active');
    assert.equal(verified.access.granted, true);
    assert.equal(verified.checkout, null);
    assert.equal(verified.charges.filter((c) => c.status === 'paid').length, 1);
    assert.equal(await payments.owns(email, 'all-courses'), true);
    assert.equal((await payments.getSubscription(sub.razorpay_subscription_id)).id, sub.id);
    const listed = await payments.listSubscriptions({ customer_email: email });
    assert.deepEqual(
      listed.items.map((s) => [s.id, s.status]),
      [[sub.id, 'active']],
    );
  });

  it('pauses and resumes, cancels at cycle end keeping access, then now taking it', async () => {
    const email = freshEmail('manage');
    const sub = await subscribeAndPay(payments, email);

    const paused = await payments.pauseSubscription(sub.id);
    assert.equal(paused.status, 'paused');
    assert.equal(await payments.owns(email, 'all-courses'), false);
    const resumed = await payments.resumeSubscription(sub.id);
    assert.equal(resumed.status, 'active');
    assert.equal(await payments.owns(email, 'all-courses'), true);

    const atEnd = await payments.cancelSubscription(sub.id, { atCycleEnd: true });
    assert.equal(atEnd.cancel_at_cycle_end, true);
    assert.equal(atEnd.status, 'active');
    assert.equal(await payments.owns(email, 'all-courses'), true);

    const now = await payments.cancelSubscription(sub.id);
    assert.equal(now.status, 'cancelled');
    assert.equal(now.access.granted, false);
    assert.equal(await payments.owns(email, 'all-courses'), false);
    const twice = await payments.cancelSubscription(sub.id);
    assert.equal(twice.status, 'cancelled');
  });

  it('rejects a forged Checkout result and a pause in the wrong status with typed errors', async () => {
    const email = freshEmail('forged');
    const sub = await payments.createSubscription({
      plan_id: PLAN_ID,
      customer: { email },
      total_count: 3,
    });
    const result = await authenticateInSandbox(sub.razorpay_subscription_id);
    const forged = { ...result, razorpay_signature: 'f'.repeat(64) };

    await assert.rejects(payments.verifySubscription(sub.id, forged), (error) => {
      assert.ok(error instanceof PaymentsApiError);
      assert.equal(error.code, 'invalid_signature');
      assert.equal(error.isClientError, true);
      return true;
    });
    assert.equal(await payments.owns(email, 'all-courses'), false);
    await assert.rejects(payments.resumeSubscription(sub.id), (error) => {
      assert.ok(error instanceof PaymentsApiError);
      assert.equal(error.status, 409);
      return true;
    });
    await assert.rejects(
      payments.createSubscription({ plan_id: PLAN_ID, customer: { email }, total_count: 0 }),
      TypeError,
    );
  });
});
