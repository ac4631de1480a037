"""One refund per key and never more than captured: keys per site, concurrent requests, a
Razorpay still working on the first, an answer lost on the way (found, not repeated)."""

from __future__ import annotations

import threading
from typing import Any

from payments_service.refunds import resolve_requested_refunds
from tests.actions import Checkout, SiteCredentials
from tests.contract.openapi import assert_problem
from tests.test_refunds import (
    _configure,
    _retry_while_in_use,
    _sdk,
    _wait_for_refunds_at_razorpay,
    _zero,
)


def test_idempotency_key_returns_the_same_refund_and_refuses_another_body(
    checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    headers = {**new_site.headers, "Idempotency-Key": "refund-ticket-7"}
    first = checkout.refund(headers, payment_id=order["payment_id"], amount=10000)
    again = checkout.refund(headers, payment_id=order["payment_id"], amount=10000)
    other = checkout.refund(headers, payment_id=order["payment_id"], amount=20000)

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 422)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert other.get_json()["code"] == "idempotency_key_reused"
    assert len(db_rows("SELECT id FROM refunds")) == 1
    assert _sdk(sandbox).payment.fetch_multiple_refund(order["payment_id"])["count"] == 1


def test_refund_idempotency_keys_belong_to_one_site(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    mine = checkout.buy(new_site)
    theirs = checkout.buy(old_site, customer={"email": "other@example.com"})
    key = {"Idempotency-Key": "ticket-1"}
    a = checkout.refund({**new_site.headers, **key}, payment_id=mine["payment_id"], amount=1000)
    b = checkout.refund({**old_site.headers, **key}, payment_id=theirs["payment_id"])

    assert (a.status_code, b.status_code) == (201, 201)
    a_id, b_id = a.get_json()["id"], b.get_json()["id"]
    assert a_id != b_id
    assert (a.get_json()["amount"], b.get_json()["amount"]) == (1000, 49900)
    again = checkout.refund({**new_site.headers, **key}, payment_id=mine["payment_id"], amount=1000)
    assert (again.status_code, again.get_json()["id"]) == (200, a_id)
    assert client.get(f"/v1/refunds/{b_id}", headers=new_site.headers).status_code == 404
    assert client.get(f"/v1/refunds/{a_id}", headers=old_site.headers).status_code == 404
    seen_by_old = client.get("/v1/refunds", headers=old_site.headers).get_json()["items"]
    assert [refund["id"] for refund in seen_by_old] == [b_id]
    assert db_rows("SELECT idempotency_scope FROM refunds ORDER BY idempotency_scope") == [
        {"idempotency_scope": "site:new-site"},
        {"idempotency_scope": "site:old-site"},
    ]
    sdk = _sdk(sandbox)
    for payment_id, amount in ((mine["payment_id"], 1000), (theirs["payment_id"], 49900)):
        (at_razorpay,) = sdk.payment.fetch_multiple_refund(payment_id)["items"]
        assert at_razorpay["amount"] == amount


def test_six_concurrent_refunds_with_one_key_make_one_razorpay_refund(
    app: Any, checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    headers = {**new_site.headers, "Idempotency-Key": "refund-double-click"}
    _configure(sandbox, latency_ms=300)  # the first request is still at Razorpay when the rest come
    start = threading.Barrier(6)
    answers: list[Any] = []
    body = {"payment_id": order["payment_id"], "amount": 10000}

    def refund() -> None:
        client = app.test_client()
        start.wait()
        answers.append(client.post("/v1/refunds", json=body, headers=headers))

    threads = [threading.Thread(target=refund) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}, statuses
    (created,) = [answer.get_json() for answer in answers if answer.status_code == 201]
    for answer in answers:
        if answer.status_code == 409:  # Razorpay was still making the first: retry, as told
            assert answer.get_json()["code"] == "idempotency_key_in_use"
            assert answer.headers["Retry-After"] == "1"
            answer = _retry_while_in_use(app.test_client(), headers, body)
        assert answer.status_code in (200, 201)
        assert answer.get_json()["id"] == created["id"]
    assert db_rows("SELECT status, amount FROM refunds") == [
        {"status": "processed", "amount": 10000}
    ]
    (at_razorpay,) = _sdk(sandbox).payment.fetch_multiple_refund(order["payment_id"])["items"]
    assert at_razorpay["amount"] == 10000


def test_a_refund_retried_while_razorpay_still_makes_the_first_keeps_its_reservation(
    make_app: Any, checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    headers = {**new_site.headers, "Idempotency-Key": "refund-in-progress"}
    body = {"payment_id": order["payment_id"], "amount": 10000}
    impatient = make_app(razorpay_timeout_seconds=0.3).test_client()
    _configure(sandbox, api_timeout_rate=1.0, api_timeout_ms=2000)  # Razorpay hangs on it
    try:
        lost = impatient.post("/v1/refunds", json=body, headers=headers)
    finally:
        _configure(sandbox, api_timeout_rate=0.0, api_timeout_ms=30_000)
    assert lost.status_code == 503

    busy = checkout.refund(headers, **body)  # Razorpay answers 409: the first is in progress

    assert_problem(busy, "/v1/refunds", 409, "idempotency_key_in_use")
    assert busy.headers["Retry-After"] == "1"
    assert db_rows("SELECT status, amount FROM refunds") == [
        {"status": "requested", "amount": 10000}
    ]
    done = _retry_while_in_use(checkout.client, headers, body)
    assert done.status_code == 200 and done.get_json()["status"] == "processed"
    (at_razorpay,) = _sdk(sandbox).payment.fetch_multiple_refund(order["payment_id"])["items"]
    assert at_razorpay["amount"] == 10000
    assert db_rows("SELECT status, amount FROM refunds") == [
        {"status": "processed", "amount": 10000}
    ]


def test_twenty_concurrent_refunds_never_exceed_the_captured_amount(
    app: Any, checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    statuses: list[int] = []

    def refund() -> None:
        answer = app.test_client().post(
            "/v1/refunds",
            json={"payment_id": order["payment_id"], "amount": 5000},
            headers=new_site.headers,
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=refund) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] * 9 + [409] * 11
    (total,) = db_rows("SELECT sum(amount) AS refunded FROM refunds")
    assert total["refunded"] == 45000
    at_razorpay = _sdk(sandbox).payment.fetch(order["payment_id"])
    assert at_razorpay["amount_refunded"] == 45000


def test_a_refund_whose_answer_was_lost_is_found_not_repeated_on_retry(
    make_app: Any, checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    headers = {**new_site.headers, "Idempotency-Key": "refund-timeout-1"}
    impatient = make_app(razorpay_timeout_seconds=0.3).test_client()
    _configure(sandbox, latency_ms=800)

    lost = impatient.post("/v1/refunds", json={"payment_id": order["payment_id"]}, headers=headers)

    assert lost.status_code == 503
    assert db_rows("SELECT status FROM refunds") == [{"status": "requested"}]
    _wait_for_refunds_at_razorpay(sandbox, order["payment_id"], 1)
    _configure(sandbox, latency_ms=0)
    retried = checkout.refund(headers, payment_id=order["payment_id"])
    assert retried.status_code == 200 and retried.get_json()["status"] == "processed"
    assert _sdk(sandbox).payment.fetch_multiple_refund(order["payment_id"])["count"] == 1
    assert db_rows("SELECT status, amount FROM refunds") == [
        {"status": "processed", "amount": 49900}
    ]


def test_the_worker_settles_or_releases_refunds_whose_answer_was_lost(
    app: Any,
    make_app: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    sandbox: Any,
    dsn: str,
    db_rows: Any,
) -> None:
    import psycopg

    order = checkout.buy(new_site)
    impatient = make_app(razorpay_timeout_seconds=0.3).test_client()
    _configure(sandbox, latency_ms=800)
    impatient.post(
        "/v1/refunds",
        json={"payment_id": order["payment_id"], "amount": 10000},
        headers=new_site.headers,
    )
    _wait_for_refunds_at_razorpay(sandbox, order["payment_id"], 1)
    _configure(sandbox, latency_ms=0)
    with psycopg.connect(dsn) as conn:  # and one reservation Razorpay never heard of
        conn.execute(
            "INSERT INTO refunds (id, payment_id, order_id, status, amount, currency, "
            "requested_by, mode) SELECT 'rfd_NeverSent00001', id, order_id, 'requested', 500, "
            "'INR', 'site:new-site', mode FROM payments"
        )
    services = app.extensions["payments_service"]

    assert resolve_requested_refunds(services.db, services.gateway, older_than=_zero()) == 2

    assert db_rows("SELECT status, amount FROM refunds") == [
        {"status": "processed", "amount": 10000}
    ]
    assert db_rows("SELECT status FROM orders") == [{"status": "partially_refunded"}]
