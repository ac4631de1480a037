"""Who is calling: site tokens signed with each site's own secret, admin tokens with ours."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

import jwt

from .auth_cache import AuthCache
from .db import Database
from .db.sites import Site
from .errors import Forbidden, Unauthorized
from .settings import Settings
from .sites import find_active_site

ADMIN_ROLE = "admin"
# How far a token's iat (and nbf) may lie in the future: the minting host's clock may run
# a little ahead of ours. exp gets no such grace (see check_token_lifetime).
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class Caller:
    """The authenticated party of a request: one site, or an admin."""

    is_admin: bool
    site_id: str | None
    subject: str | None

    @property
    def actor(self) -> str:
        """How this caller is named in the audit trail."""
        if self.is_admin:
            return f"admin:{self.subject or 'unknown'}"
        return f"site:{self.site_id}"

    def can_see_site(self, site_id: str) -> bool:
        """Admins see every site's records; a site only its own."""
        return self.is_admin or self.site_id == site_id


def signing_keys_for(
    db: Database, settings: Settings, claims: dict[str, Any], cache: AuthCache | None = None
) -> list[str]:
    """The keys a token may be signed with, chosen by its (not yet verified) ``iss``.

    A token naming site B must be signed with one of B's secrets (two while B rotates
    them), so a token signed with A's secret but claiming to be B fails verification.
    The site comes from ``cache`` when it knows it, else from the database (and is kept
    there). Raises Unauthorized.
    """
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise Unauthorized("the token has no iss claim naming a site")
    if issuer == settings.jwt_issuer:
        return [settings.admin_jwt_secret]
    site = _active_site(db, issuer, cache)
    if site is None:
        raise Unauthorized("the token's iss names no active site")
    return site.jwt_secrets


def _active_site(db: Database, site_id: str, cache: AuthCache | None) -> Site | None:
    if cache is None:
        return find_active_site(db, site_id)
    cached = cache.site(site_id)
    if cached is None or isinstance(cached, Site):
        return cached
    generation = cache.generation()  # before the read: a change heard meanwhile voids it
    site = find_active_site(db, site_id)
    cache.keep_site(site_id, site, generation)
    return site


def key_that_signed(token: str, keys: list[str]) -> str:
    """The first of ``keys`` whose HMAC verifies ``token`` (else the first, to fail later)."""
    for key in keys:
        try:
            jwt.PyJWS().decode(token, key, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            continue
        return key
    return keys[0]


def caller_from_claims(settings: Settings, claims: dict[str, Any]) -> Caller:
    """Turn verified claims into a Caller. Raises Unauthorized for a malformed admin token,
    or one outside its lifetime bounds (check_token_lifetime)."""
    check_token_lifetime(settings, claims, time.time())
    sub = claims.get("sub")
    subject = sub if isinstance(sub, str) else None
    if claims["iss"] == settings.jwt_issuer:
        if claims.get("role") != ADMIN_ROLE:
            raise Unauthorized("a token signed by this service must carry role: admin")
        return Caller(is_admin=True, site_id=None, subject=subject)
    # A site token is only ever that site, whatever role it claims.
    return Caller(is_admin=False, site_id=claims["iss"], subject=subject)


def check_token_lifetime(settings: Settings, claims: dict[str, Any], now: float) -> None:
    """Refuse a verified token that is expired, has no ``iat``, or lives longer (exp - iat)
    than its kind may: SITE_TOKEN_MAX_LIFETIME_SECONDS or ADMIN_TOKEN_MAX_LIFETIME_SECONDS.

    The signature check already refused an ``iat`` more than CLOCK_SKEW_SECONDS ahead, and
    an ``exp`` that long past; here ``exp`` is strict. An old ``iat`` passes only with an
    ``exp`` within the bound of it, so a token can never outlive its bound. Raises
    Unauthorized naming the rule broken.
    """
    issued, expires = claims.get("iat"), claims.get("exp")
    if not _is_numeric_date(issued):
        raise Unauthorized("the token must carry an iat claim (when it was issued, in seconds)")
    if not _is_numeric_date(expires):
        raise Unauthorized("the token must carry an exp claim (in seconds)")
    if expires <= now:
        raise Unauthorized("the token has expired")
    is_admin = claims.get("iss") == settings.jwt_issuer
    kind = "admin" if is_admin else "site"
    bound = (
        settings.admin_token_max_lifetime_seconds
        if is_admin
        else settings.site_token_max_lifetime_seconds
    )
    if expires - issued > bound:
        raise Unauthorized(
            f"the token lives {int(expires - issued)} s (exp - iat); "
            f"{kind} tokens may live at most {bound} s"
        )


def _is_numeric_date(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def require_admin(caller: Caller) -> None:
    """Raises Forbidden unless the caller is an admin."""
    if not caller.is_admin:
        raise Forbidden("this action needs an admin token")


def mint_admin_token(settings: Settings, subject: str, ttl: timedelta) -> str:
    """An admin JWT signed with the service's own key."""
    return _mint(
        settings.admin_jwt_secret,
        settings.jwt_issuer,
        settings.jwt_audience,
        subject,
        ttl,
        {"role": ADMIN_ROLE},
    )


def mint_site_token(
    secret: str, site_id: str, audience: str, subject: str | None, ttl: timedelta
) -> str:
    """A site JWT, as a site's backend mints it (used by the CLI and the demo sites)."""
    return _mint(secret, site_id, audience, subject, ttl, {})


def _mint(
    secret: str,
    issuer: str,
    audience: str,
    subject: str | None,
    ttl: timedelta,
    extra: dict[str, Any],
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"iss": issuer, "aud": audience, "iat": now, "exp": now + ttl}
    if subject:
        claims["sub"] = subject
    return jwt.encode({**claims, **extra}, secret, algorithm="HS256")
