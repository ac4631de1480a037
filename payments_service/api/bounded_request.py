"""The app's request class: a body longer than MAX_CONTENT_LENGTH is a 413 however it is sent.

With a Content-Length, werkzeug refuses an oversized body before reading it. Without one
(chunked transfer encoding), its stream stops at the limit and returns what it read, so a
5 MB body arrived cut to 64 KiB, and a webhook's signature then failed over the cut bytes
(400 instead of 413). Here such a stream reads one byte past the limit to tell "ends at the
limit" from "goes on", and refuses the second.
"""

from __future__ import annotations

from typing import IO, cast

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream


class _AtMost(LimitedStream):
    """A body without a length, read until it ends; 413 once it passes ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(stream, limit + 1, is_max=True)

    def readinto(self, b: bytearray) -> int | None:  # type: ignore[override]
        size = super().readinto(b)
        if self.is_exhausted:  # read limit + 1 bytes: the body is longer than the limit
            raise RequestEntityTooLarge()
        return size


class BoundedRequest(Request):
    """Flask's request, whose streamed bodies are held to MAX_CONTENT_LENGTH too."""

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        streamed = self.content_length is None and "wsgi.input_terminated" in self.environ
        if limit is not None and streamed:
            return cast(IO[bytes], _AtMost(self.environ["wsgi.input"], limit))
        return get_input_stream(self.environ, max_content_length=limit)
