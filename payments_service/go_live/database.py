"""Checks that ask the database: reachable over TLS, migrated, a worker running and the
outbox moving, Razorpay's webhook arriving, every active site on https."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from ..db import health
from ..db import notifications as notifications_sql
from ..db.sites import Site
from ..errors import DatabaseUnavailable
from ..migrations import pending_migrations
from ..razorpay_events import last_webhook_at
from ..sites import list_sites
from ..worker import last_pass_at
from .findings import Context, Finding, ago, failed, passed

# How long Razorpay may stay silent before its webhook counts as not arriving: a live
# account that sells anything pays (or fails a payment) more often than weekly.
WEBHOOK_SILENCE = timedelta(days=7)
# A worker is gone when it started no pass for this many intervals, and at least this
# long: one pass may wait on slow sites and on Razorpay for a minute or more.
WORKER_SILENT_INTERVALS = 5
WORKER_SILENCE_AT_LEAST = timedelta(minutes=2)
START_WORKER = "start `flask --app payments_service worker` with the api's settings"
SECURE_SSLMODES = ("require", "verify-ca", "verify-full")


def reachable(ctx: Context) -> Finding:
    """The database answers (every other database check needs it)."""
    try:
        with ctx.db.transaction() as cur:
            health.connection_security(cur)
    except DatabaseUnavailable as exc:
        return failed(
            exc.reason,
            "set DATABASE_URL to the PostgreSQL URL the api uses, and check that the server "
            "is up and lets this host in",
        )
    return passed()


def tls(ctx: Context) -> Finding:
    """The connection is encrypted, and libpq is told never to fall back to plain text.

    libpq's own view of the connection decides: behind a pooler (Neon's), the server's
    pg_stat_ssl describes the pooler's connection, not ours.
    """
    with ctx.db.transaction() as cur:
        security = health.connection_security(cur)
    fix = (
        "add sslmode=require to DATABASE_URL (`?sslmode=require`; verify-full with the "
        "provider's CA certificate also proves the server's identity)"
    )
    if not security.client_ssl:
        return failed(f"the connection is not encrypted (sslmode={security.sslmode})", fix)
    if security.sslmode not in SECURE_SSLMODES:
        return failed(
            f"encrypted now, but sslmode={security.sslmode} would fall back to plain text", fix
        )
    seen = "" if security.server_ssl else "; the server sees a pooler's plain connection"
    return passed(f"TLS, sslmode={security.sslmode}{seen}")


def migrations(ctx: Context) -> Finding:
    """Every migration in sql/ is applied."""
    pending = pending_migrations(ctx.db)
    if pending:
        return failed(
            f"pending: {', '.join(pending)}",
            "run `flask --app payments_service db upgrade` (over MIGRATION_DATABASE_URL when "
            "it is set)",
        )
    return passed()


def worker_alive(ctx: Context) -> Finding:
    """A worker of this mode started a pass within a few worker intervals."""
    last = last_pass_at(ctx.db)
    silence = worker_silence(ctx)
    if last is None:
        return failed(f"no worker has ever run in {ctx.db.mode} mode", START_WORKER)
    if ctx.now - last > silence:
        return failed(
            f"the last pass started {ago(ctx.now - last)} ago (more than {ago(silence)})",
            START_WORKER,
        )
    return passed(f"last pass {ago(ctx.now - last)} ago")


def outbox_moving(ctx: Context) -> Finding:
    """No notification a worker would deliver has waited past a few worker intervals."""
    silence = worker_silence(ctx)
    with ctx.db.transaction() as cur:
        overdue = notifications_sql.count_overdue(cur, ctx.now - silence)
    if overdue:
        return failed(
            f"{overdue} notification(s) due for more than {ago(silence)} and not sent",
            START_WORKER + " (if one runs, its log says why its passes fail)",
        )
    return passed("nothing overdue")


def webhook_recent(ctx: Context) -> Finding:
    """Razorpay's webhook reached the service and verified, within the last week."""
    newest = last_webhook_at(ctx.db, this_mode_only=True)
    fix = (
        "add https://<your host>/v1/webhooks/razorpay as a webhook on the Razorpay dashboard "
        "in live mode, with RAZORPAY_WEBHOOK_SECRET as its secret and the events the README "
        "lists, then make a payment"
    )
    if newest is None:
        return failed("no verified Razorpay webhook has arrived yet", fix)
    if ctx.now - newest > WEBHOOK_SILENCE:
        return failed(f"the newest arrived {ago(ctx.now - newest)} ago", fix)
    return passed(f"the newest arrived {ago(ctx.now - newest)} ago")


def sites_https(ctx: Context) -> list[Finding]:
    """Every active site's callback URL and allowed origins are https (one line a site)."""
    active = [site for site in list_sites(ctx.db) if site.is_active]
    if not active:
        return [
            failed(
                "no active site",
                "register each site with `flask --app payments_service sites create ID --name "
                "… --callback-url https://… --origin https://…`",
            )
        ]
    return [_site_https(site) for site in active]


def _site_https(site: Site) -> Finding:
    """The site's plain-http callback URL and origins, with the command that replaces them."""
    plain_callback = site.callback_url is not None and not _is_https(site.callback_url)
    plain_origins = [origin for origin in site.allowed_origins if not _is_https(origin)]
    if not plain_callback and not plain_origins:
        return Finding("PASS", about=site.id)
    plain = [f"callback URL {site.callback_url}"] if plain_callback else []
    plain += [f"origin {origin}" for origin in plain_origins]
    options = " --callback-url https://…" if plain_callback else ""
    if plain_origins:  # --origin replaces the whole list: name every origin the site keeps
        options += " --origin https://…" * len(site.allowed_origins)
    return Finding(
        "FAIL",
        f"{' and '.join(plain)} {'is' if len(plain) == 1 else 'are'} not https",
        f"`flask --app payments_service sites update {site.id}{options}`",
        about=site.id,
    )


def _is_https(url: str) -> bool:
    return urlsplit(url).scheme == "https"


def worker_silence(ctx: Context) -> timedelta:
    """How long without a worker pass means no worker is running."""
    intervals = timedelta(seconds=WORKER_SILENT_INTERVALS * ctx.settings.worker_interval_seconds)
    return max(intervals, WORKER_SILENCE_AT_LEAST)
