"""README's "Memberships" walk-through, run as written against the service and the sandbox:
the admin's plan, a site's subscription, the customer's Checkout payment, verify, access,
a partial refund of the first month that leaves access, and a cancel at the end of the month."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.actions import register_site
from tests.test_readme_walkthrough import first_shell_block, json_documents, used_names

SECTION = "## Memberships"
PASTED = {"API", "SANDBOX", "ADMIN_TOKEN", "NEW_SITE_TOKEN"}


@pytest.fixture
def served_api(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_memberships_example_uses_only_what_the_purchase_walkthrough_exports() -> None:
    block = first_shell_block(SECTION)
    assert used_names(block) <= PASTED | {"PLAN", "SUB", "RZP_SUB", "CHARGE"}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is needed to run the README")
def test_the_readme_memberships_example_runs_verbatim(
    app: Flask, served_api: str, sandbox: Any, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    site = register_site(app, "new-site", "http://localhost:8022")
    exports = {
        "API": served_api,
        "SANDBOX": sandbox.url,
        "ADMIN_TOKEN": admin_headers["Authorization"].removeprefix("Bearer "),
        "NEW_SITE_TOKEN": site.token,
    }
    script = "\n".join(
        [*(f"export {k}={v}" for k, v in exports.items()), first_shell_block(SECTION)]
    )
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    done = subprocess.run(
        ["bash", "-eu", "-o", "pipefail", "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

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
