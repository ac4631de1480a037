'use strict';
/**
 * The two kinds of failure a site sees.
 *
 * PaymentsApiError: a call to the service failed. The service answers errors as RFC 9457
 * `application/problem+json` with a stable `code` (openapi.yaml `ProblemCode`): branch on
 * `code`, never on `detail`. `status` is 0 when the service was not reached (connection
 * refused, DNS, timeout); `code` is then `unreachable` (or `timeout`).
 *
 * CallbackError: a notification the service POSTed to the site was not accepted (its
 * signature header is missing or malformed, its signature or timestamp is wrong, or its
 * body is not an event). `status` is what to answer (400); `reason` says why, for the log.
 */

const CLIENT_ERROR_STATUSES = new Set([400, 404, 409, 422]);

class PaymentsApiError extends Error {
  /**
   * @param {number} status  the HTTP status, or 0 when the service was not reached
   * @param {object|null} problem  the problem+json body, when there was one
   * @param {{retryAfter?: number|null, requestId?: string|null, code?: string, cause?: unknown}} [extra]
   */
  constructor(status, problem, { retryAfter = null, requestId = null, code, cause } = {}) {
    const resolved =
      code || (problem && typeof problem.code === 'string' && problem.code) || fallbackCode(status);
    const detail = problem && typeof problem.detail === 'string' ? problem.detail : null;
    super(`payments service: ${resolved}${detail ? ` (${detail})` : ''}`, { cause });
    this.name = 'PaymentsApiError';
    this.status = status;
    this.code = resolved;
    this.detail = detail;
    this.title = problem && typeof problem.title === 'string' ? problem.title : null;
    this.errors = (problem && problem.errors) || null;
    this.field = (problem && problem.field) || null;
    this.problem = problem || null;
    this.retryAfter = retryAfter;
    this.requestId = requestId || (problem && problem.request_id) || null;
  }

  /**
   * True when the request (ultimately the buyer's) was at fault, not the site's setup: a
   * 400/404/409/422 (but not `idempotency_key_in_use`, which is a wait), or the 403
   * `invalid_signature` of a forged Checkout result. A 401 or another 403 means this
   * site's secret or privileges are wrong: an operator's problem, not the buyer's.
   */
  get isClientError() {
    return (
      (CLIENT_ERROR_STATUSES.has(this.status) && this.code !== 'idempotency_key_in_use') ||
      this.code === 'invalid_signature'
    );
  }

  /** True when sending the same request again (same Idempotency-Key) may succeed. */
  get isRetryable() {
    return (
      this.status === 0 ||
      (this.status >= 500 && this.status !== 501 && this.status !== 505) ||
      this.code === 'idempotency_key_in_use'
    );
  }
}

function fallbackCode(status) {
  return status ? `http_${status}` : 'unreachable';
}

/** Why a callback was refused; each maps to the same 400 answer. */
const CALLBACK_REASONS = Object.freeze({
  noRawBody: 'no_raw_body',
  malformedHeader: 'malformed_signature_header',
  staleTimestamp: 'timestamp_too_old',
  futureTimestamp: 'timestamp_in_the_future',
  mismatch: 'signature_mismatch',
  invalidEvent: 'invalid_event',
});

class CallbackError extends Error {
  /** @param {string} reason one of CALLBACK_REASONS @param {string} [message] */
  constructor(reason, message) {
    super(message || `payments callback refused: ${reason}`);
    this.name = 'CallbackError';
    this.reason = reason;
    this.status = 400;
  }
}

module.exports = { PaymentsApiError, CallbackError, CALLBACK_REASONS };
