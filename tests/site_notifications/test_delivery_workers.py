"""Delivery across workers and by hand: a worker dying mid-delivery loses nothing, two workers
never deliver one notification at once (and skip what another holds), an admin redelivers a
dead one with the same body, a deactivated site hears nothing more."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from flask import Flask

from payments_service.db import notifications as notifications_sql
from payments_service.notifications import LEASE, deliver_due
from tests.actions import Checkout, Clock, SiteCredentials
from tests.site_notifications.receiving import FAST, Receiver


def test_a_worker_dying_mid_delivery_loses_nothing(
    app: Flask,
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
    clock: Clock,
    dsn: str,
) -> None:
    import psycopg

    checkout.buy(sites["new-site"])
    with psycopg.connect(dsn) as conn:  # a worker leased them, then was killed
        conn.execute(
            "UPDATE notifications SET attempts = 1, next_attempt_at = %s + interval '60 seconds'",
            (clock.now,),
        )
    assert deliver().delivered == 0
    clock.advance(timedelta(seconds=61))
    assert deliver().delivered == 3


def test_two_workers_never_deliver_the_same_notification_at_once(
    app: Flask,
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    db_rows: Any,
) -> None:
    for n in range(8):
        checkout.buy(sites["new-site"], customer={"email": f"b{n}@example.com"})
    receiver.delay = 0.05
    services = app.extensions["payments_service"]

    def work() -> None:
        with requests.Session() as session:
            while deliver_due(services.db, session, limit=3, timeout=FAST).delivered:
                pass

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    ids = [r["headers"]["X-Payments-Event-Id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 24
    assert db_rows("SELECT DISTINCT attempts FROM notifications") == [{"attempts": 1}]


def test_a_worker_skips_what_another_worker_holds_instead_of_waiting_or_taking_it(
    app: Flask,
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    db_rows: Any,
) -> None:
    for n in range(2):  # 3 notifications each, each about its own subject
        checkout.buy(sites["new-site"], customer={"email": f"b{n}@example.com"})
    everything = {row["id"] for row in db_rows("SELECT id FROM notifications")}
    assert len(everything) == 6
    db = app.extensions["payments_service"].db
    now = datetime.now(UTC)

    # The first worker's claim stays open (its rows locked) while the second one runs.
    # Were the rows not skipped, the second claim would wait on those locks until the
    # statement timeout fails it, or take them once they were released.
    with db.transaction() as first:
        held = {d.notification.id for d in notifications_sql.claim_due(first, now, now + LEASE, 3)}
        assert len(held) == 3
        with requests.Session() as session:
            second = deliver_due(db, session, timeout=FAST)

    assert second.delivered == 3
    delivered = {r["headers"]["X-Payments-Event-Id"] for r in receiver.received}
    assert delivered == everything - held
    leased = db_rows(
        "SELECT id, status, attempts FROM notifications WHERE id = ANY(%s)", list(held)
    )
    assert sorted(leased, key=lambda row: row["id"]) == [
        {"id": notification_id, "status": "pending", "attempts": 1}
        for notification_id in sorted(held)
    ]
    with requests.Session() as session:  # leased to the first worker: nobody else takes them
        assert deliver_due(db, session, timeout=FAST).delivered == 0
    assert len(receiver.received) == 3


def test_a_dead_notification_is_redelivered_by_an_admin_with_the_same_body(
    client: Any,
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
    admin_headers: dict[str, str],
    dsn: str,
) -> None:
    import psycopg

    checkout.buy(sites["new-site"])
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE notifications SET status = 'dead' WHERE event_type = 'order.paid'")
        (original,) = (
            conn.execute(
                "SELECT id, body FROM notifications WHERE event_type = 'order.paid'"
            ).fetchone(),
        )
    dead = client.get("/v1/notifications?status=dead", headers=admin_headers).get_json()
    assert [n["id"] for n in dead["items"]] == [original[0]]

    answer = client.post(f"/v1/notifications/{original[0]}/redeliver", headers=admin_headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "pending"
    deliver()

    (record,) = [r for r in receiver.received if r["headers"]["X-Payments-Event-Id"] == original[0]]
    assert record["body"] == original[1].encode()
    assert (
        client.post("/v1/notifications/evt_nope/redeliver", headers=admin_headers).status_code
        == 404
    )
    assert client.get("/v1/notifications", headers=sites["new-site"].headers).status_code == 403


def test_a_deactivated_site_stops_receiving(
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
    dsn: str,
    db_rows: Any,
) -> None:
    import psycopg

    checkout.buy(sites["new-site"])
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE sites SET is_active = false WHERE id = 'old-site'")
    deliver()
    assert {r["path"] for r in receiver.received} == {"/new-site"}
    assert db_rows("SELECT status FROM notifications WHERE site_id = 'old-site'") == [
        {"status": "cancelled"}
    ]
