'use strict';
/** payments-service-client: everything a site's backend needs from payments_service. */
const { createPaymentsClient, PATHS } = require('./client');
const { paymentsConfigFromEnv } = require('./config');
const { PaymentsApiError, CallbackError, CALLBACK_REASONS } = require('./errors');
const { createTokenSource, signSiteToken, DEFAULT_AUDIENCE, MAX_TTL_SECONDS } = require('./token');
const callbacks = require('./callbacks');
const receiver = require('./receiver');
const { pgDedupe, withTransaction } = require('./pg');

module.exports = {
  createPaymentsClient,
  paymentsConfigFromEnv,
  PATHS,
  PaymentsApiError,
  CallbackError,
  CALLBACK_REASONS,
  createTokenSource,
  signSiteToken,
  DEFAULT_AUDIENCE,
  MAX_TOKEN_TTL_SECONDS: MAX_TTL_SECONDS,
  TOLERANCE_SECONDS: callbacks.TOLERANCE_SECONDS,
  parseSignatureHeader: callbacks.parseSignatureHeader,
  signCallback: callbacks.signCallback,
  callbackSignatureHeader: callbacks.callbackSignatureHeader,
  verifyCallbackSignature: callbacks.verifyCallbackSignature,
  verifyCallback: callbacks.verifyCallback,
  createCallbackReceiver: receiver.createCallbackReceiver,
  createMemoryDedupe: receiver.createMemoryDedupe,
  paymentsCallback: receiver.paymentsCallback,
  keepRawBody: receiver.keepRawBody,
  asyncRoute: receiver.asyncRoute,
  RawBodyUnavailable: receiver.RawBodyUnavailable,
  pgDedupe,
  withTransaction,
};
