"""gunicorn settings for the API (`gunicorn -c gunicorn.conf.py "payments_service:create_app()"`).

Chosen by measurement (`make bench`, README "Performance"; docs/performance.md): gthread
workers, two per core, 16 threads each. Threads carry the waiting: a request to Razorpay
holds no database connection, so 16 threads share a pool of DB_POOL_MAX (10) connections.
Processes carry the CPU: a gthread worker keeps every keep-alive connection it accepts, so
connections must be spread over the processes (reuse_port below) and there must be enough of
them to keep both cores busy despite the GIL: two per core measured best.

gthread against gevent (with psycogreen making psycopg2 cooperative), side by side with the
seller's Express server on 2 cores, 16 and 32 connections (2026-12-02): gevent spent more CPU
per request on every path that does work (an order 2.1 ms against 1.4-1.8 ms, a verify
3.1-3.5 against 2.4-3.0 ms; each query's wait goes through the hub) and served 20-47% fewer
orders; only duplicate webhooks, which do one read, were level. Two gthread workers instead
of four were within the noise of a shared machine (better on webhooks at 32 connections,
worse on orders at 16), so two per core stays. Every value can be overridden by the
environment.
"""

import os
from typing import Any


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * _cores())))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Keep workers * DB_POOL_MAX within the database's (or Neon pooler's) connection limit.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# A safety net against slow leaks, not a routine: at a few hundred requests a second,
# 5,000 restarted a worker every few seconds, each restart costing a second of CPU.
max_requests = 100_000
max_requests_jitter = 10_000
# Each worker listens on its own SO_REUSEPORT socket and the kernel spreads new connections
# over them; on one shared socket, an idle worker accepted a burst of keep-alive
# connections and kept them all (measured: /healthz 3,100 -> 4,100 req/s, webhooks +8%).
# The price: connections queued on a worker that is being recycled are reset, so recycling
# is kept rare (above), and clients retry (Razorpay does; sites send Idempotency-Key).
reuse_port = True
# Requests gunicorn refuses itself, before the app (their answers are problem+json, see
# post_fork): a request line (method, path, query) over 4094 bytes is a 414; a header line
# over 8190 bytes, or over 100 headers, a 431. openapi.yaml documents these figures, and
# docker/nginx.conf lets through at least as much.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# No access log by default: gunicorn formats one line per request even into /dev/null, 4-6%
# of the API's CPU per request (docs/performance.md). The gateway in front (docker/nginx.conf)
# logs every request with its status and time; where nothing is in front, set
# GUNICORN_ACCESSLOG=- (stdout) or a file path.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server: Any, worker: Any) -> None:
    """gunicorn's own answers (the limits above, malformed HTTP) as problem+json too."""
    from payments_service.server_errors import install

    install(worker.cfg)


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the shared Prometheus files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
