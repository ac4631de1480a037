'use strict';
/**
 * Who may open which course, as THIS site knows it from the service's notifications.
 *
 * In memory for the example; a real site keeps this in its own database (for example a
 * `course_access` table keyed by enrollment id), next to its users.
 *
 * Keyed by enrollment id rather than (email, sku) so that the order in which events arrive
 * does not matter: an enrollment only ever goes active -> revoked, so a revoked id stays
 * revoked even if an older "granted" for it turns up late, and buying the course again
 * later is a new enrollment id that a stale "revoked" cannot touch.
 */
function createAccessStore() {
  const byId = new Map();

  function normaliseEmail(email) {
    return String(email || '')
      .trim()
      .toLowerCase();
  }

  return {
    /** Apply one enrollment record from an enrollment.granted/revoked notification. */
    apply(enrollment, siteUserId = null) {
      const known = byId.get(enrollment.id);
      const status = known && known.status === 'revoked' ? 'revoked' : enrollment.status;
      byId.set(enrollment.id, {
        ...known,
        ...enrollment,
        status,
        customer_email: normaliseEmail(enrollment.customer_email),
        site_user_id: siteUserId ?? (known && known.site_user_id) ?? null,
      });
    },

    /** The SKUs this email may open right now, sorted. */
    skusFor(email) {
      const wanted = normaliseEmail(email);
      const skus = new Set();
      for (const record of byId.values()) {
        if (record.customer_email === wanted && record.status === 'active') skus.add(record.sku);
      }
      return [...skus].sort();
    },

    /** Every enrollment record held for this email (active and revoked). */
    recordsFor(email) {
      const wanted = normaliseEmail(email);
      return [...byId.values()].filter((record) => record.customer_email === wanted);
    },
  };
}

module.exports = { createAccessStore };
