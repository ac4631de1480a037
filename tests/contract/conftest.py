"""A site's callback endpoint for the contract tests of what the service sends to sites."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@pytest.fixture
def callback_url() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A site's callback endpoint on loopback: answers 204 (any 2xx is delivered) and
    records the (headers, raw body) of every callback it receives."""
    received: list[tuple[dict[str, str], bytes]] = []

    def endpoint(environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        received.append((dict(request.headers), request.get_data()))
        return Response(status=204)(environ, start_response)

    server = make_server("127.0.0.1", 0, endpoint, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}/payments/callback", received
    server.shutdown()
    server.server_close()
    thread.join()
