"""``python -m payments_service.devstack``: what `make run` runs."""

from __future__ import annotations

from .stack import main

if __name__ == "__main__":
    main()
