'use strict';
/**
 * A tiny client for payments_service, as a site's BACKEND uses it.
 *
 * Everything here runs on the server: the site's JWT secret must never reach a browser.
 *
 *   const payments = createPaymentsClient({ apiUrl, siteId, jwtSecret });
 *   const order = await payments.createOrder(body, { idempotencyKey: cart.id, userId });
 *   res.json(order.checkout);                        // the browser opens Checkout with this
 *   await payments.verifyPayment(checkoutResult);    // { order, payment, enrollment }
 *   await payments.enrollments('asha@example.com');  // { items: [...] }
 *   const link = await payments.createPaymentLink({ amount, product, customer, returnUrl });
 *   sendWhatsApp(customer.contact, link.short_url);  // the buyer pays on Razorpay's page
 */
const jwt = require('jsonwebtoken');

const DEFAULT_AUDIENCE = 'payments-service';
const TOKEN_TTL = '5m';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_KEY_WAIT_MS = 3_000;

/**
 * The service answered with an error: an RFC 9457 problem (`application/problem+json`)
 * with a stable machine-readable `code` such as `validation_error`, `invalid_signature`,
 * `not_found`, `conflict`, `unauthorized`. `status` is 0 when the service was unreachable.
 * `retryAfter` is the answer's Retry-After in seconds (503s, `idempotency_key_in_use`), or
 * null.
 */
class PaymentsApiError extends Error {
  constructor(status, problem, retryAfter = null) {
    const code = (problem && problem.code) || (status ? `http_${status}` : 'unreachable');
    super(`payments service: ${code}${problem && problem.detail ? ` (${problem.detail})` : ''}`);
    this.name = 'PaymentsApiError';
    this.status = status;
    this.code = code;
    this.problem = problem || null;
    this.retryAfter = retryAfter;
  }

  /**
   * True when the caller (ultimately the buyer) sent something wrong, not our setup. A 403
   * is this site's token lacking a privilege (our setup), except `invalid_signature`: a
   * Checkout result whose signature does not verify, which is the buyer's.
   */
  get isClientError() {
    return (
      ([400, 404, 409, 422].includes(this.status) && this.code !== 'idempotency_key_in_use') ||
      this.code === 'invalid_signature'
    );
  }
}

/** Seconds from a Retry-After header given in seconds, or null. */
function retryAfterSeconds(response) {
  const value = response.headers.get('retry-after');
  return value && /^[0-9]+$/.test(value) ? Number(value) : null;
}

/**
 * @param {object} options
 * @param {string} options.apiUrl     e.g. "https://payments.example.com" (no trailing /v1)
 * @param {string} options.siteId     this site's id, as registered with the service
 * @param {string} options.jwtSecret  this site's JWT secret (from `sites create`)
 * @param {string} [options.audience] the service's JWT audience ("payments-service")
 * @param {number} [options.timeoutMs] per request; never wait forever on a network call
 * @param {number} [options.keyWaitMs] how long in all createOrder waits for another request
 *   holding its Idempotency-Key (409 `idempotency_key_in_use`) before giving up
 */
function createPaymentsClient({
  apiUrl,
  siteId,
  jwtSecret,
  audience = DEFAULT_AUDIENCE,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  keyWaitMs = DEFAULT_KEY_WAIT_MS,
}) {
  if (!apiUrl || !siteId || !jwtSecret) {
    throw new Error('createPaymentsClient needs apiUrl, siteId and jwtSecret');
  }
  const base = apiUrl.replace(/\/+$/, '');

  /**
   * Step 1: the site token. HS256 with the site's own secret; the service picks the key
   * by `iss`, so a token signed with site A's secret but claiming to be site B fails.
   * Short-lived (5 minutes): mint one per request, there is nothing to cache or refresh.
   * `sub` (optional) is the site's own user id, for the service's audit trail.
   */
  function siteToken({ userId } = {}) {
    const options = { algorithm: 'HS256', issuer: siteId, audience, expiresIn: TOKEN_TTL };
    if (userId !== undefined && userId !== null && userId !== '') {
      options.subject = String(userId);
    }
    return jwt.sign({}, jwtSecret, options); // adds iat, iss, aud, exp (and sub)
  }

  async function call(method, path, { body, token, headers = {} } = {}) {
    const request = {
      method,
      headers: { Accept: 'application/json', ...headers },
      signal: AbortSignal.timeout(timeoutMs),
    };
    if (token) request.headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      request.headers['Content-Type'] = 'application/json';
      request.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`${base}${path}`, request);
    } catch (cause) {
      // Timeout, connection refused, DNS...: the service is unreachable.
      throw Object.assign(new PaymentsApiError(0, null), { cause });
    }
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null; // a proxy's HTML error page, for instance
    }
    if (!response.ok) {
      throw new PaymentsApiError(response.status, parsed, retryAfterSeconds(response));
    }
    return { status: response.status, body: parsed };
  }

  /**
   * Step 2: create an order. `amount` is integer paise (49900 = ₹499.00) and comes from
   * the site's own catalogue, never from the browser.
   *
   * `idempotencyKey` (e.g. the cart id) makes retries safe: the same key with the same
   * body returns the same order (HTTP 200 instead of 201); the same key with a different
   * body is refused (422). One key is one Razorpay order, ever: while another request with
   * the key is at Razorpay (a double click) the service answers 409
   * `idempotency_key_in_use`, and this waits as its Retry-After says (up to `keyWaitMs` in
   * all) and asks again. On a 503, or a longer wait, retry later with the same key; use a
   * new key only for a new purchase attempt.
   *
   * Returns the order; `order.checkout` holds the options for `new Razorpay(options)`
   * (key, amount, currency, order_id, name, description, prefill, notes).
   */
  async function createOrder(
    { amount, currency = 'INR', product, customer, receipt, notes },
    { idempotencyKey, userId } = {},
  ) {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw new TypeError('amount must be a positive integer number of paise');
    }
    const body = { amount, currency, product, customer };
    if (receipt) body.receipt = receipt;
    if (notes) body.notes = notes;
    const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {};
    let waitedMs = 0;
    for (;;) {
      try {
        const answer = await call('POST', '/v1/orders', {
          body,
          headers,
          token: siteToken({ userId: userId ?? customer?.site_user_id }),
        });
        return answer.body;
      } catch (error) {
        const waitMs = error.code === 'idempotency_key_in_use' ? error.retryAfter * 1000 : NaN;
        if (!(waitMs >= 0) || waitedMs + waitMs > keyWaitMs) throw error;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitedMs += waitMs;
      }
    }
  }

  /**
   * A payment link: a page Razorpay hosts that sells one product to one customer, to send
   * by e-mail or WhatsApp or put on a static page (no Checkout code on the site). The
   * service makes the order and the link; the buyer pays at `link.short_url` and comes
   * back to `returnUrl` (on one of this site's registered origins) with `order_id` and
   * `status` in the query. Access is granted whether or not the buyer comes back (the
   * service hears Razorpay's webhooks); ask `enrollments()` or wait for the notification.
   *
   * `expireBy` (a Date, 16 minutes to 180 days ahead; a week by default) and `notify`
   * ({ email, sms }: Razorpay sends the link itself) are optional. `idempotencyKey` works
   * as for createOrder: the same key and body return the same link.
   *
   * Resolves to { id: "plink_…", short_url, status: "created", order_id, amount, ... }.
   */
  async function createPaymentLink(
    { amount, currency = 'INR', product, customer, returnUrl, expireBy, notify, notes },
    { idempotencyKey } = {},
  ) {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw new TypeError('amount must be a positive integer number of paise');
    }
    const body = { amount, currency, product, customer, return_url: returnUrl };
    if (expireBy) body.expire_by = new Date(expireBy).toISOString();
    if (notify) body.notify = notify;
    if (notes) body.notes = notes;
    const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {};
    const answer = await call('POST', '/v1/payment-links', { body, headers, token: siteToken() });
    return answer.body;
  }

  /**
   * Step 3: hand the Checkout result to the service. No token: the Razorpay signature is
   * the proof. The service checks it against the order id it stored, fetches the payment
   * from Razorpay, checks the amount, captures, marks the order paid and grants access.
   * Resolves to { order: { status: "paid", ... }, payment, enrollment }.
   */
  async function verifyPayment({ razorpay_order_id, razorpay_payment_id, razorpay_signature }) {
    const answer = await call('POST', '/v1/payments/verify', {
      body: { razorpay_order_id, razorpay_payment_id, razorpay_signature },
    });
    return answer.body;
  }

  /**
   * Step 5: what does this person own, whichever site sold it?
   * Resolves to { items: [{ sku, status, source, order_id, granted_at, ... }] }
   * (active enrollments unless `status: "revoked"` is asked for).
   */
  async function enrollments(customerEmail, { sku, status } = {}) {
    const query = new URLSearchParams({ customer_email: customerEmail });
    if (sku) query.set('sku', sku);
    if (status) query.set('status', status);
    const answer = await call('GET', `/v1/enrollments?${query}`, { token: siteToken() });
    return answer.body;
  }

  return { siteToken, createOrder, createPaymentLink, verifyPayment, enrollments };
}

module.exports = { createPaymentsClient, PaymentsApiError, DEFAULT_AUDIENCE };
