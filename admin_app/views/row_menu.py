"""The ⋯ row menu: one dropdown for list rows and for the contact card's tab rows.

A view lists what a row offers in ``row_menu_items(row)``; business actions add to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_admin.model.template import BaseListRowAction


@dataclass(frozen=True)
class MenuItem:
    label: str
    url: str
    icon: str = ""
    method: str = "GET"          # POST items render as a small form with a CSRF token
    confirm: str | None = None   # a question asked before a POST item runs
    is_danger: bool = False
    idempotency_key: str | None = None  # carried by a POST item, so a double click runs once


def render_row_menu(items: list[MenuItem], row_id) -> str:
    """HTML of the ⋯ dropdown for one row."""
    macro = current_app.jinja_env.get_template("admin/row_menu.html").module.row_menu
    return macro(items, row_id)


class RowMenuAction(BaseListRowAction):
    """The list view's only row action: the ⋯ dropdown with the view's ``row_menu_items``."""

    def __init__(self, view) -> None:
        super().__init__(title="Actions")
        self.view = view

    def render(self, context, row_id, row):
        return render_row_menu(self.view.row_menu_items(row), row_id)
