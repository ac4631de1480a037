"""CPU and wall time of authenticating a request, with the auth cache (AUTH_CACHE) off and on.

On a fresh embedded PostgreSQL: one site and its token, then rounds (off and on in turn) of
N auth checks (``current_caller`` in a request context: header -> verified Caller, the
site's secret included) and N ``GET /v1/orders?limit=1`` through the app's test client.
Prints the median over rounds of µs per check or request: CPU of the calling thread
(time.thread_time) and wall time.

    .venv/bin/python -m bench.auth_cache [N] [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask

from bench.timing import per_call
from payments_service import create_app
from payments_service.api.security import current_caller
from payments_service.auth import mint_admin_token, mint_site_token
from payments_service.auth_cache import EXTENSION_KEY, AuthCache
from payments_service.devstack.embedded_db import embedded_postgres
from payments_service.migrations import apply_migrations
from payments_service.settings import Settings
from payments_service.sites import create_site

SECRET = "bench-admin-secret-" + "x" * 32  # a throwaway database's admin key


def main(count: int = 3000, rounds: int = 3) -> None:
    with tempfile.TemporaryDirectory() as data, embedded_postgres(Path(data)) as dsn:
        apply_migrations(dsn, mode="test")
        apps = {
            "off": create_app(
                Settings(admin_jwt_secret=SECRET, database_url=dsn, auth_cache=False)
            ),
            "on": create_app(Settings(admin_jwt_secret=SECRET, database_url=dsn)),
        }
        db = apps["off"].extensions["payments_service"].db
        site = create_site(db, site_id="bench", name="Bench", callback_url=None, allowed_origins=[])
        tokens = {
            "site": mint_site_token(
                site.jwt_secret, "bench", "payments-service", None, timedelta(hours=1)
            ),
            "admin": mint_admin_token(
                apps["off"].extensions["payments_service"].settings, "bench", timedelta(hours=1)
            ),
        }
        _warm(apps["on"], tokens["site"])
        print(f"{count} per round, median of {rounds} rounds; µs per check / request")
        print(f"{'':34} {'cache off':>18} {'cache on':>18}")
        for kind, token in tokens.items():
            for what, measure in (("auth check", _checks), ("GET /v1/orders", _requests)):
                cells = []
                for mode in ("off", "on"):
                    runs = [measure(apps[mode], token, count) for _ in range(rounds)]
                    cpu = statistics.median(r[0] for r in runs)
                    wall = statistics.median(r[1] for r in runs)
                    cells.append(f"{cpu:7.1f} CPU {wall:6.0f} wall")
                print(f"{kind + ' token, ' + what:34} {cells[0]:>18} {cells[1]:>18}")
        for app in apps.values():
            app.extensions["payments_service"].db.close()


def _warm(app: Flask, token: str) -> None:
    """First use starts the listener; wait until the cache is trusted."""
    _checks(app, token, 1)
    cache: AuthCache = app.extensions[EXTENSION_KEY]
    deadline = time.monotonic() + 10
    while not cache.is_trusted:
        if time.monotonic() > deadline:
            raise SystemExit("the auth cache's listener did not start")
        time.sleep(0.05)


def _checks(app: Flask, token: str, count: int) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}"}
    with app.test_request_context("/v1/orders", headers=headers):
        return per_call(current_caller, count, time.thread_time)


def _requests(app: Flask, token: str, count: int) -> tuple[float, float]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def one() -> None:
        status = client.get("/v1/orders?limit=1", headers=headers).status_code
        if status != 200:
            raise SystemExit(f"GET /v1/orders answered {status}")

    return per_call(one, count, time.thread_time)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
