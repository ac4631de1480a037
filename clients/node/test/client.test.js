'use strict';
/**
 * What the client sends and how it retries, against a stand-in server that answers a
 * scripted sequence (the real service is in service.test.js).
 */
const assert = require('node:assert/strict');
const { describe, it, before, after, beforeEach } = require('node:test');
const jwt = require('jsonwebtoken');

const { createPaymentsClient, PaymentsApiError, PATHS } = require('..');
const { scriptedServer, problem } = require('./support/scripted');

const SECRET = 'site-jwt-secret-0123456789abcdef';

const ORDER = {
  amount: 49900,
  product: { sku: 'python-101', name: 'Python 101' },
  customer: { email: 'a@example.com', site_user_id: 'u-1' },
};

describe('the client against a scripted server', () => {
  const stub = scriptedServer();
  let url;
  let waits;
  let client;

  before(async () => {
    url = await stub.start();
  });
  after(() => stub.stop());
  beforeEach(() => {
    stub.seen.length = 0;
    stub.script.length = 0;
    waits = [];
    client = createPaymentsClient({
      apiUrl: `${url}/`,
      siteId: 'kit-site',
      jwtSecret: SECRET,
      timeoutMs: 500,
      sleep: async (ms) => waits.push(ms),
      random: () => 1,
    });
  });

  it('creates an order with a bearer token, the Idempotency-Key and the body as given', async () => {
    stub.script.push({ status: 201, body: { id: 'ord_1', checkout: { order_id: 'order_1' } } });
    const order = await client.createOrder(ORDER, { idempotencyKey: 'cart-1' });
    assert.equal(order.checkout.order_id, 'order_1');
    const [sent] = stub.seen;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, PATHS.orders);
    assert.equal(sent.headers['idempotency-key'], 'cart-1');
    const token = sent.headers.authorization.replace(/^Bearer /, '');
    assert.equal(
      jwt.verify(token, SECRET, { audience: 'payments-service', issuer: 'kit-site' }).sub,
      'u-1',
    );
    assert.deepEqual(sent.body, { currency: 'INR', ...ORDER });
  });

  it('retries a 503 and a lost connection with the SAME Idempotency-Key, then returns the order', async () => {
    stub.script.push(
      problem(503, 'gateway_unavailable'),
      { destroy: true },
      { status: 200, body: { id: 'ord_1' } },
    );
    const order = await client.createOrder(ORDER, { idempotencyKey: 'cart-2' });
    assert.equal(order.id, 'ord_1');
    assert.deepEqual(
      stub.seen.map((request) => request.headers['idempotency-key']),
      ['cart-2', 'cart-2', 'cart-2'],
    );
    assert.deepEqual(waits, [250, 500]); // backoff doubles (jitter pinned by random = 1)
  });

  it('makes up one key per call when none is given, and its retries reuse it', async () => {
    stub.script.push(problem(500, 'internal_error'), { status: 201, body: { id: 'ord_2' } });
    await client.createOrder(ORDER);
    const [first, second] = stub.seen.map((request) => request.headers['idempotency-key']);
    assert.match(first, /^[0-9a-f-]{36}$/);
    assert.equal(second, first);
  });

  it('retries a timeout', async () => {
    stub.script.push({ hang: true }, { status: 201, body: { id: 'ord_3' } });
    assert.equal((await client.createOrder(ORDER, { idempotencyKey: 'cart-3' })).id, 'ord_3');
    assert.equal(stub.seen.length, 2);
  });

  it('gives up after maxRetries and says why', async () => {
    stub.script.push(...Array(3).fill(problem(503, 'gateway_unavailable', 'Razorpay is down')));
    await assert.rejects(client.createOrder(ORDER, { idempotencyKey: 'cart-4' }), (error) => {
      assert.ok(error instanceof PaymentsApiError);
      assert.equal(error.status, 503);
      assert.equal(error.code, 'gateway_unavailable');
      assert.equal(error.detail, 'Razorpay is down');
      assert.equal(error.isRetryable, true);
      return true;
    });
    assert.equal(stub.seen.length, 3);
  });

  it('never retries a 4xx: problem+json becomes a typed error with code, status and detail', async () => {
    stub.script.push(problem(409, 'already_owned', 'a@example.com already owns python-101'));
    await assert.rejects(client.createOrder(ORDER), (error) => {
      assert.ok(error instanceof PaymentsApiError);
      assert.equal(error.status, 409);
      assert.equal(error.code, 'already_owned');
      assert.equal(error.detail, 'a@example.com already owns python-101');
      assert.equal(error.requestId, 'r1');
      assert.equal(error.isClientError, true);
      return true;
    });
    assert.equal(stub.seen.length, 1);
  });

  it('waits out idempotency_key_in_use as Retry-After says, up to keyWaitMs', async () => {
    stub.script.push(
      { ...problem(409, 'idempotency_key_in_use'), retryAfter: 1 },
      { status: 200, body: { id: 'ord_5' } },
    );
    assert.equal((await client.createOrder(ORDER, { idempotencyKey: 'cart-5' })).id, 'ord_5');
    assert.deepEqual(waits, [1000]);

    stub.script.push({ ...problem(409, 'idempotency_key_in_use'), retryAfter: 30 });
    await assert.rejects(client.createOrder(ORDER, { idempotencyKey: 'cart-6' }), (error) => {
      assert.equal(error.code, 'idempotency_key_in_use');
      assert.equal(error.retryAfter, 30);
      assert.equal(error.isClientError, false);
      return true;
    });
  });

  it('refunds with an Idempotency-Key that its retries reuse', async () => {
    stub.script.push(problem(503, 'gateway_unavailable'), { status: 201, body: { id: 'rfd_1' } });
    const refund = await client.createRefund(
      { order_id: 'ord_1', reason: 'asked' },
      { idempotencyKey: 'ticket-9' },
    );
    assert.equal(refund.id, 'rfd_1');
    assert.deepEqual(
      stub.seen.map((r) => [r.method, r.url, r.headers['idempotency-key']]),
      [
        ['POST', '/v1/refunds', 'ticket-9'],
        ['POST', '/v1/refunds', 'ticket-9'],
      ],
    );
    assert.deepEqual(stub.seen[0].body, { order_id: 'ord_1', reason: 'asked' });
  });

  it('signs one token for many calls (cached)', async () => {
    stub.script.push({ status: 200, body: { items: [] } }, { status: 200, body: { items: [] } });
    await client.enrollments('a@example.com');
    await client.listOrders({ status: 'paid' });
    const [a, b] = stub.seen.map((r) => r.headers.authorization);
    assert.equal(a, b);
    assert.equal(client.tokensMinted, 1);
  });

  it('sends verify without a token, and retries it (verify is idempotent)', async () => {
    stub.script.push({ destroy: true }, { status: 200, body: { order: { status: 'paid' } } });
    const result = {
      razorpay_order_id: 'order_1',
      razorpay_payment_id: 'pay_1',
      razorpay_signature: 'ab',
    };
    await client.verifyPayment(result);
    assert.equal(stub.seen.length, 2);
    assert.equal(stub.seen[1].headers.authorization, undefined);
    assert.deepEqual(stub.seen[1].body, result);
  });

  it('names every site-facing path and query as openapi.yaml does', async () => {
    for (let i = 0; i < 13; i += 1)
      stub.script.push({ status: 200, body: { items: [], next_cursor: null } });
    await client.getOrder('ord_1');
    await client.listOrders({ customer_email: 'a@example.com', limit: 5 });
    await client.listPayments({ order_id: 'ord_1' });
    await client.getRefund('rfd_1');
    await client.listRefunds({ order_id: 'ord_1' });
    await client.enrollments('a@example.com', { sku: 'python-101' });
    await client.listEnrollments({ sku: 'python-101' });
    await client.customerTransactions('a@example.com');
    await client.createPaymentLink(
      { amount: 49900, product: ORDER.product, customer: { email: 'a@example.com' } },
      { idempotencyKey: 'l1' },
    );
    await client.getPaymentLink('plink_1');
    await client.listPaymentLinks({ status: 'created' });
    await client.cancelPaymentLink('plink_1');
    assert.deepEqual(
      stub.seen.map((r) => `${r.method} ${r.url}`),
      [
        'GET /v1/orders/ord_1',
        'GET /v1/orders?customer_email=a%40example.com&limit=5',
        'GET /v1/payments?order_id=ord_1',
        'GET /v1/refunds/rfd_1',
        'GET /v1/refunds?order_id=ord_1',
        'GET /v1/enrollments?customer_email=a%40example.com&sku=python-101',
        'GET /v1/enrollments?sku=python-101',
        'GET /v1/customers/a%40example.com/transactions',
        'POST /v1/payment-links',
        'GET /v1/payment-links/plink_1',
        'GET /v1/payment-links?status=created',
        'POST /v1/payment-links/plink_1/cancel',
      ],
    );
  });

  it('sends a payment link as openapi.yaml names its fields, from camelCase too', async () => {
    stub.script.push({ status: 201, body: { id: 'plink_1', short_url: 'https://rzp.io/i/x' } });
    const link = await client.createPaymentLink(
      {
        amount: 49900,
        product: ORDER.product,
        customer: { email: 'a@example.com' },
        returnUrl: 'https://old.example.com/thanks',
        expireBy: new Date(Date.UTC(2026, 11, 9, 10, 0, 0)),
        notify: { email: true, sms: false },
      },
      { idempotencyKey: 'link-1' },
    );
    assert.equal(link.short_url, 'https://rzp.io/i/x');
    const [sent] = stub.seen;
    assert.equal(sent.headers['idempotency-key'], 'link-1');
    assert.deepEqual(sent.body, {
      currency: 'INR',
      amount: 49900,
      product: ORDER.product,
      customer: { email: 'a@example.com' },
      notify: { email: true, sms: false },
      return_url: 'https://old.example.com/thanks',
      expire_by: '2026-12-09T10:00:00.000Z',
    });
    await assert.rejects(
      client.createPaymentLink({ ...sent.body, expire_by: 'next week' }),
      /expireBy must be a date/,
    );
  });

  it('walks every page of a list', async () => {
    stub.script.push(
      { status: 200, body: { items: [{ id: 'ord_2' }], next_cursor: '2.ord_2' } },
      { status: 200, body: { items: [{ id: 'ord_1' }], next_cursor: null } },
    );
    const ids = [];
    for await (const order of client.each('listOrders', { status: 'paid' })) ids.push(order.id);
    assert.deepEqual(ids, ['ord_2', 'ord_1']);
    assert.equal(stub.seen[1].url, '/v1/orders?status=paid&cursor=2.ord_2');
  });

  it('refuses an amount that is not integer paise before sending anything', async () => {
    await assert.rejects(client.createOrder({ ...ORDER, amount: 499.5 }), TypeError);
    await assert.rejects(client.createRefund({ order_id: 'ord_1', amount: 0.5 }), TypeError);
    assert.equal(stub.seen.length, 0);
  });
});

describe('an unreachable service', () => {
  it('is status 0, code unreachable, after the bounded retries', async () => {
    const waits = [];
    const client = createPaymentsClient({
      apiUrl: 'http://127.0.0.1:9',
      siteId: 's',
      jwtSecret: SECRET,
      sleep: async (ms) => waits.push(ms),
    });
    await assert.rejects(client.enrollments('a@example.com'), (error) => {
      assert.equal(error.status, 0);
      assert.equal(error.code, 'unreachable');
      return true;
    });
    assert.equal(waits.length, 2);
  });
});

describe('paymentsConfigFromEnv', () => {
  const { paymentsConfigFromEnv } = require('..');

  it('reads the PAYMENTS_* names, with both callback secrets during a rotation', () => {
    const config = paymentsConfigFromEnv({
      PAYMENTS_API_URL: 'https://payments.example.com',
      PAYMENTS_SITE_ID: 'old-site',
      PAYMENTS_JWT_SECRET: 'jwt',
      PAYMENTS_CALLBACK_SECRET: 'cb-new, cb-old',
    });
    assert.deepEqual(config, {
      apiUrl: 'https://payments.example.com',
      siteId: 'old-site',
      jwtSecret: 'jwt',
      callbackSecret: ['cb-new', 'cb-old'],
      audience: 'payments-service',
    });
  });

  it('names every variable that is missing', () => {
    assert.throws(
      () => paymentsConfigFromEnv({ PAYMENTS_SITE_ID: 's' }),
      /PAYMENTS_API_URL, PAYMENTS_JWT_SECRET must be set/,
    );
  });
});
