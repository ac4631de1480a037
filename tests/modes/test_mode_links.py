"""Test and live keep payment links apart: a link of one mode is invisible to a service on
the other mode's keys, and Razorpay's payment_link.paid about it is kept for its mode."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from payments_service.razorpay_events import EventContext, retry_stale_events
from tests.actions import PaymentLinks, RazorpayWebhooks, SiteCredentials
from tests.contract.openapi import WEBHOOK, assert_conforms, assert_problem


def test_a_test_mode_link_is_invisible_on_live_keys_and_back_on_test_keys(
    client: FlaskClient,
    sandbox: Any,
    live_app: Flask,
    make_app: Any,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    links = PaymentLinks(client, sandbox)
    link = links.create(new_site.headers)
    assert links.come_back(links.pay(link)).status_code == 303
    path = f"/v1/payment-links/{link['id']}"
    live = live_app.test_client()

    for headers in (new_site.headers, admin_headers):
        assert_problem(
            live.get(path, headers=headers), "/v1/payment-links/{link_id}", 404, "not_found"
        )
        listed = live.get("/v1/payment-links", headers=headers)
        assert_conforms(listed, "/v1/payment-links", 200)
        assert listed.get_json()["items"] == []

    switched_back = make_app().test_client()  # the same settings: test keys again
    fetched = switched_back.get(path, headers=new_site.headers)
    assert_conforms(fetched, "/v1/payment-links/{link_id}", 200)
    assert (fetched.get_json()["status"], fetched.get_json()["order_status"]) == ("paid", "paid")
    listed = switched_back.get("/v1/payment-links", headers=new_site.headers).get_json()
    assert [item["id"] for item in listed["items"]] == [link["id"]]


def test_a_payment_link_paid_event_about_a_test_link_reaching_live_keys_is_kept_for_test(
    app: Flask,
    client: FlaskClient,
    sandbox: Any,
    live_webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
) -> None:
    links = PaymentLinks(client, sandbox)
    link = links.create(new_site.headers)
    links.pay(link)  # the buyer paid and closed the tab: we hold only the link's id
    (event,) = [
        e for e in live_webhooks.events_for(link["order_id"]) if e["event"] == "payment_link.paid"
    ]

    answer = live_webhooks.deliver(event)

    assert_conforms(answer, WEBHOOK, 200)
    assert answer.get_json()["status"] == "other_mode"
    assert db_rows("SELECT mode, status, order_id FROM razorpay_events") == [
        {"mode": "test", "status": "other_mode", "order_id": link["order_id"]}
    ]
    assert db_rows("SELECT mode, status FROM orders") == [{"mode": "test", "status": "created"}]
    assert db_rows("SELECT status FROM payment_links") == [{"status": "created"}]
    assert db_rows("SELECT id FROM payments UNION ALL SELECT id FROM enrollments") == []
    assert db_rows("SELECT id FROM notifications") == []

    # Back on test keys, the worker applies what arrived meanwhile.
    assert retry_stale_events(EventContext.of(app.extensions["payments_service"]), timedelta(0))
    assert db_rows("SELECT status FROM razorpay_events") == [{"status": "applied"}]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert db_rows("SELECT status FROM payment_links") == [{"status": "paid"}]
