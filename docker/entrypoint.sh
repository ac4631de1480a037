#!/bin/sh
# api: migrate, then hand the process to gunicorn (logs to stdout). sandbox: the emulator.
set -eu
case "${1:-api}" in
  api)
    flask --app payments_service db upgrade
    exec gunicorn --bind 0.0.0.0:8000 --workers "${WEB_CONCURRENCY:-2}" --threads 4 \
      --access-logfile - "payments_service:create_app()"
    ;;
  sandbox)
    exec python -m payments_service.sandbox --host 0.0.0.0 --port 8010
    ;;
  *)
    exec "$@"
    ;;
esac
