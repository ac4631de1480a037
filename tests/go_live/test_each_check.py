"""Each check of `check --live` fails on its own: a live-like setup that is right but for
one thing fails that check alone, with a line naming the fix (exit status 1)."""

from __future__ import annotations

from contextlib import closing
from datetime import timedelta
from typing import Any

import psycopg2
import pytest
from flask import Flask

from payments_service.auth import mint_admin_token
from payments_service.go_live.configuration import secret_weakness
from payments_service.services import EXTENSION_KEY
from payments_service.settings import SANDBOX_API, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET
from payments_service.worker import record_pass_started
from tests.actions import Clock, use_clock
from tests.go_live.checklist import (
    LIVE_WEBHOOK_SECRET,
    check_live,
    failures,
    findings,
    invoke,
    make_ready,
    receive_signed_webhook,
    register_https_sites,
    run_worker_pass,
)
from tests.test_cli import UNREACHABLE_DATABASE


def fails_alone(app: Flask, name: str) -> str:
    """Run `check --live`; it must fail ``name`` and nothing else. Returns that line's text
    after the name."""
    result = check_live(app)
    assert result.exit_code == 1
    assert failures(result.output) == {name}
    line = findings(result.output)[name][1]
    assert ". Fix: " in line
    return line


@pytest.mark.parametrize(
    ("key_id", "said"),
    [
        ("rzp_test_FakeTestKey001", "RAZORPAY_KEY_ID is a test key (rzp_test_…)"),
        ("rzp_live_FakeLive", "RAZORPAY_KEY_ID is rzp_live_ but not followed by 14"),
    ],
)
def test_a_key_id_that_is_not_a_live_one_fails(make_live_app: Any, key_id: str, said: str) -> None:
    app = make_ready(make_live_app(razorpay_key_id=key_id))
    register_https_sites(app)

    line = fails_alone(app, "Razorpay key id is a live key")

    assert line.startswith(said)
    assert "rzp_live_ followed by 14 letters or digits" in line


def test_the_sandbox_key_secret_fails(make_live_app: Any) -> None:
    app = make_ready(make_live_app(razorpay_key_secret=SANDBOX_KEY_SECRET))
    register_https_sites(app)

    line = fails_alone(app, "Razorpay key secret is set")

    assert "Fix: set RAZORPAY_KEY_SECRET" in line


@pytest.mark.parametrize(
    ("secrets", "named"),
    [
        ((SANDBOX_WEBHOOK_SECRET,), "RAZORPAY_WEBHOOK_SECRET is"),
        ((LIVE_WEBHOOK_SECRET, SANDBOX_WEBHOOK_SECRET), "RAZORPAY_WEBHOOK_SECRET_PREVIOUS is"),
    ],
)
def test_the_sandbox_webhook_secret_fails_as_the_current_or_the_previous_one(
    make_live_app: Any, secrets: tuple[str, ...], named: str
) -> None:
    app = make_ready(make_live_app(razorpay_webhook_secrets=secrets))
    register_https_sites(app)

    line = fails_alone(app, "Razorpay webhook secret is set")

    assert line.startswith(f"{named} the sandbox's published secret")


@pytest.mark.parametrize(
    "base_url", [SANDBOX_API, "https://127.0.0.1:8010", "http://api.razorpay.com"]
)
def test_an_api_that_is_not_razorpay_over_https_fails(make_live_app: Any, base_url: str) -> None:
    app = make_ready(make_live_app(razorpay_api_base_url=base_url))
    register_https_sites(app)

    line = fails_alone(app, "Razorpay API is Razorpay, not the sandbox")

    assert line.startswith(f"RAZORPAY_API_BASE_URL is {base_url}, not Razorpay over https")


@pytest.mark.parametrize(
    ("secret", "said"),
    [
        ("change-me-to-a-long-random-string-of-48-characters", "is the placeholder"),
        ("test-admin-secret-0123456789abcdef0123456789", "reads like a placeholder"),
        ("x" * 64, "repeats a few characters (1 different ones)"),
        ("9f86d081884c7d659a2feaa0c55ad015", "holds at most 128 bits (32 characters)"),
        ("Q2hHx8vTqL0mZp4RwY7nKc1sBd6Fg3Je9aUo5iVt", "holds at most 240 bits"),
    ],
)
def test_a_weak_admin_secret_fails_without_showing_it(
    make_live_app: Any, secret: str, said: str
) -> None:
    app = make_ready(make_live_app(admin_jwt_secret=secret))
    register_https_sites(app)

    line = fails_alone(app, "admin JWT secret is strong")

    assert line.startswith(f"ADMIN_JWT_SECRET {said}")
    assert secret not in line


@pytest.mark.parametrize(
    "secret",
    [
        "48YJv3E7x1S0K4VRgPSS0s3U-vUBYeQ2eYa8OWEbZUw",  # secrets.token_urlsafe(32)
        "da9a4060b713f508f0aaca9c345dcc33d0f543fed2b7b19d26431cb996cd68ca",  # token_hex(32)
        "BxAJXZRsr4jirlTWdCmX5wceLacjyP6Sw4YT535OpaPHcHBWjZIsSbSHYDmOsygR",  # as `make run`
    ],
)
def test_random_strings_of_256_bits_or_more_are_strong_admin_secrets(secret: str) -> None:
    assert secret_weakness(secret) is None


def test_a_database_connection_without_tls_fails(make_live_app: Any, dsn: str) -> None:
    app = make_ready(make_live_app(database_url=dsn))  # the suite's server: a Unix socket
    register_https_sites(app)

    line = fails_alone(app, "database connection uses TLS")

    assert line.startswith("the connection is not encrypted (sslmode=prefer)")


def test_tls_that_could_fall_back_to_plain_text_fails(make_live_app: Any, tls_dsn: str) -> None:
    prefer = tls_dsn.replace("sslmode=require", "sslmode=prefer")
    app = make_ready(make_live_app(database_url=prefer))
    register_https_sites(app)

    line = fails_alone(app, "database connection uses TLS")

    assert line.startswith("encrypted now, but sslmode=prefer would fall back to plain text")


def test_an_unreachable_database_fails_and_the_checks_needing_it_are_skipped(
    make_live_app: Any,
) -> None:
    app = make_live_app(database_url=UNREACHABLE_DATABASE)

    line = fails_alone(app, "database reachable")

    assert "Fix: set DATABASE_URL" in line
    skipped = {
        name: rest
        for name, (status, rest) in findings(check_live(app).output).items()
        if status == "SKIP"
    }
    assert set(skipped) == {
        "database connection uses TLS",
        "migrations applied",
        "worker alive",
        "notification outbox moving",
        "Razorpay webhook received in the last 7 days",
        "active sites use https",
    }
    assert set(skipped.values()) == {"not checked: the database is unreachable"}


def test_a_pending_migration_fails_and_the_checks_needing_the_schema_are_skipped(
    live_app: Flask, tls_dsn: str
) -> None:
    register_https_sites(make_ready(live_app))
    with closing(psycopg2.connect(tls_dsn)) as conn, conn, conn.cursor() as cur:
        cur.execute("DELETE FROM schema_migrations WHERE version = '0013_worker_heartbeats'")

    line = fails_alone(live_app, "migrations applied")

    assert line.startswith("pending: 0013_worker_heartbeats")
    assert "flask --app payments_service db upgrade" in line
    found = findings(check_live(live_app).output)
    assert found["worker alive"] == ("SKIP", "not checked: migrations are pending")


def test_no_worker_pass_ever_fails(live_app: Flask) -> None:
    register_https_sites(live_app)
    receive_signed_webhook(live_app)

    line = fails_alone(live_app, "worker alive")

    assert line.startswith("no worker has ever run in live mode")


def test_a_worker_of_the_other_mode_does_not_count(make_live_app: Any, live_app: Flask) -> None:
    register_https_sites(live_app)
    receive_signed_webhook(live_app)
    run_worker_pass(make_live_app(razorpay_key_id="rzp_test_FakeTestKey001"))

    line = fails_alone(live_app, "worker alive")

    assert line.startswith("no worker has ever run in live mode")


def test_a_worker_silent_for_a_few_intervals_fails(live_app: Flask, clock: Clock) -> None:
    register_https_sites(make_ready(use_clock(live_app, clock)))
    clock.advance(timedelta(minutes=10))

    line = fails_alone(live_app, "worker alive")

    assert line.startswith("the last pass started 10 min ago (more than 2 min)")


def test_notifications_left_due_past_a_few_worker_intervals_fail(
    live_app: Flask, clock: Clock
) -> None:
    register_https_sites(make_ready(use_clock(live_app, clock)))
    services = live_app.extensions[EXTENSION_KEY]
    token = mint_admin_token(services.settings, "tester", timedelta(minutes=10))
    granted = live_app.test_client().post(
        "/v1/enrollments",
        json={"customer_email": "asha@example.com", "sku": "python-101", "reason": "gift"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert granted.status_code == 201  # queues enrollment.granted for each https site
    clock.advance(timedelta(minutes=10))
    record_pass_started(services)  # a worker that runs, but whose deliveries never start

    line = fails_alone(live_app, "notification outbox moving")

    assert line.startswith("2 notification(s) due for more than 2 min and not sent")


def test_no_webhook_ever_fails(live_app: Flask) -> None:
    register_https_sites(live_app)
    run_worker_pass(live_app)

    line = fails_alone(live_app, "Razorpay webhook received in the last 7 days")

    assert line.startswith("no verified Razorpay webhook has arrived yet")
    assert "RAZORPAY_WEBHOOK_SECRET" in line


def test_a_webhook_silent_for_over_a_week_fails(live_app: Flask, clock: Clock) -> None:
    register_https_sites(make_ready(use_clock(live_app, clock)))
    clock.advance(timedelta(days=8))
    run_worker_pass(live_app)

    line = fails_alone(live_app, "Razorpay webhook received in the last 7 days")

    assert line.startswith("the newest arrived 8 days ago")


def test_a_site_with_a_plain_http_callback_fails_alone(live_app: Flask) -> None:
    register_https_sites(make_ready(live_app))
    updated = invoke(
        live_app, "sites", "update", "old-site", "--callback-url", "http://old.test/cb"
    )
    assert updated.exit_code == 0, updated.output

    line = fails_alone(live_app, "active sites use https (old-site)")

    assert line.startswith("callback URL http://old.test/cb is not https")
    assert line.endswith(
        "Fix: `flask --app payments_service sites update old-site --callback-url https://…`"
    )


def test_an_inactive_plain_http_site_does_not_count(live_app: Flask) -> None:
    register_https_sites(make_ready(live_app))
    args = ["sites", "create", "legacy", "--name", "Legacy", "--origin", "http://legacy.test"]
    assert invoke(live_app, *args).exit_code == 0
    assert invoke(live_app, "sites", "update", "legacy", "--inactive").exit_code == 0

    assert check_live(live_app).exit_code == 0


def test_no_active_site_fails(live_app: Flask) -> None:
    make_ready(live_app)

    line = fails_alone(live_app, "active sites use https")

    assert line.startswith("no active site")
    assert "sites create" in line
