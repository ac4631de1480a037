"""How fast the bare stack is: a trivial JSON answer and pgbench on the same PostgreSQL,
the ceilings the service's own figures are held against."""

from __future__ import annotations

from bench.harness import Bench
from bench.load import Request, run_pgbench
from bench.settings import (
    CONNECTIONS,
    DURATION,
    RUNS,
    log,
)
from bench.stack import PG_BIN


def trivial(bench: Bench) -> None:
    bench.scenario("trivial", "GET /healthz (trivial JSON: framework ceiling)")
    file = bench.requests_file("healthz", [Request("GET", "/healthz")])
    bench.warm_up(file)
    for _ in range(RUNS):
        bench.wrk("trivial", file)


def pgbench(bench: Bench) -> None:
    scenario = bench.scenario("pgbench", "pgbench 1-row INSERT per xact (durable writes)")
    bench.query_exec(
        "CREATE TABLE bench_insert (id bigserial PRIMARY KEY, payload text NOT NULL,"
        " created_at timestamptz NOT NULL DEFAULT now())"
    )
    script = bench.workdir / "insert.sql"
    script.write_text("INSERT INTO bench_insert (payload) VALUES ('bench payload');\n")
    for _ in range(RUNS):
        before = bench.monitor.snapshot()
        result = run_pgbench(
            PG_BIN,
            bench.stack.dsn,
            script,
            duration=DURATION,
            clients=CONNECTIONS,
            workdir=bench.workdir,
        )
        measured = bench.monitor.measure(result, before, unit="xact/s")
        measured.db_sessions = measured.restarts = None  # not about the API
        scenario.runs.append(measured)
        log(f"pgbench run {len(scenario.runs)}: {result.rate:.0f} xact/s")
    bench.query_exec("DROP TABLE bench_insert")
