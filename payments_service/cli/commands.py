"""Flask commands (scriptable, JSON output): db upgrade, sites create/list, tokens mint;
`check` (check.py) prints the go-live checklist instead.

Ordinary failures print one line on stderr and exit 1 (errors.py); a traceback is a bug.
"""

from __future__ import annotations

import json
import signal
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import requests
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..auth import mint_admin_token, mint_site_token
from ..migrations import apply_migrations
from ..reconcile.legacy_import import LegacyImport, load_sku_rules
from ..reconcile.window import reconcile_window
from ..services import EXTENSION_KEY, Services
from ..settings import Settings
from ..sites import (
    SITE_SCOPES,
    create_site,
    finish_secret_rotation,
    get_active_site,
    list_sites,
    reserved_site_ids,
    rotate_site_secrets,
    update_site,
)
from ..worker import run_forever, run_pass
from .check import check_command
from .errors import ServiceCommand, ServiceGroup

db_cli = ServiceGroup("db", help="Database schema.")
sites_cli = ServiceGroup("sites", help="Websites that share this backend.")
tokens_cli = ServiceGroup("tokens", help="Bearer tokens for sites and admins.")


def _services() -> Services:
    found: Services = current_app.extensions[EXTENSION_KEY]
    return found


def _echo(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations from sql/ (over MIGRATION_DATABASE_URL when it is set)."""
    services = _services()
    dsn = services.settings.migration_database_url or services.db.dsn
    _echo({"applied": apply_migrations(dsn, mode=services.settings.mode)})


@sites_cli.command("create")
@click.argument("site_id")
@click.option("--name", required=True, help="Display name of the site.")
@click.option("--callback-url", default=None, help="Where the service POSTs notifications.")
@click.option("--origin", "origins", multiple=True, help="Browser origin allowed to call verify.")
@click.option("--scope", "scopes", multiple=True, help=f"Give a scope: {', '.join(SITE_SCOPES)}.")
def sites_create(
    site_id: str,
    name: str,
    callback_url: str | None,
    origins: tuple[str, ...],
    scopes: tuple[str, ...],
) -> None:
    """Register a site and print its secrets (shown this once)."""
    site = create_site(
        _services().db,
        site_id=site_id,
        name=name,
        callback_url=callback_url,
        allowed_origins=list(origins),
        reserved_ids=reserved_site_ids(_services().settings),
        scopes=list(scopes),
    )
    _echo(
        {
            "site_id": site.id,
            "name": site.name,
            "callback_url": site.callback_url,
            "allowed_origins": site.allowed_origins,
            "scopes": site.scopes,
            "jwt_secret": site.jwt_secret,
            "callback_secret": site.callback_secret,
            "audience": _services().settings.jwt_audience,
        }
    )


@sites_cli.command("rotate")
@click.argument("site_id")
@click.option("--jwt/--no-jwt", "jwt", default=True, help="Issue a new JWT secret.")
@click.option("--callback/--no-callback", default=True, help="Issue a new callback secret.")
def sites_rotate(site_id: str, jwt: bool, callback: bool) -> None:
    """Issue new secrets; the old ones stay valid until `sites finish-rotation`."""
    site = rotate_site_secrets(_services().db, site_id, jwt=jwt, callback=callback)
    _echo(
        {
            "site_id": site.id,
            "jwt_secret": site.jwt_secret if jwt else None,
            "callback_secret": site.callback_secret if callback else None,
            "previous_secrets_valid_until": "sites finish-rotation " + site.id,
        }
    )


@sites_cli.command("finish-rotation")
@click.argument("site_id")
def sites_finish_rotation(site_id: str) -> None:
    """Retire the previous secrets of a site once it uses the new ones."""
    site = finish_secret_rotation(_services().db, site_id)
    _echo({"site_id": site.id, "previous_secrets": "retired"})


@sites_cli.command("update")
@click.argument("site_id")
@click.option("--callback-url", default=None, help="New callback URL.")
@click.option("--origin", "origins", multiple=True, help="Replace the allowed origins.")
@click.option("--active/--inactive", "is_active", default=None, help="(De)activate the site.")
@click.option("--scope", "scopes", multiple=True, help="Replace the site's scopes.")
@click.option("--no-scopes", is_flag=True, help="Take every scope away from the site.")
def sites_update(
    site_id: str,
    callback_url: str | None,
    origins: tuple[str, ...],
    is_active: bool | None,
    scopes: tuple[str, ...],
    no_scopes: bool,
) -> None:
    """Change a site's callback URL, origins, scopes, or whether it is active."""
    if scopes and no_scopes:
        raise click.UsageError("give --scope or --no-scopes, not both")
    site = update_site(
        _services().db,
        site_id,
        callback_url=callback_url,
        allowed_origins=list(origins) or None,
        is_active=is_active,
        scopes=[] if no_scopes else (list(scopes) or None),
    )
    _echo(
        {
            "site_id": site.id,
            "callback_url": site.callback_url,
            "allowed_origins": site.allowed_origins,
            "scopes": site.scopes,
            "is_active": site.is_active,
        }
    )


@sites_cli.command("list")
def sites_list() -> None:
    """List sites (without secrets)."""
    _echo(
        [
            {
                "site_id": s.id,
                "name": s.name,
                "callback_url": s.callback_url,
                "allowed_origins": s.allowed_origins,
                "scopes": s.scopes,
                "is_active": s.is_active,
                "created_at": s.created_at.isoformat(),
            }
            for s in list_sites(_services().db)
        ]
    )


@tokens_cli.command("mint")
@click.option("--site", "site_id", default=None, help="Mint a token for this site.")
@click.option("--admin", "is_admin", is_flag=True, help="Mint an admin token.")
@click.option("--sub", default=None, help="Subject: the site's user id, or the admin's name.")
@click.option(
    "--ttl-minutes",
    default=None,
    type=click.IntRange(min=1),
    help="Lifetime; at most SITE_/ADMIN_TOKEN_MAX_LIFETIME_SECONDS (default 60, or that).",
)
def tokens_mint(
    site_id: str | None, is_admin: bool, sub: str | None, ttl_minutes: int | None
) -> None:
    """Print a bearer token for a site (--site) or an admin (--admin)."""
    if is_admin == (site_id is not None):
        raise click.UsageError("give exactly one of --site SITE_ID or --admin")
    settings = _services().settings
    ttl = _token_ttl(settings, is_admin, ttl_minutes)
    if is_admin:
        click.echo(mint_admin_token(settings, sub or "cli", ttl))
        return
    site = get_active_site(_services().db, str(site_id))
    click.echo(mint_site_token(site.jwt_secret, site.id, settings.jwt_audience, sub, ttl))


def _token_ttl(settings: Settings, is_admin: bool, minutes: int | None) -> timedelta:
    """The asked lifetime (default: an hour), refused past the service's bound for the kind:
    a token it would mint only to refuse it."""
    kind, bound = (
        ("admin", settings.admin_token_max_lifetime_seconds)
        if is_admin
        else ("site", settings.site_token_max_lifetime_seconds)
    )
    if minutes is None:
        return timedelta(seconds=min(3600, bound))
    if minutes * 60 > bound:
        raise click.BadParameter(
            f"{kind} tokens may live at most {bound // 60} minutes "
            f"({kind.upper()}_TOKEN_MAX_LIFETIME_SECONDS={bound})",
            param_hint="--ttl-minutes",
        )
    return timedelta(minutes=minutes)


@click.command("reconcile", cls=ServiceCommand)
@with_appcontext
@click.option("--from", "start", required=True, type=click.DateTime(), help="Window start (UTC).")
@click.option("--to", "end", required=True, type=click.DateTime(), help="Window end (UTC).")
@click.option("--import-site", default=None, help="Adopt foreign payments as this site's orders.")
@click.option(
    "--sku-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON list of {pattern, sku, name} to derive SKUs of imported payments.",
)
@click.option("--dry-run", is_flag=True, help="With --import-site: print what would be adopted.")
def reconcile_command(
    start: datetime, end: datetime, import_site: str | None, sku_map: Path | None, dry_run: bool
) -> None:
    """Sync payments created in a time window from Razorpay; optionally import the old site's."""
    services = _services()
    legacy = None
    if import_site is not None:
        get_active_site(services.db, import_site)
        rules = load_sku_rules(sku_map) if sku_map else ()
        legacy = LegacyImport(services.gateway, import_site, rules, dry_run)
    elif dry_run or sku_map:
        raise click.UsageError("--dry-run and --sku-map go with --import-site")
    report = reconcile_window(
        services.db, services.gateway, start.replace(tzinfo=UTC), end.replace(tzinfo=UTC), legacy
    )
    services.metrics.record_reconcile(report.counts())
    _echo(report.as_dict())


@click.command("worker", cls=ServiceCommand)
@with_appcontext
@click.option("--once", is_flag=True, help="Run one pass and exit.")
def worker_command(once: bool) -> None:
    """Run the background worker until SIGTERM or Ctrl-C."""
    services = _services()
    if once:
        with requests.Session() as session:
            _echo(asdict(run_pass(services, session)))
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        run_forever(services, stop)
    except KeyboardInterrupt:
        stop.set()


def register_commands(app: Flask) -> None:
    """Attach the commands to ``flask --app payments_service``."""
    commands = (db_cli, sites_cli, tokens_cli, reconcile_command, worker_command, check_command)
    for command in commands:
        app.cli.add_command(command)
