"""`flask --app payments_service check [--live]`: the go-live checklist as a command.

One line a check (PASS, FAIL with its fix, SKIP, INFO), exit status 1 on any FAIL. The
development setup (sandbox keys, http sites, the tests' admin secret, a database without
TLS) fails `--live` on each of those; a live-like setup (this package's conftest: live-shaped
keys, a strong admin secret, https sites, a webhook received, a worker pass, a TLS-only
PostgreSQL) passes. test_each_check.py fails each check on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from payments_service.services import EXTENSION_KEY
from tests.actions import SiteCredentials
from tests.go_live.checklist import (
    LIVE_KEY_ID,
    LIVE_KEY_SECRET,
    LIVE_WEBHOOK_SECRET,
    SECRETS,
    STRONG_ADMIN_SECRET,
    check_live,
    failures,
    findings,
    invoke,
    make_ready,
    register_https_sites,
    run_worker_pass,
)
from tests.test_cli import flask_cli

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
LIVE_CHECKS = {
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


def test_check_live_fails_the_development_setup_one_line_per_problem_each_with_its_fix(
    app: Flask, new_site: SiteCredentials, old_site: SiteCredentials
) -> None:
    result = check_live(app)

    assert result.exit_code == 1
    assert failures(result.output) == DEVELOPMENT_FAILURES
    found = findings(result.output)
    for name in DEVELOPMENT_FAILURES:
        assert ". Fix: " in found[name][1], name
    assert "RAZORPAY_KEY_ID" in found["Razorpay key id is a live key"][1]
    assert "RAZORPAY_KEY_SECRET" in found["Razorpay key secret is set"][1]
    assert "RAZORPAY_WEBHOOK_SECRET" in found["Razorpay webhook secret is set"][1]
    assert "RAZORPAY_API_BASE_URL" in found["Razorpay API is Razorpay, not the sandbox"][1]
    assert "ADMIN_JWT_SECRET" in found["admin JWT secret is strong"][1]
    assert "sslmode=require" in found["database connection uses TLS"][1]
    assert "flask --app payments_service worker" in found["worker alive"][1]
    webhook = found["Razorpay webhook received in the last 7 days"][1]
    assert "/v1/webhooks/razorpay" in webhook
    site = found["active sites use https (new-site)"][1]
    assert "origin http://new.localhost:8022 is not https" in site
    assert "sites update new-site --origin https://…" in site
    assert found["database reachable"][0] == "PASS"
    assert found["migrations applied"][0] == "PASS"
    assert found["notification outbox moving"][0] == "PASS"
    assert set(found) == LIVE_CHECKS


def test_check_live_passes_a_correct_live_configuration(tmp_path: Path, live_app: Flask) -> None:
    register_https_sites(live_app)
    make_ready(live_app)
    database_url = live_app.extensions[EXTENSION_KEY].settings.database_url
    assert database_url is not None and "sslmode=require" in database_url

    # As an operator runs it: a process of its own, configured by the environment alone.
    result = flask_cli(
        tmp_path,
        "check",
        "--live",
        ADMIN_JWT_SECRET=STRONG_ADMIN_SECRET,
        DATABASE_URL=database_url,
        RAZORPAY_KEY_ID=LIVE_KEY_ID,
        RAZORPAY_KEY_SECRET=LIVE_KEY_SECRET,
        RAZORPAY_WEBHOOK_SECRET=LIVE_WEBHOOK_SECRET,
        RAZORPAY_WEBHOOK_SECRET_PREVIOUS="",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    found = findings(result.stdout)
    assert set(found) == LIVE_CHECKS
    assert {status for status, _ in found.values()} == {"PASS"}
    assert found["database connection uses TLS"][1] == "TLS, sslmode=require"
    for secret in SECRETS:
        assert secret not in result.stdout + result.stderr


def test_check_without_live_names_sandbox_mode_and_passes_once_a_worker_ran(app: Flask) -> None:
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


def test_check_without_live_names_live_mode(live_app: Flask) -> None:
    make_ready(live_app)
    result = invoke(live_app, "check")

    assert result.exit_code == 0, result.output
    assert findings(result.output)["mode"] == ("INFO", "live (Razorpay live keys: real money)")


def test_readiness_shows_the_mode(client: Any, live_app: Flask) -> None:
    assert client.get("/readyz").get_json()["mode"] == "test"  # the sandbox is test mode
    assert live_app.test_client().get("/readyz").get_json()["mode"] == "live"
