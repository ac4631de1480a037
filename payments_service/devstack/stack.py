"""`make run`: the whole stack on this machine with no configuration.

Embedded PostgreSQL, migrations, the Razorpay sandbox (sending its webhooks to the API,
keeping its payments in the data dir), the API under gunicorn, the worker and two demo
storefronts ("old-site" and "new-site"), each its own process; Ctrl-C stops all, and so does
any failure (processes.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

from ..db import Database
from ..errors import ConfigurationError
from ..migrations import apply_migrations
from ..settings import Settings
from ..sites import create_site, list_sites
from .banner import print_banner
from .demo.memberships_api import ensure_plan
from .demo.service import ServiceUnavailable
from .embedded_db import embedded_postgres
from .processes import (
    Children,
    StartFailed,
    StopRequested,
    StopSignals,
    wait_until_ready,
)

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"
READY_SECONDS = 120  # a cold first start on a busy 2-core machine takes well under this
STOP_SECONDS = 30  # more than gunicorn's graceful timeout (GUNICORN_GRACEFUL_TIMEOUT, 20 s)
SANDBOX_STATE_FILE = "sandbox-state.json"  # in the data dir, so it lives as long as the database
DEMO_SITES = {  # site id: (title, accent colour)
    "old-site": ("Old Course Site", "#b45309"),
    "new-site": ("New Course Site", "#2563eb"),
}


@dataclass(frozen=True)
class Ports:
    """Where each process listens on 127.0.0.1."""

    api: int
    sandbox: int
    sites: dict[str, int]  # demo site id -> port

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        """API_PORT, SANDBOX_PORT, OLD_SITE_PORT and NEW_SITE_PORT, or their defaults."""
        return cls(
            api=_port(env, "API_PORT", 8000),
            sandbox=_port(env, "SANDBOX_PORT", 8010),
            sites={
                "old-site": _port(env, "OLD_SITE_PORT", 8021),
                "new-site": _port(env, "NEW_SITE_PORT", 8022),
            },
        )

    def all(self) -> list[int]:
        return [self.api, self.sandbox, *self.sites.values()]


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"{name} must be a TCP port number (1-65535), got {raw!r}")
    return int(raw)


def demo_sites(ports: Ports) -> dict[str, tuple[str, int, str]]:
    """site id: (title, port, accent colour) for each demo storefront."""
    return {
        site_id: (title, ports.sites[site_id], accent)
        for site_id, (title, accent) in DEMO_SITES.items()
    }


def ensure_env_file(path: Path = Path(".env")) -> None:
    """Write a development .env with a fresh admin secret the first time."""
    if path.exists():
        return
    path.write_text(
        "# Written by `make run` for local development; see README.md for every setting.\n"
        f"ADMIN_JWT_SECRET={secrets.token_urlsafe(48)}\n"
    )


def register_demo_sites(
    db: Database, data_dir: Path, sites: dict[str, tuple[str, int, str]]
) -> dict[str, dict[str, str]]:
    """Create the two demo sites once; their secrets are kept in .data for the demo."""
    credentials_file = data_dir / "demo-sites.json"
    if credentials_file.exists():
        saved: dict[str, dict[str, str]] = json.loads(credentials_file.read_text())
        return saved
    existing = {site.id for site in list_sites(db)}
    if existing & set(sites):
        raise StartFailed(f"demo sites exist but {credentials_file} is gone: remove {data_dir}")
    saved = {}
    for site_id, (title, port, _) in sites.items():
        origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
        site = create_site(
            db,
            site_id=site_id,
            name=title,
            allowed_origins=origins,
            callback_url=f"http://127.0.0.1:{port}/payments/callback",
        )
        saved[site_id] = {"jwt": site.jwt_secret, "callback": site.callback_secret}
    credentials_file.write_text(json.dumps(saved))
    credentials_file.chmod(0o600)
    return saved


def main() -> None:
    """Start everything, print the URLs and tokens, run until Ctrl-C or a failure, then stop
    every process started; exit 0 after a requested stop, 1 after a failure."""
    signals, children = StopSignals(), Children()
    signals.install()
    ports = Ports.from_env(os.environ)
    ensure_ports_free(ports.all())
    env_file = Path(".env").resolve()
    ensure_env_file(env_file)
    load_dotenv(env_file)
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        raise SystemExit(f"cannot start: {exc}") from None
    with contextlib.ExitStack() as stack:  # on leaving: the children stop, then the database
        status = _run(settings, ports, signals, children, stack)
    print("stopped", flush=True)
    sys.exit(status)


def _run(
    settings: Settings,
    ports: Ports,
    signals: StopSignals,
    children: Children,
    stack: contextlib.ExitStack,
) -> int:
    """Run the stack until a stop is asked for (0) or something fails (1)."""
    try:
        signals.check()
        dsn = _database(settings, signals, stack)
        stack.callback(children.stop, STOP_SECONDS)
        _start_and_watch(settings, ports, dsn, signals, children)
    except StopRequested:
        print("stopping...", flush=True)
        return 0
    except StartFailed as failure:
        print(f"{failure}; stopping the rest", file=sys.stderr, flush=True)
    return 1


def _database(settings: Settings, signals: StopSignals, stack: contextlib.ExitStack) -> str:
    """DATABASE_URL, or the embedded server, which stops when `stack` closes."""
    if settings.database_url is not None:
        return settings.database_url
    try:
        return stack.enter_context(embedded_postgres(settings.data_dir))
    except Exception:
        signals.check()  # Ctrl-C reached initdb or pg_ctl too, which gave up: a stop
        raise


def _start_and_watch(
    settings: Settings, ports: Ports, dsn: str, signals: StopSignals, children: Children
) -> None:
    """Migrate, start the processes, print the banner once they answer, then watch them:
    returns only by StopRequested or StartFailed (a process exited)."""
    signals.check()
    apply_migrations(dsn, mode=settings.mode)
    sites = demo_sites(ports)
    db = Database(dsn, 2, settings.db_statement_timeout_ms, mode=settings.mode)
    try:
        site_secrets = register_demo_sites(db, settings.data_dir, sites)
    finally:
        db.close()
    signals.check()
    _start_children(settings, ports, sites, site_secrets, dsn, children)
    ready = [("the API", f"http://127.0.0.1:{ports.api}/readyz")]
    if settings.is_sandbox:
        ready.append(("the Razorpay sandbox", f"http://127.0.0.1:{ports.sandbox}/"))
    ready += [(title, f"http://127.0.0.1:{port}/") for title, port, _ in sites.values()]
    wait_until_ready(ready, children, signals, READY_SECONDS)
    _define_membership_plan(settings, ports)
    print_banner(settings, ports.api, ports.sandbox, sites, site_secrets)
    while (exited := children.first_exit()) is None:
        signals.check()
        time.sleep(0.5)
    raise StartFailed(exited)


def _define_membership_plan(settings: Settings, ports: Ports) -> None:
    """The demo's membership plan, as an admin defines it (found, or made the first time)."""
    api_url = f"http://127.0.0.1:{ports.api}"
    try:
        plan = ensure_plan(api_url, settings.jwt_audience, settings.admin_jwt_secret)
    except ServiceUnavailable as error:
        print(f"the demo's membership is not on sale: {error}", file=sys.stderr, flush=True)
        return
    print(f"membership plan {plan['id']} ({plan['sku']}, {plan['amount']} paise a month)")


def _start_children(
    settings: Settings,
    ports: Ports,
    sites: dict[str, tuple[str, int, str]],
    site_secrets: dict[str, dict[str, str]],
    dsn: str,
    children: Children,
) -> None:
    env = {**os.environ, "DATABASE_URL": dsn}
    if settings.is_sandbox:
        webhook_url = f"http://127.0.0.1:{ports.api}/v1/webhooks/razorpay"
        state_file = (settings.data_dir / SANDBOX_STATE_FILE).resolve()
        sandbox = ["-m", "payments_service.sandbox", "--port", str(ports.sandbox)]
        sandbox += ["--state-file", str(state_file), "--webhook-url", webhook_url]
        children.spawn("the Razorpay sandbox", sandbox, env)
        env["RAZORPAY_API_BASE_URL"] = f"http://127.0.0.1:{ports.sandbox}"
    metrics_dir = (settings.data_dir / "prometheus").resolve()
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    api_env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{ports.api}",
        # Payment links send the buyer's browser back here.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{ports.api}",
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    api = ["-m", "gunicorn", "-c", str(GUNICORN_CONF)]
    api.append("--no-control-socket")  # its default path is one per user, not per stack
    children.spawn("the API (gunicorn)", [*api, "payments_service:create_app()"], api_env)
    children.spawn("the worker", ["-m", "flask", "--app", "payments_service", "worker"], env)
    for site_id, (title, port, accent) in sites.items():
        store = ["-m", "payments_service.devstack.demo", "--site-id", site_id, "--title", title]
        store_env = {
            **env,
            "DEMO_SITE_JWT_SECRET": site_secrets[site_id]["jwt"],
            "DEMO_SITE_CALLBACK_SECRET": site_secrets[site_id]["callback"],
            "DEMO_API_URL": f"http://127.0.0.1:{ports.api}",
            "DEMO_CHECKOUT_SCRIPT_URL": _checkout_script(settings, ports),
            "DEMO_AUDIENCE": settings.jwt_audience,
            "DEMO_ADMIN_JWT_SECRET": settings.admin_jwt_secret,  # for its local /admin page
        }
        children.spawn(title, [*store, "--port", str(port), "--accent", accent], store_env)


def _checkout_script(settings: Settings, ports: Ports) -> str:
    if settings.is_sandbox:
        return f"http://127.0.0.1:{ports.sandbox}/v1/checkout.js"
    return "https://checkout.razorpay.com/v1/checkout.js"


def ensure_ports_free(ports: list[int]) -> None:
    """Stop with a clear message when a port is taken, e.g. by a `make run` still running
    (the API's workers listen with SO_REUSEPORT, so a second API would quietly share it)."""
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise SystemExit(
                    f"port {port} on 127.0.0.1 is in use (is `make run` already running?): "
                    "stop that, or choose other ports with API_PORT, SANDBOX_PORT, "
                    "OLD_SITE_PORT and NEW_SITE_PORT"
                ) from None
