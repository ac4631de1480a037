'use strict';
/** Site tokens: checked with jsonwebtoken (an independent implementation), and cached. */
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');
const jwt = require('jsonwebtoken');

const { createPaymentsClient, createTokenSource, MAX_TOKEN_TTL_SECONDS } = require('..');

const SECRET = 'site-jwt-secret-0123456789abcdef';
const T0 = 1_780_000_000_000;

function clock(start = T0) {
  const at = { ms: start };
  return { now: () => at.ms, advance: (seconds) => (at.ms += seconds * 1000) };
}

describe('site tokens', () => {
  it('are HS256 with iss = site id, aud = the service, iat and a 5-minute exp', () => {
    const client = createPaymentsClient({
      apiUrl: 'http://127.0.0.1:9',
      siteId: 'kit-site',
      jwtSecret: SECRET,
    });
    const token = client.siteToken();
    assert.deepEqual(jwt.decode(token, { complete: true }).header, { alg: 'HS256', typ: 'JWT' });
    const claims = jwt.verify(token, SECRET, {
      algorithms: ['HS256'],
      audience: 'payments-service',
      issuer: 'kit-site',
    });
    assert.equal(claims.exp - claims.iat, 300);
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 5);
    assert.equal('sub' in claims, false);
  });

  it('carry the site user id as sub, and a configured audience', () => {
    const client = createPaymentsClient({
      apiUrl: 'http://x',
      siteId: 's',
      jwtSecret: SECRET,
      audience: 'payments-staging',
    });
    const claims = jwt.verify(client.siteToken({ userId: 42 }), SECRET, {
      audience: 'payments-staging',
    });
    assert.equal(claims.sub, '42');
  });

  it('fail verification with another secret', () => {
    const token = createTokenSource({ siteId: 's', jwtSecret: SECRET }).token();
    assert.throws(() => jwt.verify(token, 'another-secret'), /invalid signature/);
  });

  it('are reused until a minute before they expire, then minted again', () => {
    const time = clock();
    const source = createTokenSource({ siteId: 's', jwtSecret: SECRET, now: time.now });
    const first = source.token();
    time.advance(239);
    assert.equal(source.token(), first);
    assert.equal(source.minted, 1);
    time.advance(1); // 60 s before exp
    const second = source.token();
    assert.notEqual(second, first);
    assert.equal(source.minted, 2);
    assert.equal(jwt.decode(second).iat, Math.floor(T0 / 1000) + 240);
  });

  it('are cached per subject', () => {
    const source = createTokenSource({ siteId: 's', jwtSecret: SECRET, now: clock().now });
    const a = source.token('u-1');
    assert.equal(source.token('u-1'), a);
    assert.notEqual(source.token('u-2'), a);
    assert.notEqual(source.token(), a);
    assert.equal(source.minted, 3);
  });

  it('never live longer than the service allows (an hour)', () => {
    assert.equal(MAX_TOKEN_TTL_SECONDS, 3600);
    assert.throws(
      () => createTokenSource({ siteId: 's', jwtSecret: SECRET, ttlSeconds: 3601 }),
      RangeError,
    );
    const source = createTokenSource({ siteId: 's', jwtSecret: SECRET, ttlSeconds: 3600 });
    const claims = jwt.verify(source.token(), SECRET);
    assert.equal(claims.exp - claims.iat, 3600);
  });
});
