"""A reconciliation pass heals a purchase whose verify and webhooks were all lost, changes
nothing when rerun, and leaves payments of orders we did not create unmatched unless
importing."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.actions import Checkout, SiteCredentials
from tests.reconciliation.old_site import _old_site_purchase, _reconcile


def test_one_pass_heals_a_purchase_whose_verify_and_webhooks_were_all_lost(
    rapp: Flask,
    shop: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    order = shop.create_order(new_site)
    shop.pay(order)  # the tab closes; the sandbox delivers no webhooks

    report = _reconcile(rapp, admin_headers)

    assert report["seen"] == 1 and report["updated"] == 1
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert db_rows("SELECT granted_by FROM enrollments") == [{"granted_by": "reconcile"}]


def test_rerunning_a_pass_changes_nothing(
    rapp: Flask,
    shop: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    for email in ("a@example.com", "b@example.com"):
        shop.pay(shop.create_order(new_site, customer={"email": email}))
    failed = shop.create_order(new_site, customer={"email": "c@example.com"})
    shop.pay(failed, outcome="failure")
    first = _reconcile(rapp, admin_headers)
    before = db_rows("SELECT id, status, updated_at FROM payments ORDER BY id")

    second = _reconcile(rapp, admin_headers)

    assert (first["seen"], first["updated"], first["unchanged"]) == (3, 3, 0)
    assert (second["seen"], second["updated"], second["unchanged"]) == (3, 0, 3)
    assert db_rows("SELECT id, status, updated_at FROM payments ORDER BY id") == before
    assert len(db_rows("SELECT id FROM enrollments")) == 2


def test_payments_of_orders_we_did_not_create_are_unmatched_without_import(
    rapp: Flask, own_sandbox: Any, admin_headers: dict[str, str], db_rows: Any
) -> None:
    _old_site_purchase(own_sandbox, "old@example.com", notes={"sku": "python-101"})
    report = _reconcile(rapp, admin_headers)
    assert (report["seen"], report["unmatched"], report["adopted"]) == (1, 1, 0)
    assert db_rows("SELECT id FROM orders") == []
