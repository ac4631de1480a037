"""CPU per Razorpay call, by HTTP transport: ``python -m bench.gateway_call [calls] [rounds]``.

The profile of issue 17 (docs/performance.md) put 0.6-0.8 ms of API CPU per Razorpay call,
mostly in `requests`' per-call machinery. This measures that cost alone: one thread, a
bounded loop of ``calls`` order creates and as many payment fetches, ``time.process_time()``
around each loop, against the Node fake of Razorpay (bench/peer/fake-razorpay.js: keep-alive,
answers at once) in its own process, so the fake's CPU is not counted. Rounds interleave
the variants; the median round is printed, in µs of CPU (and of wall time) per call:

- ``sdk + requests.Session``: the official SDK over `requests`, as the gateway used it
  before (proxies read once, trust_env off, the SDK's version read once);
- ``sdk + requests + HTTPAdapter(16)``: the same with a pool as large as a worker's threads;
- ``sdk + PooledSession`` (when the gateway has it): the SDK over the gateway's own session;
- ``RazorpayGateway``: the whole gateway call (timeouts, error translation, metrics hook off)
  over whatever transport it uses now.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import razorpay
import requests
from requests.adapters import HTTPAdapter

from bench.stack import free_port, wait_for
from bench.timing import per_call
from payments_service.razorpay_gateway import RazorpayGateway

PEER_DIR = Path(__file__).resolve().with_name("peer")
KEY_ID = "rzp_test_gatewaybench01"
KEY_SECRET = "gateway_bench_secret"  # noqa: S105 - a throwaway key of the fake
TIMEOUT = (3.05, 10.0)
THREADS = 16
ORDER = {"amount": 49900, "currency": "INR", "receipt": "bench", "notes": {"sku": "course"}}


class _Sdk(razorpay.Client):  # type: ignore[misc]
    """The SDK reading its version once, as the gateway's client does."""

    @cached_property
    def _version(self) -> str:
        return str(super()._get_version())

    def _get_version(self) -> str:
        return self._version


def _sdk(session: Any, base_url: str) -> Any:
    client = _Sdk(session=session, auth=(KEY_ID, KEY_SECRET), base_url=base_url)
    client.set_app_details({"title": "payments_service", "version": "0.1"})
    return client


def _requests_session(pool_size: int | None = None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    if pool_size is not None:
        session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=pool_size))
    return session


Call = Callable[[], Any]


def variants(base_url: str, payment_id: str) -> dict[str, tuple[Call, Call]]:
    """Each variant's (create an order, fetch a payment)."""
    made: dict[str, tuple[Call, Call]] = {}

    def through_sdk(name: str, client: Any) -> None:
        made[name] = (
            lambda: client.order.create(dict(ORDER), timeout=TIMEOUT),
            lambda: client.payment.fetch(payment_id, timeout=TIMEOUT),
        )

    through_sdk("sdk + requests.Session", _sdk(_requests_session(), base_url))
    through_sdk("sdk + requests + HTTPAdapter(16)", _sdk(_requests_session(THREADS), base_url))
    try:
        from payments_service.razorpay_gateway.transport import PooledSession
    except ImportError:  # the gateway before its own transport
        pass
    else:
        probe = _sdk(None, base_url)
        session = PooledSession(base_url, pool_size=THREADS, ca_certs=probe.cert_path)
        through_sdk("sdk + PooledSession", _sdk(session, base_url))
    gateway = RazorpayGateway(KEY_ID, KEY_SECRET, base_url, TIMEOUT[1])
    made["RazorpayGateway"] = (
        lambda: gateway.create_order(
            amount=49900, currency="INR", receipt="bench", notes={"sku": "course"}
        ),
        lambda: gateway.fetch_payment(payment_id),
    )
    return made


@contextmanager
def node_fake() -> Iterator[str]:
    """The Node fake of Razorpay on a free loopback port, stopped at the end."""
    port = free_port()
    env = {**os.environ, "RAZORPAY_KEY_ID": KEY_ID, "RAZORPAY_KEY_SECRET": KEY_SECRET}
    fake = subprocess.Popen(  # noqa: S603 - fixed command
        ["node", "fake-razorpay.js", str(port)],  # noqa: S607
        cwd=PEER_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/_test/stats", process=fake)
        yield url
    finally:
        fake.terminate()
        fake.wait(timeout=10)


def main(calls: int = 2000, rounds: int = 3) -> None:
    with node_fake() as base_url:
        seeded = requests.post(f"{base_url}/_test/checkout", json={"count": 1}, timeout=10)
        [[_, payment_id, _]] = seeded.json()
        made = variants(base_url, payment_id)
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for pair in made.values():  # warm up: connections, caches
            for warm_up in pair:
                for _ in range(min(200, calls)):
                    warm_up()
        for _ in range(rounds):
            for name, (create, fetch) in made.items():
                results.setdefault((name, "order create"), []).append(per_call(create, calls))
                results.setdefault((name, "payment fetch"), []).append(per_call(fetch, calls))
    print(f"{calls} calls x {rounds} rounds, one thread, Node fake on loopback; median round")
    print(f"load average {os.getloadavg()[0]:.1f} (2 shared cores: compare rows, not runs)")
    print(f"{'transport':36} {'call':14} {'CPU µs/call':>12} {'wall µs/call':>13}")
    for (name, operation), figures in results.items():
        cpu = statistics.median(figure[0] for figure in figures)
        wall = statistics.median(figure[1] for figure in figures)
        print(f"{name:36} {operation:14} {cpu:12.0f} {wall:13.0f}")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
