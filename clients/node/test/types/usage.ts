// Compiled by test/types.test.js (tsc --noEmit, strict): the hand-written types describe
// the package as a TypeScript site uses it, and refuse what the service would refuse.
import express from 'express';
import { Pool } from 'pg';
import {
  createPaymentsClient,
  paymentsConfigFromEnv,
  paymentsCallback,
  asyncRoute,
  keepRawBody,
  verifyCallback,
  CallbackError,
  PaymentsApiError,
  type Order,
  type PaymentsEvent,
  type Subscription,
  type SubscriptionStatus,
} from 'payments-service-client';
import { pgDedupe, APPLIED_EVENTS_TABLE_SQL } from 'payments-service-client/pg';

const config = paymentsConfigFromEnv({
  PAYMENTS_API_URL: 'http://x',
  PAYMENTS_SITE_ID: 's',
  PAYMENTS_JWT_SECRET: 'k',
});
const payments = createPaymentsClient({ ...config, sleep: async () => undefined });
const pool = new Pool();
const app = express();
app.use(express.json({ verify: keepRawBody }));

app.post(
  '/orders',
  asyncRoute(async (req: express.Request, res: express.Response) => {
    const order: Order = await payments.createOrder(
      {
        amount: 49900,
        product: { sku: 'python-101', name: 'Python 101' },
        customer: { email: 'a@example.com' },
      },
      { idempotencyKey: 'cart-1', userId: 42 },
    );
    const status: 'created' | 'attempted' | 'paid' | 'partially_refunded' | 'refunded' =
      order.status;
    res.json({ checkout: order.checkout, status });
  }),
);

app.post(
  '/payments/callback',
  paymentsCallback({
    secret: config.callbackSecret ?? ['new', 'old'],
    ...pgDedupe(pool),
    onEvent: async (event: PaymentsEvent, client) => {
      if (event.type === 'subscription.halted' && event.data.subscription) {
        const halted: SubscriptionStatus = event.data.subscription.status;
        void halted;
      }
      if (event.data.enrollment) {
        await client.query('UPDATE access SET active = $1 WHERE email = $2', [
          event.data.enrollment.status === 'active',
          event.data.enrollment.customer_email,
        ]);
      }
    },
  }),
);

async function rest(): Promise<void> {
  const verified = await payments.verifyPayment({
    razorpay_order_id: 'o',
    razorpay_payment_id: 'p',
    razorpay_signature: 's',
  });
  const enrollmentId: string | undefined = verified.enrollment?.id;
  const refund = await payments.createRefund(
    { order_id: verified.order.id, amount: 100 },
    { idempotencyKey: 't-1' },
  );
  const refunded: number = refund.amount;
  const owns: boolean = await payments.owns('a@example.com', 'python-101');
  const page = await payments.listOrders({ status: 'paid', limit: 10 });
  const next: string | null = page.next_cursor;
  const link = await payments.createPaymentLink({
    returnUrl: 'https://old.example.com/thanks',
    expireBy: new Date(),
    amount: 49900,
    product: { sku: 'a', name: 'A' },
    customer: { email: 'a@b.c' },
  });
  const url: string | null = link.short_url; // null only while Razorpay is asked
  for await (const item of payments.each<Order>('listOrders')) void item.id;
  const [plan] = (await payments.listPlans({ sku: 'all-courses' })).items;
  const sub: Subscription = await payments.createSubscription(
    { plan_id: plan.id, customer: { email: 'a@b.c' }, total_count: 12, startAt: new Date() },
    { idempotencyKey: 'membership-42' },
  );
  const subscriptionId: string | undefined = sub.checkout?.subscription_id;
  const verifiedSub = await payments.verifySubscription(sub.id, {
    razorpay_payment_id: 'pay_1',
    razorpay_subscription_id: 'sub_1',
    razorpay_signature: 'f'.repeat(64),
  });
  const granted: boolean = verifiedSub.access.granted;
  const cancelled = await payments.cancelSubscription(sub.id, { atCycleEnd: true });
  const subStatus: SubscriptionStatus = cancelled.status;
  const mine = await payments.listSubscriptions({ customer_email: 'a@b.c', status: 'active' });
  void [subscriptionId, granted, subStatus, mine.items[0]?.current_end];
  await payments.pauseSubscription(sub.id);
  await payments.resumeSubscription(sub.id);
  void [enrollmentId, refunded, owns, next, url, APPLIED_EVENTS_TABLE_SQL.length];

  try {
    verifyCallback(Buffer.from('{}'), 't=1,v1=x', 'secret');
  } catch (error) {
    if (error instanceof CallbackError) void (error.reason === 'malformed_signature_header');
    if (error instanceof PaymentsApiError) void (error.code + error.status + (error.detail ?? ''));
  }

  const product = { sku: 'a', name: 'A' };
  const customer = { email: 'a@b.c' };
  // @ts-expect-error: amounts are integer paise, never strings
  await payments.createOrder({ amount: '499', product, customer });
  // @ts-expect-error: an order names its product
  await payments.createOrder({ amount: 100, customer: { email: 'a@b.c' } });
  // @ts-expect-error: link statuses are the service's
  await payments.listPaymentLinks({ status: 'open' });
  // @ts-expect-error: subscription statuses are the service's ('resumed' is only an event)
  await payments.listSubscriptions({ status: 'resumed' });
  // @ts-expect-error: a subscription names its plan's number of cycles as a number
  await payments.createSubscription({ plan_id: 'plan_1', customer, total_count: '12' });
  // @ts-expect-error: plans are made by an admin, not by a site's client
  await payments.createPlan({ sku: 'a' });
  // @ts-expect-error: refund statuses are the service's
  await payments.listRefunds({ status: 'done' });
}
void rest;
