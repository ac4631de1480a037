// Minimal fake of the Razorpay REST API, for load tests on loopback only.
//   POST /v1/orders                 -> order entity (id order_<14>), status "created"
//   GET  /v1/payments/:id           -> payment entity, status "captured", amount of its order
//   POST /v1/payments/:id/refund    -> refund entity (id rfnd_<14>), status "processed"
// Added for the Flask service's benchmark; the routes above are unchanged:
//   POST /v1/payments/:id/capture   -> authorized -> captured (amount must equal the payment's)
//   GET  /v1/orders/:id             -> order entity
//   GET  /v1/orders/:id/payments    -> {entity: "collection", count, items: [payments]}
// Added for payments_service's recovery paths (make bench; the routes above are unchanged):
//   GET  /v1/orders?receipt=R       -> {entity: "collection", count, items: [orders with receipt R]}
//   GET  /v1/payments/:id/refunds   -> {entity: "collection", count, items: [refunds]}
//   POST /v1/payments/:id/refund with X-Refund-Idempotency: a repeated key answers the refund
//        that key made, as Razorpay does, instead of refunding again
// Optional fixed latency on every /v1/* response (default 0 = answer at once, as before):
//   env FAKE_RZP_DELAY_MS=200, or at run time POST /_test/delay {"ms": 200}.
// Basic auth: must be RAZORPAY_KEY_ID:RAZORPAY_KEY_SECRET, else 401 (Razorpay-style error).
// Test-only helper (not a Razorpay API; stands in for the customer paying at checkout):
//   POST /_test/checkout {"count": N, "amount": paise}
//        -> creates N orders + one captured payment each, returns [[order_id, payment_id, amount], ...]
//   GET  /_test/stats -> counts (+ delay_ms)
//   POST /_test/pay {"order_ids": [...]} or {"unpaid": N}, optional "status": "captured"|"authorized"
//        -> pays the given existing orders (or up to N orders that have no payment yet, oldest
//           first) with one payment each; returns the payment entities
//   POST /_test/delay {"ms": N} -> sets the fixed /v1/* latency, returns {"delay_ms": N}
// Node http, single process, in-memory maps. Usage: node fake-razorpay.js [port] (binds 127.0.0.1).
'use strict';
const http = require('http');
const crypto = require('crypto');

const PORT = parseInt(process.argv[2] || process.env.FAKE_RZP_PORT || '18080', 10);
const KEY_ID = process.env.RAZORPAY_KEY_ID || 'rzp_test_fakekey00000001';
const KEY_SECRET = process.env.RAZORPAY_KEY_SECRET || 'fake_secret';
const EXPECTED_AUTH = 'Basic ' + Buffer.from(KEY_ID + ':' + KEY_SECRET).toString('base64');
let DELAY_MS = Math.max(0, parseInt(process.env.FAKE_RZP_DELAY_MS || '0', 10) || 0);

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function rid(prefix) {
  const b = crypto.randomBytes(14);
  let s = prefix + '_';
  for (let i = 0; i < 14; i++) s += ALNUM[b[i] % 62];
  return s;
}
const now = () => Math.floor(Date.now() / 1000);

const orders = new Map();
const payments = new Map();
const refunds = new Map();
const orderPayments = new Map();  // order id -> [payment ids]
const refundKeys = new Map();  // X-Refund-Idempotency -> refund id

function send(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
function err(res, status, code, description, field) {
  send(res, status, { error: { code, description, source: 'business', step: 'payment_initiation',
    reason: 'input_validation_failed', metadata: {}, field: field || null } });
}

function makeOrder(amount, currency, receipt, notes) {
  const o = { id: rid('order'), entity: 'order', amount, amount_paid: 0, amount_due: amount,
    currency: currency || 'INR', receipt: receipt || null, offer_id: null, status: 'created',
    attempts: 0, notes: notes || [], created_at: now() };
  orders.set(o.id, o);
  return o;
}
function makePayment(order, status) {
  const authorizedOnly = status === 'authorized';
  const p = { id: rid('pay'), entity: 'payment', amount: order.amount, currency: order.currency,
    status: authorizedOnly ? 'authorized' : 'captured', order_id: order.id, invoice_id: null, international: false, method: 'card',
    amount_refunded: 0, refund_status: null, captured: !authorizedOnly, description: 'Course purchase',
    card_id: rid('card'), bank: null, wallet: null, vpa: null, email: 'buyer@example.com',
    contact: '+919000090000', notes: [], fee: Math.round(order.amount * 0.02),
    tax: Math.round(order.amount * 0.0036), error_code: null, error_description: null,
    error_source: null, error_step: null, error_reason: null,
    acquirer_data: { auth_code: String(100000 + (crypto.randomBytes(3).readUIntBE(0, 3) % 900000)) },
    created_at: now() };
  payments.set(p.id, p);
  if (!orderPayments.has(order.id)) orderPayments.set(order.id, []);
  orderPayments.get(order.id).push(p.id);
  if (authorizedOnly) { order.status = 'attempted'; order.attempts += 1; return p; }
  order.status = 'paid'; order.amount_paid = order.amount; order.amount_due = 0; order.attempts = 1;
  return p;
}

function handle(req, res, raw) {
  const url = req.url.split('?')[0];
  let body = {};
  if (raw.length) {
    try { body = JSON.parse(raw); } catch (e) { return err(res, 400, 'BAD_REQUEST_ERROR', 'Invalid JSON'); }
  }
  if (url.startsWith('/_test/')) {
    if (req.method === 'POST' && url === '/_test/checkout') {
      const n = Math.max(0, Math.min(parseInt(body.count || 1, 10), 500000));
      const amount = parseInt(body.amount || 49900, 10);
      const out = [];
      for (let i = 0; i < n; i++) {
        const o = makeOrder(amount, 'INR', 'receipt_pool_' + i, {});
        out.push([o.id, makePayment(o).id, amount]);
      }
      return send(res, 200, out);
    }
    if (req.method === 'GET' && url === '/_test/stats') {
      return send(res, 200, { orders: orders.size, payments: payments.size, refunds: refunds.size, delay_ms: DELAY_MS });
    }
    if (req.method === 'POST' && url === '/_test/pay') {
      const status = body.status === 'authorized' ? 'authorized' : 'captured';
      const out = [];
      if (Array.isArray(body.order_ids)) {
        for (const id of body.order_ids) {
          const o = orders.get(id);
          if (!o) return err(res, 400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'order_ids');
          out.push(makePayment(o, status));
        }
      } else {
        const n = Math.max(0, Math.min(parseInt(body.unpaid || 0, 10), 500000));
        for (const o of orders.values()) {
          if (out.length >= n) break;
          if (o.status === 'created' && !orderPayments.has(o.id)) out.push(makePayment(o, status));
        }
      }
      return send(res, 200, out);
    }
    if (req.method === 'POST' && url === '/_test/delay') {
      DELAY_MS = Math.max(0, parseInt(body.ms || 0, 10) || 0);
      return send(res, 200, { delay_ms: DELAY_MS });
    }
    return err(res, 404, 'BAD_REQUEST_ERROR', 'The requested URL was not found on the server.');
  }
  if (req.headers.authorization !== EXPECTED_AUTH) {
    return err(res, 401, 'BAD_REQUEST_ERROR', 'Authentication failed');
  }
  let m;
  if (req.method === 'POST' && url === '/v1/orders') {
    const amount = body.amount;
    if (!Number.isInteger(amount) || amount < 100) {
      return err(res, 400, 'BAD_REQUEST_ERROR', 'The amount must be atleast INR 1.00', 'amount');
    }
    return send(res, 200, makeOrder(amount, body.currency, body.receipt, body.notes));
  }
  if (req.method === 'GET' && url === '/v1/orders') {
    const receipt = new URLSearchParams(req.url.split('?')[1] || '').get('receipt');
    const items = [...orders.values()].filter((o) => receipt === null || o.receipt === receipt);
    return send(res, 200, { entity: 'collection', count: items.length, items });
  }
  if (req.method === 'GET' && (m = url.match(/^\/v1\/payments\/(pay_[A-Za-z0-9]+)\/refunds$/))) {
    if (!payments.has(m[1])) return err(res, 400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'id');
    const items = [...refunds.values()].filter((r) => r.payment_id === m[1]);
    return send(res, 200, { entity: 'collection', count: items.length, items });
  }
  if (req.method === 'GET' && (m = url.match(/^\/v1\/payments\/(pay_[A-Za-z0-9]+)$/))) {
    const p = payments.get(m[1]);
    if (!p) return err(res, 400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'id');
    return send(res, 200, p);
  }
  if (req.method === 'POST' && (m = url.match(/^\/v1\/payments\/(pay_[A-Za-z0-9]+)\/capture$/))) {
    const p = payments.get(m[1]);
    if (!p) return err(res, 400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'id');
    if (p.status === 'captured') return err(res, 400, 'BAD_REQUEST_ERROR', 'This payment has already been captured');
    if (p.status !== 'authorized') {
      return err(res, 400, 'BAD_REQUEST_ERROR', 'Only payments which have been authorized and not yet captured can be captured');
    }
    if (body.amount !== p.amount) {
      return err(res, 400, 'BAD_REQUEST_ERROR', 'Capture amount must be equal to the amount authorized', 'amount');
    }
    p.status = 'captured'; p.captured = true;
    const o = orders.get(p.order_id);
    if (o) { o.status = 'paid'; o.amount_paid = o.amount; o.amount_due = 0; }
    return send(res, 200, p);
  }
  if (req.method === 'GET' && (m = url.match(/^\/v1\/orders\/(order_[A-Za-z0-9]+)$/))) {
    const o = orders.get(m[1]);
    if (!o) return err(res, 400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'id');
    return send(res, 200, o);
  }
  if (req.method === 'GET' && (m = url.match(/^\/v1\/orders\/(order_[A-Za-z0-9]+)\/payments$/))) {
    if (!orders.has(m[1])) return err(res, 400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'id');
    const items = (orderPayments.get(m[1]) || []).map((id) => payments.get(id));
    return send(res, 200, { entity: 'collection', count: items.length, items });
  }
  if (req.method === 'POST' && (m = url.match(/^\/v1\/payments\/(pay_[A-Za-z0-9]+)\/refund$/))) {
    const p = payments.get(m[1]);
    if (!p) return err(res, 400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'id');
    const key = req.headers['x-refund-idempotency'];
    if (key && refundKeys.has(key)) return send(res, 200, refunds.get(refundKeys.get(key)));
    const amount = body.amount === undefined ? p.amount - p.amount_refunded : body.amount;
    if (!Number.isInteger(amount) || amount <= 0 || amount > p.amount - p.amount_refunded) {
      return err(res, 400, 'BAD_REQUEST_ERROR',
        'The refund amount provided is greater than amount captured', 'amount');
    }
    const r = { id: rid('rfnd'), entity: 'refund', amount, currency: p.currency, payment_id: p.id,
      notes: body.notes || [], receipt: body.receipt || null, acquirer_data: { arn: null },
      created_at: now(), batch_id: null, status: 'processed', speed_processed: 'normal',
      speed_requested: body.speed || 'normal' };
    refunds.set(r.id, r);
    if (key) refundKeys.set(key, r.id);
    p.amount_refunded += amount;
    p.refund_status = p.amount_refunded === p.amount ? 'full' : 'partial';
    if (p.amount_refunded === p.amount) p.status = 'refunded';
    return send(res, 200, r);
  }
  return err(res, 404, 'BAD_REQUEST_ERROR', 'The requested URL was not found on the server.');
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    if (DELAY_MS > 0 && req.url.startsWith('/v1/')) setTimeout(() => handle(req, res, raw), DELAY_MS);
    else handle(req, res, raw);
  });
});
server.keepAliveTimeout = 60000;
server.listen(PORT, '127.0.0.1', () => console.log('fake razorpay on 127.0.0.1:' + PORT));
