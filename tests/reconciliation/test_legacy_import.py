"""Importing the old site's purchases: each with its enrollment, one of a product its buyer
owns flagged and never refunded, the SKU derived from a mapping file, and a dry run that
writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from payments_service.payments import UNSAID_REPEAT
from payments_service.worker import run_pass
from tests.actions import Checkout, SiteCredentials
from tests.reconciliation.old_site import _cli_time, _old_site_purchase


def test_an_old_site_purchase_is_imported_with_its_enrollment(
    rapp: Flask, own_sandbox: Any, old_site: SiteCredentials, db_rows: Any
) -> None:
    order = _old_site_purchase(own_sandbox, "Old.Buyer@Example.com", notes={"sku": "python-101"})

    result = rapp.test_cli_runner().invoke(
        args=[
            "reconcile",
            "--from",
            _cli_time(-1),
            "--to",
            _cli_time(1),
            "--import-site",
            "old-site",
        ]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["adopted"] == 1
    (stored,) = db_rows(
        "SELECT site_id, razorpay_order_id, status, amount, customer_email, product_sku FROM orders"
    )
    assert stored == {
        "site_id": "old-site",
        "razorpay_order_id": order["id"],
        "status": "paid",
        "amount": 79900,
        "customer_email": "old.buyer@example.com",
        "product_sku": "python-101",
    }
    assert db_rows("SELECT sku, source, customer_email FROM enrollments") == [
        {"sku": "python-101", "source": "import", "customer_email": "old.buyer@example.com"}
    ]
    again = rapp.test_cli_runner().invoke(
        args=[
            "reconcile",
            "--from",
            _cli_time(-1),
            "--to",
            _cli_time(1),
            "--import-site",
            "old-site",
        ]
    )
    assert json.loads(again.stdout)["adopted"] == 0
    assert json.loads(again.stdout)["unchanged"] == 1
    assert len(db_rows("SELECT id FROM orders")) == 1


def test_an_old_site_purchase_of_a_product_its_buyer_owns_is_flagged_never_refunded(
    rapp: Flask,
    own_sandbox: Any,
    shop: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    db_rows: Any,
) -> None:
    bought = shop.buy(new_site)
    old = _old_site_purchase(own_sandbox, "asha@example.com", notes={"sku": "python-101"})
    args = ["reconcile", "--from", _cli_time(-1), "--to", _cli_time(1)]

    result = rapp.test_cli_runner().invoke(args=[*args, "--import-site", "old-site"])
    run_pass(rapp.extensions["payments_service"], requests.Session())

    assert json.loads(result.stdout)["adopted"] == 1
    (enrollment,) = db_rows("SELECT id, order_id FROM enrollments")
    assert enrollment["order_id"] == bought["id"]
    (adopted,) = db_rows(
        "SELECT o.status, o.allow_owned, p.duplicate_of_enrollment, p.needs_attention "
        "FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.razorpay_order_id = %s",
        old["id"],
    )
    assert adopted == {
        "status": "paid",
        "allow_owned": None,
        "duplicate_of_enrollment": enrollment["id"],
        "needs_attention": UNSAID_REPEAT,
    }
    assert db_rows("SELECT id FROM refunds") == []


def test_import_derives_the_sku_from_a_mapping_file_and_dry_run_writes_nothing(
    rapp: Flask, own_sandbox: Any, old_site: SiteCredentials, db_rows: Any, tmp_path: Path
) -> None:
    _old_site_purchase(own_sandbox, "map@example.com", receipt="PY101-2024-0042")
    _old_site_purchase(own_sandbox, "nosku@example.com", receipt="GIFT-CARD-7")
    sku_map = tmp_path / "skus.json"
    sku_map.write_text(
        json.dumps([{"pattern": "^PY101-", "sku": "python-101", "name": "Python 101"}])
    )
    args = [
        "reconcile",
        "--from",
        _cli_time(-1),
        "--to",
        _cli_time(1),
        "--import-site",
        "old-site",
        "--sku-map",
        str(sku_map),
    ]

    dry = rapp.test_cli_runner().invoke(args=[*args, "--dry-run"])

    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert [p["customer_email"] for p in report["would_adopt"]] == ["map@example.com"]
    assert report["unmatched"] == 1
    assert db_rows("SELECT id FROM orders") == []

    real = json.loads(rapp.test_cli_runner().invoke(args=args).stdout)
    assert real["adopted"] == 1
    assert db_rows("SELECT customer_email, sku FROM enrollments") == [
        {"customer_email": "map@example.com", "sku": "python-101"}
    ]
