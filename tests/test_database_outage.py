"""PostgreSQL stopped for real in the middle of a run: every endpoint answers 503
`database_unavailable` (problem+json, Retry-After) with one log line and no traceback,
/metrics still answers and says the database is down, /readyz says 503, nothing is
half-stored, and once the server is back the same calls work with no restart of ours.

The server is one of the test module's own (tests/stoppable_postgres.py), stopped with
`pg_ctl stop -m fast` as an operator or a failover would, and started again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg2
import pytest
from flask import Flask
from flask.testing import FlaskClient

from payments_service import create_app
from payments_service.auth import mint_admin_token
from payments_service.migrations import apply_migrations
from payments_service.settings import Settings
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials, order_body, register_site
from tests.conftest import ADMIN_SECRET
from tests.contract.openapi import (
    assert_conforms,
    assert_problem,
    documented_operations,
    follow,
    schema_errors,
)
from tests.stoppable_postgres import StoppablePostgres, stoppable_postgres

ORIGIN = "http://outage.localhost:8030"
# The operations that never read the database, so never answer database_unavailable:
# /metrics answers 200 without the database's figures and /readyz its own plain 503.
WITHOUT_DATABASE = {
    "/paths/~1/get",
    "/paths/~1healthz/get",
    "/paths/~1openapi.yaml/get",
    "/paths/~1metrics/get",
}
WITHOUT_DATABASE |= {"/paths/~1readyz/get", "/webhooks/siteNotification/post"}


@pytest.fixture(scope="module")
def postgres() -> Iterator[StoppablePostgres]:
    with stoppable_postgres() as server:
        yield server


@dataclass(frozen=True)
class Shop:
    """A service on the stoppable server, with a site, an admin token and a paid order
    whose webhooks have not arrived yet (the buyer closed the tab)."""

    app: Flask
    client: FlaskClient
    dsn: str
    site: SiteCredentials
    admin: dict[str, str]
    order: dict[str, Any]
    checkout_result: dict[str, Any]
    captured: dict[str, Any]  # the payment.captured event Razorpay will (re)deliver

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with closing(psycopg2.connect(self.dsn)) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())


@pytest.fixture
def shop(postgres: StoppablePostgres, sandbox: Any) -> Iterator[Shop]:
    dsn = postgres.create_database(f"outage_{uuid.uuid4().hex[:12]}")
    apply_migrations(dsn, mode="test")
    settings = Settings(
        admin_jwt_secret=ADMIN_SECRET,
        database_url=dsn,
        razorpay_api_base_url=sandbox.url,
        razorpay_timeout_seconds=2.0,
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    try:
        client = app.test_client()
        site = register_site(app, "outage-site", ORIGIN)
        checkout = Checkout(client, sandbox)
        order = checkout.create_order(site)
        result = checkout.pay(order)
        captured = RazorpayWebhooks(client, sandbox).event(
            order["razorpay_order_id"], "payment.captured"
        )
        admin = _admin_headers(app)
        yield Shop(app, client, dsn, site, admin, order, result, captured)
    finally:
        if not postgres.is_running():
            postgres.start()
        app.extensions["payments_service"].db.close()


def _admin_headers(app: Flask) -> dict[str, str]:
    settings = app.extensions["payments_service"].settings
    return {"Authorization": f"Bearer {mint_admin_token(settings, 'ops', timedelta(hours=1))}"}


def _calls(shop: Shop) -> dict[str, tuple[str, Callable[[], Any]]]:
    """One call of every kind: (documented path, call)."""
    client, webhooks = shop.client, RazorpayWebhooks(shop.client, None)
    new_order = {**shop.site.headers, "Idempotency-Key": "cart-during-outage"}
    # Another course: by the end the buyer owns the first one, which would be already_owned.
    another_course = order_body(product={"sku": "data-201", "name": "Data Analysis 201"})
    return {
        "site token, read": (
            "/v1/orders",
            lambda: client.get("/v1/orders", headers=shop.site.headers),
        ),
        "site token, write": (
            "/v1/orders",
            lambda: client.post("/v1/orders", json=another_course, headers=new_order),
        ),
        "admin token": (
            "/v1/webhook-events",
            lambda: client.get("/v1/webhook-events", headers=shop.admin),
        ),
        "verify (no token, from the site's page)": (
            "/v1/payments/verify",
            lambda: client.post(
                "/v1/payments/verify", json=shop.checkout_result, headers={"Origin": ORIGIN}
            ),
        ),
        "signed webhook": ("/v1/webhooks/razorpay", lambda: webhooks.deliver(shop.captured)),
    }


def _app_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def _assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert not any("Traceback" in r.getMessage() for r in caplog.records)


def test_every_endpoint_answers_503_while_the_database_is_stopped_and_works_once_it_is_back(
    shop: Shop, postgres: StoppablePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    calls = _calls(shop)
    postgres.stop()

    for name, (path, call) in calls.items():
        caplog.clear()
        response = call()
        assert_problem(response, path, 503, "database_unavailable")
        assert response.headers["Retry-After"].isdigit(), name
        assert "127.0.0.1" not in response.get_data(as_text=True), name  # no internals
        warnings = _app_warnings(caplog)
        assert [r.getMessage().split(":")[0] for r in warnings] == ["database unavailable"], name
        _assert_no_traceback(caplog)

    caplog.clear()
    metrics = shop.client.get("/metrics")
    assert metrics.status_code == 200
    assert "payments_database_up 0.0" in metrics.get_data(as_text=True)
    ready = shop.client.get("/readyz")
    assert_conforms(ready, "/readyz", 503)
    assert ready.get_json() == {"status": "unavailable", "mode": "test", "database": "unreachable"}
    assert ready.headers["Retry-After"].isdigit()
    _assert_no_traceback(caplog)

    postgres.start()

    assert calls["site token, read"][1]().status_code == 200
    assert calls["admin token"][1]().status_code == 200
    redelivered = calls["signed webhook"][1]()  # Razorpay retries what was answered 503
    assert redelivered.status_code == 200
    assert redelivered.get_json()["status"] == "applied"
    assert redelivered.get_json()["duplicate"] is False
    assert calls["signed webhook"][1]().get_json()["duplicate"] is True
    verified = calls["verify (no token, from the site's page)"][1]()
    assert verified.status_code == 200
    assert verified.get_json()["order"]["status"] == "paid"
    assert calls["site token, write"][1]().status_code == 201  # the key was never used
    assert "payments_database_up 1.0" in shop.client.get("/metrics").get_data(as_text=True)
    assert shop.client.get("/readyz").status_code == 200
    assert shop.rows("SELECT count(*) FROM razorpay_events WHERE id = %s", shop.captured["id"]) == [
        (1,)
    ]
    assert shop.rows("SELECT status, amount_paid FROM orders WHERE id = %s", shop.order["id"]) == [
        ("paid", 49900)
    ]
    assert shop.rows("SELECT count(*) FROM enrollments") == [(1,)]


def test_a_webhook_in_flight_when_the_database_stops_is_503_stores_nothing_and_applies_once(
    shop: Shop, postgres: StoppablePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    webhooks = RazorpayWebhooks(shop.client, None)
    answers: list[Any] = []
    with closing(psycopg2.connect(shop.dsn)) as holder, holder.cursor() as cur:
        # Hold the order's row lock, so the delivery's transaction waits inside the handler.
        cur.execute("SELECT id FROM orders WHERE id = %s FOR UPDATE", (shop.order["id"],))
        delivery = threading.Thread(target=lambda: answers.append(webhooks.deliver(shop.captured)))
        delivery.start()
        _wait_for_a_session_waiting_on_a_lock(shop.dsn)
        postgres.stop()  # ends every session: the lock holder's and the delivery's
    delivery.join(timeout=30)

    (answer,) = answers
    assert_problem(answer, "/v1/webhooks/razorpay", 503, "database_unavailable")
    assert answer.headers["Retry-After"].isdigit()
    warnings = _app_warnings(caplog)
    assert [r.getMessage().split(":")[0] for r in warnings] == ["database unavailable"]
    _assert_no_traceback(caplog)

    postgres.start()
    assert shop.rows("SELECT count(*) FROM razorpay_events") == [(0,)]  # nothing half-stored
    assert shop.rows("SELECT count(*) FROM payments") == [(0,)]

    again = webhooks.deliver(shop.captured)
    assert again.status_code == 200
    assert again.get_json() == {"id": shop.captured["id"], "status": "applied", "duplicate": False}
    assert webhooks.deliver(shop.captured).get_json()["duplicate"] is True
    assert shop.rows("SELECT status FROM payments") == [("captured",)]
    assert shop.rows("SELECT count(*) FROM enrollments") == [(1,)]


def test_a_restart_between_requests_goes_unnoticed(shop: Shop, postgres: StoppablePostgres) -> None:
    assert shop.client.get("/v1/orders", headers=shop.site.headers).status_code == 200
    postgres.stop()  # the pooled connections now lead nowhere
    postgres.start()

    after = shop.client.get("/v1/orders", headers=shop.site.headers)

    assert after.status_code == 200, after.get_json()


def _wait_for_a_session_waiting_on_a_lock(dsn: str) -> None:
    """Until the delivery's transaction is blocked on the row lock (bounded: 20 s)."""
    deadline = time.monotonic() + 20
    with closing(psycopg2.connect(dsn)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cur.fetchone() == (1,):
                    return
                time.sleep(0.02)
    raise AssertionError("the webhook delivery never waited on the order's lock")


def test_every_operation_that_reads_the_database_documents_503_database_unavailable() -> None:
    problem = {
        "type": "urn:payments-service:problem:database_unavailable",
        "title": "Database unavailable",
        "status": 503,
        "detail": "the database cannot be reached right now; retry shortly",
        "code": "database_unavailable",
        "request_id": "7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e",
    }
    undocumented = []
    for pointer, operation in documented_operations():
        if pointer in WITHOUT_DATABASE:
            continue
        if "503" not in operation["responses"]:
            undocumented.append(pointer)
            continue
        described_pointer, described = follow(f"{pointer}/responses/503")
        assert "Retry-After" in described["headers"], pointer
        schema = f"{described_pointer}/content/application~1problem+json/schema"
        assert schema_errors(problem, schema) == [], pointer
    assert undocumented == []
