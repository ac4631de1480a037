"""Our own identifiers: a type prefix and 14 random base-62 characters, like Razorpay's."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_LENGTH = 14
_SPACE = len(_ALPHABET) ** _LENGTH


def new_id(prefix: str) -> str:
    """A fresh id such as ``ord_Kx3vT9qLmN2pQa``: one draw of the whole 62^14 space (one
    read of the OS's randomness, not one per character)."""
    number = secrets.randbelow(_SPACE)
    chars = []
    for _ in range(_LENGTH):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return prefix + "_" + "".join(chars)


def new_secret() -> str:
    """A random secret of 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)
