"""Money as integer minor units (paise for INR): types, currencies and display."""

from __future__ import annotations

from typing import Final

Paise = int
"""An amount in the currency's minor unit (paise for INR); never a float."""

# Minor-unit exponents of the currencies this service accepts. Razorpay supports more,
# but each needs account enablement; add a currency here when the account has it.
CURRENCY_EXPONENTS: Final[dict[str, int]] = {"INR": 2, "USD": 2, "EUR": 2, "GBP": 2, "SGD": 2}

CURRENCY_SYMBOLS: Final[dict[str, str]] = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}

MINIMUM_AMOUNT: Final[Paise] = 100
"""Razorpay's floor for an order or refund: one major unit (₹1.00)."""


def is_supported_currency(currency: str) -> bool:
    """Tell whether the service takes payments in this ISO 4217 currency."""
    return currency in CURRENCY_EXPONENTS


def format_amount(amount: Paise, currency: str) -> str:
    """Render minor units for people, e.g. ``format_amount(49900, "INR") == "₹499.00"``."""
    exponent = CURRENCY_EXPONENTS[currency]
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    fraction = f".{minor:0{exponent}d}" if exponent else ""
    return f"{sign}{symbol}{major:,}{fraction}"
