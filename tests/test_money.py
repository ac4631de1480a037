from __future__ import annotations

import pytest

from payments_service.money import format_amount, is_supported_currency


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (49900, "INR", "₹499.00"),
        (100, "INR", "₹1.00"),
        (1, "INR", "₹0.01"),
        (123456789, "INR", "₹1,234,567.89"),
        (-2050, "USD", "-$20.50"),
        (500, "SGD", "SGD 5.00"),
    ],
)
def test_amounts_are_formatted_from_integer_minor_units(
    amount: int, currency: str, shown: str
) -> None:
    assert format_amount(amount, currency) == shown


def test_only_enabled_currencies_are_supported() -> None:
    assert is_supported_currency("INR")
    assert not is_supported_currency("inr")
    assert not is_supported_currency("XYZ")
