'use strict';
/**
 * The kit app's callback route: signed notifications applied once, refused when forged.
 * (The signature check itself is payments-service-client's, tested in clients/node/test.)
 */
const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const express = require('express');

const { signCallback: sign, paymentsCallback } = require('payments-service-client');
const { createApp } = require('../src/app');
const { listen, request, quietLogger } = require('./support/http');

const SECRET = 'cbsec_test_0123456789abcdef';
const NOW_MS = 1_760_000_000_000;
const NOW = NOW_MS / 1000;

/** The service's JSON is compact with sorted keys; any bytes must work, so mix in unicode. */
function eventBytes(overrides = {}) {
  const event = {
    created_at: '2025-10-09T08:53:20+00:00',
    data: {
      enrollment: {
        customer_email: 'asha@example.com',
        granted_at: '2025-10-09T08:53:20+00:00',
        id: 'enr_1',
        order_id: 'ord_1',
        revoked_at: null,
        sku: 'python-101',
        source: 'purchase',
        status: 'active',
      },
      site_user_id: 'u-42',
    },
    id: 'evt_1',
    site_id: 'kit-site',
    type: 'enrollment.granted',
    note: 'Ásha — ₹499',
    ...overrides,
  };
  return Buffer.from(JSON.stringify(event), 'utf8');
}

function header(body, { secret = SECRET, t = NOW } = {}) {
  return `t=${t},v1=${sign(secret, t, body)}`;
}

describe('POST /payments/callback (the kit app)', () => {
  let site;
  let app;
  let logger;

  before(async () => {
    logger = quietLogger();
    app = createApp({
      siteId: 'kit-site',
      jwtSecret: 'jwt-secret-not-used-here',
      callbackSecret: SECRET,
      apiUrl: 'http://127.0.0.1:9', // never called by these tests
      logger,
    });
    site = await listen(app);
  });

  after(() => site.close());

  async function deliver(body, signature, contentType = 'application/json') {
    const headers = { 'Content-Type': contentType, 'X-Payments-Event-Id': 'evt_x' };
    if (signature !== undefined) headers['X-Payments-Signature'] = signature;
    return request('POST', `${site.url}/payments/callback`, body, headers);
  }

  const nowHeader = (body, secret = SECRET) =>
    header(body, { secret, t: Math.floor(Date.now() / 1000) });

  it('applies a signed enrollment.granted once, and acknowledges its repeats', async () => {
    const body = eventBytes({ id: 'evt_dedupe' });
    const first = await deliver(body, nowHeader(body));
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { received: true });

    const again = await deliver(body, nowHeader(body)); // at-least-once: same id, new signature
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { received: true, duplicate: true });

    assert.equal(app.locals.received.filter((e) => e.id === 'evt_dedupe').length, 1);
    const access = await request('GET', `${site.url}/access?email=ASHA@example.com`);
    assert.deepEqual(access.body, { email: 'asha@example.com', skus: ['python-101'] });
    assert.equal(app.locals.access.recordsFor('asha@example.com')[0].site_user_id, 'u-42');
  });

  it('verifies whatever the Content-Type says (the raw bytes are what count)', async () => {
    const body = eventBytes({ id: 'evt_text_plain' });
    const answer = await deliver(body, nowHeader(body), 'text/plain');
    assert.equal(answer.status, 200);
  });

  it('refuses a wrong secret, a tampered body, a stale or missing signature, and applies none', async () => {
    const body = eventBytes({
      id: 'evt_bad',
      data: {
        enrollment: {
          id: 'enr_bad',
          customer_email: 'eve@example.com',
          sku: 'python-101',
          status: 'active',
        },
        site_user_id: null,
      },
    });
    const stale = header(body, { t: Math.floor(Date.now() / 1000) - 600 });
    const tampered = Buffer.from(body.toString('utf8').replace('eve@', 'mallory@'));
    for (const [bytes, signature] of [
      [body, nowHeader(body, 'cbsec_wrong')],
      [tampered, nowHeader(body)],
      [body, stale],
      [body, undefined],
      [body, 't=1,v1=nothex'],
    ]) {
      const answer = await deliver(bytes, signature);
      assert.equal(answer.status, 400, String(signature));
      assert.deepEqual(answer.body, { error: 'invalid_signature' });
    }
    assert.equal(app.locals.events.has('evt_bad'), false);
    assert.deepEqual(
      (await request('GET', `${site.url}/access?email=eve@example.com`)).body.skus,
      [],
    );
    assert.deepEqual(
      (await request('GET', `${site.url}/access?email=mallory@example.com`)).body.skus,
      [],
    );
    assert.ok(logger.lines.some((line) => line.includes('timestamp_too_old')));
  });

  it('acknowledges event types it does not know (forward compatible)', async () => {
    const body = Buffer.from(
      JSON.stringify({ id: 'evt_new_kind', type: 'something.new', data: {} }),
    );
    assert.equal((await deliver(body, nowHeader(body))).status, 200);
  });

  it('applies a revoke, and a late grant of the same enrollment does not undo it', async () => {
    const enrollment = {
      id: 'enr_r',
      customer_email: 'ravi@example.com',
      sku: 'sql-basics',
      status: 'active',
    };
    const granted = eventBytes({ id: 'evt_g', data: { enrollment, site_user_id: null } });
    const revoked = eventBytes({
      id: 'evt_r',
      type: 'enrollment.revoked',
      data: { enrollment: { ...enrollment, status: 'revoked' }, site_user_id: null },
    });
    assert.equal((await deliver(revoked, nowHeader(revoked))).status, 200);
    assert.equal((await deliver(granted, nowHeader(granted))).status, 200);
    assert.deepEqual(
      (await request('GET', `${site.url}/access?email=ravi@example.com`)).body.skus,
      [],
    );
  });
});

describe('the callback route when applying fails', () => {
  it('answers 500 and applies the retry', async () => {
    let calls = 0;
    const applied = [];
    const app = express();
    app.post(
      '/cb',
      paymentsCallback({
        secret: SECRET,
        logger: quietLogger(),
        onEvent: async (event) => {
          calls += 1;
          if (calls === 1) throw new Error('database is down');
          applied.push(event.id);
        },
      }),
    );
    const site = await listen(app);
    try {
      const body = eventBytes({ id: 'evt_retry' });
      const signature = header(body, { t: Math.floor(Date.now() / 1000) });
      const post = () =>
        request('POST', `${site.url}/cb`, body, {
          'Content-Type': 'application/json',
          'X-Payments-Signature': signature,
        });
      assert.equal((await post()).status, 500);
      assert.equal((await post()).status, 200);
      assert.deepEqual((await post()).body, { received: true, duplicate: true });
      assert.deepEqual(applied, ['evt_retry']);
    } finally {
      await site.close();
    }
  });
});
