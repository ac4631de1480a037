"""A site's receiving end on loopback, answering as each test tells it, and the check of our
signature on what it received."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

# Connect and read timeouts for deliveries in tests: short enough for a hanging receiver to
# cost a test little, long enough that a receiver answering at once is never late, even on
# a machine busy with other work (at 0.5 s, a full suite beside other suites timed out one).
FAST = (2.0, 2.0)
HANGS_FOR = 3.0  # longer than FAST's read timeout


@dataclass
class Receiver:
    """A site's callback endpoint on loopback: records what arrives, answers as told."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)  # per path, consumed in order
    default: int = 200
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        time.sleep(self.delay)
        with self.lock:
            queue = self.answers.get(request.path, [])
            status = queue.pop(0) if queue else self.default
            if 200 <= status < 300:
                self.received.append(
                    {
                        "path": request.path,
                        "body": request.get_data(),
                        "headers": dict(request.headers),
                    }
                )
        headers = {"Location": "https://elsewhere.example/"} if status in (301, 302) else {}
        return Response("ok", status=status, headers=headers)(environ, start_response)

    def bodies(self, path: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.received if path in (None, r["path"])]


def _verify_signature(secret: str, record: dict[str, Any]) -> bool:
    parts = dict(p.split("=", 1) for p in record["headers"]["X-Payments-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + record["body"], hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])
