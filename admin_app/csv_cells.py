"""What goes into a cell of a CSV the panel writes (list exports, bulk job results, reports).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to a
spreadsheet: a contact named ``=HYPERLINK(...)`` would run in the accountant's Excel. As OWASP
advises, such a cell is prefixed with ``'`` so it shows as text. A plain number (``-3.00``) is
left as it is: it is not a formula, and an accountant's sums need it numeric.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(?:\.[0-9]+)?$")


def safe_cell(value) -> str:
    """``value`` as CSV text that no spreadsheet will run."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text
