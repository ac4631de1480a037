'use strict';
/** Small pieces of a request the client builds: paths, queries, amounts and bodies. */

function retryAfterSeconds(response) {
  const value = response.headers.get('retry-after');
  return value && /^[0-9]{1,6}$/.test(value) ? Number(value) : null;
}

function queryString(query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function segment(value, what) {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${what} is required`);
  return encodeURIComponent(value);
}

function checkPaise(amount, what = 'amount') {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new TypeError(`${what} must be a positive integer number of paise (49900 = ₹499.00)`);
  }
}

/** A payment link's body as openapi.yaml names it, from snake_case or camelCase fields. */
function paymentLinkBody({ returnUrl, expireBy, ...link }) {
  const body = { currency: 'INR', ...link };
  if (returnUrl !== undefined) body.return_url = returnUrl;
  const expiry = expireBy ?? link.expire_by;
  if (expiry !== undefined && expiry !== null) {
    const at = new Date(expiry);
    if (Number.isNaN(at.getTime())) throw new TypeError('expireBy must be a date');
    body.expire_by = at.toISOString();
  }
  return body;
}

module.exports = { retryAfterSeconds, queryString, segment, checkPaise, paymentLinkBody };
