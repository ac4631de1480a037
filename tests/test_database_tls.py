"""`sslmode=require` database URLs work: production's Neon only accepts TLS connections.

The module starts its own PostgreSQL that accepts TLS and refuses plaintext
(tests/tls_postgres.py), then runs the service on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg2
import pytest

from payments_service import create_app
from payments_service.migrations import apply_migrations
from payments_service.settings import Settings
from tests.tls_postgres import TlsPostgres
from tests.tls_postgres import tls_postgres as started_tls_postgres


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[TlsPostgres]:
    with started_tls_postgres() as server:
        yield server


def test_sslmode_require_connects_over_tls(tls_postgres: TlsPostgres) -> None:
    with contextlib.closing(psycopg2.connect(tls_postgres.url())) as conn, conn.cursor() as cur:
        cur.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        ssl, version = cur.fetchone()
    assert ssl is True
    assert version.startswith("TLS")


def test_plaintext_connection_is_refused(tls_postgres: TlsPostgres) -> None:
    with pytest.raises(psycopg2.OperationalError, match="no encryption"):
        psycopg2.connect(tls_postgres.url(sslmode="disable")).close()


def test_service_is_ready_on_a_tls_only_database(tls_postgres: TlsPostgres) -> None:
    dsn = tls_postgres.create_database("payments")
    apply_migrations(dsn, mode="test")

    app = create_app(Settings(admin_jwt_secret="x" * 40, database_url=dsn))
    try:
        response = app.test_client().get("/readyz")
    finally:
        app.extensions["payments_service"].db.close()

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["database"] == "ok"
    assert body["pending_migrations"] == []
