"""A card's expiry typed as every card terminal asks for it: MM/YY (the desk's Add card form
and the member's payment-method page)."""

from __future__ import annotations

import re

from wtforms import StringField, ValidationError

EXPIRY_FORMAT = re.compile(r"^\s*(0?[1-9]|1[0-2])\s*/\s*(\d{2}|\d{4})\s*$")


class CardExpiryField(StringField):
    """"08/29" (or "8/2029"); ``month_year`` gives (8, 2029) once the form is valid."""

    def __init__(self, label="Expiry", validators=None, **kwargs):
        render_kw = {"autocomplete": "cc-exp", "placeholder": "MM/YY", "inputmode": "numeric",
                     **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def pre_validate(self, form) -> None:
        """Only MM/YY (or MM/YYYY); blank (spaces included) is refused too: every form asks
        for the expiry."""
        if not EXPIRY_FORMAT.match(self.data or ""):
            raise ValidationError("Enter the expiry as MM/YY.")

    @property
    def month_year(self) -> tuple[int, int]:
        month, year = EXPIRY_FORMAT.match(self.data).groups()
        return int(month), int(year) + (2000 if len(year) == 2 else 0)
