"""The settlement statement on a real PostgreSQL (db/settlements.py, the database function of
migration 0017): what one call stores, moves, grants and reads, and what it leaves alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from payments_service.db import Database, notifications, settlements
from payments_service.db.enrollments import NewEnrollment
from payments_service.db.orders import NewOrder, StatusChange, insert
from payments_service.db.payments import PaymentRecord
from payments_service.sites import create_site

EMAIL = "asha@example.com"


@pytest.fixture
def db(dsn: str) -> Iterator[Database]:
    """Two sites that take callbacks (the customer has a user id on one) and one that does
    not; two orders of the customer's, in test mode."""
    database = Database(dsn, 2, 5000, mode="test")
    for site_id, callback in (("new-site", True), ("old-site", True), ("quiet", False)):
        create_site(
            database,
            site_id=site_id,
            name=site_id,
            callback_url="https://example.com/hook" if callback else None,
            allowed_origins=[],
        )
    with database.transaction() as cur:
        insert(cur, _order("ord_1", "new-site", user="u-17"), "order_rzp1")
        insert(cur, _order("ord_2", "old-site", user=None), "order_rzp2")
    yield database
    database.close()


def test_one_statement_stores_the_payment_moves_the_order_grants_and_reads_the_recipients(
    db: Database,
) -> None:
    with db.one_statement() as cur:  # a second statement would raise, unsent
        done = settlements.settle(
            cur, [_captured("pay_1", "ord_1")], [StatusChange("ord_1", "paid", 49900)],
            [_grant("enr_1", "ord_1")], EMAIL,
        )  # fmt: skip

    assert [(p.id, p.status, p.amount, p.mode) for p in done.payments] == [
        ("pay_1", "captured", 49900, "test")
    ]
    assert done.payments[0].captured_at is not None
    assert [(o.id, o.status, o.amount_paid) for o in done.orders] == [("ord_1", "paid", 49900)]
    assert done.orders[0].paid_at is not None
    assert [(e.id, e.sku, e.status, e.order_id) for e in done.enrollments] == [
        ("enr_1", "course-1", "active", "ord_1")
    ]
    assert [(r.site_id, r.site_user_id) for r in done.recipients or []] == [
        ("new-site", "u-17"),
        ("old-site", None),
    ]
    with db.read() as cur:
        cur.execute("SELECT status, amount_paid FROM orders WHERE id = 'ord_1'")
        assert cur.fetchone() == {"status": "paid", "amount_paid": 49900}


def test_a_second_settlement_updates_the_payment_but_keeps_its_first_amount_and_times(
    db: Database,
) -> None:
    with db.transaction() as cur:
        first = settlements.settle(cur, [_captured("pay_1", "ord_1")], [], [], None).payments[0]
    refunded = PaymentRecord(
        **{**_captured("pay_1", "ord_1").__dict__, "status": "refunded", "amount": 1}
    )
    with db.transaction() as cur:
        again = settlements.settle(cur, [refunded], [], [], None)

    (payment,) = again.payments
    assert (payment.status, payment.amount) == ("refunded", 49900)
    assert payment.captured_at == first.captured_at
    assert again.orders == [] and again.enrollments == [] and again.recipients is None


def test_recipients_alone_write_nothing_and_are_those_the_outbox_reads(db: Database) -> None:
    with db.transaction() as cur:
        done = settlements.settle(cur, [], [], [], EMAIL)
        expected = notifications.recipients(cur, None, EMAIL)

    assert done.recipients == expected
    assert [r.site_id for r in expected] == ["new-site", "old-site"]
    assert (done.payments, done.orders, done.enrollments) == ([], [], [])
    assert _counts(db) == (0, 0)


def test_of_two_grants_of_one_product_to_one_customer_only_the_first_is_stored(
    db: Database,
) -> None:
    with db.transaction() as cur:
        done = settlements.settle(
            cur, [], [], [_grant("enr_1", "ord_1"), _grant("enr_2", "ord_2")], None
        )

    assert [e.id for e in done.enrollments] == ["enr_1"]
    assert _counts(db) == (0, 1)


def test_a_settlement_in_the_other_mode_moves_no_order_of_this_one(db: Database) -> None:
    with db.transaction(mode="live") as cur:
        done = settlements.settle(cur, [], [StatusChange("ord_1", "paid", 49900)], [], None)

    assert done.orders == []
    with db.read() as cur:
        cur.execute("SELECT status, amount_paid FROM orders WHERE id = 'ord_1'")
        assert cur.fetchone() == {"status": "created", "amount_paid": 0}


def test_nothing_to_settle_sends_nothing(db: Database) -> None:
    with db.one_statement() as cur:
        done = settlements.settle(cur, [], [], [], None)
        assert cur.statements_left == 1

    assert done == settlements.Settled([], [], [], None)


def _counts(db: Database) -> tuple[int, int]:
    with db.read() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM payments) AS p, (SELECT count(*) FROM enrollments) AS e"
        )
        row = cur.fetchone()
    return row["p"], row["e"]


def _order(order_id: str, site_id: str, *, user: str | None) -> NewOrder:
    return NewOrder(
        id=order_id, site_id=site_id, amount=49900, currency="INR", product_sku="course-1",
        product_name="Course", customer_email=EMAIL, customer_name=None, customer_contact=None,
        site_user_id=user, receipt=None, notes={}, idempotency_key=None,
        request_fingerprint=None, allow_owned=None,
    )  # fmt: skip


def _captured(payment_id: str, order_id: str) -> PaymentRecord:
    return PaymentRecord(
        id=payment_id, order_id=order_id, status="captured", amount=49900, currency="INR",
        amount_refunded=0, method="upi", card_network=None, card_last4=None, bank=None,
        wallet=None, vpa="asha@upi", fee=236, tax=36, error_code=None, error_description=None,
        error_reason=None, razorpay_created_at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
    )  # fmt: skip


def _grant(enrollment_id: str, order_id: str) -> NewEnrollment:
    return NewEnrollment(
        id=enrollment_id, customer_email=EMAIL, sku="course-1", source="purchase",
        order_id=order_id, granted_by="payment",
    )  # fmt: skip
