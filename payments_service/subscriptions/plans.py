"""Plans: an admin's price for a SKU, made at Razorpay first and then stored; never
changed afterwards (a new price is a new plan)."""

from __future__ import annotations

from dataclasses import dataclass

from ..auth import Caller, require_admin
from ..db import Database
from ..db import plans as sql
from ..db.plans import NewPlan, Plan
from ..errors import NotFound
from ..pagination import Page, decode_cursor, page_of
from ..razorpay_gateway import RazorpayGateway


@dataclass(frozen=True)
class PlanRequest:
    """A validated plan: what it sells, its price and how often it bills."""

    sku: str
    name: str
    description: str | None
    period: str
    interval: int
    amount: int
    currency: str


def create_plan(
    db: Database, gateway: RazorpayGateway, caller: Caller, request: PlanRequest
) -> Plan:
    """Make the plan at Razorpay, then store it (an admin only). Raises Forbidden,
    GatewayError (Razorpay refused: nothing stored) and GatewayUnavailable."""
    require_admin(caller)
    item: dict[str, object] = {
        "name": request.name,
        "amount": request.amount,
        "currency": request.currency,
    }
    if request.description:
        item["description"] = request.description
    made = gateway.create_plan(
        {
            "period": request.period,
            "interval": request.interval,
            "item": item,
            "notes": {"sku": request.sku},
        }
    )
    with db.transaction() as cur:
        return sql.insert(
            cur,
            NewPlan(
                id=str(made["id"]),
                sku=request.sku,
                name=request.name,
                description=request.description,
                period=request.period,
                interval=request.interval,
                amount=request.amount,
                currency=request.currency,
                created_by=caller.actor,
            ),
        )


def get_plan(db: Database, plan_id: str) -> Plan:
    """One plan (every caller may read plans: sites sell them). Raises NotFound."""
    with db.read() as cur:
        plan = sql.get(cur, plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id!r}")
    return plan


def list_plans(db: Database, *, sku: str | None, cursor: str | None, limit: int) -> Page[Plan]:
    """Plans newest first, optionally of one SKU."""
    with db.read() as cur:
        rows = sql.list_page(
            cur, sku=sku, after=decode_cursor(cursor) if cursor else None, limit=limit + 1
        )
    return page_of(rows, limit, lambda row: (row.created_at, row.id))
