from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask

from payments_service.auth import mint_admin_token, mint_site_token
from payments_service.settings import Settings
from tests.actions import SiteCredentials
from tests.conftest import ADMIN_SECRET


def _token(secret: str, **claims: Any) -> str:
    now = int(time.time())
    base = {"aud": "payments-service", "iat": now, "exp": now + 300}
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


# --- how long a token may live ----------------------------------------------------------

YEAR = 365 * 24 * 3600
SITE_MAX, ADMIN_MAX = 3600, 12 * 3600  # the defaults


def _refusal(client: Any, token: str) -> str:
    """The 401's detail (asserting it is a 401 problem)."""
    response = _get_orders(client, token)
    assert response.status_code == 401, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "unauthorized"
    return str(response.get_json()["detail"])


@pytest.mark.parametrize("kind", ["site", "admin"])
def test_a_token_that_lives_ten_years_is_refused_naming_its_lifetime(
    client: Any, new_site: SiteCredentials, kind: str
) -> None:
    now = int(time.time())
    claims = {"iat": now, "exp": now + 10 * YEAR}
    if kind == "site":
        token = _token(new_site.jwt_secret, iss="new-site", **claims)
    else:
        token = _token(ADMIN_SECRET, iss="payments-service", role="admin", **claims)

    detail = _refusal(client, token)

    bound = SITE_MAX if kind == "site" else ADMIN_MAX
    assert detail == (
        f"the token lives {10 * YEAR} s (exp - iat); {kind} tokens may live at most {bound} s"
    )
    assert new_site.jwt_secret not in detail and ADMIN_SECRET not in detail


def test_a_token_issued_ten_years_ago_is_refused_however_soon_it_expires(
    client: Any, new_site: SiteCredentials
) -> None:
    now = int(time.time())
    token = _token(new_site.jwt_secret, iss="new-site", iat=now - 10 * YEAR, exp=now + 300)

    assert "may live at most 3600 s" in _refusal(client, token)


def test_a_token_without_iat_is_refused_naming_iat(client: Any, new_site: SiteCredentials) -> None:
    claims = {"iss": "new-site", "aud": "payments-service", "exp": int(time.time()) + 300}
    token = jwt.encode(claims, new_site.jwt_secret, algorithm="HS256")

    assert "iat" in _refusal(client, token)


@pytest.mark.parametrize("iat", ["now", None, True, [1]], ids=["text", "null", "bool", "list"])
def test_an_iat_that_is_not_a_number_is_refused(
    client: Any, new_site: SiteCredentials, iat: Any
) -> None:
    token = _token(new_site.jwt_secret, iss="new-site", iat=iat)

    assert "iat" in _refusal(client, token)


def test_an_iat_in_the_future_is_refused_beyond_a_minute_of_clock_skew(
    client: Any, new_site: SiteCredentials
) -> None:
    now = int(time.time())
    ahead = _token(new_site.jwt_secret, iss="new-site", iat=now + 600, exp=now + 900)
    assert "iat" in _refusal(client, ahead)

    # A site whose clock runs a few seconds ahead of ours still gets in.
    skewed = _token(new_site.jwt_secret, iss="new-site", iat=now + 20, exp=now + 320)
    assert _get_orders(client, skewed).status_code == 200


def test_an_expired_token_is_refused_with_no_grace(client: Any, new_site: SiteCredentials) -> None:
    now = int(time.time())
    just_expired = _token(new_site.jwt_secret, iss="new-site", iat=now - 300, exp=now - 5)

    assert _refusal(client, just_expired) == "the token has expired"


@pytest.mark.parametrize("kind", ["site", "admin"])
def test_a_token_that_lives_exactly_the_maximum_is_accepted_and_a_second_more_is_not(
    client: Any, new_site: SiteCredentials, kind: str
) -> None:
    bound = SITE_MAX if kind == "site" else ADMIN_MAX
    iat = int(time.time()) - 60
    if kind == "site":
        claims: dict[str, Any] = {"iss": "new-site"}
        secret = new_site.jwt_secret
    else:
        claims, secret = {"iss": "payments-service", "role": "admin"}, ADMIN_SECRET

    at_max = _token(secret, **claims, iat=iat, exp=iat + bound)
    assert _get_orders(client, at_max).status_code == 200
    over = _token(secret, **claims, iat=iat, exp=iat + bound + 1)
    assert "may live at most" in _refusal(client, over)


def test_the_maximum_lifetime_is_a_setting(make_app: Any, new_site: SiteCredentials) -> None:
    strict = make_app(site_token_max_lifetime_seconds=300).test_client()
    now = int(time.time())

    assert _get_orders(strict, _token(new_site.jwt_secret, iss="new-site")).status_code == 200
    ten_minutes = _token(new_site.jwt_secret, iss="new-site", iat=now, exp=now + 600)
    assert "site tokens may live at most 300 s" in _refusal(strict, ten_minutes)


def test_the_service_mints_tokens_the_service_accepts_at_their_maximum(
    client: Any, new_site: SiteCredentials, settings: Settings
) -> None:
    site = mint_site_token(
        new_site.jwt_secret, "new-site", settings.jwt_audience, "u-1", timedelta(hours=1)
    )
    admin = mint_admin_token(settings, "ops", timedelta(hours=12))

    assert _get_orders(client, site).status_code == 200
    assert _get_orders(client, admin).status_code == 200


def _cli_mint(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["tokens", "mint", *args])


def _lifetime(token: str) -> int:
    claims = jwt.decode(token, options={"verify_signature": False})
    return int(claims["exp"] - claims["iat"])


def test_tokens_mint_mints_an_hour_by_default_and_the_service_accepts_it(
    app: Flask, client: Any, new_site: SiteCredentials
) -> None:
    for kind in (["--site", "new-site"], ["--admin"]):
        result = _cli_mint(app, *kind)
        assert result.exit_code == 0, result.stderr
        token = result.stdout.strip()
        assert _lifetime(token) == 3600
        assert _get_orders(client, token).status_code == 200


def test_tokens_mint_mints_up_to_the_maximum_and_refuses_longer_in_one_line(
    app: Flask, client: Any, new_site: SiteCredentials
) -> None:
    admin = _cli_mint(app, "--admin", "--ttl-minutes", "720")
    assert _lifetime(admin.stdout.strip()) == ADMIN_MAX
    assert _get_orders(client, admin.stdout.strip()).status_code == 200

    over = [
        (["--site", "new-site", "--ttl-minutes", "61"], 60),
        (["--admin", "--ttl-minutes", "721"], 720),
    ]
    for args, bound in over:
        refused = _cli_mint(app, *args)
        assert refused.exit_code == 2  # click's usage error, as for any bad option value
        assert refused.stdout == ""
        assert f"may live at most {bound} minutes" in refused.stderr
        assert "Traceback" not in refused.stderr


def test_tokens_mint_mints_no_longer_than_a_shorter_configured_maximum(
    make_app: Any, new_site: SiteCredentials
) -> None:
    app = make_app(site_token_max_lifetime_seconds=300)

    result = _cli_mint(app, "--site", "new-site")

    assert result.exit_code == 0, result.stderr
    assert _lifetime(result.stdout.strip()) == 300
    assert _get_orders(app.test_client(), result.stdout.strip()).status_code == 200
