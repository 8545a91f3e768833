"""A list's CSV export written by the database: the SELECT returns each row as its finished
CSV line (clinic time, money in major units, status labels, yes/no, text made safe for
spreadsheets and quoted where CSV needs it), and Python only joins the lines into chunks.

Formatting 3 million rows cell by cell in Python ran at 13–17 % of the database's own CSV tool
(``sqlite3 -csv``, ``psql \\copy``); in SQL the per-row work is the database's, in C, and the
driver hands over one string a row. The line is one ``printf`` (SQLite) or ``format``
(PostgreSQL) of the cells, each of which is cheap for the common row: a text cell is checked
with ``instr`` (not a pattern scan) and only a cell that needs it is guarded or quoted.

The lines are byte for byte what the Python writers write (``csv_columns``, and the export
through ORM objects): ``csv.writer``'s minimal quoting (a cell with a comma, a double quote, a
line feed or a carriage return is quoted, its quotes doubled), ``safe_cell``'s formula guard
and the clinic's wall clock to the second; ``test_export`` compares them on every list. A list
with a column this module does not write in SQL (a formatter of its own, a related record named
by Python's ``str()``, a property) is exported by ``csv_columns`` (``line_plan`` is None).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    type_coerce,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty, aliased

from ..csv_cells import FORMULA_START
from ..money import currencies_by_exponent
from .csv_columns import stored_type

# What ``csv_cells`` calls a plain number: a cell starting with "+" or "-" that is one is
# not a formula (the same rule, in the regular expression both databases read).
PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"
# What makes ``csv.writer`` quote a cell (with its "\r\n" line terminator).
QUOTED_WHEN_CONTAINING = (",", '"', "\n", "\r")
# The clinic's zone changes offset (daylight saving, law) between these years; a time outside
# them takes the nearest change's offset.
ZONE_YEARS = (1970, 2100)


@dataclass
class LinePlan:
    line: object  # the SELECT's one column: the row's CSV line, without its line break
    joins: list  # (aliased related table, ON clause): LEFT OUTER JOINs the line reads


def _quoted_literal(text: str) -> str:
    """``text`` as ``csv.writer`` writes it in a cell."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([text, ""])
    return buffer.getvalue()[:-1]


class _Dialect:
    """The few things SQLite and PostgreSQL spell differently."""

    def __init__(self, name: str):
        self.sqlite = name == "sqlite"

    def line(self, cells: Sequence):
        """One CSV line of ``cells`` (NULL is an empty cell)."""
        pattern = ",".join(["%s"] * len(cells))
        return (func.printf if self.sqlite else func.format)(pattern, *cells)

    def contains(self, text, character: str):
        return (func.instr(text, character) if self.sqlite
                else func.strpos(text, character)) > 0

    def starts_like_formula(self, text, *, or_space: bool = False):
        """``text`` starts with a character of ``csv_cells.FORMULA_START`` (or a space)."""
        first = [*FORMULA_START, " "] if or_space else list(FORMULA_START)
        if self.sqlite:  # one pattern: "[=+@\t\r-]*" ("-" last, so not a range)
            return text.op("GLOB")("[" + "".join(c for c in first if c != "-") + "-]*")
        return func.substr(text, 1, 1).in_(first)

    def major_units(self, amount, currency, *, nullable: bool = True):
        """Minor units as the text of major units ("-12.50", "1200" for yen), as
        ``csv_columns.major`` writes them. Most currencies have two decimals: one test
        tells a row of those apart."""
        others = {places: codes for places, codes in currencies_by_exponent().items()
                  if places != 2}
        other_places = case(*((currency.in_(codes), self._major(amount, places))
                              for places, codes in others.items()))
        written = case((currency.in_([c for codes in others.values() for c in codes]),
                        other_places), else_=self._major(amount, 2))
        return case((amount.is_(None), None), else_=written) if nullable else written

    def _major(self, amount, places: int):
        if places == 0:
            return cast(amount, Text)
        if self.sqlite:
            unit = 10 ** places
            return func.printf(f"%s%d.%0{places}d", case((amount < 0, "-"), else_=""),
                               func.abs(amount) // unit, func.abs(amount) % unit)
        return cast(func.round(cast(amount, Numeric) / 10 ** places, places), Text)

    def clinic_time(self, column, zone: tzinfo):
        """A UTC time as the clinic's wall clock to the second, "2026-12-01 09:30:00"."""
        if self.sqlite:  # kept as UTC text; the zone's offset for it, from its changes
            # (compared as stored: "…07:00:00.000001" sorts after "…07:00:00"; read to the
            # second, as datetime() would round "…59.9996" up to the next second)
            return func.datetime(func.substr(column, 1, 19),
                                 _offset_modifier(type_coerce(column, String),
                                                  _zone_offsets(zone)))
        return func.to_char(func.timezone(getattr(zone, "key", "UTC"), column),
                            "YYYY-MM-DD HH24:MI:SS")

    def iso_date(self, column):
        return column if self.sqlite else func.to_char(column, "YYYY-MM-DD")


@lru_cache(maxsize=16)
def _zone_offsets(zone: tzinfo) -> tuple[tuple[str, int], ...]:
    """(UTC time the offset starts at, "YYYY-MM-DD HH:MM:SS"; offset in seconds) for each
    offset ``zone`` has had within ``ZONE_YEARS``, the first from the start of time. Found by
    looking at the offset weekly and narrowing each change down to the second."""
    def offset(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    moment = datetime(ZONE_YEARS[0], 1, 1, tzinfo=UTC)
    end = datetime(ZONE_YEARS[1], 1, 1, tzinfo=UTC)
    changes = [("", offset(moment))]
    while moment < end:
        later = moment + timedelta(days=7)
        if offset(later) != offset(moment):
            old, new = moment, later  # narrowed until a second apart
            while new - old > timedelta(seconds=1):
                middle = (old + (new - old) / 2).replace(microsecond=0)
                old, new = (middle, new) if offset(middle) == offset(moment) else (old, middle)
            changes.append((new.strftime("%Y-%m-%d %H:%M:%S"), offset(new)))
        moment = later
    return tuple(changes)


def _offset_modifier(utc, offsets: Sequence[tuple[str, int]]):
    """SQLite's date modifier ("-18000 seconds") for the stored UTC text ``utc``: a balanced
    tree of comparisons over the zone's offset changes, about eight a row."""
    if len(offsets) == 1:
        return literal(f"{offsets[0][1]:+d} seconds")
    middle = len(offsets) // 2
    return case((utc < offsets[middle][0], _offset_modifier(utc, offsets[:middle])),
                else_=_offset_modifier(utc, offsets[middle:]))


def sql_major_units(dialect_name: str, amount, currency):
    """``amount`` (minor units) of ``currency`` as the text of its major units, in SQL."""
    return _Dialect(dialect_name).major_units(amount, currency)


def _safe_text(dialect: _Dialect, text):
    """``csv_cells.safe_cell`` in SQL, then CSV's quoting: a formula is prefixed with ``'``; a
    cell with a comma, quote or line break is quoted, its quotes doubled."""
    formula = and_(dialect.starts_like_formula(text),
                   not_(text.regexp_match(PLAIN_NUMBER)))
    guarded = case((formula, literal("'").concat(text)), else_=text)
    needs_quotes = or_(*(dialect.contains(text, character)
                         for character in QUOTED_WHEN_CONTAINING))
    quoted = literal('"').concat(func.replace(guarded, '"', '""')).concat('"')
    return case((needs_quotes, quoted), (formula, literal("'").concat(text)), else_=text)


def _safe_label(dialect: _Dialect, label, parts: Sequence):
    """``_safe_text`` of a name made of ``parts`` (one of them, or several joined by spaces
    and trimmed), with the usual row's checks made on the parts, without building the name
    more than once: when no part needs quoting and none starts with a space or like a
    formula, neither does the name."""
    plain = not_(or_(*(dialect.contains(part, character) for part in parts
                       for character in QUOTED_WHEN_CONTAINING),
                     *(dialect.starts_like_formula(part, or_space=True) for part in parts)))
    return case((plain, label), else_=_safe_text(dialect, label))


def _cell(dialect: _Dialect, column, *, zone: tzinfo, money_currency=None):
    """The SQL text of one column's cell (NULL: empty); None for a type not written here."""
    if money_currency is not None:
        return dialect.major_units(column, money_currency, nullable=column.nullable)
    sql_type = stored_type(column)
    if isinstance(sql_type, Enum) and sql_type.enum_class is not None:
        labels = {member.value: _quoted_literal(getattr(member, "label", member.value))
                  for member in sql_type.enum_class}
        return case(labels, value=column)
    if isinstance(sql_type, DateTime):
        return dialect.clinic_time(column, zone) if sql_type.timezone else None
    if isinstance(sql_type, Date):
        return dialect.iso_date(column)
    if isinstance(sql_type, Boolean):
        return case((column.is_(True), "yes"), (column.is_(False), "no"))
    if isinstance(sql_type, Integer):
        return column
    if isinstance(sql_type, String | Text):
        return _safe_text(dialect, column)
    return None


def line_plan(model, names: Sequence[str], money_columns: Sequence[str],
              declared_formatters: dict, dialect_name: str,
              zone: tzinfo = UTC) -> LinePlan | None:
    """The SQL line of ``names`` of ``model``, or None when one of them cannot be written in
    SQL (see the module's docstring). A many-to-one relation is written by the related
    model's ``label_sql`` (its ``label_from`` in SQL) over an outer join."""
    dialect = _Dialect(dialect_name)
    mapper = sa_inspect(model)
    cells, joins = [], []
    for name in names:
        if name in declared_formatters or "." in name:
            return None
        prop = mapper.attrs.get(name)
        if isinstance(prop, ColumnProperty) and len(prop.columns) == 1:
            currency = None
            if name in money_columns:
                if "currency" not in mapper.columns:
                    return None
                currency = mapper.columns["currency"]
            cell = _cell(dialect, prop.columns[0], zone=zone, money_currency=currency)
        elif isinstance(prop, RelationshipProperty) and prop.direction.name == "MANYTOONE" \
                and len(prop.local_columns) == 1 \
                and hasattr(prop.mapper.class_, "label_sql"):
            (foreign_key,) = prop.local_columns
            related = prop.mapper.class_
            other = aliased(related)
            joins.append((other, getattr(other, prop.mapper.primary_key[0].key) == foreign_key))
            parts = [getattr(other, part) for part in related.label_columns]
            cell = _safe_label(dialect, related.label_sql(*parts), parts)
        else:
            return None
        if cell is None:
            return None
        cells.append(cell)
    line = dialect.line(cells)
    if dialect.sqlite:  # read as the bytes the download sends, not decoded and encoded again
        line = cast(line, LargeBinary)
    return LinePlan(line.label("line"), joins)
