// node-postgres helpers of payments-service-client (require('payments-service-client/pg')).

import type { Dedupe } from './index';

/** The parts of a pg Pool / PoolClient these helpers use. */
export interface PgClient {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>;
  release(error?: unknown): void;
}
export interface PgPool {
  connect(): Promise<PgClient>;
}

/** withTransaction + claimEvent for paymentsCallback, in the site's own database. */
export function pgDedupe<C extends PgClient = PgClient>(
  pool: { connect(): Promise<C> },
  options?: { table?: string },
): Dedupe<C>;

/** BEGIN; work(client); COMMIT (ROLLBACK and rethrow on error); release. */
export function withTransaction<C extends PgClient, R>(
  pool: { connect(): Promise<C> },
  work: (client: C) => Promise<R>,
): Promise<R>;

/** CREATE TABLE IF NOT EXISTS <table> (event_id text PRIMARY KEY, event_type, applied_at). */
export function appliedEventsTableSql(table?: string): string;
export const APPLIED_EVENTS_TABLE: string;
export const APPLIED_EVENTS_TABLE_SQL: string;
