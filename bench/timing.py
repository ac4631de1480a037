"""CPU and wall time per call of a piece of work, for the micro-benchmarks (bench/auth_cache.py,
bench/gateway_call.py)."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_call(
    work: Callable[[], object], calls: int, cpu_clock: Callable[[], float] = time.process_time
) -> tuple[float, float]:
    """(µs of CPU by ``cpu_clock``, µs of wall time) per call of ``work`` over ``calls``."""
    cpu, wall = cpu_clock(), time.perf_counter()
    for _ in range(calls):
        work()
    return (
        (cpu_clock() - cpu) / calls * 1e6,
        (time.perf_counter() - wall) / calls * 1e6,
    )
