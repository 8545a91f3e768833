"""Guards every request passes before any view sees it.

NUL bytes: PostgreSQL refuses them in text, so a NUL anywhere in the path, the query string or
a form field would end as a database error half-way through a view. They are never part of
what a person types: refused up front with 400, whatever the page.
"""

from __future__ import annotations

from flask import Flask, abort, request


def _has_nul(multi_dict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values)
               for key, values in multi_dict.lists())


def refuse_nul_bytes() -> None:
    if "\x00" in request.path or _has_nul(request.args) or _has_nul(request.form):
        abort(400, description="The request contains a NUL character, which no field accepts.")


def register_request_guards(app: Flask) -> None:
    app.before_request(refuse_nul_bytes)
