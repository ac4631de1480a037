'use strict';
/**
 * Checking the service's notifications (signed callbacks), framework-neutral.
 *
 *   X-Payments-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(callback_secret, "<t>.<raw body>")>
 *
 * While a site rotates its callback secret the header carries one `v1=` per valid secret
 * (in no promised order), so every `v1` is tried against every secret the site holds. The
 * HMAC is over the RAW bytes received, compared in constant time, and `t` must be within
 * five minutes of now (the service signs each attempt afresh, so its retries always pass,
 * and a captured request cannot be replayed later). Anything else is a CallbackError with a
 * `reason`, never an exception from deep inside (a malformed header is a clean 400).
 */
const crypto = require('node:crypto');

const { CallbackError, CALLBACK_REASONS } = require('./errors');

const SIGNATURE_HEADER = 'x-payments-signature';
const EVENT_ID_HEADER = 'x-payments-event-id';
const TOLERANCE_SECONDS = 5 * 60;
const MAX_HEADER_LENGTH = 4096;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^[0-9]{1,12}$/;

/** "t=1700000000,v1=ab…,v1=cd…" -> { timestamp, signatures }, or null when malformed. */
function parseSignatureHeader(header) {
  if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) return null;
  let timestamp = null;
  const signatures = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) return null;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') {
      if (timestamp !== null || !UNIX_SECONDS.test(value)) return null;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value)) return null;
      signatures.push(value);
    } // other schemes may be added later: ignored
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

/** The v1 signature of `rawBody` at `timestamp`, in hex (what the service sends). */
function signCallback(secret, timestamp, rawBody) {
  return crypto.createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** A whole X-Payments-Signature header: one v1 per secret, as the service signs. */
function callbackSignatureHeader(secrets, timestamp, rawBody) {
  const parts = []
    .concat(secrets)
    .map((secret) => `v1=${signCallback(secret, timestamp, rawBody)}`);
  return [`t=${timestamp}`, ...parts].join(',');
}

function sameHex(expectedHex, givenHex) {
  const expected = Buffer.from(expectedHex, 'hex');
  const given = Buffer.from(givenHex, 'hex');
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

/**
 * Check a callback's signature over its raw body.
 * @param {Buffer|Uint8Array} rawBody  the body exactly as received (never re-serialised JSON)
 * @param {string|undefined} header  the X-Payments-Signature header
 * @param {string|string[]} secrets  the callback secret (or the old and new during a rotation)
 * @param {{now?: number, toleranceSeconds?: number}} [options]  `now` in milliseconds
 * @returns {number} the signed timestamp
 * @throws {CallbackError}
 */
function verifyCallbackSignature(rawBody, header, secrets, options = {}) {
  const { now = Date.now(), toleranceSeconds = TOLERANCE_SECONDS } = options;
  if (!(rawBody instanceof Uint8Array)) throw new CallbackError(CALLBACK_REASONS.noRawBody);
  const keys = [].concat(secrets).filter((secret) => typeof secret === 'string' && secret);
  if (keys.length === 0) throw new TypeError('verifying a callback needs the callback secret');
  const parsed = parseSignatureHeader(header);
  if (!parsed) throw new CallbackError(CALLBACK_REASONS.malformedHeader);
  const age = Math.floor(now / 1000) - parsed.timestamp;
  if (age > toleranceSeconds) throw new CallbackError(CALLBACK_REASONS.staleTimestamp);
  if (-age > toleranceSeconds) throw new CallbackError(CALLBACK_REASONS.futureTimestamp);
  for (const secret of keys) {
    const expected = signCallback(secret, parsed.timestamp, rawBody);
    if (parsed.signatures.some((given) => sameHex(expected, given))) return parsed.timestamp;
  }
  throw new CallbackError(CALLBACK_REASONS.mismatch);
}

/**
 * Verify, then parse: the event ({id, type, created_at, site_id, data}) or a CallbackError.
 * The event id is taken from the signed body, not from X-Payments-Event-Id (unsigned).
 */
function verifyCallback(rawBody, header, secrets, options) {
  verifyCallbackSignature(rawBody, header, secrets, options);
  let event;
  try {
    event = JSON.parse(Buffer.from(rawBody).toString('utf8'));
  } catch {
    throw new CallbackError(CALLBACK_REASONS.invalidEvent, 'payments callback: body is not JSON');
  }
  if (!event || typeof event.id !== 'string' || typeof event.type !== 'string') {
    throw new CallbackError(CALLBACK_REASONS.invalidEvent, 'payments callback: not an event');
  }
  return event;
}

module.exports = {
  SIGNATURE_HEADER,
  EVENT_ID_HEADER,
  TOLERANCE_SECONDS,
  parseSignatureHeader,
  signCallback,
  callbackSignatureHeader,
  verifyCallbackSignature,
  verifyCallback,
};
