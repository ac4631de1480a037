"""Command line: ``python -m payments_service.sandbox [--host H] [--port P] [--webhook-url U]``.

Every tunable setting also has a flag and a variable: ``webhook_duplicates`` is
``--webhook-duplicates N`` and ``SANDBOX_WEBHOOK_DUPLICATES``; booleans take
``--webhook-shuffle`` / ``--no-webhook-shuffle``. ``--state-file PATH`` (or
``SANDBOX_STATE_FILE``) keeps orders, payments, refunds and payment links across restarts
(persistence.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from .config import (
    TUNABLE_SETTINGS,
    ConfigError,
    SandboxConfig,
    environment_variable,
    parse_bool,
    parse_int,
)
from .persistence import StateFileError
from .server import start_background

logger = logging.getLogger("payments_service.sandbox")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8010


def parse_arguments(argv: Sequence[str], environ: Mapping[str, str]) -> argparse.Namespace:
    """Parse flags; SANDBOX_PORT and SANDBOX_STATE_FILE supply their defaults."""
    parser = argparse.ArgumentParser(
        prog="python -m payments_service.sandbox",
        description="Run the local Razorpay sandbox (API v1, webhooks, Checkout stand-in).",
        epilog="Also reads SANDBOX_KEY_ID, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET, "
        "SANDBOX_WEBHOOK_URL (comma separated), SANDBOX_PORT, SANDBOX_STATE_FILE, and "
        "SANDBOX_<SETTING> for each setting flag (SANDBOX_WEBHOOK_DUPLICATES, SANDBOX_SEED, "
        "...); flags win.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on")
    parser.add_argument("--port", type=int, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument(
        "--webhook-url",
        action="append",
        dest="webhook_urls",
        metavar="URL",
        help="where to POST signed webhooks; repeat for several",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=environ.get("SANDBOX_STATE_FILE") or None,
        metavar="PATH",
        help="keep orders, payments, refunds, payment links and the merchant balance in this "
        "JSON file, "
        "written after every change, so that a restart forgets none (webhook events and "
        "settings are not kept); default from SANDBOX_STATE_FILE, else memory only",
    )
    _add_setting_flags(parser)
    arguments = parser.parse_args(argv)
    if arguments.port is None:
        port_text = environ.get("SANDBOX_PORT")
        arguments.port = parse_int("port", port_text) if port_text else DEFAULT_PORT
    return arguments


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per tunable setting: ``--no-<name>`` too for booleans, a value otherwise."""
    group = parser.add_argument_group("simulated behaviour (see SandboxConfig)")
    for name, parse in TUNABLE_SETTINGS.items():
        flag = "--" + name.replace("_", "-")
        help_text = f"sets {name}; default from {environment_variable(name)}"
        if parse is parse_bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, help=help_text)
        else:
            group.add_argument(flag, metavar="VALUE", help=help_text)


def build_config(arguments: argparse.Namespace, environ: Mapping[str, str]) -> SandboxConfig:
    """Settings from the environment, overridden by flags.

    Raises ConfigError for a flag or variable with an invalid value.
    """
    config = SandboxConfig.from_environment(environ)
    if arguments.webhook_urls:
        config.webhook_urls = list(arguments.webhook_urls)
    changes: dict[str, Any] = {}
    for name, parse in TUNABLE_SETTINGS.items():
        value = getattr(arguments, name)
        if isinstance(value, str):
            changes[name] = parse(name, value)
        elif value is not None:
            changes[name] = value
    config.update(changes)
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; returns the process exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        arguments = parse_arguments(sys.argv[1:] if argv is None else argv, os.environ)
        config = build_config(arguments, os.environ)
    except ConfigError as exc:
        logger.error("invalid setting %s", exc)
        return 2
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        sandbox = start_background(config, arguments.host, arguments.port, arguments.state_file)
    except StateFileError as exc:
        logger.error("cannot start: %s", exc)
        return 2
    logger.info(
        "Razorpay sandbox on %s (key %s, webhooks to %s, state %s)",
        sandbox.url,
        config.key_id,
        ", ".join(config.webhook_urls) or "nowhere",
        arguments.state_file or "in memory only",
    )
    stop_requested.wait()
    logger.info("stopping")
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
