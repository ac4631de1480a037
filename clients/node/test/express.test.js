'use strict';
/**
 * The Express middleware on Express 4 AND 5 (devDependencies express4 / express5): signed
 * callbacks, rotation, refusals, the in-memory dedupe, raw bodies behind a global
 * express.json(), and async routes that reject.
 */
const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');

const { paymentsCallback, keepRawBody, asyncRoute, callbackSignatureHeader } = require('..');
const { listen, request, quietLogger } = require('./support/http');

const SECRET = 'cbsec_test_0123456789abcdef';
const NEW_SECRET = 'cbsec_new_fedcba9876543210';
const EXPRESS = { 'Express 4': require('express4'), 'Express 5': require('express5') };

const now = () => Math.floor(Date.now() / 1000);
const eventBytes = (id, extra = {}) =>
  Buffer.from(JSON.stringify({ id, type: 'enrollment.granted', data: { n: '₹' }, ...extra }));

for (const [label, express] of Object.entries(EXPRESS)) {
  describe(`paymentsCallback on ${label}`, () => {
    let site;
    const applied = [];
    let failNext = 0;
    const logger = quietLogger();

    before(async () => {
      const app = express();
      app.post(
        '/payments/callback',
        paymentsCallback({
          secret: [NEW_SECRET, SECRET],
          logger,
          onEvent: async (event) => {
            if (failNext > 0) {
              failNext -= 1;
              throw new Error('database is down');
            }
            applied.push(event.id);
          },
        }),
      );
      app.use(express.json()); // a global parser AFTER the callback route: harmless
      app.post('/parsed-first', paymentsCallback({ secret: SECRET, logger, onEvent: () => {} }));
      app.get(
        '/async-failure',
        asyncRoute(async () => {
          throw new Error('boom');
        }),
      );
      app.use((error, req, res, _next) => res.status(500).json({ error: error.name }));
      site = await listen(app);
    });
    after(() => site.close());

    const deliver = (body, signature, path = '/payments/callback') =>
      request('POST', `${site.url}${path}`, body, {
        'Content-Type': 'application/json',
        ...(signature === undefined ? {} : { 'X-Payments-Signature': signature }),
      });

    it('applies a signed event once and acknowledges its repeat', async () => {
      const body = eventBytes('evt_once');
      const first = await deliver(body, callbackSignatureHeader(SECRET, now(), body));
      assert.deepEqual([first.status, first.body], [200, { received: true }]);
      const again = await deliver(body, callbackSignatureHeader(SECRET, now(), body));
      assert.deepEqual([again.status, again.body], [200, { received: true, duplicate: true }]);
      assert.deepEqual(
        applied.filter((id) => id === 'evt_once'),
        ['evt_once'],
      );
    });

    it('accepts a rotation header signed with the old and the new secret', async () => {
      const body = eventBytes('evt_rotation');
      const answer = await deliver(
        body,
        callbackSignatureHeader([SECRET, 'cbsec_unknown'], now(), body),
      );
      assert.equal(answer.status, 200);
      assert.ok(applied.includes('evt_rotation'));
    });

    it('answers 400 to a malformed, missing, stale or tampered signature and applies nothing', async () => {
      const body = eventBytes('evt_bad');
      const tampered = Buffer.from(body.toString().replace('evt_bad', 'evt_bae'));
      for (const [bytes, signature] of [
        [body, 't=1,v1=nothex'],
        [body, 'v1=,,,=t'],
        [body, undefined],
        [body, callbackSignatureHeader(SECRET, now() - 600, body)],
        [tampered, callbackSignatureHeader(SECRET, now(), body)],
        [body, callbackSignatureHeader('cbsec_wrong', now(), body)],
      ]) {
        const answer = await deliver(bytes, signature);
        assert.equal(answer.status, 400, String(signature));
        assert.deepEqual(answer.body, { error: 'invalid_signature' });
      }
      assert.equal(applied.includes('evt_bad') || applied.includes('evt_bae'), false);
      assert.ok(logger.lines.some((line) => line.includes('malformed_signature_header')));
    });

    it('answers 500 when applying fails, and applies the retry', async () => {
      failNext = 1;
      const body = eventBytes('evt_retry');
      const header = callbackSignatureHeader(SECRET, now(), body);
      assert.deepEqual((await deliver(body, header)).body, { error: 'not_applied' });
      assert.equal((await deliver(body, header)).status, 200);
      assert.deepEqual(
        applied.filter((id) => id === 'evt_retry'),
        ['evt_retry'],
      );
    });

    it('reports a body a parser consumed first as a setup error, never as a bad signature', async () => {
      const body = eventBytes('evt_parsed');
      const answer = await deliver(
        body,
        callbackSignatureHeader(SECRET, now(), body),
        '/parsed-first',
      );
      assert.deepEqual([answer.status, answer.body], [500, { error: 'RawBodyUnavailable' }]);
    });

    it("passes an async route's rejection to the error handler instead of hanging", async () => {
      const answer = await request('GET', `${site.url}/async-failure`);
      assert.deepEqual([answer.status, answer.body], [500, { error: 'Error' }]);
    });
  });

  describe(`keepRawBody on ${label}`, () => {
    it('lets a global express.json() run first', async () => {
      const app = express();
      app.use(express.json({ verify: keepRawBody }));
      const applied = [];
      app.post(
        '/cb',
        paymentsCallback({ secret: SECRET, onEvent: (event) => applied.push(event.id) }),
      );
      const site = await listen(app);
      try {
        const body = eventBytes('evt_kept');
        const answer = await request('POST', `${site.url}/cb`, body, {
          'Content-Type': 'application/json',
          'X-Payments-Signature': callbackSignatureHeader(SECRET, now(), body),
        });
        assert.equal(answer.status, 200);
        assert.deepEqual(applied, ['evt_kept']);
      } finally {
        await site.close();
      }
    });
  });
}
