"""`sites create` refuses ids that would be a trap: the admin tokens' issuer (a site by that
name could never authenticate), ids that differ from a taken one only by '-' and '_', and
ids the sites table cannot hold, each in one line, with nothing written."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from payments_service.errors import ValidationFailed
from payments_service.settings import Settings
from payments_service.sites import create_site, reserved_site_ids
from tests.test_cli import assert_one_line_error


def sites_create(app: Flask, site_id: str) -> Any:
    return app.test_cli_runner().invoke(args=["sites", "create", site_id, "--name", "A site"])


@pytest.mark.parametrize("site_id", ["payments-service", "payments_service"])
def test_a_site_named_like_the_admin_issuer_is_refused_in_one_line(
    app: Flask, db_rows: Any, site_id: str
) -> None:
    result = sites_create(app, site_id)

    assert_one_line_error(
        result.exit_code, result.stderr, "validation_error", f"site id {site_id!r} is reserved"
    )
    assert db_rows("SELECT id FROM sites") == []


def test_whatever_the_issuer_and_audience_are_they_are_reserved(
    make_app: Any, db_rows: Any
) -> None:
    app = make_app(jwt_issuer="shop-admin", jwt_audience="shop-api")

    assert sites_create(app, "shop-admin").exit_code == 1
    assert sites_create(app, "shop_api").exit_code == 1
    assert sites_create(app, "payments-service").exit_code == 0  # no longer the issuer
    assert db_rows("SELECT id FROM sites") == [{"id": "payments-service"}]


def test_reserved_ids_follow_the_settings(settings: Settings) -> None:
    assert reserved_site_ids(settings) == {"payments-service"}
    other = replace(settings, jwt_issuer="issuer-x", jwt_audience="audience-y")
    assert reserved_site_ids(other) == {"issuer-x", "audience-y"}


def test_an_id_that_differs_from_a_taken_one_only_by_dash_or_underscore_is_refused(
    app: Flask, db_rows: Any
) -> None:
    assert sites_create(app, "new-site").exit_code == 0

    result = sites_create(app, "new_site")

    assert_one_line_error(
        result.exit_code,
        result.stderr,
        "conflict",
        "site id 'new_site' would be confused with the site 'new-site'",
    )
    assert db_rows("SELECT id FROM sites") == [{"id": "new-site"}]


def test_the_same_id_twice_is_still_already_taken(app: Flask) -> None:
    assert sites_create(app, "new-site").exit_code == 0

    result = sites_create(app, "new-site")

    assert_one_line_error(
        result.exit_code, result.stderr, "conflict", "a site with id 'new-site' already exists"
    )


@pytest.mark.parametrize("site_id", ["New-Site", "x", "_leading-underscore", "has space", "é-site"])
def test_an_id_the_sites_table_cannot_hold_is_a_validation_error_not_a_traceback(
    app: Flask, db_rows: Any, site_id: str
) -> None:
    result = sites_create(app, site_id)

    assert_one_line_error(result.exit_code, result.stderr, "validation_error", "lowercase")
    assert db_rows("SELECT id FROM sites") == []


def test_a_valid_new_id_is_created(app: Flask) -> None:
    result = sites_create(app, "course_shop-2")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["site_id"] == "course_shop-2"


def test_the_capability_refuses_reserved_ids_it_is_given(app: Flask) -> None:
    with pytest.raises(ValidationFailed, match="reserved"):
        create_site(
            app.extensions["payments_service"].db,
            site_id="payments-service",
            name="Trap",
            callback_url=None,
            allowed_origins=[],
            reserved_ids={"payments-service"},
        )
