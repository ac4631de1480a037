'use strict';
/**
 * What the plan and subscription methods send, and which of them retry, against a stand-in
 * server (the real service is in subscriptions.test.js).
 */
const assert = require('node:assert/strict');
const { describe, it, before, after, beforeEach } = require('node:test');

const { createPaymentsClient, PaymentsApiError, PATHS } = require('..');
const { scriptedServer, problem } = require('./support/scripted');

const SUB = { plan_id: 'plan_A1', customer: { email: 'a@example.com' }, total_count: 12 };

describe('plans and subscriptions against a scripted server', () => {
  const stub = scriptedServer();
  let url;
  let client;

  before(async () => {
    url = await stub.start();
  });
  after(() => stub.stop());
  beforeEach(() => {
    stub.seen.length = 0;
    stub.script.length = 0;
    client = createPaymentsClient({
      apiUrl: url,
      siteId: 'kit-site',
      jwtSecret: 'site-jwt-secret-0123456789abcdef',
      timeoutMs: 500,
      sleep: async () => undefined,
      random: () => 1,
    });
  });

  it('subscribes with the Idempotency-Key, retrying a 503 with the same key', async () => {
    stub.script.push(problem(503, 'gateway_unavailable'), { status: 201, body: { id: 'msb_1' } });
    const startAt = new Date('2027-01-01T00:00:00Z');
    const sub = await client.createSubscription(
      { planId: 'plan_A1', customer: { email: 'a@example.com' }, totalCount: 3, startAt },
      { idempotencyKey: 'membership-7' },
    );
    assert.equal(sub.id, 'msb_1');
    assert.deepEqual(
      stub.seen.map((r) => [r.method, r.url, r.headers['idempotency-key']]),
      [
        ['POST', PATHS.subscriptions, 'membership-7'],
        ['POST', PATHS.subscriptions, 'membership-7'],
      ],
    );
    assert.deepEqual(stub.seen[0].body, {
      plan_id: 'plan_A1',
      customer: { email: 'a@example.com' },
      total_count: 3,
      start_at: '2027-01-01T00:00:00.000Z',
    });
  });

  it('refuses a subscription without a plan or with a cycle count that is no integer', async () => {
    await assert.rejects(client.createSubscription({ ...SUB, plan_id: '' }), TypeError);
    await assert.rejects(client.createSubscription({ ...SUB, total_count: 1.5 }), TypeError);
    await assert.rejects(client.createSubscription({ ...SUB, startAt: 'soon' }), TypeError);
    assert.equal(stub.seen.length, 0);
  });

  it("verifies Checkout's three fields at the subscription's path, and retries it", async () => {
    stub.script.push(problem(502, 'gateway_unavailable'), { status: 200, body: { id: 'msb_1' } });
    const result = {
      razorpay_payment_id: 'pay_1',
      razorpay_subscription_id: 'sub_1',
      razorpay_signature: 'a'.repeat(64),
      extra: 'dropped',
    };
    await client.verifySubscription('msb_1', result);
    assert.equal(stub.seen.length, 2);
    assert.equal(stub.seen[1].url, '/v1/subscriptions/msb_1/verify');
    const { extra, ...sent } = result;
    assert.equal(extra, 'dropped');
    assert.deepEqual(stub.seen[1].body, sent);
  });

  it('cancels at cycle end or now (safe to repeat); pause and resume are sent once', async () => {
    stub.script.push(
      { status: 200, body: { status: 'active' } },
      { status: 200, body: { status: 'cancelled' } },
      problem(503, 'gateway_unavailable'),
    );
    await client.cancelSubscription('msb_1', { atCycleEnd: true });
    await client.cancelSubscription('msb_1');
    await assert.rejects(client.pauseSubscription('msb_1'), PaymentsApiError);
    assert.deepEqual(
      stub.seen.map((r) => [r.url, r.body]),
      [
        ['/v1/subscriptions/msb_1/cancel', { at_cycle_end: true }],
        ['/v1/subscriptions/msb_1/cancel', { at_cycle_end: false }],
        ['/v1/subscriptions/msb_1/pause', null],
      ],
    );
  });

  it('reads plans and subscriptions with their filters, and pages through them', async () => {
    stub.script.push(
      { status: 200, body: { items: [{ id: 'plan_A1' }], next_cursor: null } },
      { status: 200, body: { id: 'plan_A1' } },
      { status: 200, body: { items: [{ id: 'msb_1' }], next_cursor: 'c1' } },
      { status: 200, body: { items: [{ id: 'msb_2' }], next_cursor: null } },
      { status: 200, body: { id: 'msb_2' } },
    );
    await client.listPlans({ sku: 'all-courses' });
    await client.getPlan('plan_A1');
    const ids = [];
    for await (const sub of client.each('listSubscriptions', { customer_email: 'a@example.com' })) {
      ids.push(sub.id);
    }
    await client.getSubscription('sub_X/1');
    assert.deepEqual(ids, ['msb_1', 'msb_2']);
    assert.deepEqual(
      stub.seen.map((r) => r.url),
      [
        '/v1/plans?sku=all-courses',
        '/v1/plans/plan_A1',
        '/v1/subscriptions?customer_email=a%40example.com',
        '/v1/subscriptions?customer_email=a%40example.com&cursor=c1',
        '/v1/subscriptions/sub_X%2F1',
      ],
    );
  });
});
