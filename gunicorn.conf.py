"""gunicorn settings for the API (`gunicorn -c gunicorn.conf.py "payments_service:create_app()"`).

Threads, not processes, carry the concurrency: a request spends most of its time waiting
on Razorpay or PostgreSQL, so a few processes with many threads each keep the 2 cores busy
without multiplying connection pools. Every value can be overridden by the environment.
"""

import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Each thread may hold one database connection: keep DB_POOL_MAX >= threads, and
# workers * DB_POOL_MAX within the database's (or Neon pooler's) connection limit.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the shared Prometheus files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
