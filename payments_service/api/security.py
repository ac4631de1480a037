"""Bearer tokens: flask-jwt-extended wiring and the caller of the current request."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, current_app, request
from flask_jwt_extended import JWTManager, get_jwt, verify_jwt_in_request
from marshmallow import ValidationError

from ..auth import (
    CLOCK_SKEW_SECONDS,
    Caller,
    caller_from_claims,
    key_that_signed,
    require_admin,
    signing_keys_for,
)
from ..auth_cache import EXTENSION_KEY as AUTH_CACHE_KEY
from ..auth_cache import AuthCache
from ..db import Database, Mode
from ..errors import Forbidden, Unauthorized
from ..services import EXTENSION_KEY
from .fields import services
from .problems import problem


def current_caller() -> Caller:
    """The authenticated site or admin; raises (-> 401) when the token is missing or bad.

    A token this process verified before is not decoded again: its claims come from the
    AuthCache and only its lifetime is checked again, against the clock now (the rules of
    caller_from_claims). Anything the cache does not vouch for takes flask-jwt-extended's
    full path, so every refusal reads exactly as it does without the cache.
    """
    settings = services().settings
    cache: AuthCache | None = current_app.extensions.get(AUTH_CACHE_KEY)
    header = request.headers.get("Authorization")
    if cache is None or not header or request.method == "OPTIONS":
        verify_jwt_in_request()
        return caller_from_claims(settings, get_jwt())
    now = time.time()
    claims = cache.token(header, now)
    if claims is not None:
        try:
            return caller_from_claims(settings, claims)
        except Unauthorized:
            cache.forget_token(header)  # expired: let the full path refuse it
    generation = cache.generation()  # before the keys are read: a change heard since voids it
    verify_jwt_in_request()
    claims = get_jwt()
    caller = caller_from_claims(settings, claims)
    cache.keep_token(header, claims, now, generation)
    return caller


def current_site() -> Caller:
    """The authenticated site; raises (-> 401/403) for anything else, admins included."""
    caller = current_caller()
    if caller.site_id is None:
        raise Forbidden("this action is a site's: use a site token")
    return caller


def current_admin() -> Caller:
    """The authenticated admin; raises (-> 401/403) for anything else."""
    caller = current_caller()
    require_admin(caller)
    return caller


def database_for(caller: Caller) -> Database:
    """The database in the Razorpay mode this read asks for with ``?mode=test|live``; by
    default the mode of the keys in use. Only an admin may read the other mode: a site
    asking for it is refused (403), and another value is a 422 naming ``mode``."""
    db = services().db
    raw = request.args.get("mode")
    if raw is None or raw == db.mode:
        return db
    if raw not in ("test", "live"):
        raise ValidationError({"mode": ["must be one of: test, live"]})
    mode: Mode = "live" if raw == "live" else "test"
    if not caller.is_admin:
        raise Forbidden(
            f"only an admin may read {mode}-mode records; this service runs on {db.mode} keys",
            field="mode",
        )
    return db.in_mode(mode)


def init_jwt(app: Flask) -> None:
    """Bind flask-jwt-extended: per-issuer keys, HS256 only, exp and iat required (and the
    lifetime bounded, in caller_from_claims), problem errors."""
    settings = app.extensions[EXTENSION_KEY].settings
    app.config.update(
        JWT_SECRET_KEY=settings.admin_jwt_secret,
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_DECODE_AUDIENCE=settings.jwt_audience,
        JWT_IDENTITY_CLAIM="iss",
        # For iat and nbf a little ahead of our clock; expiry is checked strictly after.
        JWT_DECODE_LEEWAY=CLOCK_SKEW_SECONDS,
        JWT_TOKEN_LOCATION=["headers"],
    )
    manager = JWTManager()
    manager.init_app(app)
    manager.decode_key_loader(_key)
    manager.token_verification_loader(_has_expiry)
    manager.unauthorized_loader(_missing)
    manager.invalid_token_loader(_invalid)
    manager.expired_token_loader(_expired)
    manager.token_verification_failed_loader(_no_expiry)


def _key(header: dict[str, Any], claims: dict[str, Any]) -> str:
    cache = current_app.extensions.get(AUTH_CACHE_KEY)
    keys = signing_keys_for(services().db, services().settings, claims, cache)
    if len(keys) == 1:
        return keys[0]
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return key_that_signed(token, keys)


def _has_expiry(header: dict[str, Any], claims: dict[str, Any]) -> bool:
    return "exp" in claims


def _missing(reason: str) -> Response:
    return _unauthorized("send Authorization: Bearer <token>")


def _invalid(reason: str) -> Response:
    # PyJWT's reason names the rule (signature, audience, format, an iat in the future),
    # never a key.
    return _unauthorized(f"the token is invalid: {reason}")


def _expired(header: dict[str, Any], claims: dict[str, Any]) -> Response:
    return _unauthorized("the token has expired")


def _no_expiry(header: dict[str, Any], claims: dict[str, Any]) -> Response:
    return _unauthorized("the token must carry an exp claim")


def _unauthorized(detail: str) -> Response:
    return problem(401, "unauthorized", "Unauthorized", detail)
