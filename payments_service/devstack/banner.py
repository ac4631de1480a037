"""What `make run` prints once everything is up."""

from __future__ import annotations

from datetime import timedelta

from ..auth import mint_admin_token, mint_site_token
from ..settings import Settings


def print_banner(
    settings: Settings,
    api_port: int,
    sandbox_port: int,
    sites: dict[str, tuple[str, int, str]],
    site_secrets: dict[str, dict[str, str]],
) -> None:
    """Where everything listens, and tokens to try the API with."""
    admin_ttl = timedelta(seconds=settings.admin_token_max_lifetime_seconds)
    site_ttl = timedelta(seconds=settings.site_token_max_lifetime_seconds)
    api = f"http://127.0.0.1:{api_port}"
    lines = [
        "",
        "payments_service is running (Ctrl-C stops everything)",
        f"  API              {api}",
        f"  API docs         {api}/docs/   (Swagger UI; contract: /openapi.yaml)",
    ]
    if settings.is_sandbox:
        lines.append(f"  Razorpay sandbox http://127.0.0.1:{sandbox_port}")
    for site_id, (title, port, _) in sites.items():
        lines.append(f"  {title:<16} http://127.0.0.1:{port}   (site id {site_id})")
    lines.append("  Each site's /admin page refunds orders and creates payment links.")
    lines += [
        "",
        f"Tokens for curl (admin {_hours(admin_ttl)}, sites {_hours(site_ttl)}; fresh ones:"
        " .venv/bin/flask --app payments_service tokens mint --site new-site):",
        f"  ADMIN_TOKEN={mint_admin_token(settings, 'make-run', admin_ttl)}",
    ]
    for site_id, secrets_of_site in site_secrets.items():
        token = mint_site_token(
            secrets_of_site["jwt"], site_id, settings.jwt_audience, None, site_ttl
        )
        lines.append(f"  {site_id.upper().replace('-', '_')}_TOKEN={token}")
    print("\n".join(lines), flush=True)


def _hours(ttl: timedelta) -> str:
    return f"{ttl.total_seconds() / 3600:g} h"
