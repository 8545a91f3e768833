"""The quick contact search in the top bar: "Choose patient in the search bar"."""

from __future__ import annotations

from flask import jsonify, redirect, request, url_for
from flask_admin import BaseView, expose

from ..contacts_search import find_contacts
from .access import AccessMixin


class QuickSearchView(AccessMixin, BaseView):
    """``/admin/search/?q=`` opens the contact card when one contact matches, else lists them;
    ``/admin/search/suggest?q=`` feeds the top bar's suggestions."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        query = request.args.get("q", "").strip()
        contacts = find_contacts(query, limit=51) if query else []
        if len(contacts) == 1:
            return redirect(url_for("contact.details_view", id=contacts[0].id))
        return self.render("admin/search_results.html", query=query,
                           contacts=contacts[:50], has_more=len(contacts) > 50)

    @expose("/suggest")
    def suggest(self):
        query = request.args.get("q", "").strip()
        contacts = find_contacts(query, limit=8) if len(query) >= 2 else []
        return jsonify([
            {"id": c.id, "name": c.full_name, "email": c.email or "", "phone": c.phone or "",
             "url": url_for("contact.details_view", id=c.id)}
            for c in contacts
        ])
