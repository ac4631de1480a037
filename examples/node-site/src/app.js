'use strict';
/**
 * The site: an Express app wired to payments_service through payments-service-client.
 *
 *   GET  /                    checkout page (courses, Buy -> Razorpay Checkout)
 *   POST /orders              browser -> site -> service: create an order, answer Checkout options
 *   POST /payments/verify     browser -> site -> service: verify the Checkout result
 *   POST /payments/callback   service -> site: signed notifications (access granted/revoked, ...)
 *   GET  /access?email=       what this site knows from notifications: {email, skus}
 *   GET  /access/remote?email= what the service says right now:       {email, skus}
 *   GET  /membership, POST /subscriptions, .../verify, .../cancel   the membership (membership.js)
 *
 * createApp(config) builds the app without listening, so tests can run it on any port.
 * Routes are wrapped in asyncRoute, so the same code runs on Express 4 and 5.
 */
const express = require('express');
const {
  createPaymentsClient,
  PaymentsApiError,
  DEFAULT_AUDIENCE,
  paymentsCallback,
  createMemoryDedupe,
  asyncRoute,
} = require('payments-service-client');

const { createAccessStore } = require('./access');
const { addMembershipRoutes } = require('./membership');
const { renderPage } = require('./page');

const REAL_CHECKOUT_SCRIPT = 'https://checkout.razorpay.com/v1/checkout.js';

/** The site's own catalogue. Prices are integer paise (49900 = ₹499.00) and live HERE. */
const COURSES = [
  { sku: 'python-101', name: 'Python 101', amount: 49900 },
  { sku: 'sql-basics', name: 'SQL Basics', amount: 29900 },
  { sku: 'js-deep-dive', name: 'JavaScript Deep Dive', amount: 99900 },
];

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{1,63}$/;
const CART_ID = /^[A-Za-z0-9_-]{1,64}$/;
const USER_ID = /^[A-Za-z0-9_.:@-]{1,100}$/;

/**
 * @param {object} config  as paymentsConfigFromEnv() reads it, plus the demo's own settings
 * @param {string} config.siteId            this site's id at the service
 * @param {string} config.jwtSecret         this site's JWT secret (signs site tokens)
 * @param {string|string[]} config.callbackSecret  this site's callback secret(s)
 * @param {string} config.apiUrl            the service's base URL
 * @param {string} [config.audience]        the service's JWT audience
 * @param {string} [config.checkoutScriptUrl] Razorpay's checkout.js, or the sandbox's
 * @param {Array}  [config.courses]         the catalogue
 */
function createApp(config) {
  const {
    siteId,
    siteName = `Courses on ${config.siteId}`,
    jwtSecret,
    callbackSecret,
    apiUrl,
    audience = DEFAULT_AUDIENCE,
    checkoutScriptUrl = REAL_CHECKOUT_SCRIPT,
    courses = COURSES,
    logger = console,
  } = config;

  const payments = createPaymentsClient({ apiUrl, siteId, jwtSecret, audience });
  const access = createAccessStore();
  // In memory for the demo; a site with a database uses pgDedupe(pool) from
  // payments-service-client/pg, so the event id is written in the access change's transaction.
  const events = createMemoryDedupe();
  const received = []; // the last notifications, for logs and tests

  const app = express();
  app.disable('x-powered-by');
  Object.assign(app.locals, { payments, access, events, received });

  // Body parsers are attached per route, not globally: the callback route needs the raw
  // bytes, and a global express.json() would consume them first.
  const json = express.json({ limit: '16kb' });

  app.get('/', (req, res) => {
    res.type('html').send(renderPage({ siteName, siteId, checkoutScriptUrl, courses }));
  });

  // Step 2: create the order. The browser says WHICH course; the price comes from our
  // catalogue. The cart id becomes the Idempotency-Key, so a double click or a retried
  // request gets the same order instead of a second one.
  app.post(
    '/orders',
    json,
    asyncRoute(async (req, res) => {
      const body = req.body || {};
      const course = courses.find((c) => c.sku === body.sku);
      if (!course) return badRequest(res, 'sku', 'no such course');
      // DEMO ONLY: a real site takes the customer from its login session, not the body.
      if (typeof body.email !== 'string' || !EMAIL.test(body.email)) {
        return badRequest(res, 'email', 'a valid email is required');
      }
      if (typeof body.cart_id !== 'string' || !CART_ID.test(body.cart_id)) {
        return badRequest(res, 'cart_id', '1-64 letters, digits, "_" or "-"');
      }
      if (
        body.user_id !== undefined &&
        !(typeof body.user_id === 'string' && USER_ID.test(body.user_id))
      ) {
        return badRequest(res, 'user_id', 'not a valid user id');
      }
      const customer = { email: body.email };
      if (typeof body.name === 'string' && body.name.trim()) {
        customer.name = body.name.trim().slice(0, 100);
      }
      if (body.user_id) customer.site_user_id = body.user_id; // this site's id for the buyer

      const order = await payments.createOrder(
        {
          amount: course.amount,
          currency: 'INR',
          product: { sku: course.sku, name: course.name },
          customer,
        },
        { idempotencyKey: `cart-${body.cart_id}` },
      );
      // The browser needs only the Checkout options (and our order id for its records).
      res.status(201).json({ order_id: order.id, checkout: order.checkout });
    }),
  );

  // Step 3: forward the Checkout result. The service needs no token for this; going
  // through our backend keeps one origin for the browser and lets us act on the answer.
  app.post(
    '/payments/verify',
    json,
    asyncRoute(async (req, res) => {
      const body = req.body || {};
      const result = await payments.verifyPayment({
        razorpay_order_id: body.razorpay_order_id,
        razorpay_payment_id: body.razorpay_payment_id,
        razorpay_signature: body.razorpay_signature,
      });
      // result = { order: { status: "paid", ... }, payment, enrollment }.
      // Access itself arrives as an enrollment.granted notification (step 4); a site that
      // wants to unlock instantly may also apply result.enrollment to its store: it is the
      // same enrollment (same id) that the notification will carry.
      res.json({
        order: { id: result.order.id, status: result.order.status, sku: result.order.product.sku },
        payment: { id: result.payment.id, status: result.payment.status },
        enrollment: result.enrollment,
      });
    }),
  );

  // Step 4: notifications from the service. The middleware reads the raw bytes itself (no
  // body parser runs before it), checks the signature, dedupes and answers.
  app.post(
    '/payments/callback',
    paymentsCallback({
      secret: callbackSecret,
      ...events,
      logger,
      onEvent: (event) => {
        applyNotification(event, access, logger);
        received.push(event);
        if (received.length > 100) received.shift();
      },
    }),
  );

  // What this site's own store says (fed by notifications).
  app.get('/access', (req, res) => {
    const email = typeof req.query.email === 'string' ? req.query.email.trim().toLowerCase() : '';
    if (!EMAIL.test(email)) return badRequest(res, 'email', 'a valid email is required');
    res.json({ email, skus: access.skusFor(email) });
  });

  // Step 5: what the service says, across every site (e.g. at login, or to double-check).
  app.get(
    '/access/remote',
    asyncRoute(async (req, res) => {
      const email = typeof req.query.email === 'string' ? req.query.email.trim().toLowerCase() : '';
      if (!EMAIL.test(email)) return badRequest(res, 'email', 'a valid email is required');
      const { items } = await payments.enrollments(email);
      const skus = [
        ...new Set(items.filter((e) => e.status === 'active').map((e) => e.sku)),
      ].sort();
      res.json({ email, skus, enrollments: items });
    }),
  );

  addMembershipRoutes(app, { payments, json, badRequest });

  // Errors: the buyer's mistakes are passed on (the service's problems are safe to show:
  // a stable code and a human detail, never internals); our own faults become a plain 502
  // (details go to the log only). asyncRoute routes rejected promises here on Express 4 too.
  app.use((error, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof PaymentsApiError && error.isClientError) {
      return res.status(error.status).json({
        error: error.code,
        detail: error.problem && error.problem.detail,
        errors: error.problem && error.problem.errors,
      });
    }
    if (error.type === 'entity.parse.failed' || error.type === 'entity.too.large') {
      return res
        .status(error.status)
        .json({ error: 'bad_request', detail: 'unreadable request body' });
    }
    logger.error(`${req.method} ${req.path} failed: ${error.message}`);
    return res
      .status(502)
      .json({ error: 'payments_unavailable', detail: 'please try again shortly' });
  });

  return app;
}

/** Apply one verified, not-yet-seen notification to the site's own state. */
function applyNotification(event, access, logger) {
  switch (event.type) {
    case 'enrollment.granted':
    case 'enrollment.revoked':
      // data = { enrollment: {id, customer_email, sku, status, source, order_id,
      //          granted_at, revoked_at}, site_user_id: this site's user id or null }
      access.apply(event.data.enrollment, event.data.site_user_id);
      break;
    case 'order.paid': // data = { order, payment } for an order THIS site created
    // (payment.duplicate_of_enrollment set: the buyer already owned the course, e.g. paid
    // in two tabs; no enrollment.granted follows, and refund.processed does)
    case 'payment.failed': // e.g. tell the buyer, or offer another payment method
    case 'refund.processed':
    case 'refund.failed':
      logger.info(`payments: ${event.type} for order ${event.data?.order?.id}`);
      break;
    case 'subscription.activated': // data = { subscription } for one THIS site sold
    case 'subscription.charged': // data = { subscription, payment }: a month paid
    case 'subscription.halted': // its charges failed for good (enrollment.revoked follows)
    case 'subscription.cancelled': // ended (now, or at the end of the paid month)
      // Access itself arrives as enrollment.granted / .revoked for the plan's SKU.
      const { id, status } = event.data.subscription;
      logger.info(`payments: ${event.type} ${id} (${status})`);
      break;
    default:
      // New event types may be added: acknowledge (2xx) and ignore what you don't know.
      break;
  }
}

function badRequest(res, field, message) {
  return res.status(400).json({
    error: 'validation_error',
    detail: `${field}: ${message}`,
    errors: { [field]: [message] },
  });
}

module.exports = { createApp, applyNotification, COURSES, REAL_CHECKOUT_SCRIPT };
