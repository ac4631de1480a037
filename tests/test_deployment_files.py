"""The container files stay valid without a Docker engine (none runs on these machines)."""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (apt-get install docker-compose)",
)
def test_compose_file_parses_and_wires_every_process(tmp_path: Path) -> None:
    result = subprocess.run(
        _compose_config(tmp_path),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ADMIN_JWT_SECRET": "x" * 40},
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"postgres", "api", "worker", "sandbox", "gateway"}
    assert services["api"]["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "8000" not in str(services["api"].get("ports", ""))  # only through the gateway


def test_compose_refuses_to_start_without_an_admin_secret(tmp_path: Path) -> None:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    env = {k: v for k, v in os.environ.items() if k != "ADMIN_JWT_SECRET"}
    result = subprocess.run(
        _compose_config(tmp_path),
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode != 0 and "ADMIN_JWT_SECRET" in result.stderr


def _compose_config(tmp_path: Path) -> list[str]:
    """`docker-compose config`, ignoring any developer .env beside the compose file."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return [
        "docker-compose",
        "--env-file",
        str(empty),
        "-f",
        str(ROOT / "docker-compose.yml"),
        "config",
    ]


def test_image_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER payments\n" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert "FROM python:3.11-slim" in dockerfile


def test_entrypoint_is_valid_shell_and_migrates_before_serving() -> None:
    script = ROOT / "docker" / "entrypoint.sh"
    assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0
    text = script.read_text()
    assert text.index("db upgrade") < text.index("exec gunicorn")


def test_gateway_caps_bodies_and_forwards_request_ids() -> None:
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    assert "client_max_body_size 64k;" in conf
    assert "proxy_set_header X-Request-Id $payments_request_id;" in conf


def test_gunicorn_settings_load() -> None:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["worker_class"] == "gthread"
    assert settings["workers"] >= 1 and settings["threads"] >= 1
    assert settings["graceful_timeout"] < settings["timeout"]
