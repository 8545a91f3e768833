"""Money in integer minor units plus an ISO 4217 currency code. Never a float.

``format_money(7500, "USD") == "$75.00"``; ``parse_money("75", "USD") == 7500``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Currencies whose minor unit is not 1/100 (ISO 4217).
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3,
              "JOD": 3, "OMR": 3, "TND": 3}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "ILS": "₪", "CAD": "CA$",
            "AUD": "A$", "CHF": "CHF "}
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit."""
    return _EXPONENTS.get(currency.upper(), 2)


def currencies_by_exponent() -> dict[int, tuple[str, ...]]:
    """The currencies whose minor unit is not 1/100, by their number of decimal places (any
    other currency has 2)."""
    grouped: dict[int, list[str]] = {}
    for code, places in _EXPONENTS.items():
        grouped.setdefault(places, []).append(code)
    return {places: tuple(codes) for places, codes in sorted(grouped.items())}


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


# The largest amount a person may type: far beyond any clinic's bill, far below what a
# 64-bit column holds (9,223,372,036,854,775,807 minor units).
MAX_TYPED_MINOR = 10**13

_GROUPED = re.compile(r"^[0-9]{1,3}(?:(?P<sep>[,. '])[0-9]{3})(?:(?P=sep)[0-9]{3})*$")
_PLAIN = re.compile(r"^[0-9]+$")


def _decimal_parts(number: str, exp: int, currency: str) -> tuple[str, str]:
    """Split a typed number into whole and fraction digits, accepting only readings that
    cannot be mistaken (see ``parse_money``); raises ``ValueError`` otherwise."""
    if _PLAIN.match(number):
        return number, ""
    last = max(number.rfind("."), number.rfind(","))
    whole, fraction = number[:last], number[last + 1:]
    if exp == 0 and _GROUPED.match(number):  # no decimals in this currency: only thousands
        return number.replace(_GROUPED.match(number).group("sep"), ""), ""
    if last > 0 and _PLAIN.match(fraction) and (_PLAIN.match(whole) or (
            _GROUPED.match(whole) and _GROUPED.match(whole).group("sep") != number[last])):
        if len(fraction) == 3 and _PLAIN.match(whole) and not (exp == 3 and number[last] == "."):
            # NOTE: "1,234" is 1234 in New York and 1.234 in Paris: never guess.
            raise ValueError(f"it could be read two ways: type {whole}{fraction} if you mean "
                             f"{whole} thousand {fraction}, or use at most {exp} decimal "
                             "places")
        if len(fraction) > exp:
            raise ValueError(f"{currency or 'this currency'} has "
                             + (f"at most {exp} decimal places" if exp else "no decimals"))
        return whole.replace(",", "").replace(".", "").replace(" ", "").replace("'", ""), \
            fraction
    grouped = _GROUPED.match(number)
    if grouped and (grouped.group("sep") in " '" or number.count(grouped.group("sep")) > 1):
        return number.replace(grouped.group("sep"), ""), ""
    if grouped:  # pragma: no cover - one group with "," or "." is the ambiguous case above
        raise ValueError("it could be read two ways")
    raise ValueError("only digits, one decimal point and thousands separators are understood")


def parse_money(text: str, currency: str) -> int:
    """The amount a person typed, in minor units of ``currency``; ``ValueError`` (with a
    sentence saying what is expected) for anything that is not clearly one amount.

    Accepted: digits with at most one decimal separator, "." or "," (``75``, ``75.5``,
    ``75,50``), thousands grouped by a separator other than the decimal one (``1,234.56``,
    ``1.234,56``, ``1 234,56``, ``1'234.56``) or by the same one repeated (``1,234,567``), an
    optional leading minus, and the currency's symbol or code before or after. Refused, never
    guessed: more decimals than the currency has (``75.001`` USD), a lone separator followed by
    three digits (``1,234`` USD: a thousand and more, or one and a bit? — in a currency without
    decimals, such as JPY, it can only be thousands), exponents, underscores,
    digits other than 0–9, and amounts above ``MAX_TYPED_MINOR``.
    """
    currency = (currency or "").upper()
    exp = exponent(currency)
    cleaned = (text or "").strip().replace("\u00a0", " ").replace("\u202f", " ")
    for mark in (currency, _SYMBOLS.get(currency, "").strip()):
        if mark and cleaned.upper().startswith(mark.upper()):
            cleaned = cleaned[len(mark):].strip()
        if mark and cleaned.upper().endswith(mark.upper()):
            cleaned = cleaned[:-len(mark)].strip()
    negative = cleaned.startswith("-")
    number = cleaned[1:].strip() if negative else cleaned
    expected = (f"Enter an amount like 75 or 1,234.{'5' * exp}" if exp
                else "Enter a whole amount like 500")
    if not number or not number.isascii():
        raise ValueError(f"'{text}' is not an amount. {expected}.")
    try:
        whole, fraction = _decimal_parts(number, exp, currency)
    except ValueError as why:
        raise ValueError(f"'{text}' is not clear: {why}. {expected}.") from None
    minor = int(whole or "0") * 10**exp + (int(fraction.ljust(exp, "0")) if fraction else 0)
    if minor > MAX_TYPED_MINOR:
        raise ValueError(f"'{text}' is too large an amount.")
    return -minor if negative else minor
