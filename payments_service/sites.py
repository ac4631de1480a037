"""The site registry: which websites share this backend, and their secrets."""

from __future__ import annotations

from urllib.parse import urlsplit

from .db import Database, is_unique_violation
from .db import sites as sql
from .db.sites import Site
from .errors import Conflict, NotFound, ValidationFailed
from .ids import new_secret

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
    scopes: list[str] | None = None,
) -> Site:
    """Register a site with fresh JWT and callback secrets, and the scopes it is given.

    Raises Conflict if the id is taken, ValidationFailed for a malformed URL or origin or
    an unknown scope.
    """
    if callback_url is not None:
        _check_url(callback_url, "callback_url")
    for origin in allowed_origins:
        _check_origin(origin)
    _check_scopes(scopes or [])
    try:
        with db.transaction() as cur:
            return sql.insert(
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


def list_sites(db: Database) -> list[Site]:
    """Every registered site."""
    with db.transaction() as cur:
        return sql.list_all(cur)


def get_active_site(db: Database, site_id: str) -> Site:
    """The active site with this id.

    Raises NotFound when there is none, or it is deactivated.
    """
    with db.read() as cur:
        site = sql.get(cur, site_id)
    if site is None or not site.is_active:
        raise NotFound(f"no active site {site_id!r}")
    return site


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
    if site is None:
        raise NotFound(f"no site {site_id!r}")
    return site


def finish_secret_rotation(db: Database, site_id: str) -> Site:
    """Retire the previous secrets. Raises NotFound for an unknown site."""
    with db.transaction() as cur:
        site = sql.forget_previous_secrets(cur, site_id)
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
    if site is None:
        raise NotFound(f"no site {site_id!r}")
    return site
