"""Shared marshmallow fields and request helpers for every blueprint."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from flask import current_app, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from werkzeug.exceptions import BadRequest, NotFound, UnsupportedMediaType

from .. import bounded_json
from ..money import CURRENCY_EXPONENTS, MINIMUM_AMOUNT
from ..services import EXTENSION_KEY, Services

SKU_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
MAX_PAISE = 10**12  # ₹1,000 crore: far above any course, far below bigint


class Paise(fields.Integer):
    """An amount in minor units: a JSON integer (never a fraction, string or boolean).

    ``49900.0`` arrives here as the int 49900 (load_json reads whole numbers exactly, as JSON
    Schema counts them integers); no float is ever turned into money.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Range(min=MINIMUM_AMOUNT, max=MAX_PAISE))
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("must be an integer number of paise (minor units)")
        return int(super()._deserialize(value, attr, data, **kwargs))


class JsonBoolean(fields.Boolean):
    """A JSON true or false (never 1, 0 or a string)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


def currency_field(load_default: str | None = "INR") -> fields.String:
    """An ISO 4217 code this service accepts; INR when omitted."""
    return fields.String(
        load_default=load_default, validate=validate.OneOf(sorted(CURRENCY_EXPONENTS))
    )


_IDEMPOTENCY_KEY = fields.String(validate=validate.Regexp(r"^[\x21-\x7e]{1,255}$"))


def idempotency_key() -> str | None:
    """The request's Idempotency-Key header: 1-255 visible ASCII characters, or None."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    try:
        return str(_IDEMPOTENCY_KEY.deserialize(raw))
    except ValidationError as exc:
        raise ValidationError({"Idempotency-Key": ["1-255 visible ASCII characters"]}) from exc


def sku_field(**kwargs: Any) -> fields.String:
    """A merchant-wide product code such as ``python-101``."""
    return fields.String(
        validate=validate.Regexp(
            SKU_PATTERN,
            error="not a valid SKU (lowercase letters, digits, '.', '_' or '-', up to 64)",
        ),
        **kwargs,
    )


def notes_field(max_pairs: int) -> fields.Dict:
    """Razorpay notes: string keys and string values of at most 256 characters."""
    return fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=256)),
        values=fields.String(validate=validate.Length(max=256)),
        validate=validate.Length(max=max_pairs, error=f"at most {max_pairs} notes"),
        load_default=dict,
    )


class PageQuerySchema(Schema):
    """Cursor pagination parameters shared by list endpoints."""

    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


def load_json(schema: Schema) -> dict[str, Any]:
    """Parse the request body as JSON and validate it; raise before anything is written."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    try:
        body = bounded_json.parse(request.get_data(cache=True), whole_numbers_as_int=True)
    except bounded_json.NotUtf8 as exc:
        raise ValidationError({"_body": [str(exc)]}) from None
    except bounded_json.NotJson as exc:
        raise BadRequest(str(exc)) from None
    if body is None:
        raise BadRequest("the body must be a JSON object")
    _refuse_unstorable_text(body)
    result: dict[str, Any] = schema.load(body)
    return result


def load_query(schema: Schema) -> dict[str, Any]:
    """Validate the query string with ``schema``; parameters it does not name are ignored
    (browsers and proxies add cache-busters)."""
    _refuse_non_utf8_query()
    query = request.args.to_dict()
    _refuse_unstorable_text(query)
    result: dict[str, Any] = schema.load(query, unknown=EXCLUDE)
    return result


def refuse_nul_in_path() -> None:
    """A path parameter with a NUL character names nothing that can exist (404)."""
    if any("\x00" in str(value) for value in (request.view_args or {}).values()):
        raise NotFound("no such resource")


def _refuse_non_utf8_query() -> None:
    """Werkzeug decodes a query's invalid UTF-8 to U+FFFD; refuse it instead, by name."""
    for pair in request.query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                label = unquote_to_bytes(name).decode("utf-8", errors="replace") or "_query"
                raise ValidationError({label: ["must be UTF-8 text"]}) from None


def _refuse_unstorable_text(value: dict[str, Any]) -> None:
    """PostgreSQL text holds no NUL and no half surrogate pair: refuse them in any field
    (and key) before anything runs."""
    found = bounded_json.find_unstorable(value)
    if found:
        where, why = found
        raise ValidationError({where or "_body": [why]})


def services() -> Services:
    """The app's wired services (settings, db, gateway), built by create_app."""
    found: Services = current_app.extensions[EXTENSION_KEY]
    return found
