"""How the gateway makes a call: the official SDK over the gateway's pooled session, with a
timeout on every call, retries (with backoff and jitter) for the calls safe to repeat, the
failures told as the service's gateway errors, and each call's outcome and duration
reported to ``observe`` (the request metrics)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from functools import cached_property, partial
from typing import Any

import razorpay

from ..errors import GatewayUnavailable
from .errors import translated
from .transport import PooledSession

Entity = dict[str, Any]

PAGE_SIZE = 100  # Razorpay's largest page
# A gunicorn worker's threads (GUNICORN_THREADS' default): one connection each, so a
# worker's concurrent calls never find the pool full.
DEFAULT_POOL_SIZE = 16


class _SdkClient(razorpay.Client):  # type: ignore[misc]
    """The official client, except that it reads its own version (for the User-Agent) from
    the installed package's metadata once rather than on every request (~0.25 ms each)."""

    @cached_property
    def _sdk_version(self) -> str:
        return str(super()._get_version())

    def _get_version(self) -> str:
        return self._sdk_version


class GatewayCalls:
    """The SDK client of one Razorpay account, and the way each call to it is made."""

    def __init__(
        self,
        key_id: str,
        key_secret: str,
        base_url: str,
        timeout_seconds: float,
        read_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        observe: Callable[[str, str, float], None] | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        self.key_id = key_id
        self._client = _SdkClient(auth=(key_id, key_secret), base_url=base_url)
        # Built after the client: it verifies https with the SDK's own CA bundle, as the
        # SDK asks of every call. The proxies the environment names are read here, once.
        self._client.session = PooledSession(
            base_url, pool_size=pool_size, ca_certs=self._client.cert_path
        )
        self._client.set_app_details({"title": "payments_service", "version": "0.1"})
        self._timeout = (min(3.05, timeout_seconds), timeout_seconds)
        self._read_attempts = read_attempts
        self._sleep = sleep
        self._observe = observe

    def _pages(
        self, operation: str, list_call: Callable[..., Entity], start: int, end: int
    ) -> Iterator[list[Entity]]:
        skip = 0
        while True:
            query = {"from": start, "to": end, "count": PAGE_SIZE, "skip": skip}
            page = self._read(operation, partial(list_call, query, **self._opts))
            items: list[Entity] = list(page.get("items", []))
            if items:
                yield items
            if len(items) < PAGE_SIZE:
                return
            skip += len(items)

    @property
    def _opts(self) -> dict[str, Any]:
        return {"timeout": self._timeout}

    def _read(self, operation: str, call: Callable[[], Entity]) -> Entity:
        delay = 0.2
        for attempt in range(1, self._read_attempts + 1):
            try:
                return self._call(operation, call)
            except GatewayUnavailable:
                if attempt == self._read_attempts:
                    raise
                self._sleep(delay * (1 + random.random()))  # noqa: S311 - jitter, not crypto
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, operation: str, call: Callable[[], Entity]) -> Entity:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = translated(operation, call)
            outcome = "ok"
            return result
        except GatewayUnavailable:
            outcome = "unavailable"
            raise
        finally:
            if self._observe is not None:
                self._observe(operation, outcome, time.perf_counter() - started)
