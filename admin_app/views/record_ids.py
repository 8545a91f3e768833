"""Record ids as they arrive in URLs and forms, read strictly: a page never reaches the database
with an id the database would choke on (``abc``, ``1,2``, a NUL byte, a number past the
column's range), so a bad id is "no such record", never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import BigInteger, Integer
from sqlalchemy import inspect as sa_inspect

MAX_INTEGER_ID = 2**31 - 1    # PostgreSQL ``integer``
MAX_BIGINT_ID = 2**63 - 1
MAX_TEXT_ID = 200
_DIGITS = re.compile(r"[1-9][0-9]{0,18}")
SHOWN_CHARACTERS = 24


class BadRowIds(ValueError):
    """The rows of a bulk action could not be read; ``message`` says why, for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_id(raw: str | None, *, maximum: int = MAX_INTEGER_ID) -> int | None:
    """``"12"`` → 12; anything else (empty, signs, spaces, ``1,2``, ``1e3``, non-ASCII digits,
    beyond ``maximum``) → ``None``."""
    if raw is None or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= maximum else None


def primary_key_of(model, raw: str | None):
    """``raw`` as the primary key of ``model`` (an integer or a text key), or ``None`` when
    it cannot be one."""
    (column,) = sa_inspect(model).primary_key
    if isinstance(column.type, Integer):
        maximum = MAX_BIGINT_ID if isinstance(column.type, BigInteger) else MAX_INTEGER_ID
        return parse_id(raw, maximum=maximum)
    if not raw or "\x00" in raw or len(raw) > MAX_TEXT_ID:
        return None
    return raw


def shown(raw: str) -> str:
    """A bad id as a message may quote it: printable, short."""
    text = "".join(c if c.isprintable() else "?" for c in raw)
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "…"


def parse_row_ids(values: Iterable[str]) -> list[int]:
    """The ids of the rows a bulk action runs on, in order, each once. Refuses (``BadRowIds``)
    any value that is not a row id, and an empty selection."""
    ids: dict[int, None] = {}
    for raw in values:
        row_id = parse_id(raw)
        if row_id is None:
            raise BadRowIds(f"“{shown(raw)}” is not a row ID: the selection was not understood, "
                            "so nothing was done. Select the rows again.")
        ids[row_id] = None
    if not ids:
        raise BadRowIds("No rows were selected: tick the rows first, or choose all matching "
                        "rows.")
    return list(ids)


def split_row_ids(text: str | None) -> list[int]:
    """``"3,5,8"`` (the bulk form's hidden field) → ``[3, 5, 8]``, strictly."""
    return parse_row_ids(text.split(",") if text else [])


def join_row_ids(ids: Iterable[int]) -> str:
    return ",".join(map(str, ids))
