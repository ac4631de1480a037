"""The operations CLI answers ordinary failures with one line on stderr and exit status 1;
only a bug ends in a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result
from flask import Flask

from payments_service.cli import ServiceCommand
from tests.actions import SiteCredentials
from tests.conftest import ADMIN_SECRET

UNREACHABLE_DATABASE = "host=127.0.0.1 port=1 dbname=nowhere user=nobody connect_timeout=3"


def flask_cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``flask --app payments_service ARGS`` as an operator would, in a fresh process.

    Settings a developer's shell or .env might hold are set here (empty means unset), so
    the process sees only what the test gives it; LOG_LEVEL=ERROR keeps the sandbox-mode
    warning out of stderr.
    """
    base = {
        "ADMIN_JWT_SECRET": ADMIN_SECRET,
        "DATABASE_URL": "",
        "MIGRATION_DATABASE_URL": "",
        "RAZORPAY_KEY_ID": "",
        "RAZORPAY_KEY_SECRET": "",
        "RAZORPAY_API_BASE_URL": "",
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "payments_service", *args],
        cwd=cwd,
        env={**os.environ, **base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_error(returncode: int, stderr: str, *expected: str) -> None:
    assert returncode == 1, stderr
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("Error: ")
    for part in expected:
        assert part in stderr


def _invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def test_creating_a_site_whose_id_is_taken_answers_conflict_in_one_line(
    tmp_path: Path, dsn: str
) -> None:
    first = flask_cli(tmp_path, "sites", "create", "new-site", "--name", "New", DATABASE_URL=dsn)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["site_id"] == "new-site"

    again = flask_cli(tmp_path, "sites", "create", "new-site", "--name", "New", DATABASE_URL=dsn)

    assert_one_line_error(
        again.returncode, again.stderr, "conflict", "a site with id 'new-site' already exists"
    )
    assert again.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("sites", "rotate", "no-such-site"),
        ("sites", "finish-rotation", "no-such-site"),
        ("sites", "update", "no-such-site", "--inactive"),
        ("tokens", "mint", "--site", "no-such-site"),
    ],
)
def test_an_unknown_site_is_not_found_in_one_line(app: Flask, args: tuple[str, ...]) -> None:
    result = _invoke(app, *args)

    assert_one_line_error(result.exit_code, result.stderr, "not_found", "'no-such-site'")
    assert isinstance(result.exception, SystemExit)  # reported, not raised


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--callback-url", "ftp://new.example.com/callback", "callback_url"),
        ("--origin", "https://new.example.com/shop", "origin"),
    ],
)
def test_an_invalid_url_or_origin_is_refused_in_one_line_and_nothing_is_written(
    app: Flask, db_rows: Any, option: str, value: str, named: str
) -> None:
    result = _invoke(app, "sites", "create", "new-site", "--name", "New", option, value)

    assert_one_line_error(result.exit_code, result.stderr, "validation_error", named)
    assert db_rows("SELECT id FROM sites") == []


def test_a_sku_map_that_is_not_json_is_refused_in_one_line(
    app: Flask, old_site: SiteCredentials, tmp_path: Path
) -> None:
    sku_map = tmp_path / "skus.json"
    sku_map.write_text("pattern: ^PY101-\n")
    args = ["reconcile", "--from", "2026-01-01", "--to", "2026-01-02"]

    result = _invoke(app, *args, "--import-site", "old-site", "--sku-map", str(sku_map))

    assert_one_line_error(result.exit_code, result.stderr, "validation_error", "is not JSON")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ADMIN_JWT_SECRET": ""}, "ADMIN_JWT_SECRET must be set"),
        ({"DB_POOL_MAX": "lots"}, "DB_POOL_MAX must be a number"),
        ({"RAZORPAY_KEY_ID": "rzp_live_abcdefghijklmn"}, "RAZORPAY_KEY_SECRET"),
    ],
)
def test_a_configuration_the_service_cannot_run_with_is_one_line_naming_the_variable(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = flask_cli(tmp_path, "sites", "list", DATABASE_URL=UNREACHABLE_DATABASE, **env)

    assert_one_line_error(result.returncode, result.stderr, "configuration", named)


def test_an_unreachable_database_is_one_line(make_app: Any) -> None:
    app = make_app(database_url=UNREACHABLE_DATABASE)

    result = _invoke(app, "sites", "list")

    assert_one_line_error(result.exit_code, result.stderr, "database", "port 1 failed")


def test_a_bug_still_ends_in_its_traceback(app: Flask) -> None:
    @click.command("explode", cls=ServiceCommand)
    def explode() -> None:
        raise RuntimeError("a bug in a command")

    app.cli.add_command(explode)

    result = _invoke(app, "explode")

    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)  # not turned into a one-liner


def test_a_scope_given_at_creation_is_stored_and_shown_by_sites_list(
    app: Flask, db_rows: Any
) -> None:
    created = _invoke(app, "sites", "create", "crm", "--name", "CRM", "--scope", "enrollments:list")
    plain = _invoke(app, "sites", "create", "shop", "--name", "Shop")

    assert created.exit_code == 0 and plain.exit_code == 0, (created.stderr, plain.stderr)
    assert json.loads(created.stdout)["scopes"] == ["enrollments:list"]
    assert json.loads(plain.stdout)["scopes"] == []
    listed = json.loads(_invoke(app, "sites", "list").stdout)
    assert {site["site_id"]: site["scopes"] for site in listed} == {
        "crm": ["enrollments:list"],
        "shop": [],
    }
    assert db_rows("SELECT id, scopes FROM sites ORDER BY id") == [
        {"id": "crm", "scopes": ["enrollments:list"]},
        {"id": "shop", "scopes": []},
    ]


def test_an_unknown_scope_is_refused_in_one_line_and_nothing_is_written(
    app: Flask, db_rows: Any
) -> None:
    result = _invoke(app, "sites", "create", "crm", "--name", "CRM", "--scope", "orders:all")

    assert_one_line_error(
        result.exit_code, result.stderr, "validation_error", "unknown scope 'orders:all'"
    )
    assert db_rows("SELECT id FROM sites") == []


def test_sites_update_replaces_the_scopes_or_takes_them_all_away(
    app: Flask, new_site: SiteCredentials
) -> None:
    given = _invoke(app, "sites", "update", "new-site", "--scope", "enrollments:list")
    assert given.exit_code == 0, given.stderr
    assert json.loads(given.stdout)["scopes"] == ["enrollments:list"]
    untouched = _invoke(app, "sites", "update", "new-site", "--inactive")
    assert json.loads(untouched.stdout)["scopes"] == ["enrollments:list"]

    taken = _invoke(app, "sites", "update", "new-site", "--no-scopes")

    assert taken.exit_code == 0, taken.stderr
    assert json.loads(taken.stdout)["scopes"] == []
    unknown = _invoke(app, "sites", "update", "new-site", "--scope", "everything")
    assert_one_line_error(unknown.exit_code, unknown.stderr, "validation_error", "'everything'")
