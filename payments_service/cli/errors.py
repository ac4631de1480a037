"""How the flask commands report ordinary failures: one line on stderr, exit status 1.

An ordinary failure is one the person at the terminal can act on: a refused request (a site
id already taken, an unknown site, an invalid URL: the errors.py exceptions), a
configuration the service cannot run with, or a database it cannot reach. Click prints
``Error: <message>`` for a ClickException and exits with its status; anything else still
ends in a traceback, because anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import psycopg2
from flask.cli import AppGroup

from ..errors import ConfigurationError, DatabaseUnavailable, ServiceError


@contextmanager
def reported_as_cli_errors() -> Iterator[None]:
    """Re-raise the service's ordinary failures as one-line click errors."""
    try:
        yield
    except DatabaseUnavailable as exc:
        raise click.ClickException(f"database: {exc.reason}") from None
    except ServiceError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from None
    except ConfigurationError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    except psycopg2.OperationalError as exc:
        raise click.ClickException(f"database: {_first_line(exc)}") from None


class ServiceCommand(click.Command):
    """A command whose ordinary failures end as one line (see the module docstring)."""

    def invoke(self, ctx: click.Context) -> Any:
        with reported_as_cli_errors():
            return super().invoke(ctx)


class ServiceGroup(AppGroup):
    """A group of commands (app context pushed, as AppGroup does) that are ServiceCommands."""

    command_class = ServiceCommand


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
