from __future__ import annotations

from typing import Any

from tests.actions import SiteCredentials


def test_unknown_path_is_a_404_problem(client: Any) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "not_found" and body["status"] == 404


def test_wrong_method_is_a_405_problem(client: Any) -> None:
    response = client.delete("/v1/orders")
    assert response.status_code == 405
    assert response.get_json()["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_oversized_body_is_a_413_problem(client: Any, new_site: SiteCredentials) -> None:
    response = client.post(
        "/v1/orders",
        data=b"{" + b" " * 70_000 + b"}",
        headers={**new_site.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


def test_request_id_is_echoed_and_carried_in_problems(client: Any) -> None:
    response = client.get("/v1/orders", headers={"X-Request-Id": "req-abc.123"})
    assert response.headers["X-Request-Id"] == "req-abc.123"
    assert response.get_json()["request_id"] == "req-abc.123"


def test_unsafe_request_id_is_replaced(client: Any) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": "<script>"})
    assert response.headers["X-Request-Id"] != "<script>"
    assert len(response.headers["X-Request-Id"]) == 32


def test_an_unexpected_error_is_a_generic_500_without_internals(app: Any) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_json()
    assert body["code"] == "internal_error"
    assert "hunter2" not in response.get_data(as_text=True)


def test_health_and_readiness(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["pending_migrations"] == []


def test_readiness_fails_when_migrations_are_pending(client: Any, dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM schema_migrations")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["pending_migrations"]


def test_openapi_document_is_served(client: Any) -> None:
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert b"openapi: 3.1" in response.data


def test_nul_characters_are_refused_before_anything_runs(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str], dsn: str
) -> None:
    import psycopg

    from tests.actions import order_body

    body = order_body(product={"sku": "python-101", "name": "Python\x00101"})
    in_body = client.post("/v1/orders", json=body, headers=new_site.headers)
    assert in_body.status_code == 422
    assert "product.name" in in_body.get_json()["errors"]
    in_query = client.get("/v1/refunds?order_id=a%00b", headers=admin_headers)
    assert in_query.status_code == 422 and "order_id" in in_query.get_json()["errors"]
    in_path = client.get("/v1/orders/ord_%00x", headers=admin_headers)
    assert in_path.status_code == 404 and in_path.get_json()["code"] == "not_found"
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
