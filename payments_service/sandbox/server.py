"""Running a sandbox in a background thread of the current process (tests, demos, make run)."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from .app import create_app
from .config import SandboxConfig
from .extension import EXTENSION_KEY, Sandbox

# How often the serving thread checks for stop(); werkzeug's default of 0.5 s slows test teardown.
SHUTDOWN_POLL_SECONDS = 0.05


class BackgroundSandbox:
    """A sandbox served over HTTP from a daemon thread until ``stop()``."""

    def __init__(self, app: Flask, server: BaseWSGIServer) -> None:
        self.app = app
        self._server = server
        self._sandbox: Sandbox = app.extensions[EXTENSION_KEY]
        self.config = self._sandbox.config
        self.url = f"http://{server.host}:{server.port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name=f"sandbox-{server.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """End hung API calls, stop serving, close the listening socket and the webhook thread."""
        self._sandbox.chaos.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._sandbox.webhooks.close()

    def __enter__(self) -> BackgroundSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_background(
    config: SandboxConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    state_file: Path | None = None,
) -> BackgroundSandbox:
    """Serve a new sandbox on ``host:port`` (0 picks a free port) from a daemon thread,
    keeping its state in ``state_file`` when given (see create_app)."""
    app = create_app(config, state_file)
    server = make_server(host, port, app, threaded=True)
    return BackgroundSandbox(app, server)
