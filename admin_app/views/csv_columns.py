"""How a list's CSV export reads its columns straight from the database: one SQL column per
CSV column, and one formatting function per column chosen once, before the first row — instead
of an ORM object per row and Flask-Admin's per-cell formatter lookup (which ran at 3 % of the
database's speed).

A column qualifies when it is a column of the table (money in major units through the row's
own ``currency``, statuses by their label, times as the clinic's wall clock to the second
(``clinic_stamp``; the header names the zone), yes/no, text made safe for
spreadsheets) or a many-to-one relation (the related record's name, read for a whole chunk of
rows at once). A list with any other column (a property, a dotted path, a formatter of its own)
is exported through ORM objects as before (``ColumnPlan`` is None).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache, lru_cache, partial

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    Integer,
    String,
    Text,
    select,
    type_coerce,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty, Session, aliased
from sqlalchemy.types import TypeDecorator

from ..csv_cells import FORMULA_START, safe_cell
from ..money import exponent


@dataclass
class _Relation:
    """A many-to-one column: its foreign key is selected, names looked up per chunk."""

    model: type
    key_index: int
    primary_key: object


@dataclass
class ColumnPlan:
    columns: list  # what the SELECT reads
    joins: list  # (aliased related table, ON clause): LEFT OUTER JOINs the SELECT needs
    cells: Callable[[Sequence, Session], Iterable]  # a chunk of rows → CSV rows


_FORMULA_START = frozenset(FORMULA_START)


def _as_text(value) -> str:
    """``csv_cells.safe_cell``, asked only of the values that start like a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] not in _FORMULA_START:
        return value
    return safe_cell(value)


def _plain(value):
    return "" if value is None else value


def _label(value) -> str:
    if value is None:
        return ""
    return getattr(value, "label", value.value if isinstance(value, enum.Enum) else value)


def _iso(value: datetime | date | None) -> str:
    return "" if value is None else value.isoformat()


def _yes_no(value) -> str:
    return "" if value is None else ("yes" if value else "no")


@cache
def _minor_unit(currency: str) -> tuple[int, int]:
    places = exponent(currency or "")
    return places, 10 ** places


@lru_cache(maxsize=65_536)  # amounts repeat (plan prices, fees): most cells are a lookup
def major(amount: int | None, currency: str) -> str:
    """``money.to_major_string``, with the currency's exponent looked up once."""
    if amount is None:
        return ""
    places, unit = _minor_unit(currency)
    whole, fraction = divmod(abs(amount), unit)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"


def clinic_stamp(zone: tzinfo) -> Callable[[datetime | str | None], str]:
    """A writer of UTC times as the clinic's wall clock, "2026-12-01 09:30:00" (what the ORM
    export writes, ``formatting.export_time``): from the aware value PostgreSQL returns, or the
    naive UTC text SQLite keeps ("2026-12-01 14:30:00.250000"). The zone's offset is looked up
    once per quarter hour of UTC (every zone's changes fall on one), not per row."""
    offsets: dict[datetime, timedelta] = {}

    def write(value: datetime | str | None) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            utc = datetime.fromisoformat(value[:19])
        else:
            utc = value.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        quarter = utc.replace(minute=utc.minute - utc.minute % 15, second=0)
        offset = offsets.get(quarter)
        if offset is None:
            offset = offsets[quarter] = quarter.replace(tzinfo=UTC).astimezone(zone).utcoffset()
        return (utc + offset).isoformat(sep=" ")

    return write


def stored_type(column):
    """The column's SQL type as the database stores it (a ``TypeDecorator``'s own type)."""
    sql_type = column.type
    if isinstance(sql_type, TypeDecorator):
        return sql_type.impl_instance if hasattr(sql_type, "impl_instance") else sql_type.impl
    return sql_type


def _reader_for(column, dialect_name: str,
                zone: tzinfo) -> tuple[object, Callable | None] | None:
    """(what to select, how to write the value the driver returns; None: as it is) for one
    column, or None for a type this module does not write (the ORM export does). Enums and
    SQLite times are read as the stored text and converted by a lookup or a slice."""
    sql_type = stored_type(column)
    sqlite = dialect_name == "sqlite"
    if isinstance(sql_type, Enum) and sql_type.enum_class is not None:
        labels = {member.value: _label(member) for member in sql_type.enum_class}
        labels[None] = ""
        return type_coerce(column, String), labels.get
    if isinstance(sql_type, DateTime):
        if getattr(sql_type, "timezone", False):
            return (type_coerce(column, String) if sqlite else column), clinic_stamp(zone)
        if sqlite:
            return type_coerce(column, String), _sqlite_naive_stamp
        return column, _iso
    if isinstance(sql_type, Date):
        return (type_coerce(column, String), None) if sqlite else (column, _iso)
    if isinstance(sql_type, Boolean):
        return column, _yes_no
    if isinstance(sql_type, Integer):
        return column, None
    if isinstance(sql_type, String | Text):
        return column, _as_text
    return None


def _sqlite_naive_stamp(text: str | None) -> str:
    return "" if text is None else datetime.fromisoformat(text).isoformat()


def _label_of(model, key, *parts) -> str:
    """The related record's name built from its columns (``label_columns``/``label_from``)."""
    return "" if key is None else _as_text(model.label_from(*parts))


def column_plan(model, names: Sequence[str], money_columns: Sequence[str],
                declared_formatters: dict, dialect_name: str,
                zone: tzinfo = UTC) -> ColumnPlan | None:
    """The plan for exporting ``names`` of ``model`` from plain SQL rows, or None when one of
    them needs the ORM object (see the module's docstring).

    A chunk is written column by column: the chunk is transposed, each column mapped through
    its one function (``map`` over a whole column; integers as they are), and transposed
    back for ``csv.writer.writerows``."""
    mapper = sa_inspect(model)
    columns: list = []
    # per CSV column: (function or None for "as is", indexes of the selected columns it reads)
    writers: list[tuple[Callable | None, tuple[int, ...]]] = []
    relations: dict[int, _Relation] = {}
    joins: list = []

    def select_column(column) -> int:
        columns.append(column)
        return len(columns) - 1

    currency_index = None
    for name in names:
        if name in declared_formatters or "." in name:
            return None
        prop = mapper.attrs.get(name)
        if isinstance(prop, ColumnProperty) and len(prop.columns) == 1:
            if name in money_columns:
                if "currency" not in mapper.columns:
                    return None
                index = select_column(prop.columns[0])
                if currency_index is None:
                    currency_index = select_column(mapper.columns["currency"])
                writers.append((major, (index, currency_index)))
            else:
                reader = _reader_for(prop.columns[0], dialect_name, zone)
                if reader is None:
                    return None
                selected, write = reader
                writers.append((write, (select_column(selected),)))
        elif isinstance(prop, RelationshipProperty) and prop.direction.name == "MANYTOONE" \
                and len(prop.local_columns) == 1:
            (foreign_key,) = prop.local_columns
            index = select_column(foreign_key)
            related = prop.mapper.class_
            if hasattr(related, "label_columns"):  # its name from its columns: joined
                other = aliased(related)
                key = getattr(other, prop.mapper.primary_key[0].key)
                joins.append((other, key == foreign_key))
                parts = [select_column(getattr(other, n)) for n in related.label_columns]
                writers.append((partial(_label_of, related), (index, *parts)))
            else:  # looked up per chunk
                relations[len(writers)] = _Relation(related, index, prop.mapper.primary_key[0])
                writers.append((None, (index,)))
        else:
            return None

    def names_of(relation: _Relation, ids: Sequence, session: Session) -> dict:
        """The related records' names (``str(record)``), one query for the chunk."""
        found = {None: ""}
        wanted = set(ids) - {None}
        if wanted:
            for record in session.scalars(select(relation.model)
                                          .where(relation.primary_key.in_(wanted))):
                found[sa_inspect(record).identity[0]] = _as_text(str(record))
            session.expunge_all()
        return found

    def cells(rows: Sequence, session: Session):
        selected = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
        out = []
        for place, (write, indexes) in enumerate(writers):
            if place in relations:
                ids = selected[indexes[0]]
                out.append(list(map(names_of(relations[place], ids, session).get, ids)))
            elif write is None:
                out.append(selected[indexes[0]])
            else:
                out.append(list(map(write, *(selected[i] for i in indexes))))
        return zip(*out, strict=True)

    return ColumnPlan(columns, joins, cells)
