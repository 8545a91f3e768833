"""The CSV export of a list: streamed in chunks, every cell made safe for spreadsheets
(``csv_cells``), on a database connection of its own that is given back when the download
ends **and** when the browser goes away half-way (the stream is closed: its ``finally`` runs).

Without that, parallel downloads held the pool's connections (pages answered 500 with "QueuePool
limit reached") and left PostgreSQL sessions "idle in transaction" that blocked migrations.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence

from flask import Response, current_app, stream_with_context
from sqlalchemy.orm import Query, Session
from werkzeug.utils import secure_filename

from ..csv_cells import safe_cell
from ..extensions import db
from .bound_sql import bound_sql
from .csv_blocks import BlockSettings, block_lines

CHUNK_ROWS = 1000
# Rows read and written at once by the SQL export: one write of about a megabyte each.
SQL_CHUNK_ROWS = 10_000
# Bytes of PostgreSQL's COPY output written at once.
COPY_CHUNK_BYTES = 1 << 20


def block_settings() -> BlockSettings:
    """How a SQLite export is split between processes: ``EXPORT_PROCESSES`` (0: one
    process), blocks of ``EXPORT_BLOCK_KEYS`` keys, for tables past ``EXPORT_SPLIT_FROM_KEYS``
    keys."""
    config = current_app.config
    return BlockSettings(workers=config["EXPORT_PROCESSES"],
                         block_keys=config["EXPORT_BLOCK_KEYS"],
                         from_keys=config["EXPORT_SPLIT_FROM_KEYS"])


class _Line:
    """A file-like target for ``csv.writer`` that hands each written line back."""

    def write(self, line: str) -> str:
        return line


def _download(lines: Iterator[str], filename: str) -> Response:
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f"attachment;filename={secure_filename(filename)}"})


def _chunks(connection, statement) -> Iterator[Sequence]:
    """The rows of ``statement`` in chunks. SQLite's driver steps through the result as it is
    fetched: its cursor is read directly (no result object per row). Elsewhere a server-side
    cursor (``stream_results``) keeps memory flat."""
    if connection.dialect.name == "sqlite":
        result = connection.execute(statement)
        try:
            while rows := result.cursor.fetchmany(SQL_CHUNK_ROWS):
                yield rows
        finally:
            result.close()
    else:
        result = connection.execution_options(stream_results=True,
                                              yield_per=SQL_CHUNK_ROWS).execute(statement)
        yield from result.partitions()


def stream_sql_csv(statement, titles: list[str],
                   cells: Callable[[Sequence, Session], list[list]], filename: str) -> Response:
    """A download of ``statement``'s rows, read in chunks of ``SQL_CHUNK_ROWS`` straight from
    the driver's cursor (a server-side cursor where the database has one; the driver's own
    values, no result objects built), each chunk turned into CSV rows by ``cells`` and
    written at once."""

    def lines() -> Iterator[str]:
        connection = db.engine.connect()
        session = Session(bind=connection)
        try:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow([safe_cell(title) for title in titles])
            yield buffer.getvalue()
            for rows in _chunks(connection, statement):
                buffer.seek(0)
                buffer.truncate()
                writer.writerows(cells(rows, session))
                yield buffer.getvalue()
        finally:
            session.close()
            connection.close()  # rolled back and back in the pool, finished or abandoned

    return _download(lines(), filename)


def _line_chunks(connection, statement) -> Iterator[bytes]:
    """The lines ``statement`` writes (one text column a row), as chunks of CSV with "\r\n"
    line breaks. PostgreSQL sends them through ``COPY … TO STDOUT`` (see ``_copied_lines``);
    SQLite's are read from its cursor and joined."""
    if connection.dialect.name == "postgresql":
        yield from _copied_lines(connection, statement)
        return
    for rows in _chunks(connection, statement):
        yield b"\r\n".join([row[0] for row in rows]) + b"\r\n"


# COPY's text format writes a backslash, line feed, carriage return, tab, backspace, form feed
# and vertical tab inside a value as these escapes.
_COPY_ESCAPES = ((b"\\n", b"\n"), (b"\\r", b"\r"), (b"\\t", b"\t"), (b"\\b", b"\b"),
                 (b"\\f", b"\f"), (b"\\v", b"\v"))


def _unescaped(piece: bytes) -> bytes:
    for escape, character in _COPY_ESCAPES:
        piece = piece.replace(escape, character)
    return piece


def _copied_lines(connection, statement) -> Iterator[bytes]:
    """The query run as ``COPY (…) TO STDOUT``: PostgreSQL streams the rows as it computes
    them (a parallel plan where it chooses one; a server-side cursor allows neither), in its
    text format. A chunk's raw line feeds are the rows' ends (a line feed inside a value comes
    escaped): they become "\r\n", then the escapes become their characters again, around the
    escaped backslashes."""
    compiled, params = bound_sql(statement, connection.dialect)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY ({compiled.string}) TO STDOUT", params) as copy:
        # Each row is copied into one buffer at once: holding the driver's row views to join
        # them later cost twice the time.
        chunk = bytearray()
        for row in copy:
            chunk += row
            if len(chunk) >= COPY_CHUNK_BYTES:
                yield _as_csv(bytes(chunk))
                chunk.clear()
        if chunk:
            yield _as_csv(bytes(chunk))


def _as_csv(copied: bytes) -> bytes:
    """COPY's text-format rows of one-column lines as CSV lines ending in "\r\n"."""
    copied = copied.replace(b"\n", b"\r\n")
    if b"\\" not in copied:
        return copied
    return b"\\".join(_unescaped(piece) for piece in copied.split(b"\\\\"))


def stream_csv_lines(statement, titles: list[str], filename: str,
                     key_order: tuple[object, bool] | None = None) -> Response:
    """A download of ``statement``'s rows, each already its CSV line (``csv_lines``), written
    a chunk (about a megabyte) at once. A large SQLite list ordered by its key alone
    (``key_order``: the key column, descending) is written by several processes
    (``csv_blocks``)."""
    settings = block_settings()

    def lines() -> Iterator[bytes]:
        buffer = io.StringIO()
        csv.writer(buffer).writerow([safe_cell(title) for title in titles])
        yield buffer.getvalue().encode()
        if key_order is not None:
            key, descending = key_order
            blocks = block_lines(db.engine, statement, key, descending=descending,
                                 settings=settings)
            if blocks is not None:
                yield from blocks
                return
        connection = db.engine.connect()
        try:
            yield from _line_chunks(connection, statement)
        finally:
            connection.close()  # rolled back and back in the pool, finished or abandoned

    return _download(lines(), filename)


def stream_csv(query: Query, titles: list[str], values: Callable[[object], list],
               filename: str) -> Response:
    """A download of ``query``'s rows, one line each (``values(row)``), under ``titles``."""

    def lines() -> Iterator[str]:
        connection = db.engine.connect()
        session = Session(bind=connection)
        try:
            writer = csv.writer(_Line())
            yield writer.writerow([safe_cell(title) for title in titles])
            rows = query.with_session(session).yield_per(CHUNK_ROWS)
            chunk: list[str] = []
            for row in rows:
                chunk.append(writer.writerow([safe_cell(value) for value in values(row)]))
                if len(chunk) >= 100:
                    yield "".join(chunk)
                    chunk = []
            if chunk:
                yield "".join(chunk)
        finally:
            session.close()
            connection.close()  # rolled back and back in the pool, finished or abandoned

    return _download(lines(), filename)
