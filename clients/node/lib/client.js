'use strict';
/**
 * The client a site's BACKEND uses (the site's secret must never reach a browser).
 *
 *   const payments = createPaymentsClient(paymentsConfigFromEnv());
 *   const order = await payments.createOrder(body, { idempotencyKey: `cart-${cart.id}` });
 *   res.json(order.checkout);                        // new Razorpay(options) in the browser
 *   await payments.verifyPayment(checkoutResult);    // { order, payment, enrollment }
 *   await payments.owns('asha@example.com', 'python-101');
 *
 * Bodies and query parameters are named as in openapi.yaml (snake_case); every call
 * resolves to the service's JSON or rejects with a PaymentsApiError. Failed calls are sent
 * again, with the SAME Idempotency-Key, when that is safe and may help: the service was not
 * reached, timed out, or answered 5xx (a bounded number of times, with backoff), and after
 * a 409 `idempotency_key_in_use` as its Retry-After says. A POST without a key of yours
 * gets one made up per call, so its own retries cannot create a second order or refund;
 * pass your cart or ticket id to make retries across requests safe too.
 */
const crypto = require('node:crypto');

const { PaymentsApiError } = require('./errors');
const { createTokenSource, DEFAULT_AUDIENCE, DEFAULT_TTL_SECONDS } = require('./token');
const { subscriptionMethods, PLANS, SUBSCRIPTIONS } = require('./subscriptions');
const {
  retryAfterSeconds,
  queryString,
  segment,
  checkPaise,
  paymentLinkBody,
} = require('./request-parts');

/** Where each resource lives: one place to adjust when the contract moves. */
const PATHS = Object.freeze({
  orders: '/v1/orders',
  verify: '/v1/payments/verify',
  payments: '/v1/payments',
  refunds: '/v1/refunds',
  enrollments: '/v1/enrollments',
  customers: '/v1/customers',
  paymentLinks: '/v1/payment-links',
  plans: PLANS,
  subscriptions: SUBSCRIPTIONS,
});

const DEFAULTS = Object.freeze({
  audience: DEFAULT_AUDIENCE,
  timeoutMs: 10_000,
  maxRetries: 2,
  retryBaseMs: 250,
  retryMaxMs: 4_000,
  keyWaitMs: 5_000,
  tokenTtlSeconds: DEFAULT_TTL_SECONDS,
});

const sleepFor = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {object} options  see index.d.ts PaymentsClientOptions
 */
function createPaymentsClient(options) {
  const settings = { ...DEFAULTS, ...options };
  const { apiUrl, siteId, jwtSecret } = settings;
  if (!apiUrl || !siteId || !jwtSecret) {
    throw new TypeError('createPaymentsClient needs apiUrl, siteId and jwtSecret');
  }
  const base = String(apiUrl).replace(/\/+$/, '');
  const fetchImpl = settings.fetch || globalThis.fetch;
  const sleep = settings.sleep || sleepFor;
  const random = settings.random || Math.random;
  const tokens = createTokenSource({
    siteId,
    jwtSecret,
    audience: settings.audience,
    ttlSeconds: settings.tokenTtlSeconds,
    now: settings.now || Date.now,
  });

  async function send(method, path, { body, headers, auth }) {
    const init = {
      method,
      headers: { Accept: 'application/json', ...headers },
      signal: AbortSignal.timeout(settings.timeoutMs),
    };
    if (auth) init.headers.Authorization = `Bearer ${tokens.token(auth.subject)}`;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetchImpl(`${base}${path}`, init);
    } catch (cause) {
      const timedOut = cause && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
      throw new PaymentsApiError(0, null, { code: timedOut ? 'timeout' : 'unreachable', cause });
    }
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null; // e.g. a proxy's HTML error page
    }
    if (!response.ok) {
      throw new PaymentsApiError(response.status, parsed, {
        retryAfter: retryAfterSeconds(response),
        requestId: response.headers.get('x-request-id'),
      });
    }
    return parsed;
  }

  /** How long to wait before attempt `attempt + 1`, or null to give up. */
  function waitBefore(error, attempt, waited) {
    if (error.code === 'idempotency_key_in_use') {
      const ms = (error.retryAfter ?? 1) * 1000;
      return waited + ms <= settings.keyWaitMs ? ms : null;
    }
    if (!error.isRetryable || attempt >= settings.maxRetries) return null;
    if (error.retryAfter !== null && error.retryAfter * 1000 <= settings.retryMaxMs) {
      return error.retryAfter * 1000;
    }
    const ceiling = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** attempt);
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  /**
   * One call, retried when safe. `safe`: GETs and verify (idempotent by nature), and any
   * POST carrying an Idempotency-Key; a POST without one is sent once.
   */
  async function call(
    method,
    path,
    { body, idempotencyKey, auth = {}, safe = method === 'GET' } = {},
  ) {
    const headers = {};
    if (idempotencyKey !== undefined) headers['Idempotency-Key'] = String(idempotencyKey);
    const retrySafe = safe || idempotencyKey !== undefined;
    let waited = 0;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await send(method, path, { body, headers, auth });
      } catch (error) {
        if (!(error instanceof PaymentsApiError) || !retrySafe) throw error;
        const ms = waitBefore(error, attempt, waited);
        if (ms === null) throw error;
        await sleep(ms);
        waited += ms;
      }
    }
  }

  const keyOr = (given) => (given === undefined || given === null ? crypto.randomUUID() : given);

  const client = {
    /** A valid site token (cached until shortly before it expires); `userId` becomes `sub`. */
    siteToken({ userId } = {}) {
      return tokens.token(userId);
    },
    get tokensMinted() {
      return tokens.minted;
    },

    /** POST /v1/orders: `amount` in paise from YOUR catalogue, never from the browser. */
    async createOrder(order, { idempotencyKey, userId } = {}) {
      checkPaise(order && order.amount);
      const body = { currency: 'INR', ...order };
      const subject = userId ?? (order.customer && order.customer.site_user_id);
      return call('POST', PATHS.orders, {
        body,
        idempotencyKey: keyOr(idempotencyKey),
        auth: { subject },
      });
    },
    /** GET /v1/orders/{id}: one of this site's orders. */
    async getOrder(orderId) {
      return call('GET', `${PATHS.orders}/${segment(orderId, 'orderId')}`);
    },
    /** GET /v1/orders: this site's orders, newest first; {items, next_cursor}. */
    async listOrders(query = {}) {
      return call('GET', `${PATHS.orders}${queryString(query)}`);
    },

    /** POST /v1/payments/verify (no token): { order, payment, enrollment }. */
    async verifyPayment({ razorpay_order_id, razorpay_payment_id, razorpay_signature }) {
      return call('POST', PATHS.verify, {
        body: { razorpay_order_id, razorpay_payment_id, razorpay_signature },
        auth: null,
        safe: true,
      });
    },
    /** GET /v1/payments: payments of this site's orders (query: order_id, customer_email, ...). */
    async listPayments(query = {}) {
      return call('GET', `${PATHS.payments}${queryString(query)}`);
    },

    /**
     * POST /v1/refunds: { payment_id | order_id, amount?, reason?, speed?, revoke_access? }.
     * The Idempotency-Key (yours, e.g. the support ticket, or one made up for this call and
     * reused by its retries) is what the service turns into Razorpay's X-Refund-Idempotency:
     * a lost answer is asked again, never refunded twice.
     */
    async createRefund(refund, { idempotencyKey, userId } = {}) {
      if (refund && refund.amount !== undefined && refund.amount !== null)
        checkPaise(refund.amount);
      return call('POST', PATHS.refunds, {
        body: refund,
        idempotencyKey: keyOr(idempotencyKey),
        auth: { subject: userId },
      });
    },
    async getRefund(refundId) {
      return call('GET', `${PATHS.refunds}/${segment(refundId, 'refundId')}`);
    },
    async listRefunds(query = {}) {
      return call('GET', `${PATHS.refunds}${queryString(query)}`);
    },

    /** GET /v1/enrollments?customer_email=…: what this person owns, whichever site sold it. */
    async enrollments(customerEmail, { sku, status } = {}) {
      if (typeof customerEmail !== 'string' || !customerEmail) {
        throw new TypeError('customerEmail is required');
      }
      const query = { customer_email: customerEmail, sku, status };
      return call('GET', `${PATHS.enrollments}${queryString(query)}`);
    },
    /** GET /v1/enrollments with any filter; without an email needs `enrollments:list`. */
    async listEnrollments(query = {}) {
      return call('GET', `${PATHS.enrollments}${queryString(query)}`);
    },
    /** Does this person hold an active enrollment in `sku`, on any site? */
    async owns(customerEmail, sku) {
      const { items } = await client.enrollments(customerEmail, { sku, status: 'active' });
      return items.some((item) => item.sku === sku && item.status === 'active');
    },
    /** GET /v1/customers/{email}/transactions: the trail of a customer who paid this site. */
    async customerTransactions(email) {
      return call('GET', `${PATHS.customers}/${segment(email, 'email')}/transactions`);
    },

    /**
     * POST /v1/payment-links: a page Razorpay hosts that sells one product to one customer
     * (send its `short_url` by e-mail or WhatsApp). { amount, product: {sku, name},
     * customer: {email, name?, contact?}, return_url (or returnUrl: on one of this site's
     * origins), expire_by (or expireBy: a Date, an ISO string or epoch milliseconds; a week
     * by default), notify?: {email, sms}, notes? }. The buyer comes back to the return URL
     * with `order_id` and `status`; access is granted (and notified) either way.
     */
    async createPaymentLink(link, { idempotencyKey, userId } = {}) {
      checkPaise(link && link.amount);
      return call('POST', PATHS.paymentLinks, {
        body: paymentLinkBody(link),
        idempotencyKey: keyOr(idempotencyKey),
        auth: { subject: userId },
      });
    },
    async getPaymentLink(linkId) {
      return call('GET', `${PATHS.paymentLinks}/${segment(linkId, 'linkId')}`);
    },
    async listPaymentLinks(query = {}) {
      return call('GET', `${PATHS.paymentLinks}${queryString(query)}`);
    },
    /** POST /v1/payment-links/{plink_id}/cancel: cancelling a cancelled link returns it. */
    async cancelPaymentLink(linkId) {
      return call('POST', `${PATHS.paymentLinks}/${segment(linkId, 'linkId')}/cancel`, {
        safe: true,
      });
    },

    /** Every item of a paginated list: `for await (const o of payments.each('listOrders', q))`. */
    async *each(listMethod, query = {}) {
      let cursor;
      do {
        const page = await client[listMethod]({ ...query, cursor });
        yield* page.items;
        cursor = page.next_cursor;
      } while (cursor);
    },
    ...subscriptionMethods(call, { segment, queryString, keyOr }),
  };
  return client;
}

module.exports = { createPaymentsClient, PATHS, DEFAULTS };
