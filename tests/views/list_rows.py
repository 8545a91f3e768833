"""What a list page shows, read from its HTML the way an admin's browser sees it."""

from __future__ import annotations

import re

_ROW_CHECKBOX = re.compile(r'name="rowid"[^>]*value="(\d+)"')


def row_ids(html: str) -> list[int]:
    """The ids of the rows on a list page, in order (each row's checkbox names its id; the
    checkboxes are shown to a role that may run bulk actions)."""
    return [int(found) for found in _ROW_CHECKBOX.findall(html)]
