"""What a contact can be found by, as the keys kept in ``contact_search_key``: every word of the
first and last name (folded: lower case, accents off, so "Zoë" is found by "zoe"), and the phone
number's digits read backwards (so the end of a number, typed in any format, is a prefix).

Pure functions: the model keeps the keys up to date (``models/contact.py``), the scale seeder
writes them in bulk, and ``contacts_search`` folds what the front desk types the same way.
"""

from __future__ import annotations

import re
import unicodedata

TOKEN_LENGTH = 80
PHONE_MARK = "#"  # phone keys start with it; no name key can (see ``_WORD``)
MIN_PHONE_DIGITS = 3

_NON_DIGITS = re.compile(r"\D+")
_WORD = re.compile(r"[^\W_]+(?:['’\-.][^\W_]+)*")  # letters/digits, inner ' - . kept
_APOSTROPHES = re.compile(r"['’.]")
_PHONE_LIKE = re.compile(r"[\d\s()+.\-/]+")


def fold(text: str) -> str:
    """``text`` as it is compared: lower case, accents removed ("Zoë" → "zoe")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def name_words(text: str) -> list[str]:
    """The searchable words of a name or of what was typed, folded: "Van der Berg" → van, der,
    berg; "O'Brien" → o'brien; "Smith-Jones" → smith-jones."""
    return _WORD.findall(fold(text))


def name_tokens(*names: str | None) -> set[str]:
    """Every key a name is found by: each word, and for a word with an apostrophe or a hyphen
    also the word without it and its parts ("o'brien", "obrien"; "smith-jones", "smith",
    "jones"), so the desk finds it however it is typed."""
    tokens: set[str] = set()
    for name in names:
        for word in name_words(name or ""):
            tokens.add(word)
            tokens.add(_APOSTROPHES.sub("", word))
            tokens.update(name_words(word.replace("-", " ")))
    return {t[:TOKEN_LENGTH] for t in tokens if t}


def phone_digits(text: str | None) -> str:
    return _NON_DIGITS.sub("", text or "")


def phone_token(digits: str) -> str:
    """The key of a phone number (or of the end of one), from its digits: read backwards."""
    return PHONE_MARK + digits[::-1][:TOKEN_LENGTH - 1]


def search_tokens(first_name: str | None, last_name: str | None,
                  phone: str | None) -> set[str]:
    """All the keys of one contact."""
    tokens = name_tokens(first_name, last_name)
    digits = phone_digits(phone)
    if len(digits) >= MIN_PHONE_DIGITS:
        tokens.add(phone_token(digits))
    return tokens


def typed_phone_digits(query: str) -> str | None:
    """The digits of ``query`` when it is a phone number (or its end) in any format —
    "555-0135", "(555) 0135", "+1 555 0135" — else None."""
    if not _PHONE_LIKE.fullmatch(query or ""):
        return None
    digits = phone_digits(query)
    return digits if len(digits) >= MIN_PHONE_DIGITS else None
