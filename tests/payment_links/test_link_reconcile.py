"""Reconciliation of payment links: a paid link whose webhooks were lost (and whose buyer
never came back) is healed by the worker's pass, and a window's reconcile applies a link
payment whose order the service had not learnt yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from payments_service.reconcile import heal_open_orders
from tests.actions import PaymentLinks, SiteCredentials, order_counts


def test_reconcile_applies_a_paid_link_whose_webhooks_were_lost(
    app: Any,
    links: PaymentLinks,
    seller: SiteCredentials,
    other_site: SiteCredentials,
    db_rows: Any,
) -> None:
    link = links.create(seller.headers)
    links.pay(link)  # no callback, and no webhook ever arrives
    services = app.extensions["payments_service"]
    assert order_counts(db_rows, link["order_id"]) == (0, 0, 0)

    report = heal_open_orders(services.db, services.gateway, older_than=timedelta(0))
    again = heal_open_orders(services.db, services.gateway, older_than=timedelta(0))

    assert report.updated >= 1
    assert again.updated == 0  # checked within the hour: not asked again
    assert order_counts(db_rows, link["order_id"]) == (1, 1, 2)
    assert db_rows("SELECT status FROM payment_links") == [{"status": "paid"}]
    (enrollment,) = db_rows("SELECT granted_by FROM enrollments")
    assert enrollment["granted_by"] == "reconcile"


def test_reconciling_a_window_applies_a_link_payment_whose_order_we_did_not_know(
    app: Any,
    links: PaymentLinks,
    seller: SiteCredentials,
    client: Any,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    link = links.create(seller.headers)
    links.pay(link)
    now = datetime.now(UTC)
    window = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }

    answer = client.post("/v1/reconcile", json=window, headers=admin_headers)

    assert answer.status_code == 200, answer.get_json()
    assert order_counts(db_rows, link["order_id"])[:2] == (1, 1)
