#!/bin/sh
# api: migrate, then hand the process to gunicorn (logs to stdout).
# worker: notifications, retries, reconciliation. sandbox: the Razorpay emulator.
set -eu
case "${1:-api}" in
  api)
    # Over MIGRATION_DATABASE_URL when it is set (Neon's direct URL), else DATABASE_URL;
    # safe at every start and from several api containers at once (README: Neon).
    flask --app payments_service db upgrade
    # gunicorn runs several processes: Prometheus counters are merged through files.
    export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus}"
    rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    exec gunicorn -c /app/gunicorn.conf.py "payments_service:create_app()"
    ;;
  worker)
    exec flask --app payments_service worker
    ;;
  sandbox)
    exec python -m payments_service.sandbox --host 0.0.0.0 --port 8010
    ;;
  *)
    exec "$@"
    ;;
esac
