"""Enrollments: who owns which product, answered for any site."""

from __future__ import annotations

from .db import Database
from .db import enrollments as sql
from .db.enrollments import Enrollment
from .errors import ValidationFailed


def list_enrollments(
    db: Database, *, customer_email: str | None, sku: str | None, status: str | None
) -> list[Enrollment]:
    """Enrollments by customer (any case of the email) and/or SKU, across every site.

    Raises ValidationFailed when neither a customer nor a SKU is named.
    """
    if not customer_email and not sku:
        raise ValidationFailed("name a customer_email, a sku, or both", field="customer_email")
    with db.transaction() as cur:
        return sql.search(
            cur,
            customer_email=customer_email.strip().lower() if customer_email else None,
            sku=sku,
            status=status,
        )
