"""SQL for sites: the websites that share this payment backend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg2.extensions

from . import Cursor

# sql/0016 announces every change to the sites table here, payload: the site's id.
CHANGES_CHANNEL = "payments_service_sites"
_COLUMNS = """id, name, callback_url, callback_secret, jwt_secret, allowed_origins,
              is_active, created_at, previous_jwt_secret, previous_callback_secret, scopes"""


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
    previous_jwt_secret: str | None
    previous_callback_secret: str | None
    scopes: list[str]

    @property
    def jwt_secrets(self) -> list[str]:
        """Secrets a token from this site may be signed with: current first."""
        return [s for s in (self.jwt_secret, self.previous_jwt_secret) if s]

    @property
    def callback_secrets(self) -> list[str]:
        """Secrets callbacks to this site are signed with: current first."""
        return [s for s in (self.callback_secret, self.previous_callback_secret) if s]


def insert(
    cur: Cursor,
    *,
    site_id: str,
    name: str,
    callback_url: str | None,
    callback_secret: str,
    jwt_secret: str,
    allowed_origins: list[str],
    scopes: list[str],
) -> Site:
    """Register a new site."""
    cur.execute(
        f"""
        INSERT INTO sites (id, name, callback_url, callback_secret, jwt_secret, allowed_origins,
                           scopes)
        VALUES (%(id)s, %(name)s, %(callback_url)s, %(callback_secret)s, %(jwt_secret)s,
                %(allowed_origins)s, %(scopes)s)
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "id": site_id,
            "name": name,
            "callback_url": callback_url,
            "callback_secret": callback_secret,
            "jwt_secret": jwt_secret,
            "allowed_origins": allowed_origins,
            "scopes": scopes,
        },
    )
    return Site(**cur.fetchone())


def lock_ids_and_find_variant(cur: Cursor, spelling: str) -> str | None:
    """The id of a site spelled ``spelling`` once '_' is read as '-', if any. Site creations
    queue on a transaction-scoped lock first, so two variants created at once cannot both
    pass this check."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext('payments_service.sites.create'))")
    cur.execute(
        "SELECT id FROM sites WHERE replace(id, '_', '-') = %s ORDER BY id LIMIT 1", (spelling,)
    )
    row = cur.fetchone()
    return str(row["id"]) if row else None


def get(cur: Cursor, site_id: str) -> Site | None:
    """The site with this id, active or not."""
    cur.execute(f"SELECT {_COLUMNS} FROM sites WHERE id = %s", (site_id,))  # noqa: S608
    row = cur.fetchone()
    return Site(**row) if row else None


def list_all(cur: Cursor) -> list[Site]:
    """Every site, oldest first."""
    cur.execute(f"SELECT {_COLUMNS} FROM sites ORDER BY created_at, id")  # noqa: S608
    return [Site(**row) for row in cur.fetchall()]


def has_scope(cur: Cursor, site_id: str, scope: str) -> bool:
    """Tell whether the site was given this scope (an inactive site has none)."""
    cur.execute(
        "SELECT EXISTS (SELECT 1 FROM sites WHERE id = %s AND is_active AND %s = ANY (scopes))",
        (site_id, scope),
    )
    return bool(cur.fetchone()["exists"])


def is_allowed_origin(cur: Cursor, origin: str) -> bool:
    """Tell whether an active site lists this browser origin."""
    cur.execute(
        "SELECT EXISTS (SELECT 1 FROM sites WHERE is_active AND %s = ANY (allowed_origins))",
        (origin,),
    )
    return bool(cur.fetchone()["exists"])


def rotate_secrets(
    cur: Cursor, site_id: str, *, jwt_secret: str | None, callback_secret: str | None
) -> Site | None:
    """Make the given secrets current, keeping the ones they replace as previous."""
    cur.execute(
        f"""
        UPDATE sites SET
            previous_jwt_secret = CASE WHEN %(jwt)s::text IS NULL THEN previous_jwt_secret
                                       ELSE jwt_secret END,
            jwt_secret = coalesce(%(jwt)s, jwt_secret),
            previous_callback_secret = CASE WHEN %(cb)s::text IS NULL
                                            THEN previous_callback_secret
                                            ELSE callback_secret END,
            callback_secret = coalesce(%(cb)s, callback_secret)
         WHERE id = %(id)s
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {"id": site_id, "jwt": jwt_secret, "cb": callback_secret},
    )
    row = cur.fetchone()
    return Site(**row) if row else None


def forget_previous_secrets(cur: Cursor, site_id: str) -> Site | None:
    """End a rotation: only the current secrets are valid from now on."""
    cur.execute(
        f"""UPDATE sites SET previous_jwt_secret = NULL, previous_callback_secret = NULL
             WHERE id = %s RETURNING {_COLUMNS}""",  # noqa: S608
        (site_id,),
    )
    row = cur.fetchone()
    return Site(**row) if row else None


def update(
    cur: Cursor,
    site_id: str,
    *,
    callback_url: str | None,
    allowed_origins: list[str] | None,
    is_active: bool | None,
    scopes: list[str] | None,
) -> Site | None:
    """Change a site's callback URL, origins, active flag or scopes (None keeps a value)."""
    cur.execute(
        f"""
        UPDATE sites SET callback_url = coalesce(%(url)s, callback_url),
                         allowed_origins = coalesce(%(origins)s, allowed_origins),
                         is_active = coalesce(%(active)s, is_active),
                         scopes = coalesce(%(scopes)s::text[], scopes)
         WHERE id = %(id)s
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "id": site_id,
            "url": callback_url,
            "origins": allowed_origins,
            "active": is_active,
            "scopes": scopes,
        },
    )
    row = cur.fetchone()
    return Site(**row) if row else None


def listen_for_changes(conn: psycopg2.extensions.connection) -> None:
    """LISTEN for site changes on ``conn`` (a dedicated autocommit connection), then announce
    an empty change on it: the caller waits for that echo to know notifications reach it (a
    transaction-mode pooler such as PgBouncer accepts LISTEN and never delivers them)."""
    with conn.cursor() as cur:
        cur.execute(f"LISTEN {CHANGES_CHANNEL}")
        cur.execute("SELECT pg_notify(%s, '')", (CHANGES_CHANNEL,))
