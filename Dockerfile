# The API image: slim base, non-root, runtime dependencies only. Installed editable so
# the package finds sql/ and openapi.yaml beside it in /app.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY payments_service ./payments_service
COPY sql ./sql
COPY openapi.yaml gunicorn.conf.py ./
RUN pip install -e . && useradd --create-home --uid 10001 payments
COPY docker/entrypoint.sh /usr/local/bin/entrypoint.sh

USER payments
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["api"]
