"""The Node.js package (clients/node) and the Express 4 port (examples/express4-port).

Each runs its own ``node --test`` suite against the service served over real HTTP, the
Razorpay sandbox, a notification worker thread delivering real signed callbacks, and a
PostgreSQL database of the site's own (its access tables and the dedupe table). The
package's suite also runs on Express 4 and 5 (both are its devDependencies). And the
tarball ``npm pack`` makes installs into an empty project, and into a fresh copy of the
port, whose suite then passes on it as on the linked source.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.actions import register_site
from tests.node_harness import (
    ROOT,
    Worker,
    free_loopback_port,
    npm_ci_once,
    passed,
    run_node_tests,
    running_worker,
    site_database,
)

PACKAGE = ROOT / "clients" / "node"
PORT_EXAMPLE = ROOT / "examples" / "express4-port"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed to run the Node.js package's tests (clients/node)",
)


@pytest.fixture(scope="module")
def package_installed() -> None:
    npm_ci_once(PACKAGE)


@pytest.fixture(scope="module")
def port_installed(package_installed: None) -> None:
    npm_ci_once(PORT_EXAMPLE)


@pytest.fixture
def worker(app: Flask) -> Iterator[Worker]:
    with running_worker(app) as running:
        yield running


@pytest.fixture
def site_db(postgresql_proc: Any) -> Iterator[dict[str, str]]:
    with site_database(postgresql_proc) as env:
        yield env


def _site_env(app: Flask, live_api: str, sandbox: Any, site_id: str, port: int) -> dict[str, str]:
    site = register_site(
        app,
        site_id,
        f"http://127.0.0.1:{port}",
        callback_url=f"http://127.0.0.1:{port}/payments/callback",
    )
    return {
        "PAYMENTS_API_URL": live_api,
        "PAYMENTS_SITE_ID": site.site_id,
        "PAYMENTS_JWT_SECRET": site.jwt_secret,
        "PAYMENTS_CALLBACK_SECRET": site.callback_secret,
        "PAYMENTS_AUDIENCE": app.extensions["payments_service"].settings.jwt_audience,
        "SANDBOX_URL": sandbox.url,
        "CALLBACK_PORT": str(port),
    }


def _membership_plan(client: FlaskClient, admin_headers: dict[str, str]) -> str:
    """The plan an admin defines for the membership the package's tests subscribe to."""
    body = {"sku": "all-courses", "name": "All courses", "period": "monthly", "amount": 29900}
    response = client.post("/v1/plans", json=body, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_node_package_against_the_service(
    package_installed: None,
    live_api: str,
    sandbox: Any,
    app: Flask,
    client: FlaskClient,
    admin_headers: dict[str, str],
    worker: Worker,
    site_db: dict[str, str],
) -> None:
    env = {
        **os.environ,
        **site_db,
        **_site_env(app, live_api, sandbox, "pkg-site", free_loopback_port()),
        "PAYMENTS_PLAN_ID": _membership_plan(client, admin_headers),
    }
    output = run_node_tests(PACKAGE, env)
    for name in (
        "sells, verifies, refunds, and the site hears each step in its own tables",
        "reads the plans a site sells, and finds none it cannot make",
        "subscribes once per Idempotency-Key and verifies Checkout into access on every site",
        "pauses and resumes, cancels at cycle end keeping access, then now taking it",
        "rejects a forged Checkout result and a pause in the wrong status with typed errors",
        "hears subscription.activated and .cancelled in its own callback",
        "retries a lost answer with the same Idempotency-Key: one order, not two",
        "applies two simultaneous deliveries of one event once",
        "leaves a failed event unapplied AND unremembered, so the retry applies it",
        "works as Express middleware on express4",
        "works as Express middleware on express5",
    ):
        assert passed(output, name), f"{name!r} did not pass:\n{output}"
    assert worker.delivered >= 4, f"expected notifications delivered to the site:\n{output}"


def test_express4_port_against_the_service(
    port_installed: None,
    live_api: str,
    sandbox: Any,
    app: Flask,
    worker: Worker,
    site_db: dict[str, str],
) -> None:
    env = {
        **os.environ,
        **site_db,
        **_site_env(app, live_api, sandbox, "old-site", free_loopback_port()),
    }
    other = register_site(app, "new-site", "http://new.localhost:8099")
    env |= {"OTHER_SITE_ID": other.site_id, "OTHER_SITE_JWT_SECRET": other.jwt_secret}
    output = run_node_tests(PORT_EXAMPLE, env)
    assert passed(output, "sells a course priced from its own catalogue"), output
    assert passed(output, "recognises a purchase made on another site"), output


def _pack(destination: Path) -> dict[str, Any]:
    """``npm pack`` of clients/node into ``destination``: npm's description of the tarball."""
    packed = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(destination)],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    [tarball] = json.loads(packed.stdout)
    return dict(tarball)


def test_express4_port_runs_on_the_packed_tarball(
    live_api: str,
    sandbox: Any,
    app: Flask,
    worker: Worker,
    site_db: dict[str, str],
    tmp_path: Path,
) -> None:
    """A fresh copy of the ported server with the package installed from its tarball (as a
    site without a checkout of this repository gets it), run against the service."""
    tarball = tmp_path / _pack(tmp_path)["filename"]
    site = tmp_path / "old-site"
    shutil.copytree(
        PORT_EXAMPLE, site, ignore=shutil.ignore_patterns("node_modules", "package-lock.json")
    )
    manifest = json.loads((site / "package.json").read_text())
    manifest["dependencies"]["payments-service-client"] = f"file:{tarball}"
    (site / "package.json").write_text(json.dumps(manifest, indent=2))
    installed = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund"],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, f"npm install failed:\n{installed.stdout}\n{installed.stderr}"
    copy = site / "node_modules" / "payments-service-client"
    assert copy.is_dir() and not copy.is_symlink(), "the package should be unpacked, not linked"

    env = {
        **os.environ,
        **site_db,
        **_site_env(app, live_api, sandbox, "old-site", free_loopback_port()),
    }
    other = register_site(app, "new-site", "http://new.localhost:8099")
    env |= {"OTHER_SITE_ID": other.site_id, "OTHER_SITE_JWT_SECRET": other.jwt_secret}
    output = run_node_tests(site, env)
    assert passed(output, "recognises a purchase made on another site"), output


def test_packed_tarball_installs_into_an_empty_project(tmp_path: Path) -> None:
    tarball = _pack(tmp_path)
    files = {entry["path"] for entry in tarball["files"]}
    assert {"lib/index.js", "lib/index.d.ts", "lib/pg.js", "lib/pg.d.ts", "README.md"} <= files
    assert not any(path.startswith(("test/", "node_modules/")) for path in files), files

    project = tmp_path / "site"
    project.mkdir()
    (project / "package.json").write_text('{"name": "site", "version": "1.0.0", "private": true}')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", str(tmp_path / tarball["filename"])],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = subprocess.run(
        [
            "node",
            "-e",
            "const p = require('payments-service-client');"
            "const { pgDedupe } = require('payments-service-client/pg');"
            "console.log(typeof p.createPaymentsClient, typeof p.paymentsCallback,"
            " typeof pgDedupe)",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert loaded.stdout.split() == ["function", "function", "function"]
    installed = json.loads((project / "package-lock.json").read_text())
    assert set(installed["packages"]) == {"", "node_modules/payments-service-client"}
