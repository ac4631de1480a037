"""README's "Memberships" walk-through, run as written against the service and the sandbox:
the admin's plan, a site's subscription, the customer's Checkout payment, verify, access,
a partial refund of the first month that leaves access, and a cancel at the end of the month."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.actions import register_site
from tests.test_readme_walkthrough import (
    first_shell_block,
    json_documents,
    run_with_exports,
    used_names,
)

SECTION = "## Memberships"
PASTED = {"API", "SANDBOX", "ADMIN_TOKEN", "NEW_SITE_TOKEN"}


def test_the_memberships_example_uses_only_what_the_purchase_walkthrough_exports() -> None:
    block = first_shell_block(SECTION)
    assert used_names(block) <= PASTED | {"PLAN", "SUB", "RZP_SUB", "CHARGE"}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is needed to run the README")
def test_the_readme_memberships_example_runs_verbatim(
    app: Flask, live_api: str, sandbox: Any, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    site = register_site(app, "new-site", "http://localhost:8022")
    exports = {
        "API": live_api,
        "SANDBOX": sandbox.url,
        "ADMIN_TOKEN": admin_headers["Authorization"].removeprefix("Bearer "),
        "NEW_SITE_TOKEN": site.token,
    }
    done = run_with_exports(exports, first_shell_block(SECTION), tmp_path)

    assert done.returncode == 0, done.stderr
    plan, made, verified, enrollments, refund, cancelled = json_documents(done.stdout)
    assert (plan["sku"], plan["amount"], plan["period"]) == ("all-courses", 29900, "monthly")
    assert made["status"] == "created" and made["plan_id"] == plan["id"]
    assert made["checkout"]["subscription_id"] == made["razorpay_subscription_id"]
    assert verified["status"] == "active" and verified["access"]["granted"] is True
    assert [c["status"] for c in verified["charges"]] == ["paid"]
    assert [(e["sku"], e["status"], e["source"]) for e in enrollments["items"]] == [
        ("all-courses", "active", "subscription")
    ]
    assert (refund["status"], refund["amount"], refund["revoked_access"]) == (
        "processed",
        10000,
        False,
    )
    assert refund["order_id"] == verified["charges"][0]["order_id"]
    assert (cancelled["status"], cancelled["cancel_at_cycle_end"]) == ("active", True)
    assert cancelled["access"]["granted"] is True
    assert cancelled["charges"][0]["amount_refunded"] == 10000
