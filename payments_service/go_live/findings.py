"""What one check of the go-live checklist found, and how a check is described."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ..db import Database
from ..settings import Settings

Status = Literal["PASS", "FAIL", "INFO", "SKIP"]


@dataclass(frozen=True)
class Finding:
    """One line of the checklist. ``detail`` and ``fix`` never hold a secret."""

    status: Status
    detail: str = ""
    fix: str = ""  # one sentence: which setting, what value shape, which command
    about: str = ""  # what this finding of a check with several is about (a site id)
    name: str = ""  # the check's, filled in by the checklist

    def line(self) -> str:
        """``FAIL  name (about): detail. Fix: fix``, on one line."""
        text = f"{self.status:<4}  {self.name}"
        if self.about:
            text += f" ({self.about})"
        if self.detail:
            text += f": {self.detail}"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


@dataclass(frozen=True)
class Context:
    """What the checks look at: the settings, the database, and the time now."""

    settings: Settings
    db: Database
    now: datetime


@dataclass(frozen=True)
class Check:
    """A named check. ``needs`` says what must work before it can run at all, and
    ``proves`` what works once it passed; ``only`` limits it to one kind of run."""

    name: str
    run: Callable[[Context], Finding | list[Finding]]
    needs: Literal["database", "schema"] | None = None
    proves: Literal["database", "schema"] | None = None
    only: Literal["live", "not live"] | None = None


def passed(detail: str = "") -> Finding:
    """The check passed; ``detail`` says what was seen."""
    return Finding("PASS", detail)


def failed(detail: str, fix: str) -> Finding:
    """The check failed: what is wrong, and the one-sentence fix."""
    return Finding("FAIL", detail, fix)


def ago(delta: timedelta) -> str:
    """A duration in the largest whole unit: ``40 s``, ``3 min``, ``5 h``, ``9 days``."""
    seconds = max(int(delta.total_seconds()), 0)
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * (2 if unit == "days" else 1):
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
