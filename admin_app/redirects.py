"""Where the panel may send a browser back to: only its own pages (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit


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
