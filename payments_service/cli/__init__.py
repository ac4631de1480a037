"""The flask commands (commands.py) and how they report ordinary failures (errors.py)."""

from __future__ import annotations

from .commands import register_commands
from .errors import ServiceCommand, ServiceGroup, reported_as_cli_errors

__all__ = ["ServiceCommand", "ServiceGroup", "register_commands", "reported_as_cli_errors"]
