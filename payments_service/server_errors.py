"""gunicorn's own answers, as the same application/problem+json as the app's.

gunicorn refuses some requests before the app sees them: a request line longer than its
``limit_request_line`` (414), a header longer than ``limit_request_field_size`` or more
than ``limit_request_fields`` headers (431), a malformed request line, method, header or
chunk (400). It writes those answers itself, as HTML pages. ``install`` (called by
gunicorn.conf.py's ``post_fork`` in each worker) has them written as problem+json with an
``X-Request-Id``, and logged as one JSON line carrying that id.

gunicorn calls ``gunicorn.util.write_error`` for every answer it writes itself and for
nothing else, so that one function is replaced; tests/test_gunicorn_limits.py runs the
real server and would notice a gunicorn that stopped calling it.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from gunicorn import util

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    403: "forbidden",
    414: "uri_too_long",
    431: "header_fields_too_large",
    500: "internal_error",
}


@dataclass(frozen=True)
class Limits:
    """gunicorn's request limits, as configured (its ``cfg``)."""

    request_line: int
    fields: int
    field_size: int

    def detail(self, status: int) -> str:
        """What was wrong, for a status gunicorn answers itself (never gunicorn's text)."""
        if status == 414:
            return (
                f"the request line (method, path and query) is longer than "
                f"{self.request_line} bytes"
            )
        if status == 431:
            return (
                f"a header line is longer than {self.field_size} bytes, or there are more "
                f"than {self.fields} headers"
            )
        if status >= 500:
            return "something went wrong on our side; it has been logged"
        return "the request is not well-formed HTTP/1.1 (request line, method, header or body)"


def problem_response(limits: Limits, status: int, reason: str, request_id: str) -> bytes:
    """A whole HTTP/1.1 response carrying a problem for ``status``; the connection closes."""
    code = _CODES.get(status, "http_error")
    body = json.dumps(
        {
            "type": f"urn:payments-service:problem:{code}",
            "title": reason,
            "status": status,
            "detail": limits.detail(status),
            "code": code,
            "request_id": request_id,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-Id: {request_id}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def install(cfg: Any) -> None:
    """Make this gunicorn process write its own error answers as problem+json."""
    limits = Limits(cfg.limit_request_line, cfg.limit_request_fields, cfg.limit_request_field_size)

    def write_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        request_id = uuid.uuid4().hex
        log.warning(
            "refused before the app: %s %s", status_int, reason, extra={"request_id": request_id}
        )
        util.write_nonblock(sock, problem_response(limits, status_int, reason, request_id))

    util.write_error = write_problem
