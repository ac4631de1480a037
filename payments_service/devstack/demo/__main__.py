"""``python -m payments_service.devstack.demo --site-id ID --title T --port P`` (secrets from env).

DEMO_ADMIN_JWT_SECRET (the service's ADMIN_JWT_SECRET, passed by `make run`) turns on the
site's local-development admin page; without it the site has none.
"""

from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from .app import create_app
from .service import StoreConfig


def main() -> None:
    """Serve one demo storefront on 127.0.0.1."""
    parser = argparse.ArgumentParser(prog="python -m payments_service.devstack.demo")
    parser.add_argument("--site-id", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--accent", default="#2563eb")
    args = parser.parse_args()
    config = StoreConfig(
        site_id=args.site_id,
        title=args.title,
        jwt_secret=os.environ["DEMO_SITE_JWT_SECRET"],
        audience=os.environ.get("DEMO_AUDIENCE", "payments-service"),
        api_url=os.environ.get("DEMO_API_URL", "http://127.0.0.1:8000"),
        checkout_script_url=os.environ["DEMO_CHECKOUT_SCRIPT_URL"],
        callback_secret=os.environ["DEMO_SITE_CALLBACK_SECRET"],
        accent=args.accent,
        admin_jwt_secret=os.environ.get("DEMO_ADMIN_JWT_SECRET", ""),
    )
    run_simple("127.0.0.1", args.port, create_app(config), threaded=True)


if __name__ == "__main__":
    main()
