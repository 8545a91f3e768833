"""Read a PDF back (pypdf): its text and page count, for assertions."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)
