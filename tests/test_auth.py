from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from tests.conftest import ADMIN_SECRET, SiteCredentials


def _token(secret: str, **claims: Any) -> str:
    base = {"aud": "payments-service", "exp": int(time.time()) + 300}
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


def _get_orders(client: Any, token: str) -> Any:
    return client.get("/v1/orders", headers={"Authorization": f"Bearer {token}"})


def test_a_site_token_signed_with_its_own_secret_is_accepted(
    client: Any, new_site: SiteCredentials
) -> None:
    assert _get_orders(client, _token(new_site.jwt_secret, iss="new-site")).status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "new-site", "exp": int(time.time()) - 10},
        {"iss": "new-site", "aud": "someone-else"},
        {"iss": "no-such-site"},
        {"exp": int(time.time()) + 60},
    ],
    ids=["expired", "wrong-audience", "unknown-site", "no-iss"],
)
def test_bad_site_tokens_are_401(
    client: Any, new_site: SiteCredentials, claims: dict[str, Any]
) -> None:
    response = _get_orders(client, _token(new_site.jwt_secret, **claims))
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_token_without_exp_is_401(client: Any, new_site: SiteCredentials) -> None:
    token = jwt.encode(
        {"iss": "new-site", "aud": "payments-service"}, new_site.jwt_secret, algorithm="HS256"
    )
    assert _get_orders(client, token).status_code == 401


def test_alg_none_is_401(client: Any, new_site: SiteCredentials) -> None:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    unsigned = (
        part({"alg": "none", "typ": "JWT"})
        + "."
        + part({"iss": "new-site", "aud": "payments-service", "exp": int(time.time()) + 60})
        + "."
    )
    assert _get_orders(client, unsigned).status_code == 401


def test_site_a_key_claiming_to_be_site_b_is_401(
    client: Any, new_site: SiteCredentials, old_site: SiteCredentials
) -> None:
    forged = _token(new_site.jwt_secret, iss="old-site")
    assert _get_orders(client, forged).status_code == 401


def test_a_site_token_claiming_admin_is_still_only_that_site(
    client: Any, checkout: Any, new_site: SiteCredentials, old_site: SiteCredentials
) -> None:
    theirs = checkout.create_order(old_site)
    pretender = _token(new_site.jwt_secret, iss="new-site", role="admin")

    listed = _get_orders(client, pretender).get_json()["items"]
    assert listed == []
    response = client.get(
        f"/v1/orders/{theirs['id']}", headers={"Authorization": f"Bearer {pretender}"}
    )
    assert response.status_code == 404


def test_admin_tokens_are_signed_with_the_service_key_only(
    client: Any, new_site: SiteCredentials
) -> None:
    admin = _token(ADMIN_SECRET, iss="payments-service", role="admin")
    assert _get_orders(client, admin).status_code == 200
    not_admin = _token(ADMIN_SECRET, iss="payments-service")
    assert _get_orders(client, not_admin).status_code == 401
    site_signed = _token(new_site.jwt_secret, iss="payments-service", role="admin")
    assert _get_orders(client, site_signed).status_code == 401


def test_missing_or_malformed_authorization_is_401(client: Any) -> None:
    assert client.get("/v1/orders").status_code == 401
    garbage = client.get("/v1/orders", headers={"Authorization": "Bearer not.a.jwt"})
    assert garbage.status_code == 401
    assert garbage.mimetype == "application/problem+json"


def test_a_deactivated_site_can_no_longer_call(
    client: Any, new_site: SiteCredentials, dsn: str
) -> None:
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE sites SET is_active = false WHERE id = 'new-site'")
    assert _get_orders(client, new_site.token).status_code == 401
