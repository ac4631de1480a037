'use strict';
/**
 * The package against a REAL payments service and its Razorpay sandbox (nothing mocked):
 *
 *   PAYMENTS_API_URL, PAYMENTS_SITE_ID, PAYMENTS_JWT_SECRET, PAYMENTS_CALLBACK_SECRET,
 *   PAYMENTS_AUDIENCE   this site, registered with the callback URL
 *                       http://127.0.0.1:$CALLBACK_PORT/payments/callback
 *   SANDBOX_URL         the Razorpay sandbox
 *   PGHOST, PGDATABASE, ...  the site's own database (its access table and dedupe table)
 *
 * A worker must be delivering notifications meanwhile (tests/test_node_client.py runs one).
 * Skipped when PAYMENTS_API_URL is unset.
 */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { describe, it, before, after } = require('node:test');

const {
  createPaymentsClient,
  paymentsConfigFromEnv,
  paymentsCallback,
  PaymentsApiError,
} = require('..');
const { pgDedupe, APPLIED_EVENTS_TABLE_SQL } = require('../lib/pg');
const { listen, request, eventually } = require('./support/http');
const { PLAN_ID, subscribeAndPay } = require('./support/memberships');

const env = process.env;
const SKIP = env.PAYMENTS_API_URL
  ? false
  : 'PAYMENTS_API_URL is not set: needs a running service and sandbox';
const WAIT = { timeoutMs: 20_000 };

const freshEmail = (tag) =>
  `pkg-${tag}-${Date.now()}-${crypto.randomBytes(3).toString('hex')}@example.com`;

async function payInSandbox(razorpayOrderId) {
  const url = `${env.SANDBOX_URL.replace(/\/+$/, '')}/_sandbox/orders/${razorpayOrderId}/pay`;
  const answer = await request('POST', url, { outcome: 'success' });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** Forwards to the service, but answers the first POST /v1/orders with a 503 after the
 * service made the order: the answer is lost, as on a flaky network. */
function answerLosingProxy(target) {
  let lost = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const headers = { ...req.headers };
      delete headers.host;
      delete headers['content-length'];
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      const text = await upstream.text();
      if (req.method === 'POST' && req.url === '/v1/orders' && lost === 0) {
        lost += 1;
        res.writeHead(503, { 'Content-Type': 'application/problem+json' });
        return res.end(
          JSON.stringify({ code: 'gateway_unavailable', status: 503, detail: 'lost' }),
        );
      }
      res.writeHead(upstream.status, {
        'Content-Type': upstream.headers.get('content-type') || 'application/json',
      });
      return res.end(text);
    });
  });
  return listen({ listen: (...args) => server.listen(...args) }).then((running) => ({
    ...running,
    lostAnswers: () => lost,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  }));
}

describe('the package against the running service', { skip: SKIP, timeout: 120_000 }, () => {
  const config = SKIP ? null : paymentsConfigFromEnv();
  let payments;
  let pool;
  let site;
  const events = [];

  before(async () => {
    payments = createPaymentsClient(config);
    const { Pool } = require('pg');
    pool = new Pool({ max: 4 });
    await pool.query(APPLIED_EVENTS_TABLE_SQL);
    await pool.query(
      `CREATE TABLE IF NOT EXISTS pkg_access (
         enrollment_id text PRIMARY KEY, email text NOT NULL, sku text NOT NULL, status text NOT NULL)`,
    );
    // The site's callback route, on Express 4 (node-site runs Express 5 against the service).
    const app = require('express4')();
    app.post(
      '/payments/callback',
      paymentsCallback({
        secret: config.callbackSecret,
        ...pgDedupe(pool),
        onEvent: async (event, client) => {
          events.push(event);
          if (!event.type.startsWith('enrollment.')) return;
          const { id, customer_email, sku, status } = event.data.enrollment;
          await client.query(
            `INSERT INTO pkg_access (enrollment_id, email, sku, status) VALUES ($1, $2, $3, $4)
             ON CONFLICT (enrollment_id) DO UPDATE SET status = CASE
               WHEN pkg_access.status = 'revoked' THEN 'revoked' ELSE EXCLUDED.status END`,
            [id, customer_email, sku, status],
          );
        },
      }),
    );
    site = await listen(app, Number(env.CALLBACK_PORT));
  });

  after(async () => {
    if (site) await site.close();
    if (pool) await pool.end();
  });

  const accessOf = async (email) =>
    (await pool.query('SELECT sku, status FROM pkg_access WHERE email = $1 ORDER BY sku', [email]))
      .rows;

  it('sells, verifies, refunds, and the site hears each step in its own tables', async () => {
    const email = freshEmail('buy');
    const order = await payments.createOrder(
      {
        amount: 49900,
        product: { sku: 'python-101', name: 'Python 101' },
        customer: { email, name: 'Asha', site_user_id: 'u-7' },
      },
      { idempotencyKey: `cart-${crypto.randomUUID()}` },
    );
    assert.equal(order.status, 'created');
    assert.equal(order.checkout.amount, 49900);
    assert.equal(await payments.owns(email, 'python-101'), false);

    const verified = await payments.verifyPayment(await payInSandbox(order.checkout.order_id));
    assert.equal(verified.order.status, 'paid');
    assert.equal(verified.enrollment.sku, 'python-101');
    assert.equal(await payments.owns(email, 'python-101'), true);
    assert.equal((await payments.getOrder(order.id)).status, 'paid');
    assert.deepEqual(
      (await payments.listOrders({ customer_email: email })).items.map((o) => o.id),
      [order.id],
    );
    const [payment] = (await payments.listPayments({ order_id: order.id })).items;
    assert.equal(payment.status, 'captured');

    await eventually(async () => (await accessOf(email)).length === 1, {
      ...WAIT,
      what: 'enrollment.granted',
    });
    assert.deepEqual(await accessOf(email), [{ sku: 'python-101', status: 'active' }]);

    const key = `ticket-${crypto.randomUUID()}`;
    const refund = await payments.createRefund(
      { order_id: order.id, reason: 'changed mind' },
      { idempotencyKey: key },
    );
    assert.equal(refund.status, 'processed');
    assert.equal(refund.amount, 49900);
    assert.equal(refund.revoked_access, true);
    assert.equal(refund.requested_by, `site:${config.siteId}`);
    const replay = await payments.createRefund(
      { order_id: order.id, reason: 'changed mind' },
      { idempotencyKey: key },
    );
    assert.equal(replay.id, refund.id);
    assert.deepEqual(
      (await payments.listRefunds({ order_id: order.id })).items.map((r) => r.id),
      [refund.id],
    );
    assert.equal((await payments.getRefund(refund.id)).status, 'processed');
    assert.equal(await payments.owns(email, 'python-101'), false);

    await eventually(async () => (await accessOf(email))[0].status === 'revoked', {
      ...WAIT,
      what: 'enrollment.revoked',
    });
    await eventually(
      () => events.some((e) => e.type === 'refund.processed' && e.data.order.id === order.id),
      { ...WAIT, what: 'refund.processed' },
    );
    assert.ok(events.some((e) => e.type === 'order.paid' && e.data.order.id === order.id));
    const ids = [...new Set(events.map((e) => e.id))];
    const applied = await pool.query(
      'SELECT event_id FROM payments_events_applied WHERE event_id = ANY($1)',
      [ids],
    );
    assert.equal(applied.rowCount, ids.length); // each event applied is remembered, once
    assert.equal(events.length, ids.length); // and none was applied twice

    const trail = await payments.customerTransactions(email);
    assert.deepEqual(
      trail.totals.map((t) => [t.currency, t.paid, t.refunded, t.net]),
      [['INR', 49900, 49900, 0]],
    );
  });

  it("turns the service's problems into typed errors", async () => {
    await assert.rejects(payments.getOrder('ord_DoesNotExist00'), (error) => {
      assert.ok(error instanceof PaymentsApiError);
      assert.deepEqual([error.status, error.code], [404, 'not_found']);
      assert.match(error.requestId, /^[0-9a-f]{32}$/);
      return true;
    });
    const tooSmall = {
      amount: 50,
      product: { sku: 'python-101', name: 'P' },
      customer: { email: freshEmail('x') },
    };
    await assert.rejects(payments.createOrder(tooSmall), (error) => {
      assert.deepEqual(
        [error.status, error.code, error.isClientError],
        [422, 'validation_error', true],
      );
      assert.ok(error.errors.amount);
      return true;
    });
    const impostor = createPaymentsClient({ ...config, jwtSecret: 'not-the-secret' });
    await assert.rejects(impostor.enrollments('a@example.com'), (error) => {
      assert.deepEqual(
        [error.status, error.code, error.isClientError],
        [401, 'unauthorized', false],
      );
      return true;
    });
  });

  it('hears subscription.activated and .cancelled in its own callback', { skip: !PLAN_ID }, async () => {
    const email = freshEmail('member');
    const sub = await subscribeAndPay(payments, email);
    const about = (type) => events.find((e) => e.type === type && e.data.subscription?.id === sub.id);
    const activated = await eventually(() => about('subscription.activated'), {
      ...WAIT,
      what: 'subscription.activated',
    });
    assert.equal(activated.data.subscription.customer_email, email);
    await eventually(async () => (await accessOf(email)).length === 1, {
      ...WAIT,
      what: 'enrollment.granted for the membership',
    });
    assert.deepEqual(await accessOf(email), [{ sku: 'all-courses', status: 'active' }]);

    await payments.cancelSubscription(sub.id);
    const cancelled = await eventually(() => about('subscription.cancelled'), {
      ...WAIT,
      what: 'subscription.cancelled',
    });
    assert.equal(cancelled.data.subscription.status, 'cancelled');
    await eventually(async () => (await accessOf(email))[0].status === 'revoked', {
      ...WAIT,
      what: 'enrollment.revoked for the membership',
    });
  });

  it('retries a lost answer with the same Idempotency-Key: one order, not two', async () => {
    const proxy = await answerLosingProxy(config.apiUrl);
    try {
      const waits = [];
      const flaky = createPaymentsClient({
        ...config,
        apiUrl: proxy.url,
        sleep: async (ms) => waits.push(ms),
      });
      const email = freshEmail('lost');
      const order = await flaky.createOrder({
        amount: 29900,
        product: { sku: 'sql-basics', name: 'SQL Basics' },
        customer: { email },
      });
      assert.equal(proxy.lostAnswers(), 1);
      assert.equal(waits.length, 1);
      const orders = await payments.listOrders({ customer_email: email });
      assert.deepEqual(
        orders.items.map((o) => o.id),
        [order.id],
      );
    } finally {
      await proxy.close();
    }
  });

  it('signed one site token for all of the above (cached)', () => {
    // One without a subject, one for the buyer's site_user_id u-7.
    assert.equal(payments.tokensMinted, 2);
  });
});
