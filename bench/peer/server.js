// The seller's original Express + pg backend (the server of the guide they run today), kept
// here unchanged as the baseline `make bench` measures this service against (bench/peer.py).
// Its route logic, queries, pool use and error handling are the guide's own, defects
// included: it is the yardstick, not an example to follow. Three changes from the guide, each
// marked CHANGE: .env loading, the guide's own webhook route, and a loopback-only listen.
// The Razorpay host is redirected to the bench's fake by razorpay-host-hook.js (node -r).
require('dotenv').config(); // CHANGE 1 (peer): load .env
const express = require('express');
const Razorpay = require('razorpay');
const crypto = require('crypto');
const { Pool } = require('pg');

const app = express();
app.use(express.json());

// PostgreSQL connection (Neon)
const pool = new Pool({
    connectionString: process.env.DATABASE_URL,
    ssl: { rejectUnauthorized: false }
});

// Razorpay instance
const razorpay = new Razorpay({
    key_id: process.env.RAZORPAY_KEY_ID,
    key_secret: process.env.RAZORPAY_KEY_SECRET
});

// ====================================
// CREATE ORDER
// ====================================
app.post('/api/create-order', async (req, res) => {
    const client = await pool.connect();
    
    try {
        const { amount, courseId, userId } = req.body;
        
        // Create Razorpay order
        const options = {
            amount: amount * 100,
            currency: 'INR',
            receipt: `receipt_${Date.now()}`,
            notes: { courseId, userId }
        };

        const razorpayOrder = await razorpay.orders.create(options);
        
        // Save order to database
        await client.query(
            `INSERT INTO orders (order_id, user_id, course_id, amount, currency, status)
             VALUES ($1, $2, $3, $4, $5, $6)`,
            [razorpayOrder.id, userId, courseId, amount, 'INR', 'created']
        );
        
        // Log transaction
        await client.query(
            `INSERT INTO transaction_logs (order_id, event_type, event_data)
             VALUES ($1, $2, $3)`,
            [razorpayOrder.id, 'order_created', JSON.stringify(razorpayOrder)]
        );
        
        res.json({
            success: true,
            order: razorpayOrder,
            key_id: process.env.RAZORPAY_KEY_ID
        });
        
    } catch (error) {
        console.error('Order creation failed:', error);
        res.status(500).json({ success: false, message: error.message });
    } finally {
        client.release();
    }
});

// ====================================
// VERIFY PAYMENT
// ====================================
app.post('/api/verify-payment', async (req, res) => {
    const client = await pool.connect();
    
    try {
        await client.query('BEGIN');
        
        const { 
            razorpay_order_id, 
            razorpay_payment_id, 
            razorpay_signature 
        } = req.body;

        // Verify signature
        const sign = razorpay_order_id + "|" + razorpay_payment_id;
        const expectedSign = crypto
            .createHmac('sha256', process.env.RAZORPAY_KEY_SECRET)
            .update(sign.toString())
            .digest('hex');

        if (razorpay_signature !== expectedSign) {
            await client.query('ROLLBACK');
            return res.status(400).json({ success: false, message: 'Invalid signature' });
        }

        // Fetch payment details from Razorpay
        const payment = await razorpay.payments.fetch(razorpay_payment_id);
        
        // Get order from database
        const orderResult = await client.query(
            'SELECT * FROM orders WHERE order_id = $1',
            [razorpay_order_id]
        );
        
        if (orderResult.rows.length === 0) {
            await client.query('ROLLBACK');
            return res.status(404).json({ success: false, message: 'Order not found' });
        }
        
        const order = orderResult.rows[0];
        
        // Save payment to database
        await client.query(
            `INSERT INTO payments (
                payment_id, order_id, user_id, amount, currency, status, 
                method, email, contact, card_last4, card_network, bank, 
                wallet, vpa, razorpay_signature, razorpay_order_id, captured_at
            ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
            [
                payment.id,
                razorpay_order_id,
                order.user_id,
                payment.amount / 100,
                payment.currency,
                payment.status,
                payment.method,
                payment.email,
                payment.contact,
                payment.card?.last4 || null,
                payment.card?.network || null,
                payment.bank || null,
                payment.wallet || null,
                payment.vpa || null,
                razorpay_signature,
                razorpay_order_id,
                new Date()
            ]
        );
        
        // Update order status
        await client.query(
            'UPDATE orders SET status = $1, updated_at = CURRENT_TIMESTAMP WHERE order_id = $2',
            ['paid', razorpay_order_id]
        );
        
        // Grant course access
        await client.query(
            `INSERT INTO course_enrollments (user_id, course_id, order_id, payment_id, access_granted)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, course_id) DO NOTHING`,
            [order.user_id, order.course_id, razorpay_order_id, payment.id, true]
        );
        
        // Log transaction
        await client.query(
            `INSERT INTO transaction_logs (order_id, payment_id, event_type, event_data)
             VALUES ($1, $2, $3, $4)`,
            [razorpay_order_id, payment.id, 'payment_captured', JSON.stringify(payment)]
        );
        
        await client.query('COMMIT');
        
        res.json({
            success: true,
            message: 'Payment verified and course access granted',
            paymentId: payment.id
        });
        
    } catch (error) {
        await client.query('ROLLBACK');
        console.error('Payment verification failed:', error);
        res.status(500).json({ success: false, message: error.message });
    } finally {
        client.release();
    }
});

// ====================================
// PROCESS REFUND
// ====================================
app.post('/api/refund', async (req, res) => {
    const client = await pool.connect();
    
    try {
        await client.query('BEGIN');
        
        const { paymentId, amount, reason } = req.body;
        
        // Process refund via Razorpay
        const refund = await razorpay.payments.refund(paymentId, {
            amount: amount * 100,
            notes: { reason }
        });
        
        // Get payment details
        const paymentResult = await client.query(
            'SELECT * FROM payments WHERE payment_id = $1',
            [paymentId]
        );
        
        if (paymentResult.rows.length === 0) {
            await client.query('ROLLBACK');
            return res.status(404).json({ success: false, message: 'Payment not found' });
        }
        
        const payment = paymentResult.rows[0];
        
        // Save refund to database
        await client.query(
            `INSERT INTO refunds (refund_id, payment_id, order_id, user_id, amount, currency, status, reason, processed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
            [
                refund.id,
                paymentId,
                payment.order_id,
                payment.user_id,
                amount,
                'INR',
                refund.status,
                reason,
                new Date()
            ]
        );
        
        // Update payment status
        await client.query(
            'UPDATE payments SET status = $1, refunded_at = CURRENT_TIMESTAMP WHERE payment_id = $2',
            ['refunded', paymentId]
        );
        
        // Update order status
        await client.query(
            'UPDATE orders SET status = $1, updated_at = CURRENT_TIMESTAMP WHERE order_id = $2',
            ['refunded', payment.order_id]
        );
        
        // Revoke course access
        await client.query(
            'UPDATE course_enrollments SET access_granted = FALSE WHERE payment_id = $1',
            [paymentId]
        );
        
        // Log transaction
        await client.query(
            `INSERT INTO transaction_logs (order_id, payment_id, event_type, event_data)
             VALUES ($1, $2, $3, $4)`,
            [payment.order_id, paymentId, 'refund_processed', JSON.stringify(refund)]
        );
        
        await client.query('COMMIT');
        
        res.json({
            success: true,
            message: 'Refund processed successfully',
            refundId: refund.id
        });
        
    } catch (error) {
        await client.query('ROLLBACK');
        console.error('Refund failed:', error);
        res.status(500).json({ success: false, message: error.message });
    } finally {
        client.release();
    }
});

// ====================================
// GET USER'S TRANSACTION HISTORY
// ====================================
app.get('/api/user/:userId/transactions', async (req, res) => {
    try {
        const { userId } = req.params;
        
        const result = await pool.query(
            `SELECT 
                o.order_id,
                o.amount,
                o.status as order_status,
                o.created_at as order_date,
                p.payment_id,
                p.method,
                p.status as payment_status,
                p.captured_at,
                c.name as course_name,
                r.refund_id,
                r.amount as refund_amount,
                r.processed_at as refund_date
            FROM orders o
            LEFT JOIN payments p ON o.order_id = p.order_id
            LEFT JOIN courses c ON o.course_id = c.id
            LEFT JOIN refunds r ON p.payment_id = r.payment_id
            WHERE o.user_id = $1
            ORDER BY o.created_at DESC`,
            [userId]
        );
        
        res.json({
            success: true,
            transactions: result.rows
        });
        
    } catch (error) {
        console.error('Failed to fetch transactions:', error);
        res.status(500).json({ success: false, message: error.message });
    }
});

// CHANGE 2 (peer): webhook route copied verbatim from the guide's earlier section
// ("Complete Integration Code" / Backend Setup)
// ====================================
// STEP 3: Webhook Handler (Optional but Recommended)
// ====================================
app.post('/api/razorpay-webhook', (req, res) => {
    const secret = process.env.RAZORPAY_WEBHOOK_SECRET;
    
    // Verify webhook signature
    const shasum = crypto.createHmac('sha256', secret);
    shasum.update(JSON.stringify(req.body));
    const digest = shasum.digest('hex');

    if (digest === req.headers['x-razorpay-signature']) {
        // Webhook verified
        const event = req.body.event;
        const payment = req.body.payload.payment.entity;

        switch(event) {
            case 'payment.authorized':
                console.log('Payment authorized:', payment.id);
                break;
            case 'payment.captured':
                console.log('Payment captured:', payment.id);
                // Grant course access
                break;
            case 'payment.failed':
                console.log('Payment failed:', payment.id);
                // Handle failed payment
                break;
        }
        
        res.json({ status: 'ok' });
    } else {
        res.status(400).json({ error: 'Invalid signature' });
    }
});

// CHANGE 3 (peer): bind to loopback only; port/host overridable for the benchmark
app.listen(process.env.PORT || 3000, process.env.HOST || '127.0.0.1', () => {
    console.log('Server running on port ' + (process.env.PORT || 3000));
});
