"""The per-process auth cache (payments_service/auth_cache.py) never accepts a token the
database would refuse: rotations, deactivations, expiry and a lost listener all take effect
on the next request."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import psycopg
import pytest
import requests
from flask import Flask

from payments_service import create_app
from payments_service.auth import mint_admin_token
from payments_service.auth_cache import EXTENSION_KEY, AuthCache
from payments_service.settings import Settings
from payments_service.site_listener import APPLICATION_NAME
from tests.actions import SiteCredentials, register_site

UNREACHABLE = "host=127.0.0.1 port=1 user=nobody dbname=nothing connect_timeout=1"


def _token(secret: str, site_id: str = "new-site", lifetime: int = 300) -> str:
    now = int(time.time())
    claims = {"iss": site_id, "aud": "payments-service", "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, secret, algorithm="HS256")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _orders(client: Any, token: str) -> int:
    return int(client.get("/v1/orders", headers=_bearer(token)).status_code)


def _cli(app: Flask, *args: str) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def _cache(app: Flask) -> AuthCache:
    cache = app.extensions[EXTENSION_KEY]
    assert isinstance(cache, AuthCache)
    return cache


def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _listening(app: Flask, client: Any, token: str) -> AuthCache:
    """Start the app's listener (the first authenticated request does) and wait for it."""
    assert _orders(client, token) == 200
    cache = _cache(app)
    _until(lambda: cache.is_trusted)
    return cache


def _is_cached(cache: AuthCache, token: str) -> bool:
    return cache.token(f"Bearer {token}", time.time()) is not None


def _listener_pids(dsn: str) -> list[int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (APPLICATION_NAME,),
        ).fetchall()
    return [row[0] for row in rows]


def test_a_verified_token_is_served_from_the_cache_and_keeps_working(
    app: Flask, client: Any, new_site: SiteCredentials
) -> None:
    cache = _listening(app, client, new_site.token)
    assert _orders(client, new_site.token) == 200
    assert _is_cached(cache, new_site.token)
    for _ in range(3):
        assert _orders(client, new_site.token) == 200


def test_the_old_secret_works_during_a_rotation_and_is_refused_the_moment_it_ends(
    app: Flask, client: Any, new_site: SiteCredentials
) -> None:
    old = _token(new_site.jwt_secret)
    cache = _listening(app, client, old)
    assert _orders(client, old) == 200 and _is_cached(cache, old)

    new_secret = _cli(app, "sites", "rotate", "new-site", "--no-callback")["jwt_secret"]
    new = _token(new_secret)
    assert _orders(client, old) == 200  # both secrets are valid while rotating
    assert _orders(client, new) == 200
    _until(lambda: cache.is_trusted)
    assert _orders(client, old) == 200 and _is_cached(cache, old)

    _cli(app, "sites", "finish-rotation", "new-site")

    assert _orders(client, old) == 401
    assert _orders(client, new) == 200


def test_a_deactivated_site_is_refused_on_the_very_next_request(
    app: Flask, live_api: str, new_site: SiteCredentials
) -> None:
    def status() -> int:
        return requests.get(
            f"{live_api}/v1/orders", headers=new_site.headers, timeout=10
        ).status_code

    assert status() == 200
    cache = _cache(app)
    _until(lambda: cache.is_trusted)
    assert status() == 200 and _is_cached(cache, new_site.token)

    _cli(app, "sites", "update", "new-site", "--inactive")

    assert status() == 401


def test_a_change_made_by_another_process_reaches_the_cache_through_the_notification(
    app: Flask, client: Any, dsn: str, new_site: SiteCredentials
) -> None:
    cache = _listening(app, client, new_site.token)
    assert _orders(client, new_site.token) == 200 and _is_cached(cache, new_site.token)

    with psycopg.connect(dsn) as conn:  # an operator's psql, another API process
        conn.execute("UPDATE sites SET is_active = false WHERE id = 'new-site'")

    # Delivered asynchronously: typically well under a millisecond; allowed a moment here.
    _until(lambda: not _is_cached(cache, new_site.token), seconds=5)
    assert _orders(client, new_site.token) == 401


def test_a_rolled_back_change_announces_nothing_and_a_new_site_is_announced(
    app: Flask, dsn: str, new_site: SiteCredentials
) -> None:
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("LISTEN payments_service_sites")
        with psycopg.connect(dsn) as conn:
            conn.execute("UPDATE sites SET is_active = false WHERE id = 'new-site'")
            conn.rollback()
        register_site(app, "other-site", "http://other.localhost:8023")
        heard = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
    assert heard == ["other-site"]


def test_a_cached_token_is_refused_once_past_its_exp(
    app: Flask, client: Any, new_site: SiteCredentials
) -> None:
    cache = _listening(app, client, new_site.token)
    short = _token(new_site.jwt_secret, lifetime=2)
    assert _orders(client, short) == 200 and _is_cached(cache, short)
    _until(lambda: time.time() >= jwt.decode(short, options={"verify_signature": False})["exp"])

    response = client.get("/v1/orders", headers=_bearer(short))

    assert response.status_code == 401
    assert response.get_json()["detail"] == "the token has expired"


def test_admin_tokens_are_cached_too_and_still_checked(
    app: Flask, client: Any, settings: Settings, new_site: SiteCredentials
) -> None:
    cache = _listening(app, client, new_site.token)
    admin = mint_admin_token(settings, "tester", timedelta(minutes=5))
    assert _orders(client, admin) == 200 and _orders(client, admin) == 200
    assert _is_cached(cache, admin)
    forged = mint_admin_token(
        Settings(admin_jwt_secret="x" * 40, database_url=settings.database_url),
        "intruder",
        timedelta(minutes=5),
    )
    assert _orders(client, forged) == 401


def test_a_lost_listener_empties_the_cache_and_it_listens_again(
    app: Flask, client: Any, dsn: str, new_site: SiteCredentials
) -> None:
    cache = _listening(app, client, new_site.token)
    assert _orders(client, new_site.token) == 200 and _is_cached(cache, new_site.token)
    [first] = _listener_pids(dsn)

    with psycopg.connect(dsn, autocommit=True) as conn:
        # Waits for the session to end: the deactivation below is never notified to it.
        assert conn.execute("SELECT pg_terminate_backend(%s, 5000)", (first,)).fetchone() == (True,)
        conn.execute("UPDATE sites SET is_active = false WHERE id = 'new-site'")

    assert _orders(client, new_site.token) == 401
    _until(lambda: cache.is_trusted and _listener_pids(dsn) not in ([], [first]))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE sites SET is_active = true WHERE id = 'new-site'")
    _until(lambda: _orders(client, new_site.token) == 200, seconds=5)


def test_without_a_listener_every_request_reads_the_database(
    make_app: Callable[..., Flask], dsn: str, new_site: SiteCredentials
) -> None:
    app = make_app(migration_database_url=UNREACHABLE)  # the listener never connects
    client = app.test_client()
    for _ in range(3):
        assert _orders(client, new_site.token) == 200
    cache = _cache(app)
    assert not cache.is_trusted and not _is_cached(cache, new_site.token)

    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE sites SET is_active = false WHERE id = 'new-site'")

    assert _orders(client, new_site.token) == 401


def test_auth_cache_false_builds_no_cache(
    make_app: Callable[..., Flask], new_site: SiteCredentials
) -> None:
    app = make_app(auth_cache=False)
    assert EXTENSION_KEY not in app.extensions
    assert _orders(app.test_client(), new_site.token) == 200


def test_closing_the_apps_pool_ends_its_listener_and_its_connection(
    settings: Settings, dsn: str, new_site: SiteCredentials
) -> None:
    app = create_app(settings)  # closed here, not by a fixture
    client = app.test_client()
    before = set(_listener_pids(dsn))
    cache = _listening(app, client, new_site.token)
    assert len(set(_listener_pids(dsn)) - before) == 1

    app.extensions["payments_service"].db.close()

    _until(lambda: not cache.is_trusted and set(_listener_pids(dsn)) == before)


@pytest.mark.parametrize("value", ["false", "0", "no"])
def test_auth_cache_is_read_from_the_environment(value: str) -> None:
    env = {"ADMIN_JWT_SECRET": "s" * 40, "AUTH_CACHE": value}
    assert Settings.from_env(env).auth_cache is False
    assert Settings.from_env({"ADMIN_JWT_SECRET": "s" * 40}).auth_cache is True
