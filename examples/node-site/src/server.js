'use strict';
/**
 * Run the example site:
 *
 *   SITE_ID=kit-site SITE_JWT_SECRET=… CALLBACK_SECRET=… \
 *   PAYMENTS_API_URL=http://127.0.0.1:8000 \
 *   CHECKOUT_SCRIPT_URL=http://127.0.0.1:8010/v1/checkout.js \
 *   node src/server.js
 *
 * Secrets come from the environment only. It listens on 127.0.0.1: put it behind your
 * usual reverse proxy (HTTPS) for anything but local development.
 */
const { createApp, REAL_CHECKOUT_SCRIPT } = require('./app');
const { DEFAULT_AUDIENCE } = require('./payments');

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} must be set (see README.md)`);
    process.exit(2);
  }
  return value;
}

const port = Number(process.env.PORT || 3000);
const app = createApp({
  siteId: required('SITE_ID'),
  jwtSecret: required('SITE_JWT_SECRET'),
  callbackSecret: required('CALLBACK_SECRET'),
  paymentsApiUrl: required('PAYMENTS_API_URL'),
  audience: process.env.PAYMENTS_AUDIENCE || DEFAULT_AUDIENCE,
  checkoutScriptUrl: process.env.CHECKOUT_SCRIPT_URL || REAL_CHECKOUT_SCRIPT,
});

const server = app.listen(port, '127.0.0.1', (error) => {
  if (error) {
    console.error(`cannot listen on 127.0.0.1:${port}: ${error.message}`);
    process.exit(1);
  }
  const { port: bound } = server.address();
  console.log(`example site ${process.env.SITE_ID} on http://127.0.0.1:${bound}`);
  console.log(`  notifications: http://127.0.0.1:${bound}/payments/callback`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections(); // keep-alive sockets would hold close() open
  });
}
