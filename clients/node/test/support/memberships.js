'use strict';
/** Subscribing as a buyer does: the site creates it, the buyer pays on the sandbox's Checkout. */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { request } = require('./http');

/** The membership plan an admin made for the run (tests/test_node_client.py): PAYMENTS_PLAN_ID. */
const PLAN_ID = process.env.PAYMENTS_PLAN_ID;

const freshEmail = (tag) =>
  `sub-${tag}-${Date.now()}-${crypto.randomBytes(3).toString('hex')}@example.com`;

/** What Checkout's handler receives once the buyer paid (the sandbox's test-payment page). */
async function authenticateInSandbox(razorpaySubscriptionId, outcome = 'success') {
  const base = process.env.SANDBOX_URL.replace(/\/+$/, '');
  const url = `${base}/_sandbox/subscriptions/${razorpaySubscriptionId}/pay`;
  const answer = await request('POST', url, { outcome });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** Subscribe `email` and verify the Checkout payment: the subscription as verify answers. */
async function subscribeAndPay(payments, email) {
  const sub = await payments.createSubscription(
    { plan_id: PLAN_ID, customer: { email }, total_count: 6 },
    { idempotencyKey: `membership-${email}` },
  );
  const result = await authenticateInSandbox(sub.checkout.subscription_id);
  return payments.verifySubscription(sub.id, result);
}

module.exports = { PLAN_ID, freshEmail, authenticateInSandbox, subscribeAndPay };
