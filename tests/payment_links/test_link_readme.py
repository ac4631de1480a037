"""README's "Payment links" walk-through, run as written against the service: the link is
made, paid on the sandbox, and the callback's redirect lands on the site with the order."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.actions import register_site, use_public_url
from tests.test_readme_walkthrough import (
    first_shell_block,
    json_documents,
    run_with_exports,
    used_names,
)

LINKS_SECTION = "## Payment links"
PASTED = {"API", "SANDBOX", "ADMIN_TOKEN", "NEW_SITE_TOKEN"}


def test_the_links_example_uses_only_what_the_purchase_walkthrough_exports() -> None:
    block = first_shell_block(LINKS_SECTION)
    assert used_names(block) <= PASTED | {"LINK", "REDIRECT"}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is needed to run the README")
def test_the_readme_payment_link_example_runs_verbatim(
    app: Flask, live_api: str, sandbox: Any, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    use_public_url(app, live_api)  # the link brings the buyer back to the served app
    site = register_site(app, "new-site", "http://localhost:8022")
    exports = {
        "API": live_api,
        "SANDBOX": sandbox.url,
        "ADMIN_TOKEN": admin_headers["Authorization"].removeprefix("Bearer "),
        "NEW_SITE_TOKEN": site.token,
    }
    done = run_with_exports(exports, first_shell_block(LINKS_SECTION), tmp_path)

    assert done.returncode == 0, done.stderr
    made_json, _, rest = done.stdout.partition("\n303 ")
    (made,) = json_documents(made_json)
    location, _, listed_json = rest.partition("\n")
    fetched, listed = json_documents(listed_json)
    assert made["status"] == "created" and made["id"].startswith("plink_")
    assert location == f"http://localhost:8022/thanks?order_id={made['order_id']}&status=paid"
    assert (fetched["status"], fetched["order_status"]) == ("paid", "paid")
    assert [item["id"] for item in listed["items"]] == [made["id"]]
