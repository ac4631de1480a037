'use strict';
/**
 * Against a REAL payments service and its Razorpay sandbox (nothing mocked):
 *
 *   PAYMENTS_API_URL   the service, e.g. http://127.0.0.1:8000
 *   SANDBOX_URL        the Razorpay sandbox, e.g. http://127.0.0.1:8010
 *   PAYMENTS_SITE_ID, PAYMENTS_JWT_SECRET, PAYMENTS_CALLBACK_SECRET   this site, registered with
 *                      callback URL http://127.0.0.1:$KIT_PORT/payments/callback
 *   KIT_PORT           where this test runs the site so the service can reach it (3000)
 *   PAYMENTS_AUDIENCE  the service's JWT audience (payments-service)
 *   OTHER_SITE_ID, OTHER_SITE_JWT_SECRET   a second registered site (for cross-site tests)
 *
 * A worker of the service must be delivering notifications meanwhile
 * (`flask --app payments_service worker`, or tests/test_node_kit.py's thread).
 * Skipped when PAYMENTS_API_URL is unset.
 */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { describe, it, before, after } = require('node:test');

const { createApp } = require('../src/app');
const { createPaymentsClient, PaymentsApiError } = require('payments-service-client');
const { listen, request, eventually, quietLogger } = require('./support/http');

const env = process.env;
const SKIP = env.PAYMENTS_API_URL
  ? false
  : 'PAYMENTS_API_URL is not set: these tests need a running payments service and sandbox (see README.md)';
const NO_OTHER_SITE =
  env.OTHER_SITE_ID && env.OTHER_SITE_JWT_SECRET
    ? false
    : 'OTHER_SITE_ID / OTHER_SITE_JWT_SECRET are not set';
const NOTIFICATION_WAIT_MS = 15_000;

function need(name) {
  assert.ok(env[name], `${name} must be set when PAYMENTS_API_URL is`);
  return env[name];
}

/** An email no earlier run has used, so each run starts with no enrollments. */
function freshEmail(tag) {
  return `kit-${tag}-${Date.now()}-${crypto.randomBytes(3).toString('hex')}@example.com`;
}

/** The buyer completes Checkout in the sandbox; answers what Checkout hands the page. */
async function payInSandbox(razorpayOrderId, outcome = 'success') {
  const url = `${need('SANDBOX_URL').replace(/\/+$/, '')}/_sandbox/orders/${razorpayOrderId}/pay`;
  const answer = await request('POST', url, { outcome });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

describe('against the running payments service', { skip: SKIP, timeout: 120_000 }, () => {
  let site;
  let app;
  let logger;
  const audience = env.PAYMENTS_AUDIENCE || 'payments-service';

  before(async () => {
    logger = quietLogger();
    app = createApp({
      siteId: need('PAYMENTS_SITE_ID'),
      jwtSecret: need('PAYMENTS_JWT_SECRET'),
      callbackSecret: need('PAYMENTS_CALLBACK_SECRET'),
      apiUrl: need('PAYMENTS_API_URL'),
      audience,
      checkoutScriptUrl: `${need('SANDBOX_URL')}/v1/checkout.js`,
      logger,
    });
    // Listen where the site's registered callback URL points, BEFORE anything is bought:
    // a delivery that finds nobody home is retried only after a 15-30 s backoff.
    site = await listen(app, Number(env.KIT_PORT || 3000));
  });

  after(async () => {
    if (site) await site.close();
    if (logger && logger.lines.length) console.log(logger.lines.join('\n'));
  });

  const accessHere = async (email) =>
    (await request('GET', `${site.url}/access?email=${encodeURIComponent(email)}`)).body;
  const accessThere = async (email) =>
    (await request('GET', `${site.url}/access/remote?email=${encodeURIComponent(email)}`)).body;

  it('serves the checkout page with the sandbox Checkout script', async () => {
    const page = await request('GET', `${site.url}/`);
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(`<script src="${need('SANDBOX_URL')}/v1/checkout.js"></script>`));
    assert.ok(page.body.includes('data-buy="python-101"'));
    const script = await fetch(`${need('SANDBOX_URL')}/v1/checkout.js`);
    assert.equal(script.status, 200);
    assert.match(await script.text(), /Razorpay/);
  });

  it('sells a course on this site: order, Checkout, verify, then the notification', async () => {
    const email = freshEmail('here');
    const cart = crypto.randomUUID();
    const buy = { sku: 'python-101', email, name: 'Asha', user_id: 'u-kit-1', cart_id: cart };

    // Step 2 through the site: the amount comes from the site's catalogue.
    const made = await request('POST', `${site.url}/orders`, { ...buy, amount: 1 });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const { checkout } = made.body;
    assert.equal(checkout.amount, 49900);
    assert.equal(checkout.currency, 'INR');
    assert.match(checkout.order_id, /^order_/);
    assert.match(checkout.key, /^rzp_/);
    assert.equal(checkout.prefill.email, email);
    assert.equal(checkout.description, 'Python 101');

    // The same cart again (double click, retry): the same order, not a second one.
    const again = await request('POST', `${site.url}/orders`, buy);
    assert.equal(again.body.order_id, made.body.order_id);
    assert.equal(again.body.checkout.order_id, checkout.order_id);

    // Step 3: the buyer pays; a forged signature is refused, the real one verifies.
    const result = await payInSandbox(checkout.order_id);
    const forged = await request('POST', `${site.url}/payments/verify`, {
      ...result,
      razorpay_signature: '0'.repeat(64),
    });
    assert.equal(forged.status, 403);
    assert.equal(forged.body.error, 'invalid_signature');

    const verified = await request('POST', `${site.url}/payments/verify`, result);
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    assert.equal(verified.body.order.status, 'paid');
    assert.equal(verified.body.order.id, made.body.order_id);
    assert.equal(verified.body.enrollment.sku, 'python-101');
    assert.equal(verified.body.enrollment.status, 'active');

    // Verify is idempotent: the page's handler may run twice.
    const twice = await request('POST', `${site.url}/payments/verify`, result);
    assert.equal(twice.status, 200);
    assert.equal(twice.body.enrollment.id, verified.body.enrollment.id);

    // Step 5: the service knows at once.
    assert.deepEqual((await accessThere(email)).skus, ['python-101']);

    // Step 4: the signed notification reaches this site's callback.
    const here = await eventually(
      async () => {
        const answer = await accessHere(email);
        return answer.skus.includes('python-101') && answer;
      },
      { timeoutMs: NOTIFICATION_WAIT_MS, what: `enrollment.granted for ${email}` },
    );
    assert.deepEqual(here, { email, skus: ['python-101'] });
    const [record] = app.locals.access.recordsFor(email);
    assert.equal(record.id, verified.body.enrollment.id);
    assert.equal(record.site_user_id, 'u-kit-1'); // our own user id, echoed back

    // This site created the order, so it also hears order.paid.
    await eventually(
      () =>
        app.locals.received.find(
          (e) => e.type === 'order.paid' && e.data.order.id === made.body.order_id,
        ),
      { timeoutMs: NOTIFICATION_WAIT_MS, what: 'order.paid' },
    );
    assert.equal(
      app.locals.received.filter(
        (e) => e.type === 'enrollment.granted' && e.data.enrollment.customer_email === email,
      ).length,
      1,
    );
  });

  it('sells a course through a payment link: the buyer pays on the hosted page', async () => {
    const email = freshEmail('link');
    const payments = createPaymentsClient({
      apiUrl: need('PAYMENTS_API_URL'),
      siteId: need('PAYMENTS_SITE_ID'),
      jwtSecret: need('PAYMENTS_JWT_SECRET'),
      audience,
    });
    const link = await payments.createPaymentLink(
      {
        amount: 99900,
        product: { sku: 'js-deep-dive', name: 'JavaScript Deep Dive' },
        customer: { email },
        returnUrl: `${site.url}/thanks`,
      },
      { idempotencyKey: `link-${crypto.randomUUID()}` },
    );
    assert.equal(link.status, 'created');
    assert.match(link.id, /^plink_/);
    const sandbox = need('SANDBOX_URL').replace(/\/+$/, '');
    const paid = await request('POST', `${sandbox}/_sandbox/payment_links/${link.id}/pay`, {
      outcome: 'success',
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    // The browser follows the hosted page's redirect to the service's callback...
    const back = await fetch(paid.body.redirect_url, { redirect: 'manual' });
    assert.equal(back.status, 303);
    const landing = new URL(back.headers.get('location'));
    assert.equal(landing.origin + landing.pathname, `${site.url}/thanks`);
    assert.equal(landing.searchParams.get('order_id'), link.order_id);
    assert.equal(landing.searchParams.get('status'), 'paid');
    // ... and the buyer owns the course everywhere.
    const owned = await payments.enrollments(email, { sku: 'js-deep-dive' });
    assert.equal(owned.items.length, 1);
    assert.equal(owned.items[0].order_id, link.order_id);
  });

  it('learns of a purchase made on the other site', { skip: NO_OTHER_SITE }, async () => {
    const email = freshEmail('there');
    // The other site's backend, with its own credentials.
    const other = createPaymentsClient({
      apiUrl: need('PAYMENTS_API_URL'),
      siteId: env.OTHER_SITE_ID,
      jwtSecret: env.OTHER_SITE_JWT_SECRET,
      audience,
    });
    const order = await other.createOrder(
      { amount: 29900, product: { sku: 'sql-basics', name: 'SQL Basics' }, customer: { email } },
      { idempotencyKey: `cart-${crypto.randomUUID()}` },
    );
    assert.deepEqual((await accessHere(email)).skus, []);
    const verified = await other.verifyPayment(await payInSandbox(order.checkout.order_id));
    assert.equal(verified.order.status, 'paid');
    assert.equal(verified.order.site_id, env.OTHER_SITE_ID);

    // This site never saw the order, yet its buyer gets access here too.
    assert.deepEqual((await accessThere(email)).skus, ['sql-basics']);
    await eventually(async () => (await accessHere(email)).skus.includes('sql-basics'), {
      timeoutMs: NOTIFICATION_WAIT_MS,
      what: `enrollment.granted for ${email}`,
    });
    const [record] = app.locals.access.recordsFor(email);
    assert.equal(record.site_user_id, null); // no user of ours has bought with this email
    assert.equal(record.order_id, order.id);
    // Order events go only to the site that created the order.
    assert.equal(
      app.locals.received.some((e) => e.data?.order?.id === order.id),
      false,
    );
  });

  it(
    'is refused by the service when its token claims another site',
    { skip: NO_OTHER_SITE },
    async () => {
      const impostor = createPaymentsClient({
        apiUrl: need('PAYMENTS_API_URL'),
        siteId: env.OTHER_SITE_ID, // iss = the other site ...
        jwtSecret: need('PAYMENTS_JWT_SECRET'), // ... signed with this site's key
        audience,
      });
      await assert.rejects(impostor.enrollments('anyone@example.com'), (error) => {
        assert.ok(error instanceof PaymentsApiError);
        assert.equal(error.status, 401);
        assert.equal(error.code, 'unauthorized');
        return true;
      });
    },
  );

  it('sells the membership: subscribe, verify, access by notification, cancel at month end', async () => {
    const email = freshEmail('member');
    const onSale = await request('GET', `${site.url}/membership`);
    assert.equal(onSale.status, 200, JSON.stringify(onSale.body)); // the plan an admin made
    assert.equal(onSale.body.sku, 'all-courses');

    const ask = { email, request_id: crypto.randomUUID(), user_id: 'u-kit-9' };
    const made = await request('POST', `${site.url}/subscriptions`, ask);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.match(made.body.checkout.subscription_id, /^sub_/);
    assert.equal(made.body.checkout.amount, undefined); // Razorpay takes the plan's
    const again = await request('POST', `${site.url}/subscriptions`, ask); // a double click
    assert.equal(again.body.subscription_id, made.body.subscription_id);
    assert.deepEqual((await request('GET', `${site.url}/subscriptions?email=${email}`)).body, {
      email,
      subscriptions: [], // an unpaid Checkout is not shown
    });

    const paid = await request(
      'POST',
      `${need('SANDBOX_URL')}/_sandbox/subscriptions/${made.body.checkout.subscription_id}/pay`,
      { outcome: 'success' },
    );
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    const verifyUrl = `${site.url}/subscriptions/${made.body.subscription_id}/verify`;
    const forgery = { ...paid.body, razorpay_signature: 'f'.repeat(64) };
    const forged = await request('POST', verifyUrl, forgery);
    assert.equal(forged.body.error, 'invalid_signature');
    const verified = await request('POST', verifyUrl, paid.body);
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    assert.deepEqual([verified.body.status, verified.body.access], ['active', true]);

    await eventually(async () => (await accessHere(email)).skus.includes('all-courses'), {
      timeoutMs: NOTIFICATION_WAIT_MS,
      what: 'enrollment.granted for the membership',
    });
    assert.deepEqual((await accessThere(email)).skus, ['all-courses']);

    const cancelUrl = `${site.url}/subscriptions/${made.body.subscription_id}/cancel`;
    const stranger = await request('POST', cancelUrl, { email: freshEmail('stranger') });
    assert.equal(stranger.status, 404);
    const cancelled = await request('POST', cancelUrl, { email });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.deepEqual(
      [cancelled.body.status, cancelled.body.cancel_at_cycle_end, cancelled.body.access],
      ['active', true, true],
    );
    const listed = (await request('GET', `${site.url}/subscriptions?email=${email}`)).body;
    assert.deepEqual(
      listed.subscriptions.map((s) => [s.id, s.status, s.cancel_at_cycle_end]),
      [[made.body.subscription_id, 'active', true]],
    );
    assert.deepEqual((await accessHere(email)).skus, ['all-courses']); // until the month ends

    const now = await request('POST', cancelUrl, { email, at_cycle_end: false });
    assert.deepEqual([now.body.status, now.body.access], ['cancelled', false]);
    await eventually(async () => !(await accessHere(email)).skus.includes('all-courses'), {
      timeoutMs: NOTIFICATION_WAIT_MS,
      what: 'enrollment.revoked for the membership',
    });
  });

  it('turns a service-side refusal into a 502 for the browser, not a 401', async () => {
    const misconfigured = createApp({
      siteId: need('PAYMENTS_SITE_ID'),
      jwtSecret: 'not-the-secret',
      callbackSecret: need('PAYMENTS_CALLBACK_SECRET'),
      apiUrl: need('PAYMENTS_API_URL'),
      audience,
      logger: quietLogger(),
    });
    const local = await listen(misconfigured);
    try {
      const answer = await request('POST', `${local.url}/orders`, {
        sku: 'python-101',
        email: freshEmail('bad'),
        cart_id: 'c1',
      });
      assert.equal(answer.status, 502);
      assert.equal(answer.body.error, 'payments_unavailable');
    } finally {
      await local.close();
    }
  });
});
