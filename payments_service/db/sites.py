"""SQL for sites: the websites that share this payment backend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import Cursor

_COLUMNS = """id, name, callback_url, callback_secret, jwt_secret, allowed_origins,
              is_active, created_at"""


@dataclass(frozen=True)
class Site:
    """A registered website, with the secrets it shares with this service."""

    id: str
    name: str
    callback_url: str | None
    callback_secret: str
    jwt_secret: str
    allowed_origins: list[str]
    is_active: bool
    created_at: datetime


def insert(
    cur: Cursor,
    *,
    site_id: str,
    name: str,
    callback_url: str | None,
    callback_secret: str,
    jwt_secret: str,
    allowed_origins: list[str],
) -> Site:
    """Register a new site."""
    cur.execute(
        f"""
        INSERT INTO sites (id, name, callback_url, callback_secret, jwt_secret, allowed_origins)
        VALUES (%(id)s, %(name)s, %(callback_url)s, %(callback_secret)s, %(jwt_secret)s,
                %(allowed_origins)s)
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "id": site_id,
            "name": name,
            "callback_url": callback_url,
            "callback_secret": callback_secret,
            "jwt_secret": jwt_secret,
            "allowed_origins": allowed_origins,
        },
    )
    return Site(**cur.fetchone())


def get(cur: Cursor, site_id: str) -> Site | None:
    """The site with this id, active or not."""
    cur.execute(f"SELECT {_COLUMNS} FROM sites WHERE id = %s", (site_id,))  # noqa: S608
    row = cur.fetchone()
    return Site(**row) if row else None


def list_all(cur: Cursor) -> list[Site]:
    """Every site, oldest first."""
    cur.execute(f"SELECT {_COLUMNS} FROM sites ORDER BY created_at, id")  # noqa: S608
    return [Site(**row) for row in cur.fetchall()]


def is_allowed_origin(cur: Cursor, origin: str) -> bool:
    """Tell whether an active site lists this browser origin."""
    cur.execute(
        "SELECT EXISTS (SELECT 1 FROM sites WHERE is_active AND %s = ANY (allowed_origins))",
        (origin,),
    )
    return bool(cur.fetchone()["exists"])
