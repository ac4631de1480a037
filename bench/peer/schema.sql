-- Schema of the seller's Express backend (the guide's tables).
-- Part 1 (ADDED, not in the guide): the users and courses tables that the guide's
-- foreign keys reference, with a few rows. Columns are the minimum the guide's
-- code touches (courses.name is read by /api/user/:userId/transactions).
DROP TABLE IF EXISTS transaction_logs, course_enrollments, refunds, payments, orders, courses, users CASCADE;

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    email VARCHAR(255) UNIQUE NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE courses (
    id SERIAL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    price DECIMAL(10, 2) NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO users (name, email)
SELECT 'User ' || g, 'user' || g || '@example.com' FROM generate_series(1, 10) AS g;

INSERT INTO courses (name, price) VALUES
    ('Intro to Payments', 499.00),
    ('PostgreSQL Basics', 999.00),
    ('Node.js in Depth', 1499.00),
    ('Flask for APIs', 799.00),
    ('Webhooks 101', 299.00);

-- Part 2: the guide's schema, verbatim (section "PostgreSQL Database Schema").
-- ====================================
-- 1. ORDERS TABLE
-- ====================================
CREATE TABLE orders (
    id SERIAL PRIMARY KEY,
    order_id VARCHAR(255) UNIQUE NOT NULL,  -- Razorpay order_id (ord_xxxxx)
    user_id INTEGER NOT NULL,                -- Your user ID
    course_id INTEGER NOT NULL,              -- Your course ID
    amount DECIMAL(10, 2) NOT NULL,          -- Amount in INR
    currency VARCHAR(3) DEFAULT 'INR',
    status VARCHAR(50) DEFAULT 'created',    -- created, paid, failed, refunded
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    
    -- Foreign keys (assuming you have users and courses tables)
    FOREIGN KEY (user_id) REFERENCES users(id),
    FOREIGN KEY (course_id) REFERENCES courses(id)
);

-- ====================================
-- 2. PAYMENTS TABLE
-- ====================================
CREATE TABLE payments (
    id SERIAL PRIMARY KEY,
    payment_id VARCHAR(255) UNIQUE NOT NULL,     -- Razorpay payment_id (pay_xxxxx)
    order_id VARCHAR(255) NOT NULL,              -- Links to orders.order_id
    user_id INTEGER NOT NULL,
    amount DECIMAL(10, 2) NOT NULL,
    currency VARCHAR(3) DEFAULT 'INR',
    status VARCHAR(50) NOT NULL,                 -- authorized, captured, failed, refunded
    method VARCHAR(50),                          -- card, upi, netbanking, wallet
    email VARCHAR(255),
    contact VARCHAR(20),
    
    -- Payment details
    card_last4 VARCHAR(4),                       -- Last 4 digits of card
    card_network VARCHAR(50),                    -- visa, mastercard, rupay
    bank VARCHAR(100),                           -- Bank name for netbanking/UPI
    wallet VARCHAR(50),                          -- Wallet name
    vpa VARCHAR(255),                            -- UPI VPA
    
    -- Razorpay metadata
    razorpay_signature VARCHAR(255),
    razorpay_order_id VARCHAR(255),
    
    -- Timestamps
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    captured_at TIMESTAMP,
    refunded_at TIMESTAMP,
    
    FOREIGN KEY (user_id) REFERENCES users(id),
    FOREIGN KEY (order_id) REFERENCES orders(order_id)
);

-- ====================================
-- 3. REFUNDS TABLE
-- ====================================
CREATE TABLE refunds (
    id SERIAL PRIMARY KEY,
    refund_id VARCHAR(255) UNIQUE NOT NULL,      -- Razorpay refund_id (rfnd_xxxxx)
    payment_id VARCHAR(255) NOT NULL,            -- Links to payments.payment_id
    order_id VARCHAR(255) NOT NULL,
    user_id INTEGER NOT NULL,
    amount DECIMAL(10, 2) NOT NULL,
    currency VARCHAR(3) DEFAULT 'INR',
    status VARCHAR(50) NOT NULL,                 -- pending, processed, failed
    reason VARCHAR(500),                         -- Refund reason
    
    -- Timestamps
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    processed_at TIMESTAMP,
    
    FOREIGN KEY (user_id) REFERENCES users(id),
    FOREIGN KEY (payment_id) REFERENCES payments(payment_id),
    FOREIGN KEY (order_id) REFERENCES orders(order_id)
);

-- ====================================
-- 4. COURSE ENROLLMENTS TABLE
-- ====================================
CREATE TABLE course_enrollments (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL,
    course_id INTEGER NOT NULL,
    order_id VARCHAR(255) NOT NULL,              -- Links to orders.order_id
    payment_id VARCHAR(255),                     -- Links to payments.payment_id
    enrolled_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    access_granted BOOLEAN DEFAULT FALSE,
    expires_at TIMESTAMP,                        -- For time-limited courses
    
    FOREIGN KEY (user_id) REFERENCES users(id),
    FOREIGN KEY (course_id) REFERENCES courses(id),
    FOREIGN KEY (order_id) REFERENCES orders(order_id),
    
    UNIQUE(user_id, course_id)                   -- Prevent duplicate enrollments
);

-- ====================================
-- 5. TRANSACTION LOGS (Audit Trail)
-- ====================================
CREATE TABLE transaction_logs (
    id SERIAL PRIMARY KEY,
    order_id VARCHAR(255),
    payment_id VARCHAR(255),
    event_type VARCHAR(100) NOT NULL,            -- order_created, payment_captured, refund_processed
    event_data JSONB,                            -- Full Razorpay response
    ip_address VARCHAR(45),
    user_agent TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- ====================================
-- INDEXES for better performance
-- ====================================
CREATE INDEX idx_orders_user_id ON orders(user_id);
CREATE INDEX idx_orders_status ON orders(status);
CREATE INDEX idx_payments_order_id ON payments(order_id);
CREATE INDEX idx_payments_user_id ON payments(user_id);
CREATE INDEX idx_payments_status ON payments(status);
CREATE INDEX idx_refunds_payment_id ON refunds(payment_id);
CREATE INDEX idx_enrollments_user_course ON course_enrollments(user_id, course_id);
CREATE INDEX idx_transaction_logs_order ON transaction_logs(order_id);
