"""README's "Payment links" walk-through, run as written against the service: the link is
made, paid on the sandbox, and the callback's redirect lands on the site with the order."""

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

from tests.actions import register_site, use_public_url
from tests.test_readme_walkthrough import first_shell_block, json_documents, used_names

LINKS_SECTION = "## Payment links"
PASTED = {"API", "SANDBOX", "ADMIN_TOKEN", "NEW_SITE_TOKEN"}


@pytest.fixture
def public_api(app: Flask) -> Iterator[str]:
    """The app on a loopback port that it also knows as its PUBLIC_BASE_URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.port}"
    use_public_url(app, url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_links_example_uses_only_what_the_purchase_walkthrough_exports() -> None:
    block = first_shell_block(LINKS_SECTION)
    assert used_names(block) <= PASTED | {"LINK", "REDIRECT"}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is needed to run the README")
def test_the_readme_payment_link_example_runs_verbatim(
    app: Flask, public_api: str, sandbox: Any, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    site = register_site(app, "new-site", "http://localhost:8022")
    exports = {
        "API": public_api,
        "SANDBOX": sandbox.url,
        "ADMIN_TOKEN": admin_headers["Authorization"].removeprefix("Bearer "),
        "NEW_SITE_TOKEN": site.token,
    }
    script = "\n".join(
        [*(f"export {k}={v}" for k, v in exports.items()), first_shell_block(LINKS_SECTION)]
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
    made_json, _, rest = done.stdout.partition("\n303 ")
    (made,) = json_documents(made_json)
    location, _, listed_json = rest.partition("\n")
    fetched, listed = json_documents(listed_json)
    assert made["status"] == "created" and made["id"].startswith("plink_")
    assert location == f"http://localhost:8022/thanks?order_id={made['order_id']}&status=paid"
    assert (fetched["status"], fetched["order_status"]) == ("paid", "paid")
    assert [item["id"] for item in listed["items"]] == [made["id"]]
