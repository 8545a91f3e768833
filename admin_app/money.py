"""Money in integer minor units plus an ISO 4217 currency code. Never a float.

``format_money(7500, "USD") == "$75.00"``; ``parse_money("75", "USD") == 7500``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Currencies whose minor unit is not 1/100 (ISO 4217).
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3,
              "JOD": 3, "OMR": 3, "TND": 3}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "ILS": "₪", "CAD": "CA$",
            "AUD": "A$", "CHF": "CHF "}
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit."""
    return _EXPONENTS.get(currency.upper(), 2)


def is_currency_code(value: str | None) -> bool:
    return bool(value) and bool(CURRENCY_RE.match(value))


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str

    def __str__(self) -> str:
        return format_money(self.amount_minor, self.currency)


def format_money(amount_minor: int | None, currency: str | None) -> str:
    """Human form of an amount: ``$1,234.50``, ``-€3.00``, ``¥500``, ``12.345 KWD``."""
    if amount_minor is None:
        return ""
    currency = (currency or "").upper()
    exp = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, frac = divmod(abs(int(amount_minor)), 10**exp)
    number = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    symbol = _SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {currency}".strip()


def to_major_string(amount_minor: int | None, currency: str) -> str:
    """The amount as a plain decimal string (``"75.00"``), for form fields and CSV."""
    if amount_minor is None:
        return ""
    exp = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, frac = divmod(abs(int(amount_minor)), 10**exp)
    return f"{sign}{whole}" + (f".{frac:0{exp}d}" if exp else "")


def parse_money(text: str, currency: str) -> int:
    """Parse ``"75"``, ``"75.5"``, ``"1,234.50"`` into minor units of ``currency``.

    Raises ``ValueError`` for text that is not a number or has more decimal places than the
    currency allows (``"75.001"`` USD): amounts are never rounded silently.
    """
    cleaned = (text or "").strip().replace(",", "")
    for symbol in _SYMBOLS.values():
        cleaned = cleaned.replace(symbol.strip(), "")
    cleaned = cleaned.strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"'{text}' is not an amount")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} amounts have at most {exponent(currency)} decimal places")
    return int(scaled)
