"""Form fields and list filters for money in minor units, shown and typed in major units."""

from __future__ import annotations

from flask import current_app
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from wtforms import StringField, ValidationError
from wtforms.validators import InputRequired, Optional, StopValidation

from ..money import is_currency_code, parse_money, to_major_string


def _form_currency(form) -> str:
    field = getattr(form, "currency", None)
    code = (getattr(field, "data", None) or "").strip().upper()
    return code if is_currency_code(code) else current_app.config["DEFAULT_CURRENCY"]


class MoneyField(StringField):
    """Shows ``7500`` as ``75.00`` and turns what the admin types into minor units, in the
    currency of the form's ``currency`` field. Rejects text that is not an amount, negative
    amounts and more decimal places than the currency has: nothing is rounded."""

    currency: str | None = None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return to_major_string(self.data, self.currency or current_app.config["DEFAULT_CURRENCY"])

    def process_formdata(self, valuelist):
        if valuelist:
            self.raw_data = valuelist
            self.data = valuelist[0]

    def pre_validate(self, form) -> None:
        text = (self.raw_data or [""])[0].strip() if self.raw_data else None
        if text is None:
            return
        if text == "":
            self.data = None
            # Only spaces: InputRequired lets it through, yet it is no amount ("" it refuses).
            if self.raw_data[0] and any(isinstance(v, InputRequired) for v in self.validators):
                raise StopValidation("Enter an amount, e.g. 75.00.")
            return
        self.currency = _form_currency(form)
        try:
            amount = parse_money(text, self.currency)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if amount < 0:
            raise ValidationError("Amount cannot be negative")
        self.data = amount


def use_money_field(form_class, name: str, *, label: str, required: bool) -> None:
    """Put a MoneyField in place of the scaffolded field ``name``, at the same position."""
    original = getattr(form_class, name)
    field = MoneyField(label, validators=[InputRequired() if required else Optional()],
                       description=original.kwargs.get("description"))
    field.creation_counter = original.creation_counter
    setattr(form_class, name, field)


def bind_money_fields(form, obj=None) -> None:
    """Tell a form's money fields which currency they show (the record's or the form's)."""
    currency = getattr(obj, "currency", None) or _form_currency(form)
    for field in form:
        if isinstance(field, MoneyField):
            field.currency = currency


class MoneyAtLeastFilter(BaseSQLAFilter):
    """``amount ≥ 75.00`` typed in major units of the clinic's currency."""

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) >= value)

    def clean(self, value):
        return parse_money(value, current_app.config["DEFAULT_CURRENCY"])

    def validate(self, value):
        try:
            self.clean(value)
        except ValueError:
            return False
        return True

    def operation(self):
        return "at least"


class MoneyAtMostFilter(MoneyAtLeastFilter):
    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) <= value)

    def operation(self):
        return "at most"


def is_large_amount(amount_minor: int | None, currency: str) -> bool:
    """Above the amount a money form asks to confirm (``LARGE_AMOUNT``, in major units of the
    amount's currency; 10,000 by default)."""
    if not isinstance(amount_minor, int):  # not read yet, or not an amount: said elsewhere
        return False
    try:
        limit = parse_money(str(current_app.config.get("LARGE_AMOUNT", "10000")), currency)
    except ValueError:
        return False
    return amount_minor > limit
