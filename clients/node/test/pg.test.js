'use strict';
/**
 * Dedupe inside the site's own transaction, on a real PostgreSQL (node-postgres).
 * Needs PGHOST/PGPORT/PGUSER/PGDATABASE (tests/test_node_client.py gives it a fresh
 * database); skipped without PGDATABASE.
 */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { describe, it, before, after } = require('node:test');

const { createCallbackReceiver, paymentsCallback, callbackSignatureHeader } = require('..');
const { pgDedupe, withTransaction, APPLIED_EVENTS_TABLE_SQL } = require('../lib/pg');
const { listen, request, quietLogger } = require('./support/http');

const SKIP = process.env.PGDATABASE
  ? false
  : 'PGDATABASE is not set: no PostgreSQL to test against';
const SECRET = 'cbsec_test_0123456789abcdef';
const run = crypto.randomBytes(4).toString('hex');

function grantedEvent(id, email, sku = 'python-101') {
  return Buffer.from(
    JSON.stringify({
      id: `evt_${id}_${run}`,
      type: 'enrollment.granted',
      created_at: '2026-12-01T00:00:00+00:00',
      site_id: 'kit-site',
      data: {
        enrollment: { id: `enr_${id}`, customer_email: email, sku, status: 'active' },
        site_user_id: null,
      },
    }),
  );
}

const signed = (body) => callbackSignatureHeader(SECRET, Math.floor(Date.now() / 1000), body);

describe('pgDedupe: the event id and the access change commit together', { skip: SKIP }, () => {
  let pool;

  before(async () => {
    const { Pool } = require('pg');
    pool = new Pool({ max: 4 });
    await pool.query(APPLIED_EVENTS_TABLE_SQL);
    await pool.query(
      'CREATE TABLE IF NOT EXISTS test_course_access (email text NOT NULL, sku text NOT NULL, enrollment_id text NOT NULL)',
    );
  });
  after(() => pool && pool.end());

  const accessRows = async (email) =>
    (await pool.query('SELECT sku FROM test_course_access WHERE email = $1', [email])).rows.map(
      (r) => r.sku,
    );
  const appliedIds = async (id) =>
    (await pool.query('SELECT event_id FROM payments_events_applied WHERE event_id = $1', [id]))
      .rowCount;

  async function grant(event, client) {
    const { enrollment } = event.data;
    await client.query(
      'INSERT INTO test_course_access (email, sku, enrollment_id) VALUES ($1, $2, $3)',
      [enrollment.customer_email, enrollment.sku, enrollment.id],
    );
  }

  it('applies the same event twice only once', async () => {
    const email = `twice-${run}@example.com`;
    const receive = createCallbackReceiver({ secret: SECRET, ...pgDedupe(pool), onEvent: grant });
    const body = grantedEvent('twice', email);
    const first = await receive({ rawBody: body, signature: signed(body) });
    const second = await receive({ rawBody: body, signature: signed(body) });
    assert.deepEqual([first.status, first.duplicate], [200, false]);
    assert.deepEqual([second.status, second.duplicate], [200, true]);
    assert.deepEqual(await accessRows(email), ['python-101']);
  });

  it('leaves a failed event unapplied AND unremembered, so the retry applies it', async () => {
    const email = `fails-${run}@example.com`;
    let failures = 1;
    const receive = createCallbackReceiver({
      secret: SECRET,
      ...pgDedupe(pool),
      logger: quietLogger(),
      onEvent: async (event, client) => {
        await grant(event, client); // written, then the transaction fails after it
        if (failures-- > 0) throw new Error('the email service is down');
      },
    });
    const body = grantedEvent('fails', email);
    const first = await receive({ rawBody: body, signature: signed(body) });
    assert.equal(first.status, 500);
    assert.deepEqual(await accessRows(email), []);
    assert.equal(await appliedIds(first.event.id), 0);

    const retry = await receive({ rawBody: body, signature: signed(body) });
    assert.deepEqual([retry.status, retry.duplicate], [200, false]);
    assert.deepEqual(await accessRows(email), ['python-101']);
    assert.equal(await appliedIds(first.event.id), 1);
  });

  it('applies two simultaneous deliveries of one event once', async () => {
    const email = `race-${run}@example.com`;
    const receive = createCallbackReceiver({
      secret: SECRET,
      ...pgDedupe(pool),
      onEvent: async (event, client) => {
        await grant(event, client);
        await client.query('SELECT pg_sleep(0.2)');
      },
    });
    const body = grantedEvent('race', email);
    const answers = await Promise.all(
      [1, 2].map(() => receive({ rawBody: body, signature: signed(body) })),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200],
    );
    assert.deepEqual(answers.map((a) => a.duplicate).sort(), [false, true]);
    assert.deepEqual(await accessRows(email), ['python-101']);
  });

  it('withTransaction commits on success and rolls back on a throw', async () => {
    const email = `tx-${run}@example.com`;
    await withTransaction(pool, (c) =>
      c.query("INSERT INTO test_course_access VALUES ($1, 'a', 'e1')", [email]),
    );
    await assert.rejects(
      withTransaction(pool, async (c) => {
        await c.query("INSERT INTO test_course_access VALUES ($1, 'b', 'e2')", [email]);
        throw new Error('no');
      }),
      /no/,
    );
    assert.deepEqual(await accessRows(email), ['a']);
  });

  for (const label of ['express4', 'express5']) {
    it(`works as Express middleware on ${label}`, async () => {
      const express = require(label);
      const email = `${label}-${run}@example.com`;
      const app = express();
      app.post(
        '/payments/callback',
        paymentsCallback({ secret: SECRET, ...pgDedupe(pool), onEvent: grant }),
      );
      const site = await listen(app);
      try {
        const body = grantedEvent(label, email);
        const post = () =>
          request('POST', `${site.url}/payments/callback`, body, {
            'Content-Type': 'application/json',
            'X-Payments-Signature': signed(body),
          });
        assert.deepEqual((await post()).body, { received: true });
        assert.deepEqual((await post()).body, { received: true, duplicate: true });
        assert.deepEqual(await accessRows(email), ['python-101']);
      } finally {
        await site.close();
      }
    });
  }
});
