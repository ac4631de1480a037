'use strict';
/**
 * Step 4: receiving the service's notifications (signed callbacks).
 *
 * The service POSTs JSON like
 *   {"id": "evt_…", "type": "enrollment.granted", "created_at": "…", "site_id": "…",
 *    "data": {"enrollment": {...}, "site_user_id": "u-42" | null}}
 * with two headers:
 *   X-Payments-Event-Id: evt_…
 *   X-Payments-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(callback secret, "<t>.<raw body>")>
 *
 * Rules, each of which closes a real hole:
 *   - HMAC over the RAW request bytes. Never JSON.stringify(req.body): re-serialising
 *     changes spacing, key order and number formats, so honest events would fail (and
 *     you would be tempted to switch the check off).
 *   - Compare in constant time (crypto.timingSafeEqual, lengths checked first).
 *   - Reject timestamps outside a 5-minute window: a captured request cannot be replayed
 *     later. (The service signs at each delivery attempt, so its retries are always fresh.)
 *   - Delivery is at-least-once: the same event id can arrive again. Acknowledge it with
 *     2xx and do not apply it twice.
 *   - Answer 2xx fast. Anything else (or a timeout) is retried with backoff for 24 hours.
 */
const crypto = require('node:crypto');

const TOLERANCE_SECONDS = 5 * 60;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** "t=1700000000,v1=ab12…" -> { timestamp: 1700000000, signatures: ["ab12…"] }, or null. */
function parseSignatureHeader(header) {
  if (typeof header !== 'string' || header.length > 1024) return null;
  let timestamp = null;
  const signatures = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) return null;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') {
      if (timestamp !== null || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value)) return null;
      signatures.push(value);
    } // other keys (future schemes) are ignored
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

/** The v1 signature of a body at a timestamp, as hex. Exported for tests and tools. */
function sign(secret, timestamp, rawBody) {
  return crypto
    .createHmac('sha256', secret)
    .update(`${timestamp}.`)
    .update(rawBody) // a Buffer: the exact bytes that came over the wire
    .digest('hex');
}

function constantTimeEqualHex(expectedHex, givenHex) {
  const expected = Buffer.from(expectedHex, 'hex');
  const given = Buffer.from(givenHex, 'hex');
  // timingSafeEqual throws on different lengths, so check first (length is not secret).
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

/**
 * Check X-Payments-Signature over the raw body.
 * @param {Buffer} rawBody  the request body exactly as received
 * @param {string} header   the X-Payments-Signature header
 * @param {string|string[]} secrets  the site's callback secret (several while rotating)
 * @returns {{ok: true, timestamp: number} | {ok: false, reason: string}}
 */
function verifySignature(
  rawBody,
  header,
  secrets,
  { now = Date.now(), toleranceSeconds = TOLERANCE_SECONDS } = {},
) {
  if (!Buffer.isBuffer(rawBody)) return { ok: false, reason: 'no raw body' };
  const parsed = parseSignatureHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed signature header' };
  const age = Math.floor(now / 1000) - parsed.timestamp;
  if (Math.abs(age) > toleranceSeconds) {
    return { ok: false, reason: age > 0 ? 'timestamp too old' : 'timestamp in the future' };
  }
  for (const secret of [].concat(secrets)) {
    const expected = sign(secret, parsed.timestamp, rawBody);
    if (parsed.signatures.some((given) => constantTimeEqualHex(expected, given))) {
      return { ok: true, timestamp: parsed.timestamp };
    }
  }
  return { ok: false, reason: 'signature mismatch' };
}

/**
 * Event ids already applied. In memory and bounded here; a real site keeps them in its
 * database (a table with the event id as primary key, inserted in the SAME transaction
 * as the access change, so "applied" and "remembered" cannot disagree) for longer than
 * the service's 24-hour retry window.
 */
function createEventLog({ maxEntries = 10_000 } = {}) {
  const seen = new Map(); // id -> 'processing' | 'done'; Map keeps insertion order
  return {
    /** Reserve an id before applying it. False if it was (or is being) applied already. */
    claim(id) {
      if (seen.has(id)) return false;
      seen.set(id, 'processing');
      while (seen.size > maxEntries) seen.delete(seen.keys().next().value);
      return true;
    },
    done(id) {
      seen.set(id, 'done');
    },
    /** Applying failed: forget the id so the service's retry is applied. */
    release(id) {
      seen.delete(id);
    },
    has(id) {
      return seen.has(id);
    },
    get size() {
      return seen.size;
    },
  };
}

/**
 * The Express handler for POST /payments/callback. Mount it behind express.raw() so
 * req.body is the raw Buffer:
 *
 *   app.post('/payments/callback', express.raw({ type: () => true }), callbackHandler({...}))
 *
 * @param {object} options
 * @param {string|string[]} options.secret  the site's callback secret
 * @param {(event: object) => (void|Promise<void>)} options.onEvent  apply one event; keep
 *        it quick (a DB write). Slow work (emails...) belongs on a job queue.
 * @param {ReturnType<createEventLog>} [options.events]  the dedupe log
 * @param {() => number} [options.now]  clock in ms, for tests
 */
function callbackHandler({
  secret,
  onEvent,
  events = createEventLog(),
  now = Date.now,
  logger = console,
}) {
  if (!secret) throw new Error('callbackHandler needs the site callback secret');
  return async function paymentsCallback(req, res) {
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifySignature(rawBody, req.get('X-Payments-Signature'), secret, { now: now() });
    if (!check.ok) {
      // Say little to the caller; log the reason for whoever operates the site.
      logger.warn(`payments callback rejected: ${check.reason}`);
      return res.status(400).json({ error: 'invalid_signature' });
    }

    // Only now, with the bytes authenticated, parse them.
    let event;
    try {
      event = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return res.status(400).json({ error: 'invalid_json' });
    }
    if (!event || typeof event.id !== 'string' || typeof event.type !== 'string') {
      return res.status(400).json({ error: 'invalid_event' });
    }
    // Dedupe on the id inside the signed body (the X-Payments-Event-Id header carries the
    // same value but is not covered by the signature).

    if (!events.claim(event.id)) {
      return res.status(200).json({ received: true, duplicate: true });
    }
    try {
      await onEvent(event);
      events.done(event.id);
    } catch (error) {
      events.release(event.id); // not applied: let the retry apply it
      logger.error(`payments callback ${event.id} (${event.type}) failed: ${error.message}`);
      return res.status(500).json({ error: 'not_applied' });
    }
    return res.status(200).json({ received: true });
  };
}

module.exports = {
  TOLERANCE_SECONDS,
  parseSignatureHeader,
  sign,
  verifySignature,
  createEventLog,
  callbackHandler,
};
