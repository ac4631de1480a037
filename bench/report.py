"""The bench's table, the targets its figures are held to, and the API workers' memory."""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

from bench.harness import Bench
from bench.monitor import Measured, Scenario
from bench.peer_report import peer_report
from bench.settings import (
    CONNECTIONS,
    DURATION,
    LATENCY_CONNECTIONS,
    RECONCILE_PAYMENTS,
    RSS_LIMIT_MB,
    RUNS,
    SLOW_SANDBOX_MS,
)


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    default: float
    at_least: bool  # the figure must be >= the target (else <=)

    @property
    def value(self) -> float:
        return float(os.environ.get(f"BENCH_TARGET_{self.key.upper()}", self.default))


TARGETS = (
    Target("webhook_vs_trivial", "webhook ingest / trivial", 0.50, at_least=True),
    Target("webhook_vs_pgbench", "webhook ingest / pgbench", 0.15, at_least=True),
    Target("duplicates_vs_trivial", "duplicate webhooks / trivial", 0.80, at_least=True),
    Target("orders_vs_trivial", "orders / trivial", 0.30, at_least=True),
    Target("verify_vs_trivial", "verify / trivial", 0.30, at_least=True),
    Target(
        "orders_slow_vs_ideal",
        f"orders at +{SLOW_SANDBOX_MS} ms / ({CONNECTIONS} connections / "
        f"{SLOW_SANDBOX_MS / 1000:g} s = {CONNECTIONS * 1000 / SLOW_SANDBOX_MS:.0f}/s)",
        0.80,
        at_least=True,
    ),
    Target(
        "trail_p99_ms",
        f"money trail p99 at {LATENCY_CONNECTIONS} connections, ms (worst run)",
        20,
        at_least=False,
    ),
    Target(
        "reconcile_seconds",
        f"reconcile {RECONCILE_PAYMENTS:,} payments, s (run 1; projected if cut)",
        60,
        at_least=False,
    ),
    Target("sandbox_seed_rate", "sandbox seed, paid orders/s (one call)", 1000, at_least=True),
    Target("rss_mb", "API worker RSS, MB (max seen during the bench)", RSS_LIMIT_MB, False),
)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def figures(bench: Bench) -> dict[str, float | None]:
    """The figures the targets are about: throughputs are means of the runs."""

    def rate(key: str) -> float | None:
        scenario = bench.scenarios.get(key)
        return scenario.mean_rate() if scenario else None

    trail = bench.scenarios.get("trail_latency")
    return {
        "webhook_vs_trivial": _ratio(rate("webhooks"), rate("trivial")),
        "webhook_vs_pgbench": _ratio(rate("webhooks"), rate("pgbench")),
        "duplicates_vs_trivial": _ratio(rate("duplicates"), rate("trivial")),
        "orders_vs_trivial": _ratio(rate("orders"), rate("trivial")),
        "verify_vs_trivial": _ratio(rate("verify"), rate("trivial")),
        "orders_slow_vs_ideal": _ratio(rate("orders_slow"), CONNECTIONS * 1000 / SLOW_SANDBOX_MS),
        "trail_p99_ms": trail.worst_p99() if trail else None,
        "reconcile_seconds": bench.reconcile_seconds,
        "sandbox_seed_rate": bench.seed_rate,
        "rss_mb": bench.monitor.max_rss_kb / 1024 if bench.monitor.max_rss_kb else None,
    }


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _cpu_split(run: Measured) -> str:
    if run.cpu_ms is None or run.unit != "req/s":
        return "-"
    return "/".join(f"{value:.2f}" for value in run.cpu_ms)


def report(bench: Bench, rss: dict[int, int], failures: list[str]) -> str:
    lines = _preamble(bench)
    if bench.scenarios:  # BENCH_PHASES=peer makes none
        lines += _scenario_table(bench) + _busy_machine_warning(bench) + _targets(bench)
    lines += peer_report(bench.peer_runs) + _worker_memory(rss)
    if failures:
        lines += ["", "FAILED:", *(f"  {failure}" for failure in failures)]
    return "\n".join(lines)


def _preamble(bench: Bench) -> list[str]:
    """How the figures were made, and what each column means."""
    cpus = psutil.cpu_count() or 0
    return [
        f"make bench: {RUNS} runs of {DURATION} s per figure; wrk -t1 -c{CONNECTIONS}; "
        f"gunicorn gthread {bench.stack.env['WEB_CONCURRENCY']} workers x "
        f"{bench.stack.env['GUNICORN_THREADS']} threads, DB_POOL_MAX "
        f"{bench.stack.env['DB_POOL_MAX']}; {cpus} CPUs; fresh embedded PostgreSQL; sandbox",
        "errors = non-2xx + socket errors; CPU ms/req = CPU time the API workers, the sandbox "
        "and PostgreSQL spent per request; DB conn/req = PostgreSQL sessions opened per "
        "request; restarts = gunicorn workers booted during the run; other CPU = share of "
        "the machine used by processes outside the bench; conns = wrk's connections held by "
        "each API worker mid-run",
    ]


def _scenario_table(bench: Bench) -> list[str]:
    """One row per run of each scenario, under a header."""
    width = max([len(s.title) for s in bench.scenarios.values()] + [20])
    header = (
        f"{'scenario':<{width}}  run {'rate':>14} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'CPU ms/req api/sbx/db':>21} {'DB conn/req':>11} {'restarts':>8} {'other CPU':>9}"
        "  check"
    )
    lines = ["", header, "-" * len(header)]
    for scenario in bench.scenarios.values():
        lines += _scenario_rows(scenario, width)
    return lines


def _scenario_rows(scenario: Scenario, width: int) -> list[str]:
    if not scenario.runs:
        return [f"{scenario.title:<{width}}  {scenario.failure or 'not run'}"]
    lines = []
    for n, run in enumerate(scenario.runs, start=1):
        result = run.result
        lines.append(
            f"{scenario.title if n == 1 else '':<{width}}  {n:>3}"
            f" {_number(result.rate):>7} {run.unit:<6}"
            f" {_number(result.p50_ms, 1):>8} {_number(result.p99_ms, 1):>8}"
            f" {result.errors:>7} {_cpu_split(run):>21}"
            f" {_number(run.sessions_per_request, 2):>11}"
            f" {_number(run.restarts):>8}"
            f" {_number(run.other_cpu):>8}%  {run.check}"
            + (f" (cycled: {result.distinct:,} distinct)" if result.cycled else "")
        )
    if scenario.failure:
        lines.append(f"{'':<{width}}  {scenario.failure}")
    return lines


def _busy_machine_warning(bench: Bench) -> list[str]:
    busiest = max(
        (run.other_cpu or 0 for scenario in bench.scenarios.values() for run in scenario.runs),
        default=0,
    )
    if busiest > 10:
        return [
            f"WARNING: processes outside the bench used up to {busiest:.0f}% of the CPU "
            "during a run: figures are lower than on an idle machine"
        ]
    return []


def _targets(bench: Bench) -> list[str]:
    """Each target with its figure and verdict."""
    lines = ["", "Targets (throughput: mean of the runs; latency: worst run)"]
    values = figures(bench)
    for target in TARGETS:
        value = values[target.key]
        sign = ">=" if target.at_least else "<="
        if value is None:
            verdict = "n/a"
        else:
            passed = value >= target.value if target.at_least else value <= target.value
            verdict = "pass" if passed else "MISS"
        shown = _number(value, 3 if abs(value or 0) < 10 else 0)
        lines.append(f"  {target.label:<62} {shown:>9}  {sign} {target.value:<7g} {verdict}")
    unchanged = bench.reconcile_unchanged_verdict()
    lines.append(f"  {'second reconcile reports everything unchanged':<62} {unchanged:>9}")
    return lines


def _worker_memory(rss: dict[int, int]) -> list[str]:
    lines = ["", "API workers after the run (ps):"]
    for pid, kb in sorted(rss.items()):
        verdict = "pass" if kb / 1024 <= RSS_LIMIT_MB else "MISS"
        lines.append(f"  pid {pid}: RSS {kb / 1024:.1f} MB  (<= {RSS_LIMIT_MB} MB: {verdict})")
    return lines
