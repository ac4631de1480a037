"""The side-by-side table: the seller's Express backend against this service, per path."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.load import LoadResult
from bench.settings import DURATION, PEER_CONNECTIONS, PEER_ROUNDS, SLOW_SANDBOX_MS

PATHS = {
    "orders": "create order (fake instant)",
    "verify": "verify payment",
    "webhooks": "webhook, distinct events",
    "duplicates": "webhook, duplicates",
    "orders_slow": f"create order (fake +{SLOW_SANDBOX_MS} ms)",
}
SERVICES = ("peer", "ours")


@dataclass(frozen=True)
class PeerRun:
    """One wrk run of one service on one path."""

    service: str  # "peer" or "ours"
    path: str  # a key of PATHS
    connections: int
    round: int
    result: LoadResult
    cpu_ms: tuple[float, float, float]  # per request: the server, the fake, PostgreSQL
    other_cpu: float  # % of the machine used outside the bench meanwhile
    check: str = ""


def peer_report(runs: list[PeerRun]) -> list[str]:
    """The summary (medians of the rounds, ratio ours / peer), then every run."""
    if not runs:
        return []
    lines = [
        "",
        f"Side by side with the seller's Express backend (bench/peer/): {PEER_ROUNDS} interleaved"
        f" rounds of {DURATION} s, wrk -t1; one Node fake Razorpay (keep-alive) and one"
        " PostgreSQL (a database each) for both",
        "req/s: median of the rounds [min-max]; p99: median; CPU: server ms per request"
        " (median); ratio: ours / peer (req/s medians)",
        "",
    ]
    header = (
        f"{'path':<30} {'conns':>5}  {'Express peer req/s':>22} {'p99 ms':>7} {'CPU':>5}"
        f"  {'ours req/s':>22} {'p99 ms':>7} {'CPU':>5}  {'ratio':>5}"
    )
    lines += [header, "-" * len(header)]
    for path, title in PATHS.items():
        for connections in PEER_CONNECTIONS:
            row = _summary_row(runs, path, connections)
            if row:
                lines.append(f"{title:<30} {connections:>5}  {row}")
    return lines + _detail(runs)


def _summary_row(runs: list[PeerRun], path: str, connections: int) -> str:
    cells: list[str] = []
    medians: list[float | None] = []
    for service in SERVICES:
        mine = [
            r for r in runs if (r.service, r.path, r.connections) == (service, path, connections)
        ]
        if not mine:
            cells.append(f"{'not run':>22} {'':>7} {'':>5}")
            medians.append(None)
            continue
        rates = [r.result.rate for r in mine]
        p99 = statistics.median(r.result.p99_ms or 0 for r in mine)
        cpu = statistics.median(r.cpu_ms[0] for r in mine)
        median = statistics.median(rates)
        medians.append(median)
        spread = f"{median:,.0f} [{min(rates):,.0f}-{max(rates):,.0f}]"
        errors = sum(r.result.errors for r in mine)
        flag = f" ({errors} errors)" if errors else ""
        cells.append(f"{spread:>22} {p99:>7.1f} {cpu:>5.2f}{flag}")
    if medians == [None, None]:
        return ""
    peer, ours = medians
    ratio = f"{ours / peer:.2f}" if peer and ours is not None else "-"
    return f"{cells[0]}  {cells[1]}  {ratio:>5}"


def _detail(runs: list[PeerRun]) -> list[str]:
    header = (
        f"{'run':<44} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
        f" {'CPU ms/req srv/fake/db':>22} {'other CPU':>9}  check"
    )
    lines = ["", header, "-" * len(header)]
    for run in runs:
        name = f"r{run.round} {run.service:<4} {PATHS[run.path]} c{run.connections}"
        result = run.result
        cpu = "/".join(f"{value:.2f}" for value in run.cpu_ms)
        cycled = f" (cycled: {result.distinct:,} distinct)" if result.cycled else ""
        lines.append(
            f"{name:<44} {result.rate:>7,.0f} {result.p50_ms or 0:>7.1f} {result.p99_ms or 0:>7.1f}"
            f" {result.errors:>6} {cpu:>22} {run.other_cpu:>8.0f}%  {run.check}{cycled}"
        )
    return lines
