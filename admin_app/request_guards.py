"""Guards every request passes before any view sees it.

NUL bytes: PostgreSQL refuses them in text, so a NUL anywhere in the path, the query string or
a form field would end as a database error half-way through a view. They are never part of
what a person types: refused up front with 400, whatever the page.

``url`` (the way back every Flask-Admin page and action page takes, in the query or the form):
only a path on this site (``redirects.safe_next``). Flask-Admin's own check lets
``http:evil.example`` and ``//evil.example`` through and its pages render the value as the
Cancel link, so anything else is refused up front with 400, before any view reads it.
"""

from __future__ import annotations

from flask import Flask, abort, request

from .redirects import is_same_site_path


def _has_nul(multi_dict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values)
               for key, values in multi_dict.lists())


def refuse_nul_bytes() -> None:
    if "\x00" in request.path or _has_nul(request.args) or _has_nul(request.form):
        abort(400, description="The request contains a NUL character, which no field accepts.")


def refuse_off_site_url() -> None:
    for source in (request.args, request.form):
        for value in source.getlist("url"):
            if value and not is_same_site_path(value):
                abort(400, description="The page to return to (url) must be a page of this "
                                       "site; open the page again from the panel.")


def register_request_guards(app: Flask) -> None:
    app.before_request(refuse_nul_bytes)
    app.before_request(refuse_off_site_url)
