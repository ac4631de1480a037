"""`flask --app payments_service check [--live]`: the go-live checklist as a command.

One line a check (PASS, FAIL with its fix, SKIP, INFO), exit status 1 on any FAIL. The
development setup (sandbox keys, http sites, the tests' admin secret, a database without
TLS) fails `--live` on every one of those; a live-like setup (live-shaped keys, a strong
admin secret, https sites, a webhook received, a worker pass, a TLS-only PostgreSQL of this
module's own, tests/tls_postgres.py) passes. tests/test_go_live_each_check.py fails each
check on its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from payments_service import create_app
from payments_service.migrations import apply_migrations
from payments_service.services import EXTENSION_KEY
from payments_service.settings import SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET, Settings
from tests.actions import SiteCredentials
from tests.conftest import ADMIN_SECRET
from tests.contract.openapi import webhook_signature
from tests.test_cli import flask_cli
from tests.tls_postgres import TlsPostgres
from tests.tls_postgres import tls_postgres as started_tls_postgres

LIVE_KEY_ID = "rzp_live_Gk4TqP8xLm2VbN"
LIVE_KEY_SECRET = "q8Zr3LmV0xTw5NbY2cKp7HsJ"
LIVE_WEBHOOK_SECRET = "Wb7pQ2xK9mT4vL1nR6cZ8sD3"
STRONG_ADMIN_SECRET = "Xq3vN8rT1bLz6yKp0sWd4hFg7mJc2aRe9uVo5iQx8tGk1nBy"
SECRETS = (LIVE_KEY_SECRET, LIVE_WEBHOOK_SECRET, STRONG_ADMIN_SECRET, ADMIN_SECRET)
DEVELOPMENT_FAILURES = {
    "Razorpay key id is a live key",
    "Razorpay key secret is set",
    "Razorpay webhook secret is set",
    "Razorpay API is Razorpay, not the sandbox",
    "admin JWT secret is strong",
    "database connection uses TLS",
    "worker alive",
    "Razorpay webhook received in the last 7 days",
    "active sites use https (new-site)",
    "active sites use https (old-site)",
}


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsPostgres]:
    with started_tls_postgres() as server:
        yield server


@pytest.fixture
def tls_dsn(tls_server: TlsPostgres) -> str:
    """A freshly migrated database of this test's own on the TLS-only server."""
    dsn = tls_server.create_database(f"golive_{uuid.uuid4().hex[:12]}")
    apply_migrations(dsn)
    return dsn


@pytest.fixture
def live_settings(tls_dsn: str) -> Settings:
    return Settings(
        admin_jwt_secret=STRONG_ADMIN_SECRET,
        database_url=tls_dsn,
        razorpay_key_id=LIVE_KEY_ID,
        razorpay_key_secret=LIVE_KEY_SECRET,
        razorpay_webhook_secrets=(LIVE_WEBHOOK_SECRET,),
        razorpay_api_base_url="https://api.razorpay.com",
        is_sandbox=False,
    )


@pytest.fixture
def make_live_app(live_settings: Settings) -> Iterator[Any]:
    """Build an app on the live-like settings, with some of them changed."""
    built: list[Flask] = []

    def make(**changes: Any) -> Flask:
        application = create_app(replace(live_settings, **changes))
        built.append(application)
        return application

    yield make
    for application in built:
        application.extensions[EXTENSION_KEY].db.close()


@pytest.fixture
def live_app(make_live_app: Any) -> Flask:
    return make_live_app()  # type: ignore[no-any-return]


def invoke(app: Flask, *args: str) -> Result:
    """Run ``flask --app payments_service ARGS`` on this app, as the CLI runner does."""
    return app.test_cli_runner().invoke(args=list(args))


def findings(output: str) -> dict[str, tuple[str, str]]:
    """{name (and what it is about): (status, the rest of the line)} of the checklist."""
    found = {}
    for line in output.splitlines():
        status, _, text = line.partition("  ")
        name, _, rest = text.partition(": ")
        assert name not in found, f"two lines for {name!r}"
        found[name] = (status, rest)
    return found


def failures(output: str) -> set[str]:
    return {name for name, (status, _) in findings(output).items() if status == "FAIL"}


def register_https_sites(app: Flask) -> None:
    for site in ("new-site", "old-site"):
        result = invoke(
            app, "sites", "create", site, "--name", site,
            "--callback-url", f"https://{site}.example.com/payments/callback",
            "--origin", f"https://{site}.example.com",
        )  # fmt: skip
        assert result.exit_code == 0, result.output


def receive_signed_webhook(app: Flask) -> None:
    """Razorpay delivers an event, signed with the app's webhook secret; it is stored."""
    body = json.dumps(
        {"entity": "event", "event": "settlement.processed", "payload": {}, "created_at": 1}
    ).encode()
    secret = app.extensions[EXTENSION_KEY].settings.razorpay_webhook_secrets[0]
    answer = app.test_client().post(
        "/v1/webhooks/razorpay",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Razorpay-Signature": webhook_signature(body, secret),
            "X-Razorpay-Event-Id": f"evt_{uuid.uuid4().hex[:14]}",
        },
    )
    assert answer.status_code == 200, answer.get_json()


def run_worker_pass(app: Flask) -> None:
    result = invoke(app, "worker", "--once")
    assert result.exit_code == 0, result.output


def make_ready(app: Flask) -> Flask:
    """What a correct go-live leaves behind: a webhook received and a worker pass (the
    sites are registered once per database, by the test)."""
    receive_signed_webhook(app)
    run_worker_pass(app)
    return app


def assert_no_secret_in(output: str) -> None:
    for secret in (*SECRETS, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET):
        assert secret not in output


def test_check_live_fails_the_development_setup_one_line_per_problem_each_with_its_fix(
    app: Flask, new_site: SiteCredentials, old_site: SiteCredentials
) -> None:
    result = invoke(app, "check", "--live")

    assert result.exit_code == 1
    assert failures(result.output) == DEVELOPMENT_FAILURES
    found = findings(result.output)
    for name in DEVELOPMENT_FAILURES:
        assert ". Fix: " in found[name][1], name
    assert "RAZORPAY_KEY_ID" in found["Razorpay key id is a live key"][1]
    assert "ADMIN_JWT_SECRET" in found["admin JWT secret is strong"][1]
    assert "sslmode=require" in found["database connection uses TLS"][1]
    assert "flask --app payments_service worker" in found["worker alive"][1]
    assert "sites update new-site" in found["active sites use https (new-site)"][1]
    assert "http://new.localhost:8022" in found["active sites use https (new-site)"][1]
    assert found["database reachable"][0] == "PASS"
    assert found["migrations applied"][0] == "PASS"
    assert found["notification outbox moving"][0] == "PASS"
    assert_no_secret_in(result.output)


def test_check_live_passes_a_correct_live_configuration(tmp_path: Path, live_app: Flask) -> None:
    register_https_sites(live_app)
    make_ready(live_app)
    live = live_app.extensions[EXTENSION_KEY].settings
    assert live.database_url is not None

    # As an operator runs it: a process of its own, configured by the environment alone.
    result = flask_cli(
        tmp_path,
        "check",
        "--live",
        ADMIN_JWT_SECRET=STRONG_ADMIN_SECRET,
        DATABASE_URL=live.database_url,
        RAZORPAY_KEY_ID=LIVE_KEY_ID,
        RAZORPAY_KEY_SECRET=LIVE_KEY_SECRET,
        RAZORPAY_WEBHOOK_SECRET=LIVE_WEBHOOK_SECRET,
        RAZORPAY_WEBHOOK_SECRET_PREVIOUS="",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    statuses = {name: status for name, (status, _) in findings(result.stdout).items()}
    assert set(statuses.values()) == {"PASS"}
    assert set(statuses) == {
        "Razorpay key id is a live key",
        "Razorpay key secret is set",
        "Razorpay webhook secret is set",
        "Razorpay API is Razorpay, not the sandbox",
        "admin JWT secret is strong",
        "database reachable",
        "database connection uses TLS",
        "migrations applied",
        "worker alive",
        "notification outbox moving",
        "Razorpay webhook received in the last 7 days",
        "active sites use https (new-site)",
        "active sites use https (old-site)",
    }
    assert_no_secret_in(result.stdout + result.stderr)


def test_check_without_live_says_sandbox_mode_and_passes_once_a_worker_ran(app: Flask) -> None:
    before = invoke(app, "check")
    assert before.exit_code == 1
    assert failures(before.output) == {"worker alive"}

    run_worker_pass(app)
    after = invoke(app, "check")

    assert after.exit_code == 0, after.output
    found = findings(after.output)
    assert found["mode"][0] == "INFO" and "sandbox mode" in found["mode"][1]
    assert found["live checks"][0] == "INFO" and "check --live" in found["live checks"][1]
    assert {status for status, _ in found.values()} == {"PASS", "INFO"}
    assert "database connection uses TLS" not in found  # a --live check


def test_readiness_shows_the_mode(client: Any, live_app: Flask) -> None:
    assert client.get("/readyz").get_json()["mode"] == "test"  # the sandbox is test mode
    assert live_app.test_client().get("/readyz").get_json()["mode"] == "live"


def test_a_worker_of_the_other_mode_does_not_count(make_live_app: Any, live_app: Flask) -> None:
    register_https_sites(live_app)
    receive_signed_webhook(live_app)
    run_worker_pass(make_live_app(razorpay_key_id="rzp_test_Gk4TqP8xLm2VbN"))

    result = invoke(live_app, "check", "--live")

    assert failures(result.output) == {"worker alive"}
    assert "no worker has ever run in live mode" in findings(result.output)["worker alive"][1]
