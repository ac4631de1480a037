"""Request parsing with Razorpay's validation rules and error descriptions."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from flask import request

from .entities import Notes
from .errors import invalid_request

SUPPORTED_CURRENCIES = frozenset({"INR", "USD", "EUR", "GBP", "SGD", "AED"})
MIN_AMOUNT = 100
RECEIPT_MAX_LENGTH = 40
NOTES_MAX_PAIRS = 15
NOTES_MAX_LENGTH = 256
DEFAULT_COUNT = 10
MAX_COUNT = 100
EARLIEST_TIME = 946684800
LATEST_TIME = 4765046400
IGNORED_QUERY_PARAMETERS = frozenset({"expand[]"})


class Timestamped(Protocol):
    """Anything listed by the API: it has a creation time."""

    @property
    def created_at(self) -> int:
        """Creation time in Unix seconds."""


EntityT = TypeVar("EntityT", bound=Timestamped)


def json_body() -> dict[str, Any]:
    """Return the request's JSON object; an empty body counts as ``{}``."""
    if not request.get_data():
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise invalid_request("The request body should be a JSON object")
    return body


def reject_unknown(body: Mapping[str, Any], allowed: Collection[str]) -> None:
    """Refuse fields the endpoint does not take, with Razorpay's wording."""
    extra = [name for name in body if name not in allowed]
    if extra:
        raise invalid_request(
            f"{', '.join(extra)} is/are not required and should not be sent", field=extra[0]
        )


def required(body: Mapping[str, Any], name: str) -> Any:
    """Return a mandatory field or raise "The <field> field is required."."""
    value = body.get(name)
    if value is None or value == "":
        raise invalid_request(f"The {name} field is required.", field=name)
    return value


def parse_amount(value: Any, currency: str = "INR") -> int:
    """Parse an amount in subunits (digit-only strings accepted) of at least 1.00."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request("The amount must be an integer.", field="amount")
    if value < MIN_AMOUNT:
        raise invalid_request(f"The amount must be at least {currency} 1.00", field="amount")
    return value


def parse_currency(value: Any) -> str:
    """Parse a 3-letter uppercase currency code the sandbox supports."""
    if not isinstance(value, str) or value not in SUPPORTED_CURRENCIES:
        raise invalid_request("The selected currency is invalid.", field="currency")
    return value


def parse_receipt(value: Any) -> str | None:
    """Parse an optional receipt of at most 40 characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_request("The receipt must be a string.", field="receipt")
    if len(value) > RECEIPT_MAX_LENGTH:
        raise invalid_request(
            f"The receipt may not be greater than {RECEIPT_MAX_LENGTH} characters.",
            field="receipt",
        )
    return value


def parse_notes(value: Any) -> Notes:
    """Parse notes: at most 15 pairs of scalars, keys and values up to 256 characters."""
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise invalid_request("Notes should be provided as a dictionary", field="notes")
    if len(value) > NOTES_MAX_PAIRS:
        raise invalid_request(
            f"Number of fields in notes should be less than or equal to {NOTES_MAX_PAIRS}",
            field="notes",
        )
    for key, note in value.items():
        if isinstance(note, dict | list):
            raise invalid_request("Notes values themselves should not be an array", field="notes")
        if len(key) > NOTES_MAX_LENGTH or len(str(note)) > NOTES_MAX_LENGTH:
            raise invalid_request(
                f"Notes keys and values may not be greater than {NOTES_MAX_LENGTH} characters.",
                field="notes",
            )
    return dict(value)


def parse_choice(body: Mapping[str, Any], name: str, choices: Sequence[str]) -> str:
    """Parse an optional enumerated field; the first choice is the default."""
    value = body.get(name, choices[0])
    if value not in choices:
        raise invalid_request(f"The selected {name} is invalid.", field=name)
    return str(value)


@dataclass(frozen=True)
class Page:
    """Which slice of a list endpoint to return (``count``, ``skip``, ``from``, ``to``)."""

    count: int = DEFAULT_COUNT
    skip: int = 0
    since: int = EARLIEST_TIME
    until: int = LATEST_TIME

    def select(self, entities: Sequence[EntityT], newest_first: bool = True) -> list[EntityT]:
        """Filter ``entities`` (given oldest first) by creation time and cut out the page."""
        ordered = reversed(entities) if newest_first else iter(entities)
        matching = [item for item in ordered if self.since <= item.created_at <= self.until]
        return matching[self.skip : self.skip + self.count]


def parse_page(args: Mapping[str, str], filters: Collection[str] = ()) -> Page:
    """Parse the pagination query of a list endpoint; ``filters`` are its extra parameters."""
    allowed = {"count", "skip", "from", "to", *filters, *IGNORED_QUERY_PARAMETERS}
    reject_unknown(args, allowed)
    count = _query_int(args, "count", DEFAULT_COUNT)
    if count > MAX_COUNT:
        raise invalid_request(f"The count may not be greater than {MAX_COUNT}.", field="count")
    if count < 1:
        raise invalid_request("The count must be at least 1.", field="count")
    skip = _query_int(args, "skip", 0)
    if skip < 0:
        raise invalid_request("The skip must be at least 0.", field="skip")
    since = _query_time(args, "from", EARLIEST_TIME)
    until = _query_time(args, "to", LATEST_TIME)
    return Page(count=count, skip=skip, since=since, until=until)


def collection(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap entity JSON in Razorpay's collection shape (``count`` = items on this page)."""
    return {"entity": "collection", "count": len(items), "items": items}


def _query_int(args: Mapping[str, str], name: str, default: int) -> int:
    """Parse an optional integer query parameter."""
    text = args.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise invalid_request(f"The {name} must be an integer.", field=name) from None


def _query_time(args: Mapping[str, str], name: str, default: int) -> int:
    """Parse an optional Unix-time bound within the range Razorpay accepts."""
    value = _query_int(args, name, default)
    if not EARLIEST_TIME <= value <= LATEST_TIME:
        raise invalid_request(
            f"{name} must be between {EARLIEST_TIME} and {LATEST_TIME}", field=name
        )
    return value
