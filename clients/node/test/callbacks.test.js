'use strict';
/** Verifying the service's signed callbacks: raw bytes, rotation, replay window, bad headers. */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { describe, it } = require('node:test');

const {
  signCallback,
  callbackSignatureHeader,
  verifyCallback,
  verifyCallbackSignature,
  parseSignatureHeader,
  CallbackError,
} = require('..');

const SECRET = 'cbsec_test_0123456789abcdef';
const NEW_SECRET = 'cbsec_new_fedcba9876543210';
const NOW_MS = 1_760_000_000_000;
const NOW = NOW_MS / 1000;

/** The service's JSON is compact; any bytes must work, so mix in unicode. */
function eventBytes(overrides = {}) {
  const event = {
    created_at: '2025-10-09T08:53:20+00:00',
    data: {
      enrollment: {
        customer_email: 'asha@example.com',
        id: 'enr_1',
        sku: 'python-101',
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

const refusal = (reason) => (error) => {
  assert.ok(error instanceof CallbackError, String(error));
  assert.equal(error.reason, reason);
  assert.equal(error.status, 400);
  return true;
};

describe('verifyCallback', () => {
  it('returns the event of a body signed with the callback secret', () => {
    const body = eventBytes();
    const event = verifyCallback(body, `t=${NOW},v1=${signCallback(SECRET, NOW, body)}`, SECRET, {
      now: NOW_MS,
    });
    assert.equal(event.id, 'evt_1');
    assert.equal(event.note, 'Ásha — ₹499');
  });

  it('signs HMAC-SHA256(secret, "<t>.<raw body>") in hex', () => {
    const body = Buffer.from('{"id":"evt_1"}');
    const expected = crypto
      .createHmac('sha256', SECRET)
      .update(`${NOW}.{"id":"evt_1"}`)
      .digest('hex');
    assert.equal(signCallback(SECRET, NOW, body), expected);
  });

  it('accepts a rotation header whichever v1 matches, first or second', () => {
    const body = eventBytes();
    const oldFirst = callbackSignatureHeader([SECRET, NEW_SECRET], NOW, body);
    const newFirst = callbackSignatureHeader([NEW_SECRET, SECRET], NOW, body);
    for (const header of [oldFirst, newFirst]) {
      assert.equal(verifyCallbackSignature(body, header, SECRET, { now: NOW_MS }), NOW);
      assert.equal(verifyCallbackSignature(body, header, NEW_SECRET, { now: NOW_MS }), NOW);
    }
  });

  it('accepts any of the secrets the site holds while it rotates', () => {
    const body = eventBytes();
    const header = callbackSignatureHeader(NEW_SECRET, NOW, body);
    assert.equal(verifyCallbackSignature(body, header, [SECRET, NEW_SECRET], { now: NOW_MS }), NOW);
    assert.throws(
      () => verifyCallbackSignature(body, header, SECRET, { now: NOW_MS }),
      refusal('signature_mismatch'),
    );
  });

  it('refuses another secret, a tampered body and a re-serialised one', () => {
    const body = eventBytes();
    const header = callbackSignatureHeader(SECRET, NOW, body);
    const tampered = Buffer.from(body.toString('utf8').replace('python-101', 'python-102'));
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8')), null, 1));
    for (const [bytes, signed] of [
      [body, callbackSignatureHeader('cbsec_other', NOW, body)],
      [tampered, header],
      [reserialised, header],
    ]) {
      assert.throws(
        () => verifyCallback(bytes, signed, SECRET, { now: NOW_MS }),
        refusal('signature_mismatch'),
      );
    }
  });

  it('compares with crypto.timingSafeEqual, never ===', () => {
    const real = crypto.timingSafeEqual;
    let calls = 0;
    crypto.timingSafeEqual = (a, b) => {
      calls += 1;
      return real(a, b);
    };
    try {
      const body = eventBytes();
      verifyCallbackSignature(body, callbackSignatureHeader(SECRET, NOW, body), SECRET, {
        now: NOW_MS,
      });
      assert.equal(calls, 1);
    } finally {
      crypto.timingSafeEqual = real;
    }
  });

  it('refuses timestamps more than five minutes away, accepts up to five', () => {
    const body = eventBytes();
    const at = (seconds) => () =>
      verifyCallbackSignature(body, callbackSignatureHeader(SECRET, NOW - seconds, body), SECRET, {
        now: NOW_MS,
      });
    assert.equal(at(300)(), NOW - 300);
    assert.equal(at(-300)(), NOW + 300);
    assert.throws(at(301), refusal('timestamp_too_old'));
    assert.throws(at(-301), refusal('timestamp_in_the_future'));
  });

  it('refuses malformed headers with a clean CallbackError, never a crash', () => {
    const body = eventBytes();
    const digest = signCallback(SECRET, NOW, body);
    const malformed = [
      undefined,
      null,
      42,
      '',
      'garbage',
      `v1=${digest}`,
      `t=${NOW}`,
      `t=${NOW},v1=`,
      `t=abc,v1=${digest}`,
      `t=${NOW}.5,v1=${digest}`,
      `t=${NOW},v1=${digest.slice(2)}`,
      `t=${NOW},v1=${digest}00`,
      `t=${NOW},v1=${digest.toUpperCase()}`,
      `t=${NOW},v1=${'zz'.repeat(32)}`,
      `t=${NOW},t=${NOW},v1=${digest}`,
      `t=${NOW};v1=${digest}`,
      `t=${NOW},v1=${digest},${'x'.repeat(5000)}`,
    ];
    for (const header of malformed) {
      assert.throws(
        () => verifyCallback(body, header, SECRET, { now: NOW_MS }),
        refusal('malformed_signature_header'),
        String(header),
      );
    }
  });

  it('parses spaces around parts and ignores unknown schemes', () => {
    assert.deepEqual(parseSignatureHeader(` t=12 , v0=zz, v1=${'a'.repeat(64)} `), {
      timestamp: 12,
      signatures: ['a'.repeat(64)],
    });
  });

  it('needs the raw bytes, never a parsed object', () => {
    const body = eventBytes();
    const header = callbackSignatureHeader(SECRET, NOW, body);
    assert.throws(
      () => verifyCallback(JSON.parse(body.toString('utf8')), header, SECRET, { now: NOW_MS }),
      refusal('no_raw_body'),
    );
  });

  it('refuses a signed body that is not an event', () => {
    for (const text of ['not json', '[]', '{"type":"x"}', 'null']) {
      const body = Buffer.from(text);
      assert.throws(
        () =>
          verifyCallback(body, callbackSignatureHeader(SECRET, NOW, body), SECRET, { now: NOW_MS }),
        refusal('invalid_event'),
      );
    }
  });
});
