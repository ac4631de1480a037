'use strict';
/**
 * node-postgres helpers: remember applied notification ids in the SAME transaction as the
 * access change, so "applied" and "remembered" can never disagree.
 *
 *   const { pgDedupe } = require('payments-service-client/pg');
 *   app.post('/payments/callback', paymentsCallback({
 *     secret: process.env.PAYMENTS_CALLBACK_SECRET,
 *     ...pgDedupe(pool),
 *     onEvent: async (event, client) => { await client.query('UPDATE ...'); },
 *   }));
 *
 * Needs the table in sql/payments_events_applied.sql (APPLIED_EVENTS_TABLE_SQL). A second
 * delivery of an event waits on the first one's row lock, then finds the id (applied once);
 * if the first rolled back, the second applies it. Keep rows for more than the service's
 * 24-hour retry window (a week is plenty) or forever: they are small.
 */

const DEFAULT_TABLE = 'payments_events_applied';
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

function appliedEventsTableSql(table = DEFAULT_TABLE) {
  checkTableName(table);
  return `CREATE TABLE IF NOT EXISTS ${table} (
    event_id text PRIMARY KEY,
    event_type text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`;
}

function checkTableName(table) {
  if (!TABLE_NAME.test(table)) throw new TypeError(`not a plain table name: ${table}`);
}

/**
 * Run `work(client)` in one transaction on a client of `pool`: COMMIT when it resolves,
 * ROLLBACK when it throws (and rethrow). The client is released either way.
 */
async function withTransaction(pool, work) {
  const client = await pool.connect();
  let broken;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError; // the connection is unusable: drop it from the pool
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * {withTransaction, claimEvent} for paymentsCallback, on a node-postgres Pool.
 * `claimEvent(client, event)` inserts the id with ON CONFLICT DO NOTHING: true when new.
 */
function pgDedupe(pool, { table = DEFAULT_TABLE } = {}) {
  if (!pool || typeof pool.connect !== 'function') throw new TypeError('pgDedupe needs a pg Pool');
  checkTableName(table);
  const insert = `INSERT INTO ${table} (event_id, event_type) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING`;
  return {
    withTransaction: (work) => withTransaction(pool, work),
    claimEvent: async (client, event) =>
      (await client.query(insert, [event.id, event.type])).rowCount === 1,
  };
}

module.exports = {
  pgDedupe,
  withTransaction,
  appliedEventsTableSql,
  APPLIED_EVENTS_TABLE: DEFAULT_TABLE,
  APPLIED_EVENTS_TABLE_SQL: appliedEventsTableSql(),
};
