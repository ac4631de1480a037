"""GET /v1/payment-links/callback: the buyer's browser back from the hosted page. A proven,
confirmed payment is applied like Checkout verify's and the browser sent on to the site;
anything unproven is a plain error page that changes nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from payments_service.signatures import payment_link_signature
from tests.actions import PaymentLinks, SiteCredentials

KEY_SECRET = "sandbox_key_secret"


def _state(db_rows: Any) -> dict[str, Any]:
    """Everything a callback may write, to compare before and after."""
    return {
        "orders": db_rows(
            "SELECT id, status, amount_paid, razorpay_order_id FROM orders ORDER BY id"
        ),
        "payments": db_rows("SELECT id, status FROM payments ORDER BY id"),
        "enrollments": db_rows("SELECT id, order_id FROM enrollments ORDER BY id"),
        "notifications": db_rows("SELECT site_id, event_type FROM notifications ORDER BY id"),
        "links": db_rows("SELECT order_id, status FROM payment_links ORDER BY order_id"),
    }


def assert_error_page(answer: Any, status: int) -> None:
    assert answer.status_code == status
    assert answer.mimetype == "text/html"
    assert "Location" not in answer.headers
    assert "could not confirm" in answer.get_data(as_text=True)


def test_a_paid_link_sends_the_buyer_to_the_site_with_the_order_and_grants_everywhere(
    links: PaymentLinks,
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: Any,
    db_rows: Any,
) -> None:
    link = links.create(seller.headers)
    params = links.pay(link)

    answer = links.come_back(params)

    assert answer.status_code == 303
    target = urlsplit(answer.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("http", "new.localhost:8022", "/thanks")
    assert parse_qs(target.query) == {
        "from": ["link"],
        "order_id": [link["order_id"]],
        "status": ["paid"],
    }
    (enrollment,) = db_rows("SELECT customer_email, sku, order_id, granted_by FROM enrollments")
    assert enrollment == {
        "customer_email": "ravi@example.com",
        "sku": "python-101",
        "order_id": link["order_id"],
        "granted_by": "payment_link",
    }
    granted = db_rows("SELECT site_id FROM notifications WHERE event_type = 'enrollment.granted'")
    assert sorted(row["site_id"] for row in granted) == ["new-site", "old-site"]
    assert len(db_rows("SELECT id FROM notifications WHERE event_type = 'order.paid'")) == 1
    (payment,) = db_rows("SELECT id, status, amount FROM payments")
    assert payment == {"id": params["razorpay_payment_id"], "status": "captured", "amount": 49900}
    fetched = client.get(f"/v1/payment-links/{link['id']}", headers=seller.headers).get_json()
    assert (fetched["status"], fetched["order_status"], fetched["amount_paid"]) == (
        "paid",
        "paid",
        49900,
    )
    assert fetched["razorpay_order_id"].startswith("order_")
    trail = client.get("/v1/customers/ravi@example.com/transactions", headers=seller.headers)
    kinds = [entry["kind"] for entry in trail.get_json()["entries"]]
    assert kinds.count("payment.captured") == 1 and kinds.count("enrollment.granted") == 1
    assert trail.get_json()["totals"] == [
        {"currency": "INR", "paid": 49900, "refunded": 0, "refund_pending": 0, "net": 49900}
    ]


def test_a_replayed_callback_redirects_the_same_way_and_doubles_nothing(
    links: PaymentLinks, seller: SiteCredentials, other_site: SiteCredentials, db_rows: Any
) -> None:
    link = links.create(seller.headers)
    params = links.pay(link)
    first = links.come_back(params)
    after_first = _state(db_rows)

    again = links.come_back(params)

    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _state(db_rows) == after_first


@pytest.mark.parametrize(
    "tamper",
    [{"razorpay_signature": "0" * 64}, {"razorpay_payment_link_status": "partially_paid"}],
    ids=["signature", "status"],
)
def test_a_tampered_callback_is_an_error_page_and_changes_nothing(
    links: PaymentLinks, seller: SiteCredentials, db_rows: Any, tamper: dict[str, str]
) -> None:
    link = links.create(seller.headers)
    params = links.pay(link)
    before = _state(db_rows)

    answer = links.come_back({**params, **tamper})

    assert_error_page(answer, 403)
    assert _state(db_rows) == before


def test_the_signature_is_checked_over_our_reference_not_the_echoed_one(
    links: PaymentLinks, seller: SiteCredentials, db_rows: Any
) -> None:
    link = links.create(seller.headers)
    params = links.pay(link)

    answer = links.come_back({**params, "razorpay_payment_link_reference_id": "ord_Somebody0001"})

    assert answer.status_code == 303
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["order_id"] == [link["order_id"]]


def test_another_links_signature_does_not_prove_this_link(
    links: PaymentLinks, seller: SiteCredentials, db_rows: Any
) -> None:
    mine, other = links.create(seller.headers), links.create(seller.headers)
    paid_other = links.pay(other)
    before = _state(db_rows)

    answer = links.come_back({**paid_other, "razorpay_payment_link_id": mine["id"]})

    assert_error_page(answer, 403)
    assert _state(db_rows) == before


def test_a_payment_of_another_link_signed_for_this_one_is_refused(
    links: PaymentLinks, seller: SiteCredentials, db_rows: Any
) -> None:
    # Even correctly signed (say the key secret leaked), a payment made on another link
    # is not this link's: Razorpay's link and payment say so.
    mine, other = links.create(seller.headers), links.create(seller.headers)
    links.pay(mine)
    paid_other = links.pay(other)
    signature = payment_link_signature(
        KEY_SECRET, mine["id"], mine["order_id"], "paid", paid_other["razorpay_payment_id"]
    )
    before = _state(db_rows)

    answer = links.come_back(
        {
            **paid_other,
            "razorpay_payment_link_id": mine["id"],
            "razorpay_payment_link_reference_id": mine["order_id"],
            "razorpay_signature": signature,
        }
    )

    assert_error_page(answer, 400)
    assert _state(db_rows) == before


@pytest.mark.parametrize(
    "missing",
    [
        "razorpay_payment_id",
        "razorpay_payment_link_id",
        "razorpay_payment_link_status",
        "razorpay_signature",
    ],
)
def test_a_callback_missing_a_parameter_is_an_error_page(
    links: PaymentLinks, seller: SiteCredentials, db_rows: Any, missing: str
) -> None:
    link = links.create(seller.headers)
    params = links.pay(link)
    before = _state(db_rows)

    answer = links.come_back({k: v for k, v in params.items() if k != missing})

    assert_error_page(answer, 400)
    assert missing in answer.get_data(as_text=True)
    assert _state(db_rows) == before


def test_a_callback_for_a_link_we_never_made_is_a_404_page(
    links: PaymentLinks, db_rows: Any
) -> None:
    signature = payment_link_signature(KEY_SECRET, "plink_NotOurs00000001", "", "paid", "pay_X1")
    answer = links.come_back(
        {
            "razorpay_payment_id": "pay_X1",
            "razorpay_payment_link_id": "plink_NotOurs00000001",
            "razorpay_payment_link_reference_id": "x",
            "razorpay_payment_link_status": "paid",
            "razorpay_signature": signature,
        }
    )

    assert_error_page(answer, 404)
    assert db_rows("SELECT id FROM payments") == []


def test_the_signature_is_razorpays_four_part_hmac() -> None:
    # Razorpay's SDK test vector for payment links.
    assert (
        payment_link_signature(
            "EnLs21M47BllR3X8PSFtjtbd",
            "plink_IH3cNucfVEgV68",
            "TSsd1989",
            "paid",
            "pay_IH3d0ara9bSsjQ",
        )
        == "07ae18789e35093e51d0a491eb9922646f3f82773547e5b0f67ee3f2d3bf7d5b"
    )
