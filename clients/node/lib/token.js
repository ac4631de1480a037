'use strict';
/**
 * Site tokens: HS256 JWTs signed with the site's own `jwt_secret` (openapi.yaml `siteJwt`).
 *
 * Claims: `iss` = the site id (it chooses the key the service checks with), `aud` = the
 * service's audience, `iat` (required), `exp` (at most an hour after `iat`:
 * SITE_TOKEN_MAX_LIFETIME_SECONDS), optionally `sub` = the site's own user id. Minted with
 * node:crypto (a JWT is three base64url parts and one HMAC), and cached until shortly before
 * it expires, so a busy site signs a few tokens an hour, not one per request.
 */
const crypto = require('node:crypto');

const DEFAULT_AUDIENCE = 'payments-service';
const DEFAULT_TTL_SECONDS = 300;
const MAX_TTL_SECONDS = 3600;
const MAX_CACHED_SUBJECTS = 256;

function base64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** One signed token. `now` is in milliseconds. */
function signSiteToken({
  siteId,
  jwtSecret,
  audience = DEFAULT_AUDIENCE,
  ttlSeconds,
  subject,
  now,
}) {
  const iat = Math.floor(now / 1000);
  const claims = { iss: siteId, aud: audience, iat, exp: iat + ttlSeconds };
  if (subject !== undefined && subject !== null && subject !== '') claims.sub = String(subject);
  const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
  const signature = crypto.createHmac('sha256', jwtSecret).update(unsigned).digest('base64url');
  return { token: `${unsigned}.${signature}`, expiresAtMs: claims.exp * 1000 };
}

/**
 * A source of site tokens that reuses each one until `refreshBeforeSeconds` before its expiry.
 * @param {{siteId: string, jwtSecret: string, audience?: string, ttlSeconds?: number,
 *          refreshBeforeSeconds?: number, now?: () => number}} options
 */
function createTokenSource({
  siteId,
  jwtSecret,
  audience = DEFAULT_AUDIENCE,
  ttlSeconds = DEFAULT_TTL_SECONDS,
  refreshBeforeSeconds,
  now = Date.now,
}) {
  if (!siteId || !jwtSecret) throw new TypeError('a site token needs siteId and jwtSecret');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 10 || ttlSeconds > MAX_TTL_SECONDS) {
    throw new RangeError(`ttlSeconds must be an integer from 10 to ${MAX_TTL_SECONDS}`);
  }
  const margin = (refreshBeforeSeconds ?? Math.min(60, Math.floor(ttlSeconds / 5))) * 1000;
  const cache = new Map(); // subject ('' for none) -> { token, expiresAtMs }
  let minted = 0;

  return {
    /** A valid token for `subject` (the site's user id), reusing a cached one. */
    token(subject) {
      const key = subject === undefined || subject === null ? '' : String(subject);
      const at = now();
      const cached = cache.get(key);
      if (cached && at < cached.expiresAtMs - margin) return cached.token;
      const fresh = signSiteToken({
        siteId,
        jwtSecret,
        audience,
        ttlSeconds,
        subject: key,
        now: at,
      });
      cache.delete(key);
      cache.set(key, fresh);
      if (cache.size > MAX_CACHED_SUBJECTS) cache.delete(cache.keys().next().value);
      minted += 1;
      return fresh.token;
    },
    /** How many tokens were signed so far (for tests and metrics). */
    get minted() {
      return minted;
    },
  };
}

module.exports = {
  createTokenSource,
  signSiteToken,
  DEFAULT_AUDIENCE,
  DEFAULT_TTL_SECONDS,
  MAX_TTL_SECONDS,
};
