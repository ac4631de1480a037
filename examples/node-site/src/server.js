'use strict';
/**
 * Run the example site:
 *
 *   PAYMENTS_SITE_ID=kit-site PAYMENTS_JWT_SECRET=… PAYMENTS_CALLBACK_SECRET=… \
 *   PAYMENTS_API_URL=http://127.0.0.1:8000 \
 *   CHECKOUT_SCRIPT_URL=http://127.0.0.1:8010/v1/checkout.js \
 *   node src/server.js
 *
 * Secrets come from the environment only. It listens on 127.0.0.1: put it behind your
 * usual reverse proxy (HTTPS) for anything but local development.
 */
const { paymentsConfigFromEnv } = require('payments-service-client');

const { createApp, REAL_CHECKOUT_SCRIPT } = require('./app');

let config;
try {
  config = paymentsConfigFromEnv();
  if (!config.callbackSecret)
    throw new Error('PAYMENTS_CALLBACK_SECRET must be set (see README.md)');
} catch (error) {
  console.error(error.message);
  process.exit(2);
}

const port = Number(process.env.PORT || 3000);
const app = createApp({
  ...config,
  checkoutScriptUrl: process.env.CHECKOUT_SCRIPT_URL || REAL_CHECKOUT_SCRIPT,
});

const server = app.listen(port, '127.0.0.1', (error) => {
  if (error) {
    console.error(`cannot listen on 127.0.0.1:${port}: ${error.message}`);
    process.exit(1);
  }
  const { port: bound } = server.address();
  console.log(`example site ${config.siteId} on http://127.0.0.1:${bound}`);
  console.log(`  notifications: http://127.0.0.1:${bound}/payments/callback`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections(); // keep-alive sockets would hold close() open
  });
}
