"""Adopting the old site's past purchases: Razorpay payments on orders this service never
created become orders, payments and enrollments, when a product SKU can be derived."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..db import Database, is_unique_violation
from ..db import orders as orders_sql
from ..db.orders import NewOrder
from ..errors import ValidationFailed
from ..ids import new_id
from ..payments.apply import apply_payment
from ..payments.statuses import SETTLED_STATUSES
from ..razorpay_gateway import RazorpayGateway

SKU = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class SkuRule:
    """Receipts, descriptions or notes matching ``pattern`` are purchases of ``sku``."""

    pattern: re.Pattern[str]
    sku: str
    name: str


@dataclass(frozen=True)
class LegacyImport:
    """How to adopt foreign payments: which site they count for, and how to find SKUs."""

    gateway: RazorpayGateway
    site_id: str
    rules: tuple[SkuRule, ...] = ()
    dry_run: bool = False


def load_sku_rules(path: Path) -> tuple[SkuRule, ...]:
    """Read a JSON list of {"pattern": regex, "sku": ..., "name": ...}.

    Raises ValidationFailed naming the entry that is wrong, or when the file is no such list.
    """
    try:
        entries = json.loads(path.read_text())
    except ValueError as exc:  # not JSON, or not UTF-8
        raise ValidationFailed(f"SKU map {path} is not JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise ValidationFailed(f"SKU map {path} must be a JSON list of {{pattern, sku, name}}")
    rules = []
    for index, entry in enumerate(entries):
        try:
            pattern = re.compile(entry["pattern"])
            sku = str(entry["sku"])
        except (KeyError, TypeError, re.error) as exc:
            raise ValidationFailed(f"SKU map entry {index} needs a valid pattern and sku") from exc
        if not SKU.match(sku):
            raise ValidationFailed(f"SKU map entry {index}: {sku!r} is not a valid SKU")
        rules.append(SkuRule(pattern, sku, str(entry.get("name") or sku)))
    return tuple(rules)


def derive_product(
    order: dict[str, Any], payment: dict[str, Any], rules: tuple[SkuRule, ...]
) -> tuple[str, str] | None:
    """(sku, name) from the order's or payment's notes, else the first matching rule."""
    notes = {**_notes(payment), **_notes(order)}
    sku = str(notes.get("sku", "")).strip().lower()
    if SKU.match(sku):
        return sku, str(notes.get("product_name") or payment.get("description") or sku)
    texts = [order.get("receipt"), payment.get("description"), *notes.values()]
    for rule in rules:
        if any(isinstance(text, str) and rule.pattern.search(text) for text in texts):
            return rule.sku, rule.name
    return None


def adopt_payment(
    db: Database, legacy: LegacyImport, payment: dict[str, Any]
) -> dict[str, Any] | None:
    """Adopt one settled foreign payment; returns what was (or would be) adopted, or None
    when it cannot be attributed (not settled, no email, no order, no SKU)."""
    email = str(payment.get("email") or "").strip().lower()
    if payment.get("status") not in SETTLED_STATUSES or not email or not payment.get("order_id"):
        return None
    order = legacy.gateway.fetch_order(str(payment["order_id"]))
    product = derive_product(order, payment, legacy.rules)
    if product is None:
        return None
    plan = {
        "razorpay_order_id": order["id"],
        "razorpay_payment_id": payment["id"],
        "customer_email": email,
        "sku": product[0],
        "amount": int(order["amount"]),
        "currency": str(order["currency"]),
        "site_id": legacy.site_id,
    }
    if legacy.dry_run:
        return plan
    _store_order(db, legacy.site_id, order, payment, email, product)
    # A duplicate among old payments is flagged, never refunded on its own (the "import"
    # source says so): it may be months old, and the old site may have settled it by hand.
    apply_payment(db, payment, actor="import", grant_source="import")
    return plan


def _store_order(
    db: Database,
    site_id: str,
    order: dict[str, Any],
    payment: dict[str, Any],
    email: str,
    product: tuple[str, str],
) -> None:
    receipt = order.get("receipt")
    new = NewOrder(
        id=new_id("ord"),
        site_id=site_id,
        amount=int(order["amount"]),
        currency=str(order["currency"]),
        product_sku=product[0],
        product_name=product[1],
        customer_email=email,
        customer_name=None,
        customer_contact=str(payment.get("contact") or "") or None,
        site_user_id=None,
        receipt=str(receipt)[:40] if receipt else None,
        notes={"imported": "true"},
        idempotency_key=None,
        request_fingerprint=None,
        allow_owned=None,  # the old site never said: a purchase of an owned SKU is flagged
    )
    try:
        with db.transaction() as cur:
            orders_sql.insert(cur, new, str(order["id"]))
    except Exception as exc:
        if not is_unique_violation(exc, "orders_razorpay_order_id_key"):
            raise
        # Adopted meanwhile by a concurrent pass: applying the payment below is enough.


def _notes(entity: dict[str, Any]) -> dict[str, Any]:
    notes = entity.get("notes")
    return notes if isinstance(notes, dict) else {}  # Razorpay sends [] for no notes
