'use strict';
/** A site's settings for this package, from the environment. */
const { DEFAULT_AUDIENCE } = require('./token');

/**
 * The client's settings from the environment, under the one set of names the README, the
 * examples and this package use: PAYMENTS_API_URL, PAYMENTS_SITE_ID, PAYMENTS_JWT_SECRET,
 * PAYMENTS_CALLBACK_SECRET (several, comma-separated, during a rotation), PAYMENTS_AUDIENCE.
 */
function paymentsConfigFromEnv(env = process.env) {
  const missing = ['PAYMENTS_API_URL', 'PAYMENTS_SITE_ID', 'PAYMENTS_JWT_SECRET'].filter(
    (name) => !env[name],
  );
  if (missing.length) throw new Error(`${missing.join(', ')} must be set (see the README)`);
  const callbackSecrets = (env.PAYMENTS_CALLBACK_SECRET || '')
    .split(',')
    .map((secret) => secret.trim())
    .filter(Boolean);
  return {
    apiUrl: env.PAYMENTS_API_URL,
    siteId: env.PAYMENTS_SITE_ID,
    jwtSecret: env.PAYMENTS_JWT_SECRET,
    callbackSecret: callbackSecrets.length > 1 ? callbackSecrets : callbackSecrets[0],
    audience: env.PAYMENTS_AUDIENCE || DEFAULT_AUDIENCE,
  };
}

module.exports = { paymentsConfigFromEnv };
