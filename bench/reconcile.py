"""Reconciliation through the CLI over seeded sandbox payments, cut at a time limit and
projected, and a second pass that must change nothing."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import Bench
from bench.load import LoadResult
from bench.monitor import Measured, Snapshot
from bench.seed import insert_reconcile_orders
from bench.settings import (
    ORDER_AMOUNT,
    RECONCILE_MAX_SECONDS,
    RECONCILE_PAYMENTS,
    RECONCILE_SITE,
    RUNS,
    log,
)


def reconcile(bench: Bench) -> None:
    count = RECONCILE_PAYMENTS
    time.sleep(1.1)  # every earlier sandbox payment is now outside the window
    window_from = datetime.fromtimestamp(math.floor(time.time()), UTC)
    order_ids = _seed_sandbox(bench, count)
    window_to = datetime.fromtimestamp(math.ceil(time.time()) + 1, UTC)
    scenario = bench.scenario("reconcile", f"reconcile {count:,} sandbox payments (CLI)")
    insert_reconcile_orders(bench.stack.dsn, RECONCILE_SITE, order_ids, ORDER_AMOUNT, "INR")
    log(f"stored {len(order_ids):,} matching orders; reconciling")
    rescan: int | None = None
    for run in range(RUNS):
        measured, scanned = _reconcile_run(
            bench, window_from, window_to, first=run == 0, rescan=rescan
        )
        scenario.runs.append(measured)
        log(f"reconcile run {run + 1}: {measured.result.rate:.0f} payments/s, {measured.check}")
        if run == 0:
            rate = measured.result.rate
            bench.reconcile_seconds = count / rate if rate else None
            rescan = scanned  # run 1 was cut short: later runs re-scan only its part


def _seed_sandbox(bench: Bench, count: int) -> list[str]:
    """Seed ``count`` paid orders in the sandbox in one call, measured as its own figure
    (the tests date seeded history instead of timing it); returns their order ids."""
    scenario = bench.scenario("sandbox_seed", f"POST /_sandbox/seed ({count:,} paid orders)")
    log(f"seeding {count:,} captured payments in the sandbox")
    before = bench.monitor.snapshot()
    started = time.monotonic()
    answer = bench.http.post(
        f"{bench.stack.sandbox}/_sandbox/seed",
        json={"orders": count, "receipt_prefix": "bench-rc-", "notes": {"source": "bench"}},
        timeout=900,
    )
    seconds = time.monotonic() - started
    answer.raise_for_status()
    order_ids = [str(item["order_id"]) for item in answer.json()["items"]]
    result = LoadResult(len(order_ids), seconds, None, None, 0)
    check = f"{seconds:.1f} s for {len(order_ids):,}"
    scenario.runs.append(bench.monitor.measure(result, before, check=check, unit="payments/s"))
    bench.seed_rate = result.rate
    log(f"seeded {len(order_ids):,} in {seconds:.1f} s")
    return order_ids


def _reconcile_run(
    bench: Bench, window_from: datetime, window_to: datetime, *, first: bool, rescan: int | None
) -> tuple[Measured, int | None]:
    """One reconcile through the CLI, stopped at the time limit or, when the first run
    was, once it has re-scanned that run's part. Returns the run, and how many payments
    it got through if it was stopped."""
    command = _reconcile_command(window_from, window_to)
    sandbox_log = bench.stack.log_dir / "sandbox.log"
    log_start = sandbox_log.stat().st_size
    applied_before = _reconciled(bench)
    before = bench.monitor.snapshot()
    started = time.monotonic()
    output, stopped, returncode = _run_until_cut(
        bench, command, sandbox_log, log_start, started, rescan
    )
    seconds = time.monotonic() - started
    applied = _reconciled(bench) - applied_before
    if not stopped:
        return _finished_run(bench, output, returncode, seconds, before, first=first), None
    scanned = _pages_scanned(sandbox_log, log_start)
    measured = _stopped_run(bench, scanned, seconds, applied, before, first=first, rescan=rescan)
    return measured, scanned


def _reconcile_command(window_from: datetime, window_to: datetime) -> list[str]:
    fmt = "%Y-%m-%dT%H:%M:%S"
    return [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "payments_service",
        "reconcile",
        "--from",
        window_from.strftime(fmt),
        "--to",
        window_to.strftime(fmt),
    ]


def _run_until_cut(
    bench: Bench,
    command: list[str],
    sandbox_log: Path,
    log_start: int,
    started: float,
    rescan: int | None,
) -> tuple[bytes, bool, int]:
    """Run the reconcile CLI, terminated at the time limit or once it has scanned ``rescan``
    payments: its output, whether it was stopped, and its exit code."""
    limit = RECONCILE_MAX_SECONDS or math.inf
    with subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command,
        env={**bench.stack.env, "LOG_LEVEL": "WARNING"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as process:
        stopped = False
        while process.poll() is None:
            scanned = _pages_scanned(sandbox_log, log_start)
            if time.monotonic() - started > limit or (rescan is not None and scanned >= rescan):
                process.terminate()
                stopped = True
                break
            time.sleep(0.25)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    return output, stopped, process.returncode


def _finished_run(
    bench: Bench, output: bytes, returncode: int, seconds: float, before: Snapshot, *, first: bool
) -> Measured:
    """A reconcile that ran to the end: it must have seen, and updated (run 1) or left
    unchanged (later runs), every seeded payment."""
    count = RECONCILE_PAYMENTS
    if returncode != 0:
        raise RuntimeError(f"reconcile exited with {returncode}")
    report = json.loads(output)
    result = LoadResult(report["seen"], seconds, None, None, report["errors"])
    check = f"{seconds:.1f} s: {report['updated']:,} updated, {report['unchanged']:,} unchanged"
    wanted = "updated" if first else "unchanged"
    ok = report["seen"] == count and report[wanted] == count and not report["errors"]
    return bench.monitor.measure(result, before, check=check, unit="payments/s", ok=ok)


def _stopped_run(
    bench: Bench,
    scanned: int,
    seconds: float,
    applied: int,
    before: Snapshot,
    *,
    first: bool,
    rescan: int | None,
) -> Measured:
    """A reconcile cut short: its rate so far, and the time projected for every payment."""
    count = RECONCILE_PAYMENTS
    result = LoadResult(scanned, seconds, None, None, 0)
    projected = f"~{count / result.rate:.0f} s for all" if result.rate else "no progress"
    why = "time limit" if rescan is None else "re-scanned run 1's part"
    check = (
        f"stopped at {seconds:.0f} s ({why}): {scanned:,} scanned, {applied:,} newly"
        f" applied; {projected}"
    )
    # A re-scan may apply the first few payments of the page run 1 was cut in.
    ok = None if first else applied <= 100 if rescan is not None else applied == 0
    return bench.monitor.measure(result, before, check=check, unit="payments/s", ok=ok)


def _reconciled(bench: Bench) -> int:
    return bench.count(
        "SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.site_id = %s",
        (RECONCILE_SITE,),
    )


_PAGE = re.compile(rb"GET /v1/payments\?[^ ]*skip=(\d+)")


def _pages_scanned(sandbox_log: Path, offset: int) -> int:
    """Payments a running reconcile has got through: the start of the last page it asked
    the sandbox for (it finishes a page before asking for the next)."""
    with sandbox_log.open("rb") as file:
        file.seek(offset)
        skips = [int(found) for found in _PAGE.findall(file.read())]
    return max(skips, default=0)
