'use strict';
/**
 * The ported server (../server.js, Express 4 + pg) against a REAL payments service, its
 * Razorpay sandbox and a PostgreSQL database of the site's own, loaded with the original
 * schema (../original/schema.sql) and then the migration (../migrations/):
 *
 *   PAYMENTS_API_URL, PAYMENTS_SITE_ID, PAYMENTS_JWT_SECRET, PAYMENTS_CALLBACK_SECRET,
 *   PAYMENTS_AUDIENCE   this site, registered with callback URL
 *                       http://127.0.0.1:$CALLBACK_PORT/payments/callback
 *   OTHER_SITE_ID, OTHER_SITE_JWT_SECRET   another site of the merchant
 *   SANDBOX_URL; PGHOST, PGPORT, PGUSER, PGDATABASE (an empty database)
 *
 * A worker must be delivering notifications (tests/test_node_client.py runs one).
 */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { describe, it, before, after } = require('node:test');
const { Pool } = require('pg');
const { createPaymentsClient, callbackSignatureHeader } = require('payments-service-client');

const env = process.env;
const SKIP =
  env.PAYMENTS_API_URL && env.PGDATABASE ? false : 'needs PAYMENTS_API_URL and PGDATABASE';
const ROOT = path.resolve(__dirname, '..');
const WAIT_MS = 20_000;

async function eventually(check, what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function post(url, body, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

async function payInSandbox(razorpayOrderId) {
  const answer = await post(`${env.SANDBOX_URL}/_sandbox/orders/${razorpayOrderId}/pay`, {
    outcome: 'success',
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

function databaseUrl() {
  const host = env.PGHOST || '127.0.0.1';
  const auth = `${encodeURIComponent(env.PGUSER || 'postgres')}${env.PGPASSWORD ? `:${encodeURIComponent(env.PGPASSWORD)}` : ''}`;
  const where = host.startsWith('/')
    ? `localhost:${env.PGPORT || 5432}`
    : `${host}:${env.PGPORT || 5432}`;
  const socket = host.startsWith('/') ? `&host=${encodeURIComponent(host)}` : '';
  return `postgresql://${auth}@${where}/${env.PGDATABASE}?sslmode=disable${socket}`;
}

describe(
  'the Express 4 guide server, ported onto the service',
  { skip: SKIP, timeout: 120_000 },
  () => {
    let pool;
    let server;
    let site;
    let log = '';

    before(async () => {
      pool = new Pool();
      await pool.query(fs.readFileSync(path.join(ROOT, 'original', 'schema.sql'), 'utf8'));
      for (const file of fs.readdirSync(path.join(ROOT, 'migrations')).sort()) {
        await pool.query(fs.readFileSync(path.join(ROOT, 'migrations', file), 'utf8'));
      }
      site = `http://127.0.0.1:${env.CALLBACK_PORT}`;
      server = spawn(process.execPath, ['server.js'], {
        cwd: ROOT,
        env: { ...env, DATABASE_URL: databaseUrl(), PORT: env.CALLBACK_PORT, HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      server.stdout.on('data', (chunk) => (log += chunk));
      server.stderr.on('data', (chunk) => (log += chunk));
      await eventually(async () => {
        assert.equal(server.exitCode, null, `server.js exited:\n${log}`);
        return fetch(`${site}/api/user/1/transactions`).then(
          (r) => r.status === 200,
          () => false,
        );
      }, 'server.js to answer');
    });

    after(async () => {
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((resolve) => server.once('exit', resolve));
      }
      if (pool) await pool.end();
    });

    const access = async (userId, courseId) =>
      (
        await pool.query(
          'SELECT access_granted, order_id FROM course_enrollments WHERE user_id = $1 AND course_id = $2',
          [userId, courseId],
        )
      ).rows[0];

    const orderStatus = async (orderId) =>
      (await pool.query('SELECT status FROM orders WHERE order_id = $1', [orderId])).rows[0].status;
    let sale; // { orderId, paymentId } of the first test's purchase

    it('sells a course priced from its own catalogue: order, verify, access in its own tables', async () => {
      const cartId = `cart-${crypto.randomUUID()}`;
      // The browser says 1; the price comes from courses (PostgreSQL Basics, 999.00).
      const made = await post(`${site}/api/create-order`, {
        amount: 1,
        courseId: 2,
        userId: 3,
        cartId,
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.equal(made.body.order.amount, 99900);
      assert.match(made.body.order.id, /^order_/);
      assert.match(made.body.key_id, /^rzp_test_/);
      const again = await post(`${site}/api/create-order`, { courseId: 2, userId: 3, cartId });
      assert.equal(again.body.order.id, made.body.order.id); // a double click: the same order

      const result = await payInSandbox(made.body.order.id);
      const forged = await post(`${site}/api/verify-payment`, {
        ...result,
        razorpay_signature: '0'.repeat(64),
      });
      assert.equal(forged.status, 403);
      const verified = await post(`${site}/api/verify-payment`, result);
      assert.deepEqual(verified.body, {
        success: true,
        message: 'Payment verified and course access granted',
        paymentId: result.razorpay_payment_id,
      });

      const granted = await eventually(
        async () => (await access(3, 2))?.access_granted && access(3, 2),
        'access granted',
      );
      assert.match(granted.order_id, /^ord_/); // this site's order, in its own orders table
      await eventually(async () => (await orderStatus(granted.order_id)) === 'paid', 'order.paid');
      const [row] = (
        await pool.query('SELECT amount, user_id, course_id FROM orders WHERE order_id = $1', [
          granted.order_id,
        ])
      ).rows;
      assert.deepEqual(row, { amount: '999.00', user_id: 3, course_id: 2 });
      const history = await fetch(`${site}/api/user/3/transactions`).then((r) => r.json());
      assert.deepEqual(
        history.transactions.map((o) => [o.id, o.status, o.amount]),
        [[granted.order_id, 'paid', 99900]],
      );
      sale = { orderId: granted.order_id, paymentId: result.razorpay_payment_id };
    });

    it('refunds through the service, and access is revoked in its own tables', async () => {
      assert.ok(sale, 'needs the purchase of the test before');
      const refunded = await post(`${site}/api/refund`, {
        paymentId: sale.paymentId,
        reason: 'asked',
      });
      assert.equal(refunded.status, 200, JSON.stringify(refunded.body));
      assert.match(refunded.body.refundId, /^rfd_/);
      await eventually(async () => (await access(3, 2)).access_granted === false, 'access revoked');
      await eventually(
        async () => (await orderStatus(sale.orderId)) === 'refunded',
        'refund.processed',
      );
    });

    it('recognises a purchase made on another site', async () => {
      const other = createPaymentsClient({
        apiUrl: env.PAYMENTS_API_URL,
        siteId: env.OTHER_SITE_ID,
        jwtSecret: env.OTHER_SITE_JWT_SECRET,
        audience: env.PAYMENTS_AUDIENCE,
      });
      // user5@example.com has an account here and buys Webhooks 101 on the other site.
      const order = await other.createOrder({
        amount: 29900,
        product: { sku: 'webhooks-101', name: 'Webhooks 101' },
        customer: { email: 'User5@Example.com' },
      });
      const verified = await other.verifyPayment(await payInSandbox(order.checkout.order_id));
      assert.equal(verified.order.status, 'paid');
      const row = await eventually(
        async () => (await access(5, 5))?.access_granted && access(5, 5),
        'access from another site',
      );
      assert.equal(row.order_id, null); // no local order: the column is nullable now
    });

    it('refuses a buyer who already owns the course (409, not a 500)', async () => {
      const made = await post(`${site}/api/create-order`, { courseId: 5, userId: 5 });
      assert.equal(made.status, 409);
      assert.match(made.body.message, /already_owned/);
    });

    it('answers a malformed or forged callback with 400 and applies nothing', async () => {
      const body = JSON.stringify({ id: 'evt_forged', type: 'enrollment.granted', data: {} });
      for (const signature of [
        't=x,v1=y',
        callbackSignatureHeader('not-the-secret', Math.floor(Date.now() / 1000), body),
      ]) {
        const answer = await post(`${site}/payments/callback`, body, {
          'X-Payments-Signature': signature,
        });
        assert.equal(answer.status, 400);
      }
      const applied = await pool.query(
        "SELECT 1 FROM payments_events_applied WHERE event_id = 'evt_forged'",
      );
      assert.equal(applied.rowCount, 0);
      const remembered = await pool.query('SELECT count(*)::int AS n FROM payments_events_applied');
      assert.ok(remembered.rows[0].n >= 4, 'the notifications applied are remembered');
    });
  },
);
