"""Our own identifiers: a type prefix and 14 random base-62 characters, like Razorpay's."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """A fresh id such as ``ord_Kx3vT9qLmN2pQa``."""
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def new_secret() -> str:
    """A random secret of 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)
