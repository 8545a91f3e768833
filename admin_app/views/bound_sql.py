"""A SQLAlchemy statement as the text and values a driver is handed directly, for the exports
that run their query outside ``Connection.execute()`` (PostgreSQL's ``COPY``, SQLite's export
processes)."""

from __future__ import annotations


def bound_sql(statement, dialect) -> tuple[object, dict]:
    """``statement`` compiled for ``dialect`` with its IN lists written out, and its
    parameters' values by name, processed by their types as ``execute()`` would (clinic times
    as stored text, enums as their values)."""
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    values = compiled.construct_params()
    for name, process in compiled._bind_processors.items():
        if name in values:
            values[name] = process(values[name])
    return compiled, values
