"""Teach Flask-Admin our column types: UTC timestamps are typed and filtered in the clinic's
time zone and stored in UTC."""

from __future__ import annotations

import re
from datetime import datetime

from flask_admin import form as admin_form
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model.form import converts
from sqlalchemy import BigInteger

from ..clinic_time import clinic_zone, format_clinic, zone_label
from ..clock import utcnow
from .record_ids import parse_id


def to_aware_utc(value):
    """A naive datetime typed by an admin is clinic-local time; make it aware."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=clinic_zone())
    if isinstance(value, list | tuple):
        return [to_aware_utc(v) for v in value]
    return value


TYPED_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]  # shown as the first


class ClinicDateTimeWidget(admin_form.DateTimePickerWidget):
    """A text box for "2026-12-03 14:30" with the calendar (``static/date_fields.js``): what is
    typed stays as typed; the calendar opens on the clinic's "now", not the browser's."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("data-date-format", "YYYY-MM-DD HH:mm")
        kwargs.setdefault("placeholder", "YYYY-MM-DD HH:MM")
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("data-clinic-now", format_clinic(utcnow()))
        return super().__call__(field, **kwargs)


class LocalDateTimeField(admin_form.DateTimeField):
    """Shows and takes a timestamp in the clinic's time zone ("2026-12-03 14:30", seconds
    optional); gives an aware datetime. Its hint names the zone."""

    widget = ClinicDateTimeWidget()

    def __init__(self, label=None, validators=None, format=None, **kwargs):
        if not kwargs.get("description"):
            kwargs["description"] = ClinicZoneHint()
        super().__init__(label, validators, format=format or TYPED_FORMATS, **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return format_clinic(self.data, self.format[0]) if self.data else ""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = to_aware_utc(self.data)


class ClinicZoneHint:
    """A field's hint naming the clinic's zone, read when the form is shown (not at start-up,
    when there is no database to ask)."""

    def __str__(self) -> str:
        return f"Clinic time ({zone_label()}), e.g. 2026-12-03 14:30"

    def __html__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return True


def _enum_coercer(enum_class):
    def coerce(value):
        if value in (None, "", "__None"):
            return None
        return value if isinstance(value, enum_class) else enum_class(value)

    return coerce


class AppModelConverter(AdminModelConverter):
    def _get_label(self, name, field_args):
        """Form labels read like the list's column headers ("Active", not "Is Active")."""
        if "label" in field_args or not hasattr(self.view, "get_column_name"):
            return super()._get_label(name, field_args)
        return self.view.get_column_name(name)

    def _model_select_field(self, prop, multiple, remote_model, **kwargs):
        """A related record's picker says what no choice means ("No promo code"), not
        Flask-Admin's "__None"."""
        if not multiple and kwargs.get("allow_blank"):
            kwargs.setdefault("blank_text", f"No {str(kwargs.get('label') or prop.key).lower()}")
        return super()._model_select_field(prop, multiple, remote_model, **kwargs)

    @converts("UTCDateTime")
    def convert_utc_datetime(self, field_args, **extra):
        return LocalDateTimeField(**field_args)

    @converts("Enum")
    def convert_enum(self, column, field_args, **extra):
        """Status pickers list readable labels and give the model a real enum member."""
        enum_class = column.type.enum_class
        field_args["choices"] = [(member.value, member.label) for member in enum_class]
        field_args["coerce"] = _enum_coercer(enum_class)
        if column.nullable:
            field_args["allow_blank"] = True
        self._nullable_common(column, field_args)
        return admin_form.Select2Field(**field_args)


def _enum_filter(base):
    class EnumValueFilter(base):
        """Filters by the stored value (``?flt0_status_equals=past_due``), labelled."""

        def clean(self, value):
            enum_class = self.column.type.enum_class
            if isinstance(self, sqla_filters.FilterInList):
                return [enum_class(v.strip()) for v in value.split(",") if v.strip()]
            return enum_class(value)

        def validate(self, value):
            try:
                self.clean(value)
            except ValueError:
                return False
            return True

    EnumValueFilter.__name__ = f"Value{base.__name__}"
    return EnumValueFilter


_MINUTES_ONLY = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})(?!:)")


def _with_seconds(value: str) -> str:
    """A filter's time typed without seconds ("2026-12-03 14:30"), as Flask-Admin reads it."""
    return _MINUTES_ONLY.sub(r"\1:00", value) if isinstance(value, str) else value


def _local_filter(base):
    class LocalFilter(base):
        def clean(self, value):
            return to_aware_utc(super().clean(_with_seconds(value)))

        def validate(self, value):
            return super().validate(_with_seconds(value))

    LocalFilter.__name__ = f"Local{base.__name__}"
    return LocalFilter


def _column_maximum(column) -> int:
    return 2**63 - 1 if isinstance(column.type, BigInteger) else 2**31 - 1


def _bounded_int_filter(base):
    class BoundedIntFilter(base):
        """Whole numbers the column can hold, written plainly (``12``, ``-3``): a 20-digit
        number, ``1_000`` or ``１２`` is an invalid filter value, not a database error."""

        def clean(self, value):
            parts = value.split(",") if issubclass(base, sqla_filters.FilterInList) else [value]
            numbers = []
            for part in parts:
                text = part.strip()
                number = parse_id(text.removeprefix("-"), maximum=_column_maximum(self.column))
                if number is None and text != "0":
                    raise ValueError(f"{part!r} is not a whole number in range")
                numbers.append(0 if number is None else -number if text.startswith("-")
                               else number)
            return numbers if issubclass(base, sqla_filters.FilterInList) else numbers[0]

    BoundedIntFilter.__name__ = f"Bounded{base.__name__}"
    return BoundedIntFilter


class AppFilterConverter(sqla_filters.FilterConverter):
    int_filters = tuple(
        _bounded_int_filter(f) if f is not sqla_filters.FilterEmpty else f
        for f in sqla_filters.FilterConverter.int_filters
    )

    local_datetime_filters = tuple(
        _local_filter(f) if f is not sqla_filters.FilterEmpty else f
        for f in sqla_filters.FilterConverter.datetime_filters
    )

    value_enum_filters = tuple(
        _enum_filter(f) if f is not sqla_filters.EnumFilterEmpty else f
        for f in sqla_filters.FilterConverter.enum
    )

    @sqla_filters.filters.convert("enum")
    def conv_enum(self, column, name, options=None, **kwargs):
        options = options or [(m.value, m.label) for m in column.type.enum_class]
        return [f(column, name, options, **kwargs) for f in self.value_enum_filters]

    @sqla_filters.filters.convert("UTCDateTime")
    def conv_utc_datetime(self, column, name, **kwargs):
        return [f(column, name, **kwargs) for f in self.local_datetime_filters]
