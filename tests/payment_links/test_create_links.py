"""POST /v1/payment-links: a site (or an admin for a site) makes our order and its Razorpay
link in one call; bad input is refused by name with nothing written; the Idempotency-Key
behaves as the order's does; a link's reference id is its order's, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import razorpay
import requests
from flask.testing import FlaskClient

from tests.actions import Clock, PaymentLinks, SiteCredentials, link_body, use_clock
from tests.contract.openapi import assert_problem

LINKS = "/v1/payment-links"


def razorpay_link(sandbox: Any, link_id: str) -> dict[str, Any]:
    sdk = razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )
    return dict(sdk.payment_link.fetch(link_id))


def razorpay_links_for(sandbox: Any, reference_id: str) -> list[dict[str, Any]]:
    sdk = razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )
    return list(sdk.payment_link.all({"reference_id": reference_id})["payment_links"])


def test_a_site_gets_a_link_whose_reference_is_its_new_order_and_whose_callback_is_ours(
    links: PaymentLinks, seller: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    link = links.create(seller.headers)

    assert link["id"].startswith("plink_") and link["short_url"].startswith(sandbox.url)
    assert (link["status"], link["order_status"], link["razorpay_order_id"]) == (
        "created",
        "created",
        None,
    )
    assert (link["amount"], link["currency"], link["site_id"]) == (49900, "INR", "new-site")
    assert link["customer"]["email"] == "ravi@example.com"
    made = razorpay_link(sandbox, link["id"])
    assert made["reference_id"] == link["order_id"]
    assert made["callback_url"] == "http://127.0.0.1:8000/v1/payment-links/callback"
    assert made["callback_method"] == "get"
    assert (
        made["notes"]["order_ref"] == link["order_id"] and made["notes"]["campaign"] == "whatsapp"
    )
    assert made["notify"]["email"] is True and made["notify"]["sms"] is False
    assert "order_id" not in made or not made["order_id"]  # nobody opened it yet
    (order,) = db_rows("SELECT id, razorpay_order_id, status, amount FROM orders")
    assert order == {
        "id": link["order_id"],
        "razorpay_order_id": None,
        "status": "created",
        "amount": 49900,
    }
    (row,) = db_rows("SELECT razorpay_link_id, mode, created_by FROM payment_links")
    assert row == {"razorpay_link_id": link["id"], "mode": "test", "created_by": "site:new-site"}


def test_the_default_expiry_is_a_week_and_a_given_one_is_kept(
    client: FlaskClient, seller: SiteCredentials, sandbox: Any
) -> None:
    default = client.post(LINKS, json=link_body(), headers=seller.headers).get_json()
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    given = client.post(
        LINKS, json=link_body(expire_by=when.isoformat()), headers=seller.headers
    ).get_json()

    week = datetime.fromisoformat(default["expire_by"]) - datetime.fromisoformat(
        default["created_at"]
    )
    assert timedelta(days=7) - timedelta(minutes=1) < week <= timedelta(days=7)
    assert datetime.fromisoformat(given["expire_by"]) == when
    assert razorpay_link(sandbox, given["id"])["expire_by"] == int(when.timestamp())


def test_an_admin_makes_a_link_for_the_site_it_names_and_must_name_one(
    client: FlaskClient, seller: SiteCredentials, admin_headers: dict[str, str], db_rows: Any
) -> None:
    made = client.post(LINKS, json=link_body(site_id="new-site"), headers=admin_headers)
    unnamed = client.post(LINKS, json=link_body(), headers=admin_headers)

    assert made.status_code == 201 and made.get_json()["site_id"] == "new-site"
    assert_problem(unnamed, LINKS, 422, "validation_error")
    assert unnamed.get_json()["field"] == "site_id"
    (row,) = db_rows("SELECT created_by FROM payment_links")
    assert row["created_by"] == "admin:tester"


def test_a_site_cannot_make_a_link_for_another_site(
    client: FlaskClient, seller: SiteCredentials, other_site: SiteCredentials, db_rows: Any
) -> None:
    answer = client.post(LINKS, json=link_body(site_id="old-site"), headers=seller.headers)

    assert_problem(answer, LINKS, 403, "forbidden")
    assert db_rows("SELECT order_id FROM payment_links") == []


def test_the_same_idempotency_key_and_body_return_the_first_link_and_another_body_is_refused(
    client: FlaskClient, seller: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    headers = {**seller.headers, "Idempotency-Key": "link-1"}
    first = client.post(LINKS, json=link_body(), headers=headers)
    again = client.post(LINKS, json=link_body(), headers=headers)
    other = client.post(LINKS, json=link_body(amount=59900), headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert_problem(other, LINKS, 422, "idempotency_key_reused")
    assert len(db_rows("SELECT order_id FROM payment_links")) == 1
    assert len(razorpay_links_for(sandbox, first.get_json()["order_id"])) == 1


@pytest.fixture
def chaos(sandbox: Any) -> Iterator[Any]:
    def configure(**knobs: Any) -> None:
        requests.patch(f"{sandbox.url}/_sandbox/config", json=knobs, timeout=5).raise_for_status()

    yield configure
    configure(api_late_answer_rate=0.0, api_timeout_ms=30_000)


def test_a_retry_after_a_lost_answer_records_the_link_razorpay_made_and_makes_no_second(
    make_app: Any, seller: SiteCredentials, sandbox: Any, chaos: Any, db_rows: Any
) -> None:
    client = make_app(razorpay_timeout_seconds=0.3).test_client()
    headers = {**seller.headers, "Idempotency-Key": "lost-link"}
    chaos(api_late_answer_rate=1.0, api_timeout_ms=1000)
    lost = client.post(LINKS, json=link_body(), headers=headers)
    chaos(api_late_answer_rate=0.0)

    assert_problem(lost, LINKS, 503, "gateway_unavailable")
    (pending,) = db_rows("SELECT order_id, status FROM payment_links")
    assert pending["status"] == "creating"
    (made,) = razorpay_links_for(sandbox, pending["order_id"])  # Razorpay did make it

    retried = client.post(LINKS, json=link_body(), headers=headers)

    assert retried.status_code == 201
    assert (retried.get_json()["id"], retried.get_json()["order_id"]) == (
        made["id"],
        pending["order_id"],
    )
    assert len(razorpay_links_for(sandbox, pending["order_id"])) == 1
    assert client.post(LINKS, json=link_body(), headers=headers).status_code == 200


def test_a_reference_id_names_one_link_ever(
    links: PaymentLinks, seller: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    first = links.create(seller.headers)
    second = links.create(seller.headers)
    sdk = razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )

    assert first["order_id"] != second["order_id"]
    with pytest.raises(razorpay.errors.BadRequestError, match="reference ID already attempted"):
        sdk.payment_link.create({"amount": 100, "reference_id": first["order_id"]})
    with pytest.raises(Exception, match="payment_links_pkey"):
        db_rows(
            "INSERT INTO payment_links SELECT * FROM payment_links WHERE order_id = %s",
            first["order_id"],
        )


def _in(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


BAD_BODIES = [
    ("amount", {"amount": 0}),
    ("amount", {"amount": -100}),
    ("amount", {"amount": 499.5}),
    ("amount", {"amount": "49900"}),
    ("expire_by", {"expire_by": _in(-timedelta(hours=1))}),
    ("expire_by", {"expire_by": _in(timedelta(minutes=10))}),
    ("expire_by", {"expire_by": _in(timedelta(days=200))}),
    ("expire_by", {"expire_by": "tomorrow"}),
    ("return_url", {"return_url": "http://old.localhost:8021/thanks"}),
    ("return_url", {"return_url": "https://new.localhost:8022/thanks"}),
    ("return_url", {"return_url": "javascript:alert(1)"}),
    ("customer", {"customer": {"name": "no email"}}),
    ("notify", {"notify": {"email": "yes"}}),
]


@pytest.mark.parametrize(
    ("field", "change"), BAD_BODIES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_BODIES)]
)
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
    client: FlaskClient, seller: SiteCredentials, field: str, change: dict[str, Any], db_rows: Any
) -> None:
    answer = client.post(LINKS, json=link_body(**change), headers=seller.headers)

    assert answer.status_code == 422, answer.get_json()
    assert answer.mimetype == "application/problem+json"
    problem = answer.get_json()
    assert problem.get("field") == field or field in problem.get("errors", {})
    assert db_rows("SELECT order_id FROM payment_links") == []
    assert db_rows("SELECT id FROM orders") == []


def test_the_expiry_is_judged_by_the_services_clock(
    app: Any, seller: SiteCredentials, clock: Clock, db_rows: Any
) -> None:
    client = use_clock(app, clock).test_client()
    soon = _in(timedelta(minutes=30))
    clock.advance(timedelta(minutes=20))  # 10 minutes ahead now

    answer = client.post(LINKS, json=link_body(expire_by=soon), headers=seller.headers)

    assert_problem(answer, LINKS, 422, "validation_error")
    assert answer.get_json()["field"] == "expire_by"


def test_creating_a_link_needs_a_token(client: FlaskClient, seller: SiteCredentials) -> None:
    assert client.post(LINKS, json=link_body()).status_code == 401
