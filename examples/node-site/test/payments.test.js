'use strict';
/** Unit tests: the site JWT, and what the client sends (against a stand-in, not the service). */
const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const express = require('express');
const jwt = require('jsonwebtoken');

const { createPaymentsClient, PaymentsApiError } = require('../src/payments');
const { listen } = require('./support/http');

const SECRET = 'site-jwt-secret-0123456789abcdef';

describe('siteToken', () => {
  const client = createPaymentsClient({
    apiUrl: 'http://127.0.0.1:9',
    siteId: 'kit-site',
    jwtSecret: SECRET,
  });

  it('is HS256 with iss = site id, aud = the service, and a 5-minute exp', () => {
    const token = client.siteToken();
    assert.equal(jwt.decode(token, { complete: true }).header.alg, 'HS256');
    const claims = jwt.verify(token, SECRET, {
      algorithms: ['HS256'],
      audience: 'payments-service',
      issuer: 'kit-site',
    });
    assert.equal(claims.exp - claims.iat, 300);
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 5);
    assert.equal('sub' in claims, false);
  });

  it('carries the site user id as sub when given, and a configured audience', () => {
    const custom = createPaymentsClient({
      apiUrl: 'http://x',
      siteId: 's',
      jwtSecret: SECRET,
      audience: 'payments-staging',
    });
    const claims = jwt.verify(custom.siteToken({ userId: 42 }), SECRET, {
      audience: 'payments-staging',
    });
    assert.equal(claims.sub, '42');
  });
});

describe('client requests', () => {
  let stub;
  const seen = [];

  before(async () => {
    const app = express();
    app.use(express.json());
    app.post('/v1/orders', (req, res) => {
      seen.push({ headers: req.headers, body: req.body });
      res.status(201).json({ id: 'ord_1', checkout: { order_id: 'order_1' } });
    });
    app.post('/v1/payment-links', (req, res) => {
      seen.push({ headers: req.headers, body: req.body });
      res.status(201).json({ id: 'plink_1', short_url: 'https://rzp.io/i/x', status: 'created' });
    });
    app.post('/v1/payments/verify', (req, res) => {
      res
        .status(403)
        .type('application/problem+json')
        .send(JSON.stringify({ code: 'invalid_signature', detail: 'no' }));
    });
    stub = await listen(app);
  });

  after(() => stub.close());

  it('creates an order with a bearer token and the Idempotency-Key', async () => {
    const client = createPaymentsClient({
      apiUrl: `${stub.url}/`,
      siteId: 'kit-site',
      jwtSecret: SECRET,
    });
    const order = await client.createOrder(
      {
        amount: 49900,
        product: { sku: 'python-101', name: 'Python 101' },
        customer: { email: 'a@example.com', site_user_id: 'u-1' },
      },
      { idempotencyKey: 'cart-1' },
    );
    assert.equal(order.checkout.order_id, 'order_1');
    const [sent] = seen;
    assert.equal(sent.headers['idempotency-key'], 'cart-1');
    const token = sent.headers.authorization.replace(/^Bearer /, '');
    assert.equal(jwt.verify(token, SECRET, { audience: 'payments-service' }).sub, 'u-1');
    assert.deepEqual(sent.body, {
      amount: 49900,
      currency: 'INR',
      product: { sku: 'python-101', name: 'Python 101' },
      customer: { email: 'a@example.com', site_user_id: 'u-1' },
    });
  });

  it('creates a payment link with a site token and the service\'s field names', async () => {
    const client = createPaymentsClient({
      apiUrl: stub.url,
      siteId: 'kit-site',
      jwtSecret: SECRET,
    });
    seen.length = 0;
    const link = await client.createPaymentLink(
      {
        amount: 49900,
        product: { sku: 'python-101', name: 'Python 101' },
        customer: { email: 'a@example.com' },
        returnUrl: 'https://kit.example.com/thanks',
        expireBy: new Date('2030-01-02T03:04:05Z'),
        notify: { email: true, sms: false },
      },
      { idempotencyKey: 'link-1' },
    );
    assert.equal(link.short_url, 'https://rzp.io/i/x');
    const [sent] = seen;
    assert.equal(sent.headers['idempotency-key'], 'link-1');
    const token = sent.headers.authorization.replace(/^Bearer /, '');
    assert.equal(jwt.verify(token, SECRET, { audience: 'payments-service' }).iss, 'kit-site');
    assert.deepEqual(sent.body, {
      amount: 49900,
      currency: 'INR',
      product: { sku: 'python-101', name: 'Python 101' },
      customer: { email: 'a@example.com' },
      return_url: 'https://kit.example.com/thanks',
      expire_by: '2030-01-02T03:04:05.000Z',
      notify: { email: true, sms: false },
    });
    await assert.rejects(
      client.createPaymentLink({ amount: 10.5, product: {}, customer: {}, returnUrl: 'x' }),
      TypeError,
    );
  });

  it('refuses a non-integer amount before sending anything', async () => {
    const client = createPaymentsClient({
      apiUrl: stub.url,
      siteId: 'kit-site',
      jwtSecret: SECRET,
    });
    await assert.rejects(
      client.createOrder({ amount: 499.0 * 1.1, product: {}, customer: {} }),
      TypeError,
    );
  });

  it('turns problem+json answers into PaymentsApiError with the code', async () => {
    const client = createPaymentsClient({
      apiUrl: stub.url,
      siteId: 'kit-site',
      jwtSecret: SECRET,
    });
    await assert.rejects(client.verifyPayment({}), (error) => {
      assert.ok(error instanceof PaymentsApiError);
      assert.equal(error.status, 403);
      assert.equal(error.code, 'invalid_signature');
      assert.equal(error.isClientError, true);
      return true;
    });
  });

  it('reports an unreachable service as status 0', async () => {
    const client = createPaymentsClient({
      apiUrl: 'http://127.0.0.1:9',
      siteId: 's',
      jwtSecret: SECRET,
      timeoutMs: 2000,
    });
    await assert.rejects(
      client.enrollments('a@example.com'),
      (error) => error.status === 0 && error.code === 'unreachable',
    );
  });
});

describe('an Idempotency-Key another request holds', () => {
  let stub;
  const answers = [];

  before(async () => {
    const app = express();
    app.use(express.json());
    app.post('/v1/orders', (req, res) => {
      const [status, retryAfter] = answers.shift();
      if (status === 201) return res.status(201).json({ id: 'ord_1', checkout: {} });
      return res
        .status(409)
        .set('Retry-After', String(retryAfter))
        .type('application/problem+json')
        .send(JSON.stringify({ code: 'idempotency_key_in_use', detail: 'held' }));
    });
    stub = await listen(app);
  });

  after(() => stub.close());

  const order = { amount: 49900, product: { sku: 'python-101', name: 'P' }, customer: {} };

  it('is waited for as Retry-After says, then the order is returned', async () => {
    answers.push([409, 1], [201]);
    const client = createPaymentsClient({ apiUrl: stub.url, siteId: 's', jwtSecret: SECRET });
    const created = await client.createOrder(order, { idempotencyKey: 'cart-2' });
    assert.equal(created.id, 'ord_1');
    assert.equal(answers.length, 0);
  });

  it('is not waited for longer than keyWaitMs: the error says when to retry', async () => {
    answers.push([409, 30]);
    const client = createPaymentsClient({ apiUrl: stub.url, siteId: 's', jwtSecret: SECRET });
    await assert.rejects(client.createOrder(order, { idempotencyKey: 'cart-3' }), (error) => {
      assert.ok(error instanceof PaymentsApiError);
      assert.equal(error.code, 'idempotency_key_in_use');
      assert.equal(error.retryAfter, 30);
      assert.equal(error.isClientError, false);
      return true;
    });
  });
});
