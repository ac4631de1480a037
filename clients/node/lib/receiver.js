'use strict';
/**
 * Receiving notifications: verify, dedupe, apply, answer. Framework-neutral
 * (createCallbackReceiver answers {status, body} for a raw body and a header), plus the
 * Express middleware built on it, which works the same on Express 4 and 5: it never hands
 * Express a rejected promise, it answers itself.
 *
 * Dedupe runs INSIDE the site's own transaction: `withTransaction(work)` opens one,
 * `claimEvent(tx, event)` records the event id in it and says whether it was new, then
 * `onEvent(event, tx)` changes access in the same transaction. Commit = applied and
 * remembered together; any failure rolls both back and answers 500, so the service's retry
 * applies it. The same event twice is applied once. `pgDedupe(pool)` (payments-service-client/pg)
 * is a ready pair for node-postgres; without one, an in-memory log is used (one process only,
 * forgotten on restart: fine for a demo, not for access that matters).
 */
const { verifyCallback, SIGNATURE_HEADER } = require('./callbacks');
const { CallbackError, CALLBACK_REASONS } = require('./errors');

const DEFAULT_LIMIT_BYTES = 1024 * 1024;

/** Event ids applied by this process, bounded. The same interface as pgDedupe. */
function createMemoryDedupe({ maxEntries = 10_000 } = {}) {
  const seen = new Map(); // id -> 'processing' | 'done', oldest first
  return {
    async withTransaction(work) {
      const tx = { claimed: [] };
      try {
        const result = await work(tx);
        for (const id of tx.claimed) seen.set(id, 'done');
        return result;
      } catch (error) {
        for (const id of tx.claimed) seen.delete(id); // not applied: the retry applies it
        throw error;
      }
    },
    async claimEvent(tx, event) {
      if (seen.has(event.id)) return false;
      seen.set(event.id, 'processing');
      tx.claimed.push(event.id);
      while (seen.size > maxEntries) seen.delete(seen.keys().next().value);
      return true;
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
 * @param {object} options
 * @param {string|string[]} options.secret  the site's callback secret(s)
 * @param {(event: object, tx: any) => unknown} options.onEvent  apply one new event
 * @param {(work: (tx: any) => Promise<any>) => Promise<any>} [options.withTransaction]
 * @param {(tx: any, event: object) => Promise<boolean>} [options.claimEvent]  true if new
 * @returns {(request: {rawBody: Buffer, signature?: string}) => Promise<{status: number, body: object, event?: object, duplicate?: boolean}>}
 */
function createCallbackReceiver(options) {
  const { secret, onEvent, now = Date.now, toleranceSeconds, logger = console } = options;
  if (!secret || (Array.isArray(secret) && secret.length === 0)) {
    throw new TypeError('paymentsCallback needs the site callback secret');
  }
  if (typeof onEvent !== 'function') throw new TypeError('paymentsCallback needs onEvent');
  if (!options.withTransaction !== !options.claimEvent) {
    throw new TypeError(
      'give both withTransaction and claimEvent (e.g. ...pgDedupe(pool)), or neither',
    );
  }
  const dedupe = options.withTransaction ? options : createMemoryDedupe();

  return async function receive({ rawBody, signature }) {
    let event;
    try {
      event = verifyCallback(rawBody, signature, secret, { now: now(), toleranceSeconds });
    } catch (error) {
      if (!(error instanceof CallbackError)) throw error;
      logger.warn(`payments callback refused: ${error.reason}`);
      const refused =
        error.reason === CALLBACK_REASONS.invalidEvent ? 'invalid_event' : 'invalid_signature';
      return { status: error.status, body: { error: refused } };
    }
    try {
      const applied = await dedupe.withTransaction(async (tx) => {
        if (!(await dedupe.claimEvent(tx, event))) return false;
        await onEvent(event, tx);
        return true;
      });
      if (!applied)
        return { status: 200, body: { received: true, duplicate: true }, event, duplicate: true };
      return { status: 200, body: { received: true }, event, duplicate: false };
    } catch (error) {
      logger.error(
        `payments callback ${event.id} (${event.type}) not applied: ${error && error.message}`,
      );
      return { status: 500, body: { error: 'not_applied' }, event };
    }
  };
}

/** For express.json({ verify: keepRawBody }): keeps the exact bytes as req.rawBody. */
function keepRawBody(req, _res, buffer) {
  req.rawBody = Buffer.from(buffer);
}

class RawBodyUnavailable extends Error {
  constructor() {
    super(
      'payments callback: the request body was parsed before this route; mount ' +
        'paymentsCallback() before express.json(), or use express.json({ verify: keepRawBody })',
    );
    this.name = 'RawBodyUnavailable';
  }
}

/** The raw bytes of the request: kept by a parser, or read from the stream here. */
function readRawBody(req, limitBytes) {
  if (Buffer.isBuffer(req.rawBody)) return Promise.resolve(req.rawBody);
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body);
  if (req._body || req.readableEnded) return Promise.reject(new RawBodyUnavailable());
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limitBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(Object.assign(new Error('payments callback: body too large'), { status: 413 }));
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Express middleware (4 and 5) for the site's callback route:
 *
 *   app.post('/payments/callback', paymentsCallback({ secret, ...pgDedupe(pool), onEvent }));
 *
 * Mount it before any global express.json() (or give that parser `verify: keepRawBody`):
 * the signature is over the raw bytes. Answers 200 (applied, or a duplicate), 400 (refused),
 * 413 (too large), 500 (onEvent failed: the service retries).
 */
function paymentsCallback(options) {
  const receive = createCallbackReceiver(options);
  const { limitBytes = DEFAULT_LIMIT_BYTES, logger = console } = options;
  return function paymentsCallbackMiddleware(req, res, next) {
    readRawBody(req, limitBytes)
      .then((rawBody) => receive({ rawBody, signature: req.headers[SIGNATURE_HEADER] }))
      .then(
        (answer) => {
          res.locals.paymentsEvent = answer.event;
          res.status(answer.status).json(answer.body);
        },
        (error) => {
          if (error && error.status === 413) return res.status(413).json({ error: 'too_large' });
          logger.error(error.message);
          return next(error);
        },
      );
  };
}

/** Wraps an async route for Express 4, which ignores rejected promises (Express 5 does not). */
function asyncRoute(handler) {
  return function asyncRouteHandler(req, res, next) {
    Promise.resolve()
      .then(() => handler(req, res, next))
      .catch(next);
  };
}

module.exports = {
  createCallbackReceiver,
  createMemoryDedupe,
  paymentsCallback,
  keepRawBody,
  readRawBody,
  asyncRoute,
  RawBodyUnavailable,
};
