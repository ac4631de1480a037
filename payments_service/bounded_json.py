"""JSON read with bounds: UTF-8 only, nested at most MAX_DEPTH deep, text PostgreSQL can store.

Python's parser recurses once per nesting level, so a 2 KB body of ``[`` characters is a
RecursionError, not a ValueError: the depth is measured on the text before anything is
parsed. Every body this service accepts is shallow (Razorpay's webhook payloads nest about
six deep, our own request bodies three).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

MAX_DEPTH = 32
# More digits than the largest finite float (1.8e308) has: a longer whole number is refused
# as before, like any number a float cannot hold, rather than built digit by digit.
_WHOLE_DIGITS = 309

# A JSON string (skipped whole, brackets inside it are text) or one bracket.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotJson(ValueError):
    """The bytes are not JSON text that this service reads."""


class NotUtf8(NotJson):
    """The bytes are not UTF-8 (RFC 8259 requires it)."""


class TooDeep(NotJson):
    """Arrays and objects nest deeper than MAX_DEPTH."""


def parse(raw: bytes, *, whole_numbers_as_int: bool = False) -> Any:
    """The value of the UTF-8 JSON text ``raw``.

    With ``whole_numbers_as_int``, a number written with a fraction or an exponent whose
    value is whole (``49900.0``, ``4.99e4``) is read as that int, exactly, as JSON Schema
    counts it an integer (``49900.0000000000001`` is not whole, whatever a float makes of it).

    Raises NotUtf8, TooDeep (both before parsing) or NotJson, also for what Python reads
    but JSON does not have: NaN, Infinity, and numbers too large for a float.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotUtf8("the body is not UTF-8 text") from None
    if nests_deeper_than(text, MAX_DEPTH):
        raise TooDeep(f"the JSON nests arrays and objects deeper than {MAX_DEPTH} levels")
    number = _whole_or_finite if whole_numbers_as_int else _finite
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=number)
    except ValueError:
        raise NotJson("the body is not valid JSON") from None


def _not_json(constant: str) -> float:
    """Python reads NaN and Infinity, which JSON (and PostgreSQL jsonb) do not have."""
    raise ValueError(constant)


def _finite(number: str) -> float:
    """A JSON number as a float; 1e999 would be inf, which no JSON text can carry back."""
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(number)
    return value


def _whole_or_finite(number: str) -> int | float:
    """A JSON number with a fraction or exponent: the int it equals exactly, if it is whole
    and has fewer digits than any finite float; otherwise a float, as ``_finite``."""
    exact = Decimal(number)  # exact: the text's own digits, no float rounding
    if exact == exact.to_integral_value() and exact.adjusted() < _WHOLE_DIGITS:
        return int(exact)
    return _finite(number)


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON ``text`` opens more than ``limit`` arrays/objects inside each other."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        found = match.group()
        if found in "[{":
            depth += 1
            if depth > limit:
                return True
        elif found in "]}":
            depth -= 1
    return False


def unstorable_text(value: str) -> str | None:
    """Why PostgreSQL text cannot hold ``value`` (a NUL, or half a surrogate pair), or None."""
    if "\x00" in value:
        return "must not contain NUL (U+0000) characters"
    if _SURROGATE.search(value):
        return "must be valid Unicode text (no unpaired surrogate escapes)"
    return None


def find_unstorable(value: Any, where: str = "") -> tuple[str, str] | None:
    """The first string or key of a parsed JSON value that PostgreSQL text cannot hold, as
    (its dotted path, why), or None. ``value`` is nested at most MAX_DEPTH (parse checked)."""
    if isinstance(value, str):
        why = unstorable_text(value)
        return (where, why) if why else None
    children = (
        value.items()
        if isinstance(value, dict)
        else (enumerate(value) if isinstance(value, list) else ())
    )
    for key, child in children:
        if isinstance(key, str) and (why := unstorable_text(key)):
            return (where, f"keys {why}")
        found = find_unstorable(child, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None
