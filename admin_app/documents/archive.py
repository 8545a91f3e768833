"""Many documents' PDFs in one zip: at once for a few, on the worker for many (written to
the instance folder's ``exports/``, under a random name, then downloaded from the panel)."""

from __future__ import annotations

import os
import re
import secrets
import zipfile
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Document, DocumentStatus
from .rendering import pdf_filename, render_pdf

NAME_RE = re.compile(r"^documents-[0-9a-f]{32}\.zip$")


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
    return f"documents-{secrets.token_hex(16)}.zip"


def export_path(name: str) -> Path | None:
    """The finished zip ``name`` (None: not a name we make, or not ready yet)."""
    if not NAME_RE.match(name or ""):
        return None
    path = exports_dir() / name
    return path if path.exists() else None


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
