"""The site registry: which websites share this backend, and their secrets."""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urlsplit

from .auth_cache import forget_sites
from .db import Cursor, Database, is_unique_violation
from .db import sites as sql
from .db.sites import Site
from .errors import Conflict, NotFound, ValidationFailed
from .ids import new_secret
from .settings import Settings

_SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")  # as the sites table's CHECK says

# Scopes an operator may give a site on top of what every site may do. `enrollments:list`:
# list every owner of a SKU without naming a customer (admins always may).
ENROLLMENTS_LIST_SCOPE = "enrollments:list"
SITE_SCOPES = (ENROLLMENTS_LIST_SCOPE,)


def create_site(
    db: Database,
    *,
    site_id: str,
    name: str,
    callback_url: str | None,
    allowed_origins: list[str],
    reserved_ids: Collection[str] = (),
    scopes: list[str] | None = None,
) -> Site:
    """Register a site with fresh JWT and callback secrets, and the scopes it is given.

    ``reserved_ids`` are ids no site may take (the admin token issuer: reserved_site_ids).
    Ids that differ only by ``-`` and ``_`` are one id here: such a pair names one site in
    an environment variable (NEW_SITE_TOKEN) and is too easily mistyped for the other.
    Raises ValidationFailed for a malformed or reserved id, URL or origin, or an unknown
    scope, and Conflict if the id, or a variant of it, is taken.
    """
    _check_site_id(site_id, reserved_ids)
    if callback_url is not None:
        _check_url(callback_url, "callback_url")
    for origin in allowed_origins:
        _check_origin(origin)
    _check_scopes(scopes or [])
    try:
        with db.transaction() as cur:
            _refuse_taken(cur, site_id)
            site = sql.insert(
                cur,
                site_id=site_id,
                name=name,
                callback_url=callback_url,
                callback_secret=new_secret(),
                jwt_secret=new_secret(),
                allowed_origins=[origin.rstrip("/") for origin in allowed_origins],
                scopes=sorted(set(scopes or [])),
            )
    except Exception as exc:
        if is_unique_violation(exc, "sites_pkey"):
            raise Conflict(f"a site with id {site_id!r} already exists") from exc
        raise
    forget_sites(db.dsn)  # this process's caches may remember "no such site"
    return site


def _refuse_taken(cur: Cursor, site_id: str) -> None:
    """Conflict when the id, or a spelling of it differing only by ``-`` and ``_``, is taken
    (creations queue on a lock held to the end of the transaction: two cannot both pass)."""
    variant = sql.lock_ids_and_find_variant(cur, _spelling(site_id))
    if variant == site_id:
        raise Conflict(f"a site with id {site_id!r} already exists")
    if variant is not None:
        raise Conflict(
            f"site id {site_id!r} would be confused with the site {variant!r} "
            "('-' and '_' are not told apart)",
            field="site_id",
        )


def reserved_site_ids(settings: Settings) -> frozenset[str]:
    """Ids no site may take: the issuer of admin tokens (a site by that name could never
    authenticate: its tokens would be checked with the admin key) and the audience."""
    return frozenset({settings.jwt_issuer, settings.jwt_audience})


def _check_site_id(site_id: str, reserved_ids: Collection[str]) -> None:
    if not _SITE_ID.match(site_id):
        raise ValidationFailed(
            f"site id {site_id!r} must be 2 to 63 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit",
            field="site_id",
        )
    if _spelling(site_id) in {_spelling(reserved) for reserved in reserved_ids}:
        raise ValidationFailed(
            f"site id {site_id!r} is reserved: admin tokens use it as their issuer or audience",
            field="site_id",
        )


def _spelling(site_id: str) -> str:
    """The form two ids share when one would be mistaken for the other."""
    return site_id.lower().replace("_", "-")


def list_sites(db: Database) -> list[Site]:
    """Every registered site."""
    with db.transaction() as cur:
        return sql.list_all(cur)


def get_active_site(db: Database, site_id: str) -> Site:
    """The active site with this id.

    Raises NotFound when there is none, or it is deactivated.
    """
    site = find_active_site(db, site_id)
    if site is None:
        raise NotFound(f"no active site {site_id!r}")
    return site


def find_active_site(db: Database, site_id: str) -> Site | None:
    """The active site with this id, or None (none, or deactivated)."""
    with db.read() as cur:
        site = sql.get(cur, site_id)
    return site if site is not None and site.is_active else None


def is_allowed_origin(db: Database, origin: str) -> bool:
    """Tell whether a browser origin belongs to an active site (for CORS)."""
    with db.read() as cur:
        return sql.is_allowed_origin(cur, origin)


def _check_url(url: str, field: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed(f"{field} must be an http(s) URL", field=field)


def _check_origin(origin: str) -> None:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValidationFailed(
            f"origin {origin!r} must be scheme://host[:port] without a path", field="origin"
        )


def _check_scopes(scopes: list[str]) -> None:
    for scope in scopes:
        if scope not in SITE_SCOPES:
            raise ValidationFailed(
                f"unknown scope {scope!r} (known: {', '.join(SITE_SCOPES)})", field="scope"
            )


def rotate_site_secrets(db: Database, site_id: str, *, jwt: bool, callback: bool) -> Site:
    """Issue new secrets; the old ones stay valid until finish_secret_rotation.

    Raises NotFound for an unknown site.
    """
    with db.transaction() as cur:
        site = sql.rotate_secrets(
            cur,
            site_id,
            jwt_secret=new_secret() if jwt else None,
            callback_secret=new_secret() if callback else None,
        )
    forget_sites(db.dsn)  # at once here; other processes hear sql/0016's notification
    if site is None:
        raise NotFound(f"no site {site_id!r}")
    return site


def finish_secret_rotation(db: Database, site_id: str) -> Site:
    """Retire the previous secrets. Raises NotFound for an unknown site."""
    with db.transaction() as cur:
        site = sql.forget_previous_secrets(cur, site_id)
    forget_sites(db.dsn)  # at once here; other processes hear sql/0016's notification
    if site is None:
        raise NotFound(f"no site {site_id!r}")
    return site


def update_site(
    db: Database,
    site_id: str,
    *,
    callback_url: str | None = None,
    allowed_origins: list[str] | None = None,
    is_active: bool | None = None,
    scopes: list[str] | None = None,
) -> Site:
    """Change where a site hears from us, which origins it uses, its scopes (replaced as a
    whole; [] takes every scope away), or deactivate it.

    Raises NotFound for an unknown site, ValidationFailed for a malformed URL or origin or
    an unknown scope.
    """
    if callback_url is not None:
        _check_url(callback_url, "callback_url")
    for origin in allowed_origins or []:
        _check_origin(origin)
    _check_scopes(scopes or [])
    origins = [o.rstrip("/") for o in allowed_origins] if allowed_origins is not None else None
    with db.transaction() as cur:
        site = sql.update(
            cur,
            site_id,
            callback_url=callback_url,
            allowed_origins=origins,
            is_active=is_active,
            scopes=sorted(set(scopes)) if scopes is not None else None,
        )
    forget_sites(db.dsn)  # at once here; other processes hear sql/0016's notification
    if site is None:
        raise NotFound(f"no site {site_id!r}")
    return site
