from __future__ import annotations

import json
from typing import Any

import pytest
import razorpay
import requests

from tests.actions import Checkout, SiteCredentials, order_body


def test_order_is_created_at_razorpay_and_returns_checkout_options(
    client: Any, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    response = client.post("/v1/orders", json=order_body(), headers=new_site.headers)

    assert response.status_code == 201
    order = response.get_json()
    assert order["status"] == "created"
    assert order["amount"] == 49900 and order["currency"] == "INR"
    assert order["customer"]["email"] == "asha@example.com"
    options = order["checkout"]
    assert options["key"] == sandbox.config.key_id
    assert options["order_id"] == order["razorpay_order_id"]
    assert options["amount"] == 49900 and options["currency"] == "INR"
    assert options["description"] == "Python 101"
    assert options["prefill"] == {
        "name": "Asha",
        "email": "asha@example.com",
        "contact": "+919876543210",
    }
    assert "secret" not in str(options).lower()

    sdk = razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )
    at_razorpay = sdk.order.fetch(order["razorpay_order_id"])
    assert at_razorpay["amount"] == 49900
    assert at_razorpay["receipt"] == order["id"]
    assert at_razorpay["notes"]["sku"] == "python-101"
    rows = db_rows("SELECT site_id, amount, status, customer_email FROM orders")
    assert rows == [
        {
            "site_id": "new-site",
            "amount": 49900,
            "status": "created",
            "customer_email": "asha@example.com",
        }
    ]


def test_same_idempotency_key_and_body_returns_the_same_order(
    client: Any, new_site: SiteCredentials, db_rows: Any
) -> None:
    headers = {**new_site.headers, "Idempotency-Key": "cart-123"}
    first = client.post("/v1/orders", json=order_body(), headers=headers)
    second = client.post("/v1/orders", json=order_body(), headers=headers)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert len(db_rows("SELECT id FROM orders")) == 1


def test_same_idempotency_key_with_another_body_is_refused(
    client: Any, new_site: SiteCredentials, db_rows: Any
) -> None:
    headers = {**new_site.headers, "Idempotency-Key": "cart-123"}
    client.post("/v1/orders", json=order_body(), headers=headers)
    response = client.post("/v1/orders", json=order_body(amount=59900), headers=headers)

    assert response.status_code == 422
    assert response.get_json()["code"] == "idempotency_key_reused"
    assert [r["amount"] for r in db_rows("SELECT amount FROM orders")] == [49900]


def test_idempotency_keys_belong_to_one_site(
    client: Any, new_site: SiteCredentials, old_site: SiteCredentials, db_rows: Any
) -> None:
    key = {"Idempotency-Key": "cart-1"}
    a = client.post("/v1/orders", json=order_body(), headers={**new_site.headers, **key})
    b = client.post("/v1/orders", json=order_body(), headers={**old_site.headers, **key})
    assert a.status_code == b.status_code == 201
    assert a.get_json()["id"] != b.get_json()["id"]


def test_orders_without_a_key_are_distinct(client: Any, new_site: SiteCredentials) -> None:
    a = client.post("/v1/orders", json=order_body(), headers=new_site.headers)
    b = client.post("/v1/orders", json=order_body(), headers=new_site.headers)
    assert a.get_json()["id"] != b.get_json()["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order_body(amount=99), "amount"),
        (order_body(amount=499.5), "amount"),
        (order_body(amount="49900"), "amount"),
        (order_body(amount=True), "amount"),
        (order_body(currency="XYZ"), "currency"),
        (order_body(currency="inr"), "currency"),
        (order_body(receipt="r" * 41), "receipt"),
        (order_body(notes={f"k{i}": "v" for i in range(13)}), "notes"),
        (order_body(notes={"k": "v" * 257}), "notes"),
        (order_body(notes={"k": {"nested": 1}}), "notes"),
        (order_body(product={"sku": "Python 101!", "name": "x"}), "product"),
        (order_body(customer={"email": "not-an-email"}), "customer"),
        (order_body(customer={"email": "a@b.co", "contact": "call me"}), "customer"),
        ({k: v for k, v in order_body().items() if k != "product"}, "product"),
        (order_body(surprise=1), "surprise"),
    ],
)
def test_bad_order_bodies_name_the_field_and_write_nothing(
    client: Any, new_site: SiteCredentials, db_rows: Any, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/orders", json=body, headers=new_site.headers)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "validation_error"
    assert field in problem["errors"]
    assert db_rows("SELECT id FROM orders") == []


@pytest.mark.parametrize("written", ["49900.0", "4.99e4", "499E2", "49900.000"])
def test_a_whole_amount_written_with_a_fraction_or_exponent_is_that_integer(
    client: Any, new_site: SiteCredentials, db_rows: Any, written: str
) -> None:
    # JSON Schema (and so openapi.yaml's `type: integer`) counts 49900.0 an integer.
    body = json.dumps(order_body(amount=0)).replace('"amount": 0', f'"amount": {written}')

    response = client.post(
        "/v1/orders", data=body, headers={**new_site.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount"] == 49900
    assert db_rows("SELECT amount FROM orders") == [{"amount": 49900}]


@pytest.mark.parametrize("written", ["49900.5", "49900.0000000000001", "4.99001e4"])
def test_an_amount_with_a_fraction_is_refused_exactly_as_written(
    client: Any, new_site: SiteCredentials, db_rows: Any, written: str
) -> None:
    # 49900.0000000000001 is the float 49900.0: the text is read, not a float made of it.
    body = json.dumps(order_body(amount=0)).replace('"amount": 0', f'"amount": {written}')

    response = client.post(
        "/v1/orders", data=body, headers={**new_site.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert "amount" in response.get_json()["errors"]
    assert db_rows("SELECT id FROM orders") == []


def test_malformed_json_is_a_400_problem(client: Any, new_site: SiteCredentials) -> None:
    response = client.post(
        "/v1/orders",
        data=b'{"amount": 49900,',
        headers={**new_site.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "bad_request"


def test_non_json_body_is_a_415_problem(client: Any, new_site: SiteCredentials) -> None:
    response = client.post(
        "/v1/orders",
        data="amount=49900",
        headers={**new_site.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.get_json()["code"] == "unsupported_media_type"


def test_razorpay_down_is_a_503_and_a_retry_with_the_key_succeeds(
    make_app: Any, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    with socket_that_refuses() as dead_url:
        down = make_app(razorpay_api_base_url=dead_url).test_client()
        headers = {**new_site.headers, "Idempotency-Key": "retry-me"}
        response = down.post("/v1/orders", json=order_body(), headers=headers)

    assert response.status_code == 503
    assert response.get_json()["code"] == "gateway_unavailable"
    assert db_rows("SELECT id FROM orders") == []
    up = make_app().test_client()
    retried = up.post("/v1/orders", json=order_body(), headers=headers)
    assert retried.status_code == 201


def test_razorpay_timing_out_is_a_503_and_writes_nothing(
    make_app: Any, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json={"latency_ms": 1500}, timeout=5)
    slow = make_app(razorpay_timeout_seconds=0.3).test_client()
    response = slow.post("/v1/orders", json=order_body(), headers=new_site.headers)
    assert response.status_code == 503
    assert db_rows("SELECT id FROM orders") == []


def test_sites_see_only_their_own_orders_and_admins_see_all(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    mine = checkout.create_order(new_site)
    theirs = checkout.create_order(old_site)

    assert client.get(f"/v1/orders/{theirs['id']}", headers=new_site.headers).status_code == 404
    assert client.get(f"/v1/orders/{mine['id']}", headers=new_site.headers).status_code == 200
    listed = client.get("/v1/orders", headers=new_site.headers).get_json()["items"]
    assert [o["id"] for o in listed] == [mine["id"]]
    everything = client.get("/v1/orders", headers=admin_headers).get_json()["items"]
    assert {o["id"] for o in everything} == {mine["id"], theirs["id"]}
    only_old = client.get("/v1/orders?site_id=old-site", headers=admin_headers).get_json()
    assert [o["id"] for o in only_old["items"]] == [theirs["id"]]


def test_order_list_pages_with_a_cursor_and_filters(
    client: Any, checkout: Checkout, new_site: SiteCredentials
) -> None:
    made = [checkout.create_order(new_site)["id"] for _ in range(5)]
    checkout.create_order(new_site, customer={"email": "other@example.com"})

    seen: list[str] = []
    url = "/v1/orders?limit=2&customer_email=ASHA@example.com"
    while url:
        page = client.get(url, headers=new_site.headers).get_json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        url = (
            f"/v1/orders?limit=2&customer_email=asha@example.com&cursor={cursor}" if cursor else ""
        )
    assert seen == list(reversed(made))
    bad = client.get("/v1/orders?cursor=garbage", headers=new_site.headers)
    assert bad.status_code == 422


class socket_that_refuses:
    """A loopback URL where nothing listens."""

    def __enter__(self) -> str:
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        return None
