// Types of payments-service-client. Field names are the service's own (openapi.yaml).

import type { IncomingMessage, ServerResponse } from 'node:http';

export { pgDedupe, withTransaction } from './pg';

export type Paise = number;
export type Currency = 'INR' | 'USD' | 'EUR' | 'GBP' | 'SGD';
export type OrderStatus = 'created' | 'attempted' | 'paid' | 'partially_refunded' | 'refunded';
export type PaymentStatus = 'created' | 'authorized' | 'captured' | 'refunded' | 'failed';
export type RefundStatus = 'requested' | 'pending' | 'processed' | 'failed';
export type EnrollmentStatus = 'active' | 'revoked';
/** Razorpay's test or live keys made it (records and callbacks carry it once test/live lands). */
export type Mode = 'test' | 'live';

export interface PaymentsClientOptions {
  /** The service's base URL, e.g. https://payments.example.com (no /v1). */
  apiUrl: string;
  /** This site's id, as registered (`flask sites create`): the token's `iss`. */
  siteId: string;
  /** This site's `jwt_secret`: signs its tokens. Server side only. */
  jwtSecret: string;
  /** The service's JWT audience; `payments-service` unless configured otherwise. */
  audience?: string;
  /** Per attempt (default 10 000). */
  timeoutMs?: number;
  /** Retries after the first attempt on timeouts, network errors and 5xx (default 2). */
  maxRetries?: number;
  /** Backoff: the n-th retry waits up to retryBaseMs * 2^n, at most retryMaxMs (250 / 4000). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long in all to wait out 409 `idempotency_key_in_use` (default 5 000). */
  keyWaitMs?: number;
  /** Token lifetime, 10..3600 s (default 300); tokens are reused until ~1 min before expiry. */
  tokenTtlSeconds?: number;
  /** For tests: replace the wait between retries, the jitter, the clock (ms), fetch. */
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface PaymentsConfig {
  apiUrl: string;
  siteId: string;
  jwtSecret: string;
  callbackSecret: string | string[] | undefined;
  audience: string;
}

export interface CallOptions {
  /** Sent as Idempotency-Key; one is made up per call when omitted (its retries reuse it). */
  idempotencyKey?: string;
  /** This site's user id, sent as the token's `sub` (audit trail). */
  userId?: string | number;
}

export interface Customer {
  email: string;
  name?: string | null;
  contact?: string | null;
  site_user_id?: string | null;
}

export interface CreateOrderRequest {
  amount: Paise;
  currency?: Currency;
  product: { sku: string; name: string };
  customer: Customer;
  receipt?: string | null;
  notes?: Record<string, string>;
  allow_owned?: boolean;
}

export interface CheckoutOptions {
  key: string;
  amount: Paise;
  currency: Currency;
  order_id: string;
  name: string;
  description: string;
  prefill: { email: string; name?: string; contact?: string };
  notes: { order_ref: string; sku: string };
}

export interface Order {
  mode?: Mode;
  id: string;
  razorpay_order_id: string;
  site_id: string;
  status: OrderStatus;
  amount: Paise;
  currency: Currency;
  amount_paid: Paise;
  amount_refunded: Paise;
  product: { sku: string; name: string };
  customer: {
    email: string;
    name: string | null;
    contact: string | null;
    site_user_id: string | null;
  };
  receipt: string | null;
  notes: Record<string, string>;
  created_at: string;
  updated_at: string;
  paid_at: string | null;
  allow_owned: boolean | null;
  checkout: CheckoutOptions;
}

export interface Payment {
  mode?: Mode;
  id: string;
  order_id: string;
  status: PaymentStatus;
  amount: Paise;
  currency: Currency;
  amount_refunded: Paise;
  method: string | null;
  captured_at: string | null;
  duplicate_of: string | null;
  duplicate_of_enrollment: string | null;
  needs_attention: string | null;
}

export interface SiteEnrollment {
  mode?: Mode;
  id: string;
  customer_email: string;
  sku: string;
  status: EnrollmentStatus;
  source: 'purchase' | 'manual' | 'import';
  order_id: string | null;
  granted_at: string;
  revoked_at: string | null;
}

export interface CheckoutResult {
  razorpay_order_id: string;
  razorpay_payment_id: string;
  razorpay_signature: string;
}

export interface VerifyResult {
  order: Order;
  payment: Payment;
  enrollment: SiteEnrollment | null;
}

export interface CreateRefundRequest {
  payment_id?: string | null;
  order_id?: string | null;
  amount?: Paise | null;
  currency?: Currency | null;
  reason?: string | null;
  speed?: 'normal' | 'optimum';
  revoke_access?: boolean;
}

export interface Refund {
  mode?: Mode;
  id: string;
  razorpay_refund_id: string | null;
  payment_id: string;
  order_id: string;
  status: RefundStatus;
  amount: Paise;
  currency: Currency;
  speed_requested: 'normal' | 'optimum';
  speed_processed: string | null;
  reason: string | null;
  revokes_access: boolean;
  revoked_access: boolean;
  needs_attention: string | null;
  requested_by: string;
  created_at: string;
  processed_at: string | null;
  failed_at: string | null;
}

export type PaymentLinkStatus =
  'creating' | 'created' | 'partially_paid' | 'paid' | 'expired' | 'cancelled';

/** POST /v1/payment-links (openapi.yaml CreatePaymentLinkRequest). */
export interface CreatePaymentLinkRequest {
  amount: Paise;
  currency?: Currency;
  product: { sku: string; name: string };
  customer: { email: string; name?: string | null; contact?: string | null };
  /** Where the buyer lands after paying, on one of this site's registered origins. */
  return_url?: string;
  returnUrl?: string;
  /** 16 minutes to 180 days ahead; a week by default. Sent as an ISO date-time. */
  expire_by?: string | null;
  expireBy?: Date | string | number;
  notify?: { email?: boolean; sms?: boolean };
  notes?: Record<string, string>;
  /** Admins only: the site the link sells for. */
  site_id?: string | null;
}

export interface PaymentLink {
  mode?: Mode;
  /** Razorpay's link id (plink_…); null while `creating`. */
  id: string | null;
  short_url: string | null;
  status: PaymentLinkStatus;
  order_id: string;
  site_id: string;
  amount: Paise;
  currency: Currency;
  amount_paid: Paise;
  order_status: OrderStatus;
  razorpay_order_id: string | null;
  product: { sku: string; name: string };
  customer: { email: string; name: string | null; contact: string | null };
  notify: { email: boolean; sms: boolean };
  notes: Record<string, string>;
  return_url: string;
  expire_by: string;
  created_at: string;
  updated_at: string;
  paid_at: string | null;
  expired_at: string | null;
  cancelled_at: string | null;
}

export type PlanPeriod = 'daily' | 'weekly' | 'monthly' | 'yearly';

/** A membership price for a SKU, defined by an admin (openapi.yaml Plan); never changes. */
export interface Plan {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  period: PlanPeriod;
  interval: number;
  amount: Paise;
  currency: Currency;
  /** The admin who made it: only in answers to admin tokens, never to a site's. */
  created_by?: string;
  created_at: string;
}

export type SubscriptionStatus =
  | 'creating'
  | 'created'
  | 'authenticated'
  | 'active'
  | 'pending'
  | 'halted'
  | 'paused'
  | 'cancelled'
  | 'completed'
  | 'expired';

/** POST /v1/subscriptions (openapi.yaml CreateSubscriptionRequest). */
export interface CreateSubscriptionRequest {
  plan_id?: string;
  planId?: string;
  customer: { email: string; site_user_id?: string | null };
  /** Billing cycles to charge, 1 to 60. */
  total_count?: number;
  totalCount?: number;
  /** When billing starts (a trial until then); absent: at the Checkout payment. */
  start_at?: string | null;
  startAt?: Date | string | number;
  currency?: 'INR' | null;
  notes?: Record<string, string>;
  /** Admins only: the site that sells it. */
  site_id?: string | null;
}

/** What `new Razorpay({...})` needs for a subscription (no amount: the plan's). */
export interface SubscriptionCheckoutOptions {
  key: string;
  subscription_id: string;
  name: string;
  description: string;
  prefill: { email: string };
  notes: { subscription_ref: string };
}

/** What Checkout's handler receives for a subscription. */
export interface SubscriptionCheckoutResult {
  razorpay_payment_id: string;
  razorpay_subscription_id?: string;
  razorpay_signature: string;
}

/** A subscription as lists show it (openapi.yaml SubscriptionSummary). */
export interface SubscriptionSummary {
  mode?: Mode;
  /** Our id (msb_…). */
  id: string;
  razorpay_subscription_id: string | null;
  site_id: string;
  plan_id: string;
  status: SubscriptionStatus;
  customer: { email: string; site_user_id: string | null };
  total_count: number;
  paid_count: number;
  auth_attempts: number;
  start_at: string | null;
  current_start: string | null;
  /** When the paid cycle ends (and access, once cancelled at cycle end). */
  current_end: string | null;
  charge_at: string | null;
  cancel_at_cycle_end: boolean;
  short_url: string | null;
  notes: Record<string, string>;
  created_by: string;
  changed_by: string;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
}

/** One subscription with its plan, access, charges and history (openapi.yaml Subscription). */
export interface Subscription extends SubscriptionSummary {
  plan: Pick<Plan, 'id' | 'sku' | 'name' | 'amount' | 'currency' | 'period' | 'interval'>;
  access: { granted: boolean; enrollment_id: string | null };
  /** One order of ours per Razorpay invoice; refund one with createRefund({ order_id }). */
  charges: Array<{
    order_id: string;
    razorpay_order_id: string | null;
    razorpay_invoice_id: string | null;
    status: OrderStatus;
    amount: Paise;
    amount_paid: Paise;
    amount_refunded: Paise;
    currency: Currency;
    paid_at: string | null;
  }>;
  history: Array<{
    from_status: SubscriptionStatus | null;
    to_status: SubscriptionStatus;
    actor: string;
    detail: string | null;
    at: string;
  }>;
  /** While `created`: the options for new Razorpay({...}); null afterwards. */
  checkout: SubscriptionCheckoutOptions | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ListQuery {
  cursor?: string;
  limit?: number;
}

export interface PaymentsClient {
  siteToken(options?: { userId?: string | number }): string;
  readonly tokensMinted: number;
  createOrder(order: CreateOrderRequest, options?: CallOptions): Promise<Order>;
  getOrder(orderId: string): Promise<Order>;
  listOrders(
    query?: ListQuery & { customer_email?: string; status?: OrderStatus },
  ): Promise<Page<Order>>;
  verifyPayment(result: CheckoutResult): Promise<VerifyResult>;
  listPayments(
    query?: ListQuery & {
      order_id?: string;
      customer_email?: string;
      status?: PaymentStatus;
      needs_attention?: boolean;
    },
  ): Promise<Page<Payment>>;
  createRefund(refund: CreateRefundRequest, options?: CallOptions): Promise<Refund>;
  getRefund(refundId: string): Promise<Refund>;
  listRefunds(
    query?: ListQuery & { payment_id?: string; order_id?: string; status?: RefundStatus },
  ): Promise<Page<Refund>>;
  enrollments(
    customerEmail: string,
    filter?: { sku?: string; status?: EnrollmentStatus },
  ): Promise<{ items: SiteEnrollment[] }>;
  listEnrollments(query?: {
    customer_email?: string;
    sku?: string;
    status?: EnrollmentStatus;
  }): Promise<{ items: SiteEnrollment[] }>;
  owns(customerEmail: string, sku: string): Promise<boolean>;
  customerTransactions(email: string): Promise<Record<string, unknown>>;
  createPaymentLink(link: CreatePaymentLinkRequest, options?: CallOptions): Promise<PaymentLink>;
  getPaymentLink(linkId: string): Promise<PaymentLink>;
  listPaymentLinks(query?: ListQuery & { status?: PaymentLinkStatus }): Promise<Page<PaymentLink>>;
  cancelPaymentLink(linkId: string): Promise<PaymentLink>;
  listPlans(query?: ListQuery & { sku?: string }): Promise<Page<Plan>>;
  getPlan(planId: string): Promise<Plan>;
  createSubscription(
    subscription: CreateSubscriptionRequest,
    options?: CallOptions,
  ): Promise<Subscription>;
  verifySubscription(
    subscriptionId: string,
    result: SubscriptionCheckoutResult,
  ): Promise<Subscription>;
  getSubscription(subscriptionId: string): Promise<Subscription>;
  listSubscriptions(
    query?: ListQuery & { customer_email?: string; status?: SubscriptionStatus },
  ): Promise<Page<SubscriptionSummary>>;
  cancelSubscription(
    subscriptionId: string,
    options?: { atCycleEnd?: boolean },
  ): Promise<Subscription>;
  pauseSubscription(subscriptionId: string): Promise<Subscription>;
  resumeSubscription(subscriptionId: string): Promise<Subscription>;
  each<T = unknown>(
    listMethod:
      | 'listOrders'
      | 'listPayments'
      | 'listRefunds'
      | 'listPaymentLinks'
      | 'listPlans'
      | 'listSubscriptions',
    query?: Record<string, unknown>,
  ): AsyncIterable<T>;
}

export function createPaymentsClient(options: PaymentsClientOptions): PaymentsClient;
export function paymentsConfigFromEnv(env?: Record<string, string | undefined>): PaymentsConfig;
export const PATHS: Readonly<
  Record<
    | 'orders'
    | 'verify'
    | 'payments'
    | 'refunds'
    | 'enrollments'
    | 'customers'
    | 'paymentLinks'
    | 'plans'
    | 'subscriptions',
    string
  >
>;
export const DEFAULT_AUDIENCE: string;
export const MAX_TOKEN_TTL_SECONDS: number;
export const TOLERANCE_SECONDS: number;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: Record<string, unknown>;
  field?: string;
  [extension: string]: unknown;
}

export class PaymentsApiError extends Error {
  /** The HTTP status; 0 when the service was not reached. */
  readonly status: number;
  /** The problem's `code`, or `unreachable` / `timeout` / `http_<status>`. */
  readonly code: string;
  readonly detail: string | null;
  readonly title: string | null;
  readonly errors: Record<string, unknown> | null;
  readonly field: string | null;
  readonly problem: Problem | null;
  /** Retry-After in seconds, when the answer had one. */
  readonly retryAfter: number | null;
  readonly requestId: string | null;
  /** The buyer's request was at fault (400/404/409/422, or a forged Checkout signature). */
  readonly isClientError: boolean;
  /** The same request (same Idempotency-Key) may succeed later. */
  readonly isRetryable: boolean;
}

export type CallbackReason =
  | 'no_raw_body'
  | 'malformed_signature_header'
  | 'timestamp_too_old'
  | 'timestamp_in_the_future'
  | 'signature_mismatch'
  | 'invalid_event';

export const CALLBACK_REASONS: Readonly<Record<string, CallbackReason>>;

export class CallbackError extends Error {
  readonly reason: CallbackReason;
  /** What to answer: 400. */
  readonly status: number;
}

export type NotificationType =
  | 'enrollment.granted'
  | 'enrollment.revoked'
  | 'order.paid'
  | 'payment.failed'
  | 'refund.processed'
  | 'refund.failed'
  | 'subscription.activated'
  | 'subscription.charged'
  | 'subscription.halted'
  | 'subscription.cancelled'
  | (string & {});

/** `data.subscription` of the subscription.* notifications (to the site that sold it). */
export interface NotificationSubscription {
  id: string;
  razorpay_subscription_id: string | null;
  plan_id: string;
  status: SubscriptionStatus;
  customer_email: string;
  site_user_id: string | null;
  paid_count: number;
  current_end: string | null;
  cancel_at_cycle_end: boolean;
}

export interface NotificationOrder {
  id: string;
  razorpay_order_id: string;
  status: OrderStatus;
  amount: Paise;
  currency: Currency;
  sku: string;
  customer_email: string;
  site_user_id: string | null;
}

export interface PaymentsEvent {
  mode?: Mode;
  id: string;
  type: NotificationType;
  created_at: string;
  site_id: string;
  data: {
    enrollment?: SiteEnrollment;
    site_user_id?: string | null;
    order?: NotificationOrder;
    subscription?: NotificationSubscription;
    /** On subscription.charged: the charge (with the order of ours it paid). */
    payment?: {
      id: string;
      order_id?: string;
      status: PaymentStatus;
      amount: Paise;
      currency: Currency;
      /** Absent on subscription.charged (present on order.paid and payment.failed). */
      method?: string | null;
      error_code?: string | null;
      error_reason?: string | null;
      duplicate_of_enrollment?: string;
    };
    refund?: {
      id: string;
      razorpay_refund_id: string;
      payment_id: string;
      amount: Paise;
      currency: Currency;
      status: 'processed' | 'failed';
    };
    [field: string]: unknown;
  };
}

export interface VerifyOptions {
  /** Now, in milliseconds (default Date.now()). */
  now?: number;
  /** How far `t` may be from now (default 300). */
  toleranceSeconds?: number;
}

export function parseSignatureHeader(
  header: unknown,
): { timestamp: number; signatures: string[] } | null;
export function signCallback(
  secret: string,
  timestamp: number,
  rawBody: Uint8Array | string,
): string;
export function callbackSignatureHeader(
  secrets: string | string[],
  timestamp: number,
  rawBody: Uint8Array | string,
): string;
/** Returns the signed timestamp; throws CallbackError. */
export function verifyCallbackSignature(
  rawBody: Uint8Array,
  header: string | undefined,
  secrets: string | string[],
  options?: VerifyOptions,
): number;
/** Verifies, then parses; throws CallbackError. */
export function verifyCallback(
  rawBody: Uint8Array,
  header: string | undefined,
  secrets: string | string[],
  options?: VerifyOptions,
): PaymentsEvent;

export interface Dedupe<Tx> {
  /** Runs work in one of the site's transactions: commit on resolve, roll back on throw. */
  withTransaction<R>(work: (tx: Tx) => Promise<R>): Promise<R>;
  /** Records the event id inside tx; true when it was not applied before. */
  claimEvent(tx: Tx, event: PaymentsEvent): Promise<boolean>;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface CallbackOptions<Tx = unknown> extends Partial<Dedupe<Tx>> {
  /** The callback secret, or [new, old] during a rotation. */
  secret: string | string[];
  /** Applies one new event inside the transaction `tx` (the pg client with pgDedupe). */
  onEvent(event: PaymentsEvent, tx: Tx): unknown;
  toleranceSeconds?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
  /** Largest body read (default 1 MiB). */
  limitBytes?: number;
  logger?: Logger;
}

export interface CallbackAnswer {
  status: number;
  body: Record<string, unknown>;
  event?: PaymentsEvent;
  duplicate?: boolean;
}

export function createCallbackReceiver<Tx = unknown>(
  options: CallbackOptions<Tx>,
): (request: { rawBody: Uint8Array; signature?: string }) => Promise<CallbackAnswer>;

export function createMemoryDedupe(options?: { maxEntries?: number }): Dedupe<{
  claimed: string[];
}> & {
  has(eventId: string): boolean;
  readonly size: number;
};

type Next = (error?: unknown) => void;

/** Express 4/5 middleware for the callback route. */
export function paymentsCallback<Tx = unknown>(
  options: CallbackOptions<Tx>,
): (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** express.json({ verify: keepRawBody }) keeps the exact bytes as req.rawBody. */
export function keepRawBody(req: IncomingMessage, res: ServerResponse, buffer: Buffer): void;

/** Passes a rejected promise of an async route to next() (Express 4 ignores them). */
export function asyncRoute<Req = IncomingMessage, Res = ServerResponse>(
  handler: (req: Req, res: Res, next: Next) => unknown,
): (req: Req, res: Res, next: Next) => void;

export class RawBodyUnavailable extends Error {}

export function createTokenSource(options: {
  siteId: string;
  jwtSecret: string;
  audience?: string;
  ttlSeconds?: number;
  refreshBeforeSeconds?: number;
  now?: () => number;
}): { token(subject?: string | number): string; readonly minted: number };

export function signSiteToken(options: {
  siteId: string;
  jwtSecret: string;
  audience?: string;
  ttlSeconds: number;
  subject?: string | number;
  now: number;
}): { token: string; expiresAtMs: number };
