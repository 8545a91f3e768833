"""Many documents' PDFs in one zip: at once for a few, on the worker for many (written to
the instance folder's ``exports/``, under a random name that says when it was asked for, then
downloaded from the panel). A zip is kept ``EXPORT_RETENTION`` (7 days): the worker removes
older ones daily, and their page says the download has expired."""

from __future__ import annotations

import os
import re
import secrets
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..clock import utcnow
from ..extensions import db
from ..models import Document, DocumentStatus
from .rendering import pdf_filename, render_pdf

NAME_RE = re.compile(r"^documents-(?P<asked_at>[0-9]{10})-[0-9a-f]{32}\.zip$")
EXPORT_RETENTION = timedelta(days=7)


def write_zip(document_ids: list[int], target) -> int:
    """Write the PDFs of the (non-draft) documents ``document_ids`` into the zip ``target``
    (a path or a file object), one at a time; returns how many went in."""
    count = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for start in range(0, len(document_ids), 200):
            chunk = document_ids[start:start + 200]
            for document in db.session.scalars(
                    select(Document).where(Document.id.in_(chunk),
                                           Document.status != DocumentStatus.DRAFT)
                    .order_by(Document.id)):
                archive.writestr(pdf_filename(document), render_pdf(document))
                count += 1
            db.session.expire_all()
    return count


def exports_dir() -> Path:
    return Path(current_app.instance_path) / "exports"


def new_export_name() -> str:
    return f"documents-{int(utcnow().timestamp()):010d}-{secrets.token_hex(16)}.zip"


def asked_at(name: str) -> datetime | None:
    """When the zip ``name`` was asked for (None: not a name we make)."""
    found = NAME_RE.match(name or "")
    return datetime.fromtimestamp(int(found["asked_at"]), UTC) if found else None


def has_expired(name: str) -> bool:
    """The zip ``name`` is past ``EXPORT_RETENTION``: removed, or about to be."""
    when = asked_at(name)
    return when is not None and _too_old(when)


def _too_old(asked: datetime) -> bool:
    return utcnow() - asked > EXPORT_RETENTION


def export_path(name: str) -> Path | None:
    """The finished zip ``name`` (None: not a name we make, not ready yet, or expired)."""
    if asked_at(name) is None or has_expired(name):
        return None
    path = exports_dir() / name
    return path if path.exists() else None


def remove_expired_exports() -> int:
    """Remove the zips (and any half-written one) asked for more than ``EXPORT_RETENTION``
    ago — or, for a zip named before names said when, last written that long ago; returns
    how many. Safe to run twice: what is gone is not counted again."""
    folder = exports_dir()
    removed = 0
    for path in folder.glob("*documents-*.zip*") if folder.is_dir() else ():
        name = path.name.removeprefix(".").removesuffix(".part")
        asked = asked_at(name) or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if _too_old(asked):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def build_export(document_ids: list[int], name: str) -> int:
    """Write the zip ``name`` (a temporary file renamed when complete: a half-written zip is
    never served). Running it twice writes the same zip again."""
    if not NAME_RE.match(name):
        raise ValueError(f"not an export name: {name!r}")
    folder = exports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.part"
    count = write_zip(document_ids, partial)
    os.replace(partial, folder / name)
    return count
