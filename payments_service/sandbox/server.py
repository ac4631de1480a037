"""Running a sandbox in a background thread of the current process (tests, demos, make run).

Served by cheroot, not werkzeug's development server: werkzeug answers every call with
``Connection: close``, so each call the service made opened a new TCP connection, while
Razorpay keeps connections alive and the service sends its calls over a keep-alive pool
(razorpay_gateway/transport.py). Cheroot speaks HTTP/1.1 with keep-alive, parks idle
connections in a selector rather than in a worker thread, and stops from another thread
(``stop()``: stop selecting, close the listening socket and every connection, join the
workers), which is what ``BackgroundSandbox.stop()`` promises.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from cheroot.server import HTTPConnection, HTTPRequest
from cheroot.wsgi import Server
from flask import Flask

from .app import create_app
from .config import SandboxConfig
from .extension import EXTENSION_KEY, Sandbox

# Worker threads, each serving one call at a time. A call held by chaos (api_timeout_rate,
# api_late_answer_rate) keeps its worker for up to api_timeout_ms (at most a minute) even
# after the client gave up, and tests fire up to 32 concurrent calls; 64 leaves room for
# the control API and Checkout pages beside a full burst of held calls. Idle keep-alive
# connections hold no worker.
WORKER_THREADS = 64
# The listen backlog: cheroot's default of 5 drops connects of a burst (each dropped SYN
# costs the client a one-second retransmit); werkzeug listened with 128.
LISTEN_BACKLOG = 128
# How long a kept-alive connection may sit idle before the sandbox closes it (and how long
# a worker waits on a half-sent request). Longer than the gaps between a test's calls, so
# the service's pool seldom meets a connection closed under it.
IDLE_TIMEOUT_SECONDS = 60
# How often the selector loop checks for stop(); stop() waits for it, so this bounds the
# teardown that tests pay per sandbox (cheroot's default is 0.5 s).
STOP_POLL_SECONDS = 0.05
# How long stop() waits for workers still in a call (chaos holds end at once on stop; only
# configured latency_ms cannot be cut short) before closing their sockets under them.
WORKER_STOP_SECONDS = 5


class _AbsoluteFormRequest(HTTPRequest):
    """A request that may name its target in absolute form (``POST http://host/v1/orders``),
    which RFC 9112 (3.2.2) asks every server to accept and werkzeug did: a client that has
    the sandbox as its HTTP proxy (the tests of the gateway's proxy support) sends that.
    Cheroot refuses it (400) unless in proxy mode; the WSGI app sees only the path."""

    def __init__(
        self, server: Any, conn: Any, proxy_mode: bool = True, strict_mode: bool = True
    ) -> None:
        super().__init__(server, conn, proxy_mode=True, strict_mode=strict_mode)


class _Connection(HTTPConnection):
    RequestHandlerClass = _AbsoluteFormRequest


class BackgroundSandbox:
    """A sandbox served over HTTP from a daemon thread until ``stop()``."""

    def __init__(self, app: Flask, server: Server) -> None:
        self.app = app
        self._server = server
        self._sandbox: Sandbox = app.extensions[EXTENSION_KEY]
        self.config = self._sandbox.config
        server.prepare()  # binds; bind_addr then holds the port really chosen
        host, port = server.bind_addr[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=server.serve, name=f"sandbox-{port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End hung API calls, stop serving, close the listening socket, every kept-alive
        connection and the webhook thread, and join the worker and serving threads."""
        self._sandbox.chaos.close()
        self._server.stop()
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


def make_server(app: Flask, host: str, port: int) -> Server:
    """A keep-alive HTTP/1.1 server for ``app`` on ``host:port``, not yet bound."""
    server = Server(
        (host, port),
        app,
        numthreads=WORKER_THREADS,
        request_queue_size=LISTEN_BACKLOG,
        timeout=IDLE_TIMEOUT_SECONDS,
        shutdown_timeout=WORKER_STOP_SECONDS,
    )
    server.expiration_interval = STOP_POLL_SECONDS
    server.ConnectionClass = _Connection
    return server


def start_background(
    config: SandboxConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    state_file: Path | None = None,
) -> BackgroundSandbox:
    """Serve a new sandbox on ``host:port`` (0 picks a free port) from a daemon thread,
    keeping its state in ``state_file`` when given (see create_app)."""
    app = create_app(config, state_file)
    return BackgroundSandbox(app, make_server(app, host, port))
