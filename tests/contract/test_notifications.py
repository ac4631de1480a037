"""What the service tells sites, as the admin's notification endpoints list it and as a
site's callback receives it, is what openapi.yaml declares."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any

import psycopg
import requests
from flask import Flask

from payments_service.notifications import deliver_due
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials, register_site
from tests.contract.openapi import (
    CALLBACK_BODY,
    NOTIFICATIONS,
    REDELIVER,
    SITE_NOTIFICATION,
    assert_conforms,
    assert_problem,
    configure_sandbox,
    lookup,
    schema_errors,
    settle_refund_at_razorpay,
)
from tests.subscription_actions import Memberships


def deliver_every_callback(app: Flask) -> None:
    """Run the worker's delivery until nothing is due (one order's events go one at a time)."""
    with requests.Session() as session:
        db = app.extensions["payments_service"].db
        while deliver_due(db, session, timeout=(0.5, 0.5)).delivered:
            pass


def callback_signature_holds(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """X-Payments-Signature as documented: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    match = re.fullmatch(r"t=([0-9]+),v1=([0-9a-f]{64})", headers["X-Payments-Signature"])
    assert match, headers["X-Payments-Signature"]
    sent_at, digest = match.groups()
    expected = hmac.new(secret.encode(), f"{sent_at}.".encode() + body, hashlib.sha256)
    recent = abs(datetime.now(UTC).timestamp() - int(sent_at)) < 300
    return recent and hmac.compare_digest(expected.hexdigest(), digest)


def test_real_notification_responses_match_the_contract(
    app: Flask,
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    dsn: str,
) -> None:
    hooked = register_site(
        app, "hooked-site", "http://hooked.localhost", "https://hooked.example/payments/callback"
    )
    checkout.buy(new_site)  # new_site has no callback URL: only hooked-site hears of it
    order = checkout.buy(hooked, product={"sku": "data-201", "name": "Data 201"})

    listed = client.get(NOTIFICATIONS, headers=admin_headers)
    assert_conforms(listed, NOTIFICATIONS, 200)
    items = listed.get_json()["items"]
    assert [(n["site_id"], n["event_type"]) for n in items] == [
        ("hooked-site", "enrollment.granted"),
        ("hooked-site", "order.paid"),
        ("hooked-site", "enrollment.granted"),
    ]
    assert {(n["status"], n["attempts"]) for n in items} == {("pending", 0)}
    for notification in items:
        body = json.loads(notification["body"])
        assert not schema_errors(body, SITE_NOTIFICATION), body
        assert (body["id"], body["type"]) == (notification["id"], notification["event_type"])
        created = (body["created_at"], notification["created_at"])
        assert len({datetime.fromisoformat(at) for at in created}) == 1
    paid = json.loads(items[1]["body"])["data"]
    assert (paid["order"]["id"], paid["payment"]["id"]) == (order["id"], order["payment_id"])

    page = client.get(f"{NOTIFICATIONS}?limit=2", headers=admin_headers)
    assert_conforms(page, NOTIFICATIONS, 200)
    cursor = page.get_json()["next_cursor"]
    assert cursor is not None
    last = client.get(f"{NOTIFICATIONS}?limit=2&cursor={cursor}", headers=admin_headers)
    assert_conforms(last, NOTIFICATIONS, 200)
    assert [n["id"] for n in last.get_json()["items"]] == [items[2]["id"]]
    assert last.get_json()["next_cursor"] is None

    for query, expected in (
        ("event_type=enrollment.granted", [items[0]["id"], items[2]["id"]]),
        ("status=pending&event_type=order.paid&site_id=hooked-site", [items[1]["id"]]),
        ("site_id=new-site", []),
        ("status=delivered", []),
    ):
        filtered = client.get(f"{NOTIFICATIONS}?{query}", headers=admin_headers)
        assert_conforms(filtered, NOTIFICATIONS, 200)
        assert [n["id"] for n in filtered.get_json()["items"]] == expected, query

    with psycopg.connect(dsn) as conn:  # the site stayed down for 24 hours
        conn.execute(
            "UPDATE notifications SET status = 'dead', attempts = 38, last_status_code = 503,"
            " last_error = 'answered HTTP 503' WHERE id = %s",
            (items[1]["id"],),
        )
    dead = client.get(f"{NOTIFICATIONS}?status=dead", headers=admin_headers)
    assert_conforms(dead, NOTIFICATIONS, 200)
    assert [n["id"] for n in dead.get_json()["items"]] == [items[1]["id"]]
    redeliver = f"{NOTIFICATIONS}/{items[1]['id']}/redeliver"
    redelivered = client.post(redeliver, headers=admin_headers)
    assert_conforms(redelivered, REDELIVER, 200)
    again = redelivered.get_json()
    assert (again["status"], again["attempts"], again["last_status_code"]) == ("pending", 38, 503)
    assert again["body"] == items[1]["body"]


def test_notification_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    site, admin = new_site.headers, admin_headers
    # The token is checked first, then its role, then the query.
    assert_problem(client.get(NOTIFICATIONS), NOTIFICATIONS, 401, "unauthorized")
    assert_problem(client.get(f"{NOTIFICATIONS}?status=lost"), NOTIFICATIONS, 401, "unauthorized")
    assert_problem(client.get(NOTIFICATIONS, headers=site), NOTIFICATIONS, 403, "forbidden")
    assert_problem(
        client.get(f"{NOTIFICATIONS}?status=lost", headers=site), NOTIFICATIONS, 403, "forbidden"
    )
    for query in (
        "status=lost",
        "status=failed",
        "event_type=order.created",
        "limit=0",
        "limit=201",
        "cursor=garbage",
    ):
        assert_problem(
            client.get(f"{NOTIFICATIONS}?{query}", headers=admin),
            NOTIFICATIONS,
            422,
            "validation_error",
        )

    unknown = f"{NOTIFICATIONS}/evt_Unknown0000001/redeliver"
    assert_problem(client.post(unknown), REDELIVER, 401, "unauthorized")
    assert_problem(client.post(unknown, headers=site), REDELIVER, 403, "forbidden")
    assert_problem(client.post(unknown, headers=admin), REDELIVER, 404, "not_found")


def test_real_site_callbacks_match_the_webhook_contract(
    app: Flask,
    client: Any,
    checkout: Checkout,
    sandbox: Any,
    webhooks: RazorpayWebhooks,
    admin_headers: dict[str, str],
    callback_url: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, received = callback_url
    site = register_site(app, "hooked-site", "http://hooked.localhost", url)
    order = checkout.buy(site)  # order.paid, enrollment.granted
    unpaid = checkout.create_order(site, product={"sku": "data-201", "name": "Data 201"})
    checkout.pay(unpaid, outcome="failure", error_reason="card_declined")
    webhooks.deliver(webhooks.event(unpaid["razorpay_order_id"], "payment.failed"))
    configure_sandbox(sandbox, refund_outcome="pending")
    doomed = checkout.refund(site.headers, payment_id=order["payment_id"], amount=10000)
    settle_refund_at_razorpay(sandbox, doomed.get_json()["razorpay_refund_id"], "failed")
    (failed,) = [
        e
        for e in webhooks.events_for(doomed.get_json()["razorpay_refund_id"])
        if e["event"] == "refund.failed"
    ]
    webhooks.deliver(failed)  # refund.failed
    configure_sandbox(sandbox, refund_outcome="processed")
    rest = checkout.refund(site.headers, order_id=order["id"])  # refund.processed, revoked
    assert rest.get_json()["revoked_access"] is True
    memberships = Memberships(client, sandbox, admin_headers, webhooks)
    sub = memberships.buy(site, memberships.plan())  # subscription.activated, .charged
    memberships.charges_fail(sub)
    memberships.advance(to=int(datetime.fromisoformat(sub["charge_at"]).timestamp()))
    memberships.advance(days=3)
    memberships.deliver_new(sub)  # subscription.halted
    memberships.post(site.headers, sub, "cancel")  # subscription.cancelled
    memberships.rewind()  # the sandbox clock back to the real time, for later tests

    deliver_every_callback(app)

    bodies = {}
    for headers, raw in received:
        body = json.loads(raw)
        assert not schema_errors(body, CALLBACK_BODY), body
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Payments-Event-Id"] == body["id"]
        assert callback_signature_holds(site.callback_secret, headers, raw)
        bodies[body["id"]] = raw
    types = [json.loads(raw)["type"] for raw in bodies.values()]
    assert len(types) == len(received)  # each delivered once
    assert set(types) == set(lookup("/components/schemas/NotificationEventType")["enum"])
    about_order = [t for t in types if t.startswith(("order.", "refund."))]
    assert about_order == ["order.paid", "refund.failed", "refund.processed"]

    listed = client.get(NOTIFICATIONS, headers=admin_headers)
    assert_conforms(listed, NOTIFICATIONS, 200)
    items = listed.get_json()["items"]
    assert {(n["status"], n["last_status_code"]) for n in items} == {("delivered", 204)}
    assert {n["id"]: n["body"].encode() for n in items} == bodies  # byte for byte
