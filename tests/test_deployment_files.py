"""The container files stay valid without a Docker engine (none runs on these machines)."""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from payments_service.settings import RAZORPAY_LIVE_API, Settings

ROOT = Path(__file__).resolve().parents[1]


needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (apt-get install docker-compose)",
)
ADMIN = {"ADMIN_JWT_SECRET": "x" * 40}
LIVE_KEYS = {
    "RAZORPAY_KEY_ID": "rzp_live_abcdefghijklmn",
    "RAZORPAY_KEY_SECRET": "live-secret",
    "RAZORPAY_WEBHOOK_SECRET": "live-webhook-secret",
}
SANDBOX_COMMAND = "docker-compose -f docker-compose.yml -f docker-compose.sandbox.yml up"


@needs_compose
def test_compose_file_parses_and_wires_every_process(tmp_path: Path) -> None:
    services = _compose_services(tmp_path, ADMIN)
    assert set(services) == {"postgres", "api", "worker", "gateway"}
    assert services["api"]["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "8000" not in str(services["api"].get("ports", ""))  # only through the gateway
    # so gunicorn may take the gateway's X-Forwarded-Proto, whatever address it gets
    assert services["api"]["environment"]["FORWARDED_ALLOW_IPS"] == "*"
    assert "FORWARDED_ALLOW_IPS" not in services["worker"]["environment"]


@needs_compose
def test_compose_with_live_keys_talks_to_razorpay_and_never_the_sandbox(tmp_path: Path) -> None:
    services = _compose_services(tmp_path, {**ADMIN, **LIVE_KEYS})

    assert "sandbox" not in services
    assert "sandbox" not in json.dumps(services)  # no service points at it either
    for name in ("api", "worker"):
        settings = Settings.from_env(services[name]["environment"])
        assert not settings.is_sandbox
        assert settings.razorpay_key_id == LIVE_KEYS["RAZORPAY_KEY_ID"]
        assert settings.razorpay_api_base_url == RAZORPAY_LIVE_API


@needs_compose
def test_the_documented_sandbox_command_runs_the_sandbox_and_points_the_service_at_it(
    tmp_path: Path,
) -> None:
    assert SANDBOX_COMMAND in (ROOT / "README.md").read_text()
    for compose_file in ("docker-compose.yml", "docker-compose.sandbox.yml"):
        assert SANDBOX_COMMAND in (ROOT / compose_file).read_text()
    files = SANDBOX_COMMAND.split()[2::2]

    for environment in (ADMIN, {**ADMIN, **LIVE_KEYS}):  # keys in the shell change nothing
        services = _compose_services(tmp_path, environment, files)
        sandbox = services["sandbox"]
        assert sandbox["command"] == ["sandbox"]
        webhook_url = sandbox["environment"]["SANDBOX_WEBHOOK_URL"]
        assert webhook_url == "http://api:8000/v1/webhooks/razorpay"
        assert "127.0.0.1:8010:8010" in str(sandbox["ports"])  # its test-payment pages
        for name in ("api", "worker"):
            settings = Settings.from_env(services[name]["environment"])
            assert settings.is_sandbox
            assert settings.razorpay_api_base_url == "http://sandbox:8010"


@needs_compose
def test_compose_passes_neon_urls_and_migrates_over_the_direct_one(tmp_path: Path) -> None:
    pooled = "postgresql://app:pw@ep-x-pooler.neon.tech/payments?sslmode=require"
    direct = "postgresql://app:pw@ep-x.neon.tech/payments?sslmode=require"
    neon = {"DATABASE_URL": pooled, "MIGRATION_DATABASE_URL": direct}

    api = _compose_services(tmp_path, {**ADMIN, **neon})["api"]["environment"]

    settings = Settings.from_env(api)
    assert (settings.database_url, settings.migration_database_url) == (pooled, direct)


def test_compose_refuses_to_start_without_an_admin_secret(tmp_path: Path) -> None:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    result = _compose_config(tmp_path, {})
    assert result.returncode != 0 and "ADMIN_JWT_SECRET" in result.stderr


def _compose_services(
    tmp_path: Path, environment: dict[str, str], files: Sequence[str] = ("docker-compose.yml",)
) -> dict[str, Any]:
    result = _compose_config(tmp_path, environment, files)
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return services


def _compose_config(
    tmp_path: Path, environment: dict[str, str], files: Sequence[str] = ("docker-compose.yml",)
) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` with exactly ``environment`` among the variables it reads
    (the developer's own, and any .env beside the compose file, are left out)."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    command = ["docker-compose", "--env-file", str(empty)]
    for name in files:
        command += ["-f", str(ROOT / name)]
    read = _compose_variables()
    env = {k: v for k, v in os.environ.items() if k not in read and not k.startswith("COMPOSE_")}
    return subprocess.run(
        [*command, "config"],
        capture_output=True,
        text=True,
        check=False,
        env={**env, **environment},
    )


def _compose_variables() -> set[str]:
    """Every ${VARIABLE} the compose files interpolate."""
    text = "".join(path.read_text() for path in ROOT.glob("docker-compose*.yml"))
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


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
