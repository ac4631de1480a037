"""Checks of the settings alone: live keys, the webhook secret, Razorpay's own API (not the
sandbox), a strong admin secret. No secret is ever put in a finding, not even in part."""

from __future__ import annotations

import math
import re
import string
from urllib.parse import urlsplit

from ..settings import SANDBOX_API, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET
from .findings import Context, Finding, failed, passed

KEY_ID = re.compile(r"^rzp_(test|live)_[A-Za-z0-9]{14}$")
# RFC 7518 3.2: an HS256 key at least as long as the hash output.
HS256_KEY_BITS = 256
MIN_DISTINCT_CHARACTERS = 10
# The value .env.example suggests replacing, and words a typed-in placeholder carries (a
# random string holds a given six-letter word about once in 10**9 draws).
KNOWN_DEVELOPMENT_SECRETS = frozenset({"change-me-to-a-long-random-string-of-48-characters"})
PLACEHOLDER_WORDS = ("change", "secret", "example", "password", "default", "placeholder")
RANDOM_STRING = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def mode(ctx: Context) -> Finding:
    """Which Razorpay mode the settings run in, and whether that is the local sandbox."""
    settings = ctx.settings
    if settings.is_sandbox:
        where = _printable_url(settings.razorpay_api_base_url)
        return Finding(
            "INFO", f"test (sandbox mode: no Razorpay keys; payments go to {where}, no real money)"
        )
    if settings.mode == "test":
        return Finding("INFO", "test (Razorpay test keys: no real money moves)")
    return Finding("INFO", "live (Razorpay live keys: real money)")


def key_id_shape(ctx: Context) -> Finding:
    """The key id is one Razorpay could have issued (its prefix and 14 letters or digits)."""
    if KEY_ID.match(ctx.settings.razorpay_key_id):
        return passed(f"{ctx.settings.razorpay_key_id[:9]}…")
    return failed(
        "RAZORPAY_KEY_ID is not rzp_test_ or rzp_live_ followed by 14 letters or digits",
        "copy the key id from the Razorpay dashboard (Account & Settings, API keys) into "
        "RAZORPAY_KEY_ID",
    )


def live_key_id(ctx: Context) -> Finding:
    """The key id is a live one, of the shape Razorpay issues."""
    settings = ctx.settings
    fix = (
        "set RAZORPAY_KEY_ID to the live key id from the Razorpay dashboard in live mode "
        "(rzp_live_ followed by 14 letters or digits) and RAZORPAY_KEY_SECRET to its secret"
    )
    if settings.is_sandbox:
        return failed("RAZORPAY_KEY_ID is unset (sandbox mode)", fix)
    if settings.mode != "live":
        return failed("RAZORPAY_KEY_ID is a test key (rzp_test_…)", fix)
    if not KEY_ID.match(settings.razorpay_key_id):
        return failed("RAZORPAY_KEY_ID is rzp_live_ but not followed by 14 letters or digits", fix)
    return passed("rzp_live_…")


def key_secret(ctx: Context) -> Finding:
    """The key secret is set and is not the sandbox's published one."""
    if ctx.settings.razorpay_key_secret in ("", SANDBOX_KEY_SECRET):
        return failed(
            "RAZORPAY_KEY_SECRET is unset: the sandbox's published secret is in use",
            "set RAZORPAY_KEY_SECRET to the secret Razorpay showed with the live key id "
            "(it is shown once: regenerate the key on the dashboard if it is lost)",
        )
    return passed()


def webhook_secret(ctx: Context) -> Finding:
    """Every webhook secret accepted is set and none is the sandbox's published one."""
    fix = (
        f"set RAZORPAY_WEBHOOK_SECRET to a new random string ({RANDOM_STRING}) and give the "
        "webhook on the Razorpay dashboard the same secret"
    )
    current, *previous = ctx.settings.razorpay_webhook_secrets or ("",)
    if current in ("", SANDBOX_WEBHOOK_SECRET):
        return failed("RAZORPAY_WEBHOOK_SECRET is the sandbox's published secret", fix)
    if SANDBOX_WEBHOOK_SECRET in previous:
        return failed(
            "RAZORPAY_WEBHOOK_SECRET_PREVIOUS is the sandbox's published secret",
            "unset RAZORPAY_WEBHOOK_SECRET_PREVIOUS (it is for a rotation from a real secret)",
        )
    return passed("with a previous one, while rotating" if previous else "")


def razorpay_api(ctx: Context) -> Finding:
    """Calls go to Razorpay over https, not to the local sandbox."""
    settings = ctx.settings
    url = settings.razorpay_api_base_url
    if settings.is_sandbox:
        return failed(
            f"sandbox mode: no Razorpay keys, payments go to {_printable_url(url)}",
            "set RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET to live keys and leave "
            "RAZORPAY_API_BASE_URL unset (https://api.razorpay.com)",
        )
    parts = urlsplit(url)
    local = (parts.hostname or "") in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" or local or url.rstrip("/") == SANDBOX_API:
        return failed(
            f"RAZORPAY_API_BASE_URL is {_printable_url(url)}, not Razorpay over https",
            "unset RAZORPAY_API_BASE_URL (https://api.razorpay.com) or set it to an https "
            "proxy in front of Razorpay",
        )
    return passed(_printable_url(url))


def admin_secret(ctx: Context) -> Finding:
    """ADMIN_JWT_SECRET is random enough to sign admin tokens with HS256."""
    weakness = secret_weakness(ctx.settings.admin_jwt_secret)
    if weakness is None:
        return passed()
    return failed(
        f"ADMIN_JWT_SECRET {weakness}",
        f"set ADMIN_JWT_SECRET to a fresh random string ({RANDOM_STRING}) and mint new "
        "admin tokens",
    )


def secret_weakness(secret: str) -> str | None:
    """Why ``secret`` is too weak for an HS256 key, or None; the reason never quotes it."""
    if secret in KNOWN_DEVELOPMENT_SECRETS:
        return "is the placeholder from .env.example"
    if any(word in secret.lower() for word in PLACEHOLDER_WORDS):
        return "reads like a placeholder, not a random string"
    if len(set(secret)) < MIN_DISTINCT_CHARACTERS:
        return f"repeats a few characters ({len(set(secret))} different ones)"
    bits = estimated_bits(secret)
    if bits < HS256_KEY_BITS:
        return f"holds at most {bits} bits ({len(secret)} characters); HS256 needs {HS256_KEY_BITS}"
    return None


def estimated_bits(secret: str) -> int:
    """At most how many random bits ``secret`` holds: its length times the bits of the
    smallest usual alphabet it is written in (hex, base64, printable ASCII)."""
    characters = set(secret)
    if characters <= set(string.hexdigits):
        alphabet = 16
    elif characters <= set(string.ascii_letters + string.digits + "+/=_-"):
        alphabet = 64
    else:
        alphabet = 95
    return math.floor(len(secret) * math.log2(alphabet))


def _printable_url(url: str) -> str:
    """The URL's scheme, host and port only (never credentials a URL might carry)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: say nothing of it
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")
