"""The README's curl walk-through and its refund example, run as written against the service.

Only the lines that export the URLs and tokens (which a reader pastes from ``make run``) are
replaced with this test's own; every other line runs verbatim in bash, in a fresh directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.actions import SiteCredentials

README = Path(__file__).resolve().parent.parent / "README.md"
PURCHASE_SECTION = "## A purchase with curl"
REFUND_SECTION = "## Refunds and the money trail"
PASTED = ("API", "SANDBOX", "ADMIN_TOKEN", "OLD_SITE_TOKEN", "NEW_SITE_TOKEN")
USED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
ASSIGNED = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=")


def first_shell_block(heading: str) -> str:
    """The first ```sh block of the README section whose heading starts with ``heading``."""
    text = README.read_text()
    start = text.index(f"\n{heading}")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else None]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no ```sh block under {heading!r}"
    return match.group(1)


def export_lines(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.startswith("export ")]


def assigned_names(block: str) -> set[str]:
    """Names the block sets: on ``export`` lines and in ``NAME=...`` lines."""
    names: set[str] = set()
    for line in block.splitlines():
        code = line.split("#", 1)[0] if not line.startswith("#") else ""
        if line.startswith("export "):
            names.update(ASSIGNED.findall(code))
        elif re.match(r"[A-Za-z_][A-Za-z0-9_]*=", code):
            names.add(code.split("=", 1)[0])
    return names


def run_with_exports(
    exports: dict[str, str], code: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run README ``code`` in bash (-eu, pipefail) in ``cwd``, after exporting the values a
    reader would paste from ``make run``; a bare environment besides PATH."""
    script = "\n".join([*(f"export {k}={v}" for k, v in exports.items()), code])
    environment = {"PATH": os.environ["PATH"], "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run(
        ["bash", "-eu", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def used_names(block: str) -> set[str]:
    code = "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("#"))
    return set(USED.findall(code))


def json_documents(output: str) -> list[Any]:
    """Split what curl and tee printed (JSON documents one after another) into values."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    position = 0
    while position < len(output):
        if output[position].isspace():
            position += 1
            continue
        value, position = decoder.raw_decode(output, position)
        documents.append(value)
    return documents


def test_the_curl_walkthrough_exports_every_variable_it_uses() -> None:
    purchase = first_shell_block(PURCHASE_SECTION)

    assert assigned_names("\n".join(export_lines(purchase))) == set(PASTED)
    assert used_names(purchase) <= assigned_names(purchase)


def test_the_refund_example_needs_only_the_walkthrough_and_takes_the_order_id_from_it() -> None:
    purchase = first_shell_block(PURCHASE_SECTION)
    refund = first_shell_block(REFUND_SECTION)

    assert used_names(refund) <= assigned_names(purchase) | assigned_names(refund)
    assert "order.json" in refund and "ord_…" not in refund.split("# ->")[0]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is needed to run the README")
def test_the_readme_purchase_and_refund_run_verbatim_against_the_service(
    live_api: str,
    sandbox: Any,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
    tmp_path: Path,
) -> None:
    values = {
        "API": live_api,
        "SANDBOX": sandbox.url,
        "ADMIN_TOKEN": admin_headers["Authorization"].removeprefix("Bearer "),
        "OLD_SITE_TOKEN": old_site.token,
        "NEW_SITE_TOKEN": new_site.token,
    }
    code = "\n".join(
        line
        for block in (first_shell_block(PURCHASE_SECTION), first_shell_block(REFUND_SECTION))
        for line in block.splitlines()
        if not line.startswith("export ")
    )

    done = run_with_exports(values, code, tmp_path)

    assert done.returncode == 0, done.stderr
    order, paid, verified, enrollments, refund = json_documents(done.stdout)
    assert order["status"] == "created" and order["id"].startswith("ord_")
    assert paid["razorpay_order_id"] == order["checkout"]["order_id"]
    assert verified["order"]["status"] == "paid"
    assert verified["enrollment"]["status"] == "active"
    assert [(e["sku"], e["status"]) for e in enrollments["items"]] == [("python-101", "active")]
    assert (refund["order_id"], refund["amount"]) == (order["id"], 20000)
