"""`make run`: the whole stack on this machine with no configuration.

Embedded PostgreSQL, migrations, the Razorpay sandbox (sending its webhooks to the API),
the API under gunicorn, the worker and two demo storefronts ("old-site" and "new-site"),
each its own process; Ctrl-C stops all.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType

import requests
from dotenv import load_dotenv

from .auth import mint_admin_token, mint_site_token
from .db import Database
from .embedded_db import start_embedded_postgres
from .migrations import apply_migrations
from .settings import Settings
from .sites import create_site, list_sites

API_PORT = int(os.environ.get("API_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8010"))
DEMO_SITES = {
    "old-site": ("Old Course Site", int(os.environ.get("OLD_SITE_PORT", "8021")), "#b45309"),
    "new-site": ("New Course Site", int(os.environ.get("NEW_SITE_PORT", "8022")), "#2563eb"),
}


def ensure_env_file(path: Path = Path(".env")) -> None:
    """Write a development .env with a fresh admin secret the first time."""
    if path.exists():
        return
    path.write_text(
        "# Written by `make run` for local development; see README.md for every setting.\n"
        f"ADMIN_JWT_SECRET={secrets.token_urlsafe(48)}\n"
    )


def register_demo_sites(db: Database, data_dir: Path) -> dict[str, dict[str, str]]:
    """Create the two demo sites once; their secrets are kept in .data for the demo."""
    credentials_file = data_dir / "demo-sites.json"
    if credentials_file.exists():
        saved: dict[str, dict[str, str]] = json.loads(credentials_file.read_text())
        return saved
    existing = {site.id for site in list_sites(db)}
    if existing & set(DEMO_SITES):
        raise SystemExit(f"demo sites exist but {credentials_file} is gone: remove {data_dir}")
    saved = {}
    for site_id, (title, port, _) in DEMO_SITES.items():
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
    """Start everything, print the URLs and tokens, wait for Ctrl-C."""
    ensure_ports_free([API_PORT, SANDBOX_PORT, *(port for _, port, _ in DEMO_SITES.values())])
    ensure_env_file()
    load_dotenv()
    settings = Settings.from_env()
    dsn = settings.database_url or start_embedded_postgres(settings.data_dir)
    apply_migrations(dsn)
    db = Database(dsn, 2, settings.db_statement_timeout_ms)
    site_secrets = register_demo_sites(db, settings.data_dir)
    db.close()

    env = {**os.environ, "DATABASE_URL": dsn}
    children: list[subprocess.Popen[bytes]] = []
    if settings.is_sandbox:
        webhook_url = f"http://127.0.0.1:{API_PORT}/v1/webhooks/razorpay"
        sandbox = ["-m", "payments_service.sandbox", "--port", str(SANDBOX_PORT)]
        children.append(_spawn([*sandbox, "--webhook-url", webhook_url], env))
        env["RAZORPAY_API_BASE_URL"] = f"http://127.0.0.1:{SANDBOX_PORT}"
    metrics_dir = (settings.data_dir / "prometheus").resolve()
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    api_env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{API_PORT}",
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    api = ["-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null"]
    children.append(_spawn([*api, "payments_service:create_app()"], api_env))
    children.append(_spawn(["-m", "flask", "--app", "payments_service", "worker"], env))
    for site_id, (title, port, accent) in DEMO_SITES.items():
        store = ["-m", "payments_service.demo", "--site-id", site_id, "--title", title]
        store_env = {
            **env,
            "DEMO_SITE_JWT_SECRET": site_secrets[site_id]["jwt"],
            "DEMO_SITE_CALLBACK_SECRET": site_secrets[site_id]["callback"],
            "DEMO_API_URL": f"http://127.0.0.1:{API_PORT}",
            "DEMO_CHECKOUT_SCRIPT_URL": _checkout_script(settings),
            "DEMO_AUDIENCE": settings.jwt_audience,
            "DEMO_ADMIN_JWT_SECRET": settings.admin_jwt_secret,  # for its local /admin page
        }
        children.append(_spawn([*store, "--port", str(port), "--accent", accent], store_env))
    _wait_until_ready(f"http://127.0.0.1:{API_PORT}/readyz")
    _print_banner(settings, site_secrets)
    _supervise(children)


def _checkout_script(settings: Settings) -> str:
    if settings.is_sandbox:
        return f"http://127.0.0.1:{SANDBOX_PORT}/v1/checkout.js"
    return "https://checkout.razorpay.com/v1/checkout.js"


def _spawn(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Run ``python <arguments>`` with this interpreter."""
    return subprocess.Popen([sys.executable, *arguments], env=env)  # noqa: S603 - our own modules


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


def _wait_until_ready(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the API did not become ready at {url}")


def _print_banner(settings: Settings, site_secrets: dict[str, dict[str, str]]) -> None:
    ttl = timedelta(hours=12)
    lines = [
        "",
        "payments_service is running (Ctrl-C stops everything)",
        f"  API              http://127.0.0.1:{API_PORT}   (contract: /openapi.yaml)",
    ]
    if settings.is_sandbox:
        lines.append(f"  Razorpay sandbox http://127.0.0.1:{SANDBOX_PORT}")
    for site_id, (title, port, _) in DEMO_SITES.items():
        lines.append(f"  {title:<16} http://127.0.0.1:{port}   (site id {site_id})")
    lines += [
        "",
        "Tokens for curl (12 h):",
        f"  ADMIN_TOKEN={mint_admin_token(settings, 'make-run', ttl)}",
    ]
    for site_id, secrets_of_site in site_secrets.items():
        token = mint_site_token(secrets_of_site["jwt"], site_id, settings.jwt_audience, None, ttl)
        lines.append(f"  {site_id.upper().replace('-', '_')}_TOKEN={token}")
    print("\n".join(lines), flush=True)


def _supervise(children: list[subprocess.Popen[bytes]]) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a process exited; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
