"""Running the checklist and reading its lines; what a correct go-live leaves behind."""

from __future__ import annotations

import json
import uuid

from click.testing import Result
from flask import Flask

from payments_service.services import EXTENSION_KEY
from payments_service.settings import SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET
from tests.conftest import ADMIN_SECRET
from tests.contract.openapi import webhook_signature

# Made up, of the shapes Razorpay issues (key id: rzp_live_ and 14 letters or digits).
LIVE_KEY_ID = "rzp_live_FakeLiveKey001"
LIVE_KEY_SECRET = "q8Zr3LmV0xTw5NbY2cKp7HsJ"
LIVE_WEBHOOK_SECRET = "Wb7pQ2xK9mT4vL1nR6cZ8sD3"
STRONG_ADMIN_SECRET = "Xq3vN8rT1bLz6yKp0sWd4hFg7mJc2aRe9uVo5iQx8tGk1nBy"  # 288 bits
SECRETS = (
    LIVE_KEY_SECRET,
    LIVE_WEBHOOK_SECRET,
    STRONG_ADMIN_SECRET,
    ADMIN_SECRET,
    SANDBOX_KEY_SECRET,
    SANDBOX_WEBHOOK_SECRET,
)


def invoke(app: Flask, *args: str) -> Result:
    """Run ``flask --app payments_service ARGS`` on this app, as the CLI runner does."""
    return app.test_cli_runner().invoke(args=list(args))


def findings(output: str) -> dict[str, tuple[str, str]]:
    """{check name (and what the line is about): (status, the rest of the line)}."""
    found = {}
    for line in output.splitlines():
        status, _, text = line.partition("  ")
        name, _, rest = text.partition(": ")
        assert name not in found, f"two lines for {name!r}"
        found[name] = (status, rest)
    return found


def failures(output: str) -> set[str]:
    """The names of the checks that failed."""
    return {name for name, (status, _) in findings(output).items() if status == "FAIL"}


def check_live(app: Flask) -> Result:
    """`check --live`, with every secret kept out of what it printed."""
    result = invoke(app, "check", "--live")
    for secret in SECRETS:
        assert secret not in result.output
    return result


def register_https_sites(app: Flask) -> None:
    for site in ("new-site", "old-site"):
        result = invoke(
            app, "sites", "create", site, "--name", site,
            "--callback-url", f"https://{site}.example.com/payments/callback",
            "--origin", f"https://{site}.example.com",
        )  # fmt: skip
        assert result.exit_code == 0, result.output


def receive_signed_webhook(app: Flask) -> None:
    """Razorpay delivers an event signed with the app's webhook secret; it is stored."""
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
    """What a correct go-live leaves behind for this app's settings: a webhook received and
    a worker pass (sites are registered once per database, by the test)."""
    receive_signed_webhook(app)
    run_worker_pass(app)
    return app
