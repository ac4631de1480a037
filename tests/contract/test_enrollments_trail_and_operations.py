"""Real responses of the enrollment endpoints, a customer's money trail, and the operational
endpoints (/, /healthz, /readyz, /openapi.yaml), successes and errors, are what
openapi.yaml declares."""

from __future__ import annotations

from typing import Any

import psycopg

from payments_service.api.docs import OPENAPI_PATH
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.contract.openapi import (
    ENROLLMENTS,
    REVOKE,
    TRAIL,
    assert_conforms,
    assert_problem,
    configure_sandbox,
    lookup,
    schema_errors,
    settle_refund_at_razorpay,
)


def test_real_enrollment_and_operations_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    dsn: str,
) -> None:
    checkout.verify(checkout.pay(checkout.create_order(new_site)))
    for query in ("customer_email=ASHA@example.com", "customer_email=a@b.io&status=revoked"):
        found = client.get(f"/v1/enrollments?{query}", headers=new_site.headers)
        assert_conforms(found, "/v1/enrollments", 200)
    (as_a_site,) = client.get(
        "/v1/enrollments?customer_email=asha@example.com", headers=new_site.headers
    ).get_json()["items"]
    assert not schema_errors(as_a_site, "/components/schemas/SiteEnrollment")
    every_owner = client.get("/v1/enrollments?sku=python-101", headers=new_site.headers)
    assert_problem(every_owner, "/v1/enrollments", 403, "forbidden")
    by_admin = client.get("/v1/enrollments?sku=python-101", headers=admin_headers)
    assert_conforms(by_admin, "/v1/enrollments", 200)
    (in_full,) = by_admin.get_json()["items"]
    assert not schema_errors(in_full, "/components/schemas/Enrollment")

    assert_conforms(client.get("/healthz"), "/healthz", 200)
    assert_conforms(client.get("/readyz"), "/readyz", 200)
    document = client.get("/openapi.yaml")
    assert_conforms(document, "/openapi.yaml", 200)
    assert document.data == OPENAPI_PATH.read_bytes()
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM schema_migrations")
    assert_conforms(client.get("/readyz"), "/readyz", 503)


def test_the_bare_address_answers_where_the_docs_are(client: Any) -> None:
    index = client.get("/")

    assert_conforms(index, "/", 200)
    assert client.get(index.get_json()["docs"]).status_code == 200
    assert client.get(index.get_json()["openapi"]).data == OPENAPI_PATH.read_bytes()


def test_enrollment_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials
) -> None:
    enrollments = "/v1/enrollments"
    assert_problem(client.get(enrollments, headers=new_site.headers), enrollments, 403, "forbidden")
    assert_problem(
        client.get(f"{enrollments}?sku=Not A Sku", headers=new_site.headers),
        enrollments,
        422,
        "validation_error",
    )
    assert_problem(client.get(f"{enrollments}?sku=python-101"), enrollments, 401, "unauthorized")


def test_real_enrollment_grant_and_revoke_responses_match_the_contract(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    body = {"customer_email": "Guest@Example.com", "sku": "python-101", "reason": "speaker"}
    granted = client.post(ENROLLMENTS, json=body, headers=admin_headers)
    assert_conforms(granted, ENROLLMENTS, 201)
    enrollment = granted.get_json()
    assert (enrollment["customer_email"], enrollment["source"]) == ("guest@example.com", "manual")
    assert (enrollment["order_id"], enrollment["granted_by"]) == (None, "admin:tester")

    seen = client.get(f"{ENROLLMENTS}?customer_email=guest@example.com", headers=new_site.headers)
    assert_conforms(seen, ENROLLMENTS, 200)
    admin_only = {"granted_by", "grant_reason", "revoked_by", "revoke_reason"}
    assert seen.get_json()["items"] == [
        {k: v for k, v in enrollment.items() if k not in admin_only}
    ]
    by_admin = client.get(f"{ENROLLMENTS}?customer_email=guest@example.com", headers=admin_headers)
    assert by_admin.get_json()["items"] == [enrollment]
    revoked = client.post(
        f"{ENROLLMENTS}/{enrollment['id']}/revoke",
        json={"reason": "talk cancelled"},
        headers=admin_headers,
    )
    assert_conforms(revoked, REVOKE, 200)
    assert (revoked.get_json()["status"], revoked.get_json()["revoke_reason"]) == (
        "revoked",
        "talk cancelled",
    )
    # Once revoked, the same grant is possible again.
    assert_conforms(client.post(ENROLLMENTS, json=body, headers=admin_headers), ENROLLMENTS, 201)


def test_enrollment_grant_and_revoke_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    site, admin = new_site.headers, admin_headers
    body = {"customer_email": "guest@example.com", "sku": "python-101", "reason": "speaker"}
    assert_problem(client.post(ENROLLMENTS, json=body), ENROLLMENTS, 401, "unauthorized")
    for sent in ({"json": body}, {"json": {}}, {"data": "sku=x"}):  # the role comes first
        assert_problem(
            client.post(ENROLLMENTS, headers=site, **sent), ENROLLMENTS, 403, "forbidden"
        )
    invalid = {"customer_email": "nope", "sku": "Not A Sku", "reason": "", "x": 1}
    rejected = client.post(ENROLLMENTS, json=invalid, headers=admin)
    assert_problem(rejected, ENROLLMENTS, 422, "validation_error")
    assert set(rejected.get_json()["errors"]) == {"customer_email", "sku", "reason", "x"}
    json_headers = {**admin, "Content-Type": "application/json"}
    assert_problem(
        client.post(ENROLLMENTS, data=b"{", headers=json_headers), ENROLLMENTS, 400, "bad_request"
    )
    assert_problem(
        client.post(ENROLLMENTS, data="sku=x", headers=admin),
        ENROLLMENTS,
        415,
        "unsupported_media_type",
    )
    granted = client.post(ENROLLMENTS, json=body, headers=admin).get_json()
    assert_problem(client.post(ENROLLMENTS, json=body, headers=admin), ENROLLMENTS, 409, "conflict")

    revoke = f"{ENROLLMENTS}/{granted['id']}/revoke"
    reason = {"reason": "talk cancelled"}
    assert_problem(client.post(revoke, json=reason), REVOKE, 401, "unauthorized")
    assert_problem(client.post(revoke, json=reason, headers=site), REVOKE, 403, "forbidden")
    no_reason = client.post(revoke, json={"reason": ""}, headers=admin)
    assert_problem(no_reason, REVOKE, 422, "validation_error")
    assert set(no_reason.get_json()["errors"]) == {"reason"}
    assert_problem(client.post(revoke, data=b"{", headers=json_headers), REVOKE, 400, "bad_request")
    assert_problem(
        client.post(revoke, data="reason=x", headers=admin), REVOKE, 415, "unsupported_media_type"
    )
    assert_problem(
        client.post(f"{ENROLLMENTS}/enr_Missing0000000/revoke", json=reason, headers=admin),
        REVOKE,
        404,
        "not_found",
    )
    assert_conforms(client.post(revoke, json=reason, headers=admin), REVOKE, 200)
    assert_problem(client.post(revoke, json=reason, headers=admin), REVOKE, 409, "conflict")


def test_real_money_trail_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    sandbox: Any,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order, outcome="failure", error_reason="card_declined")
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.failed"))
    result = checkout.pay(order)
    assert checkout.verify(result).status_code == 200
    other = checkout.buy(old_site, product={"sku": "data-201", "name": "Data 201"})

    configure_sandbox(sandbox, refund_outcome="pending")
    doomed = checkout.refund(old_site.headers, order_id=other["id"]).get_json()  # revokes access
    settle_refund_at_razorpay(sandbox, doomed["razorpay_refund_id"], "failed")
    (failed,) = [
        e
        for e in webhooks.events_for(doomed["razorpay_refund_id"])
        if e["event"] == "refund.failed"
    ]
    webhooks.deliver(failed)
    checkout.refund(new_site.headers, payment_id=result["razorpay_payment_id"], amount=10000)
    configure_sandbox(sandbox, refund_outcome="processed")
    checkout.refund(admin_headers, order_id=order["id"], amount=20000, reason="goodwill")
    gift = {"customer_email": "asha@example.com", "sku": "ml-301", "reason": "beta tester"}
    assert client.post(ENROLLMENTS, json=gift, headers=admin_headers).status_code == 201

    # An admin reads any customer's trail, whichever case the email is written in.
    by_admin = client.get("/v1/customers/ASHA@Example.COM/transactions", headers=admin_headers)
    assert_conforms(by_admin, TRAIL, 200)
    answer = by_admin.get_json()
    assert answer["customer_email"] == "asha@example.com" and answer["is_truncated"] is False
    kinds = {entry["kind"] for entry in answer["entries"]}
    assert kinds == set(lookup("/components/schemas/MoneyTrailKind")["enum"])
    assert answer["totals"] == [
        {"currency": "INR", "paid": 99800, "refunded": 20000, "refund_pending": 10000, "net": 69800}
    ]
    # A site that sold to her reads the same trail with fewer details in each entry.
    trail = client.get("/v1/customers/asha@example.com/transactions", headers=old_site.headers)
    assert_conforms(trail, TRAIL, 200)
    as_a_site = trail.get_json()
    assert as_a_site["totals"] == answer["totals"]
    assert [{**e, "details": None} for e in as_a_site["entries"]] == [
        {**e, "details": None} for e in answer["entries"]
    ]

    stranger = client.get("/v1/customers/nobody@example.com/transactions", headers=new_site.headers)
    assert_problem(stranger, TRAIL, 404, "not_found")
    nobody = client.get("/v1/customers/nobody@example.com/transactions", headers=admin_headers)
    assert_conforms(nobody, TRAIL, 200)
    assert nobody.get_json() == {
        "customer_email": "nobody@example.com",
        "entries": [],
        "totals": [],
        "is_truncated": False,
    }


def test_money_trail_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials
) -> None:
    assert_problem(
        client.get("/v1/customers/a@example.com/transactions"), TRAIL, 401, "unauthorized"
    )
    malformed = client.get("/v1/customers/not-an-email/transactions", headers=new_site.headers)
    assert_problem(malformed, TRAIL, 422, "validation_error")
    assert set(malformed.get_json()["errors"]) == {"email"}
