"""Where the panel may send a browser back to: only its own pages (no open redirect).

One rule, ``safe_next``, for every way back: the sign-in page's ``?next=`` and the ``url``
parameter every Flask-Admin page and action page takes (``back_target``; the request guard
refuses any other ``url`` with 400 before a view, ours or Flask-Admin's, reads it)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback``.

    Refused: other hosts (``//evil.example``, ``http:evil.example``, ``https://…``), backslash
    tricks browsers read as ``//`` (``/\\evil.example``), control characters (CR/LF: header
    splitting; NUL), and anything that is not an absolute path."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return fallback
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target) or "\\" in target:
        return fallback
    if target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def is_same_site_path(target: str) -> bool:
    """Whether ``safe_next`` would follow ``target``."""
    return safe_next(target, "") == target and bool(target)


def back_target() -> str | None:
    """The page to go back to (``url`` in the query or the form) when it is on this site, else
    None. Replaces ``flask_admin.helpers.get_redirect_target``, which lets
    ``http:evil.example`` and ``//evil.example`` through."""
    return safe_next(request.values.get("url"), "") or None
