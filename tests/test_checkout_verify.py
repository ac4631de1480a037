from __future__ import annotations

import threading
from typing import Any

import requests

from payments_service.signatures import checkout_signature
from tests.actions import Checkout, SiteCredentials


def test_verified_payment_pays_the_order_and_grants_the_course(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)

    response = checkout.verify(result)

    assert response.status_code == 200
    body = response.get_json()
    assert body["order"]["status"] == "paid"
    assert body["order"]["amount_paid"] == 49900
    assert body["payment"]["status"] == "captured"
    assert body["enrollment"]["sku"] == "python-101"
    assert body["enrollment"]["customer_email"] == "asha@example.com"
    assert db_rows("SELECT status, amount_paid FROM orders") == [
        {"status": "paid", "amount_paid": 49900}
    ]
    payments = db_rows("SELECT id, status, amount, fee, method FROM payments")
    assert payments[0]["id"] == result["razorpay_payment_id"]
    assert payments[0]["status"] == "captured" and payments[0]["amount"] == 49900
    assert payments[0]["fee"] is not None and payments[0]["fee"] > 0
    assert db_rows("SELECT sku, status, source FROM enrollments") == [
        {"sku": "python-101", "status": "active", "source": "purchase"}
    ]


def test_authorized_payment_is_captured_by_verify(
    checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json={"auto_capture": False}, timeout=5)
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    at_razorpay = requests.get(
        f"{sandbox.url}/v1/payments/{result['razorpay_payment_id']}",
        auth=(sandbox.config.key_id, sandbox.config.key_secret),
        timeout=5,
    ).json()
    assert at_razorpay["status"] == "authorized"

    response = checkout.verify(result)

    assert response.status_code == 200
    assert response.get_json()["payment"]["status"] == "captured"
    after = requests.get(
        f"{sandbox.url}/v1/payments/{result['razorpay_payment_id']}",
        auth=(sandbox.config.key_id, sandbox.config.key_secret),
        timeout=5,
    ).json()
    assert after["status"] == "captured"


def test_second_verify_is_a_no_op(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    first = checkout.verify(result)
    second = checkout.verify(result)

    assert first.status_code == second.status_code == 200
    assert second.get_json()["order"]["status"] == "paid"
    assert len(db_rows("SELECT id FROM enrollments")) == 1
    assert len(db_rows("SELECT id FROM payments")) == 1


def test_concurrent_verifies_grant_exactly_one_enrollment(
    app: Any, checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json={"auto_capture": False}, timeout=5)
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    statuses: list[int] = []

    def verify() -> None:
        statuses.append(app.test_client().post("/v1/payments/verify", json=result).status_code)

    threads = [threading.Thread(target=verify) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 10
    assert len(db_rows("SELECT id FROM enrollments WHERE status = 'active'")) == 1
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]


def test_wrong_signature_is_rejected_and_the_order_unchanged(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    forged = {
        **result,
        "razorpay_signature": checkout_signature(
            "not-the-key-secret", result["razorpay_order_id"], result["razorpay_payment_id"]
        ),
    }

    response = checkout.verify(forged)

    assert response.status_code == 403
    assert response.get_json()["code"] == "invalid_signature"
    assert db_rows("SELECT status FROM orders") == [{"status": "created"}]
    assert db_rows("SELECT id FROM payments") == []
    assert db_rows("SELECT id FROM enrollments") == []


def test_a_payment_of_another_order_cannot_pay_this_one(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    cheap = checkout.create_order(new_site, amount=100)
    dear = checkout.create_order(new_site, amount=999900)
    paid_cheap = checkout.pay(cheap)
    # The browser claims the cheap payment paid the dear order.
    response = checkout.verify({**paid_cheap, "razorpay_order_id": dear["razorpay_order_id"]})

    assert response.status_code == 403
    assert response.get_json()["code"] == "invalid_signature"
    dear_row = db_rows("SELECT status FROM orders WHERE id = %s", dear["id"])
    assert dear_row == [{"status": "created"}]


def test_signature_valid_but_amount_differs_is_a_mismatch(
    checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    # Someone holding the key secret signs a payment of another order for this order:
    # the payment fetched from Razorpay belongs elsewhere, so nothing is paid.
    cheap = checkout.create_order(new_site, amount=100)
    dear = checkout.create_order(new_site, amount=999900)
    paid_cheap = checkout.pay(cheap)
    signature = checkout_signature(
        sandbox.config.key_secret, dear["razorpay_order_id"], paid_cheap["razorpay_payment_id"]
    )
    response = checkout.verify(
        {
            "razorpay_order_id": dear["razorpay_order_id"],
            "razorpay_payment_id": paid_cheap["razorpay_payment_id"],
            "razorpay_signature": signature,
        }
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "payment_mismatch"
    assert db_rows("SELECT status FROM orders WHERE id = %s", dear["id"]) == [{"status": "created"}]
    assert db_rows("SELECT id FROM enrollments") == []


def test_a_payment_of_another_order_of_the_same_amount_is_a_mismatch(
    checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    # Two orders of 499.00 INR: the amounts cannot tell them apart, only the order id can.
    mine = checkout.create_order(new_site, customer={"email": "asha@example.com"})
    theirs = checkout.create_order(new_site, customer={"email": "ravi@example.com"})
    paid_theirs = checkout.pay(theirs)
    signature = checkout_signature(
        sandbox.config.key_secret, mine["razorpay_order_id"], paid_theirs["razorpay_payment_id"]
    )

    response = checkout.verify(
        {
            "razorpay_order_id": mine["razorpay_order_id"],
            "razorpay_payment_id": paid_theirs["razorpay_payment_id"],
            "razorpay_signature": signature,
        }
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "payment_mismatch"
    assert db_rows("SELECT id, status FROM orders ORDER BY id") == sorted(
        [{"id": mine["id"], "status": "created"}, {"id": theirs["id"], "status": "created"}],
        key=lambda row: row["id"],
    )
    assert db_rows("SELECT id FROM payments") == []
    assert db_rows("SELECT id FROM enrollments") == []


def test_reverifying_a_paid_order_with_a_forged_signature_is_refused(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    assert checkout.verify(result).status_code == 200
    forged = {
        **result,
        "razorpay_signature": checkout_signature(
            "not-the-key-secret", result["razorpay_order_id"], result["razorpay_payment_id"]
        ),
    }

    response = checkout.verify(forged)

    assert response.status_code == 403
    assert response.get_json()["code"] == "invalid_signature"
    assert "order" not in response.get_json()
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert len(db_rows("SELECT id FROM enrollments")) == 1


def test_failed_payment_is_recorded_and_grants_nothing(
    checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    failure = checkout.pay(order, outcome="failure")
    payment_id = failure["error"]["metadata"]["payment_id"]
    signature = checkout_signature(
        sandbox.config.key_secret, order["razorpay_order_id"], payment_id
    )

    response = checkout.verify(
        {
            "razorpay_order_id": order["razorpay_order_id"],
            "razorpay_payment_id": payment_id,
            "razorpay_signature": signature,
        }
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "payment_not_successful"
    assert db_rows("SELECT status FROM orders") == [{"status": "attempted"}]
    assert db_rows("SELECT status FROM payments") == [{"status": "failed"}]
    assert db_rows("SELECT id FROM enrollments") == []


def test_unknown_order_is_404(checkout: Checkout) -> None:
    response = checkout.verify(
        {
            "razorpay_order_id": "order_Unknown0000001",
            "razorpay_payment_id": "pay_Unknown00000001",
            "razorpay_signature": "0" * 64,
        }
    )
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_verify_with_missing_fields_names_them(checkout: Checkout) -> None:
    response = checkout.verify({"razorpay_order_id": "order_X"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"razorpay_payment_id", "razorpay_signature"}


def test_razorpay_down_during_verify_is_a_503_and_a_retry_succeeds(
    make_app: Any, checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    from tests.test_create_order import socket_that_refuses

    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    with socket_that_refuses() as dead_url:
        down = make_app(razorpay_api_base_url=dead_url).test_client()
        response = down.post("/v1/payments/verify", json=result)

    assert response.status_code == 503
    assert db_rows("SELECT status FROM orders") == [{"status": "created"}]
    assert checkout.verify(result).status_code == 200


def test_verify_answers_cors_preflight_for_registered_origins_only(
    client: Any, new_site: SiteCredentials, old_site: SiteCredentials
) -> None:
    allowed = client.options(
        "/v1/payments/verify",
        headers={"Origin": "http://new.localhost:8022", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://new.localhost:8022"
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]

    stranger = client.options(
        "/v1/payments/verify",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert stranger.status_code == 403
    assert "Access-Control-Allow-Origin" not in stranger.headers
