"""The CSV export of a list: streamed in chunks, every cell made safe for spreadsheets
(``csv_cells``), on a database connection of its own that is given back when the download
ends **and** when the browser goes away half-way (the stream is closed: its ``finally`` runs).

Without that, parallel downloads held the pool's connections (pages answered 500 with "QueuePool
limit reached") and left PostgreSQL sessions "idle in transaction" that blocked migrations.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator

from flask import Response, stream_with_context
from sqlalchemy.orm import Query, Session
from werkzeug.utils import secure_filename

from ..csv_cells import safe_cell
from ..extensions import db

CHUNK_ROWS = 1000


class _Line:
    """A file-like target for ``csv.writer`` that hands each written line back."""

    def write(self, line: str) -> str:
        return line


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

    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f"attachment;filename={secure_filename(filename)}"})
