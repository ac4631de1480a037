from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from flask import Flask

from payments_service.signatures import callback_signature_header
from tests.actions import SiteCredentials


def _token(secret: str, site_id: str = "new-site") -> str:
    now = int(time.time())
    claims = {"iss": site_id, "aud": "payments-service", "iat": now, "exp": now + 300}
    return jwt.encode(claims, secret, algorithm="HS256")


def _orders(client: Any, token: str) -> int:
    return int(client.get("/v1/orders", headers={"Authorization": f"Bearer {token}"}).status_code)


def _cli(app: Flask, *args: str) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_both_jwt_secrets_work_during_a_rotation_and_only_the_new_one_after(
    app: Flask, client: Any, new_site: SiteCredentials, old_site: SiteCredentials
) -> None:
    rotated = _cli(app, "sites", "rotate", "new-site", "--no-callback")
    new_secret = rotated["jwt_secret"]
    assert new_secret != new_site.jwt_secret and rotated["callback_secret"] is None

    assert _orders(client, _token(new_site.jwt_secret)) == 200
    assert _orders(client, _token(new_secret)) == 200
    assert _orders(client, _token(old_site.jwt_secret)) == 401  # another site's secret

    _cli(app, "sites", "finish-rotation", "new-site")

    assert _orders(client, _token(new_site.jwt_secret)) == 401
    assert _orders(client, _token(new_secret)) == 200


def test_callbacks_carry_a_signature_for_each_valid_secret_while_rotating() -> None:
    body = b'{"id":"evt_1"}'
    header = callback_signature_header(["new-secret", "old-secret"], 1700000000, body)
    parts = header.split(",")
    assert parts[0] == "t=1700000000" and len(parts) == 3
    for secret, part in zip(["new-secret", "old-secret"], parts[1:], strict=True):
        digest = hmac.new(secret.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
        assert part == f"v1={digest}"


def test_a_site_can_move_its_callback_url_and_be_deactivated(
    app: Flask, client: Any, new_site: SiteCredentials
) -> None:
    updated = _cli(
        app,
        "sites",
        "update",
        "new-site",
        "--callback-url",
        "https://new.example.com/hooks",
        "--origin",
        "https://new.example.com",
    )
    assert updated["callback_url"] == "https://new.example.com/hooks"
    assert updated["allowed_origins"] == ["https://new.example.com"]
    _cli(app, "sites", "update", "new-site", "--inactive")
    assert _orders(client, new_site.token) == 401
