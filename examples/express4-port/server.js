const express = require('express');
const { createPaymentsClient, paymentsConfigFromEnv, paymentsCallback, keepRawBody, pgDedupe } = require('payments-service-client');
const { Pool } = require('pg');

const app = express();
app.use(express.json({ verify: keepRawBody }));

// PostgreSQL connection (Neon)
const pool = new Pool({
    connectionString: process.env.DATABASE_URL,
    ssl: { rejectUnauthorized: false }
});

const payments = createPaymentsClient(paymentsConfigFromEnv());

// ====================================
// CREATE ORDER
// ====================================
app.post('/api/create-order', async (req, res) => {
    const client = await pool.connect();
    
    try {
        const { courseId, userId, cartId } = req.body;
        
        // Price, SKU and buyer come from our own tables, never from the browser
        const { rows: [item] } = await client.query(
            `SELECT c.sku, c.name, c.price, (c.price * 100)::bigint AS paise, u.email, u.name AS buyer
             FROM courses c, users u WHERE c.id = $1 AND u.id = $2`, [courseId, userId]);
        if (!item) return res.status(404).json({ success: false, message: 'No such course or user' });
        const order = await payments.createOrder({
            amount: Number(item.paise),
            product: { sku: item.sku, name: item.name },
            customer: { email: item.email, name: item.buyer, site_user_id: String(userId) }
        }, { idempotencyKey: cartId });
        
        // Save order to database
        await client.query(
            `INSERT INTO orders (order_id, user_id, course_id, amount, currency, status)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id) DO NOTHING`,
            [order.id, userId, courseId, item.price, 'INR', 'created']
        );
        
        // Log transaction
        await client.query(
            `INSERT INTO transaction_logs (order_id, event_type, event_data)
             VALUES ($1, $2, $3)`,
            [order.id, 'order_created', JSON.stringify(order)]
        );
        
        res.json({
            success: true,
            order: { ...order.checkout, id: order.checkout.order_id },
            key_id: order.checkout.key
        });
        
    } catch (error) {
        console.error('Order creation failed:', error);
        res.status(error.isClientError ? error.status : 500).json({ success: false, message: error.message });
    } finally {
        client.release();
    }
});

// ====================================
// VERIFY PAYMENT
// ====================================
app.post('/api/verify-payment', async (req, res) => {
    try {
        const { 
            razorpay_order_id, 
            razorpay_payment_id, 
            razorpay_signature 
        } = req.body;

        // The service checks, captures and grants on every site (our tables follow its notifications)
        const result = await payments.verifyPayment({ razorpay_order_id, razorpay_payment_id, razorpay_signature });
        
        res.json({
            success: true,
            message: 'Payment verified and course access granted',
            paymentId: result.payment.id
        });
        
    } catch (error) {
        console.error('Payment verification failed:', error);
        res.status(error.isClientError ? error.status : 500).json({ success: false, message: error.message });
    }
});

// ====================================
// PROCESS REFUND
// ====================================
app.post('/api/refund', async (req, res) => {
    try {
        const { paymentId, amount, reason } = req.body;
        
        // Refund via the service (access is revoked by its notification)
        const refund = await payments.createRefund({ payment_id: paymentId, amount: amount && Math.round(amount * 100), reason },
            { idempotencyKey: req.get('Idempotency-Key') });
        
        res.json({
            success: true,
            message: 'Refund processed successfully',
            refundId: refund.id
        });
        
    } catch (error) {
        console.error('Refund failed:', error);
        res.status(error.isClientError ? error.status : 500).json({ success: false, message: error.message });
    }
});

// Notifications: a course bought, refunded or revoked on ANY site
app.post('/payments/callback', paymentsCallback({
    secret: process.env.PAYMENTS_CALLBACK_SECRET,
    ...pgDedupe(pool),
    onEvent: async (event, client) => {
        if (event.data.order) await client.query('UPDATE orders SET status = $1, updated_at = CURRENT_TIMESTAMP WHERE order_id = $2',
            [event.data.order.status, event.data.order.id]);
        if (!event.type.startsWith('enrollment.')) return;
        const { customer_email, sku, status, order_id } = event.data.enrollment;
        await client.query(
            `INSERT INTO course_enrollments (user_id, course_id, order_id, access_granted)
             SELECT u.id, c.id, (SELECT order_id FROM orders WHERE order_id = $3), $4
             FROM users u JOIN courses c ON c.sku = $2 WHERE lower(u.email) = $1
             ON CONFLICT (user_id, course_id) DO UPDATE
             SET access_granted = EXCLUDED.access_granted, order_id = EXCLUDED.order_id`,
            [customer_email, sku, order_id, status === 'active']
        );
    }
}));

// ====================================
// GET USER'S TRANSACTION HISTORY
// ====================================
app.get('/api/user/:userId/transactions', async (req, res) => {
    try {
        const { userId } = req.params;
        
        const { rows: [user] } = await pool.query('SELECT email FROM users WHERE id = $1', [userId]);
        if (!user) return res.status(404).json({ success: false, message: 'User not found' });
        const result = await payments.listOrders({ customer_email: user.email });
        
        res.json({
            success: true,
            transactions: result.items
        });
        
    } catch (error) {
        console.error('Failed to fetch transactions:', error);
        res.status(500).json({ success: false, message: error.message });
    }
});

app.listen(process.env.PORT || 3000, process.env.HOST || '127.0.0.1', () => {
    console.log('Server running on port 3000');
});
