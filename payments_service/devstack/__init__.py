"""Development only: `make run`'s whole stack on one machine, never loaded in production.

- ``__main__.py``: ``python -m payments_service.devstack`` (what `make run` runs)
- ``stack.py``: what it starts, in which order; ``banner.py``: what it prints once up
- ``processes.py``: starting, watching and stopping the child processes
- ``embedded_db.py``: the embedded PostgreSQL, also used by ``create_app`` when DATABASE_URL
  is unset (imported only then)
- ``demo/``: the demo storefront, a separate app run once per demo site
"""
