"""The contact pickers' lookups (Flask-Admin ``form_ajax_refs``), read strictly: a picked id that
cannot be a key (``abc``, ``1,2``, past the column's range) finds nothing, so the form says the
choice is not valid; a junk ``offset`` or ``limit`` gives the first page of matches.

Every contact picker (invoice, invitation, appointment, subscription) finds contacts as the top
bar does (``contacts_search``: full names, multi-word surnames, emails, phone numbers in any
format), through the indexes, instead of Flask-Admin's ``ILIKE '%term%'`` on every column,
which reads the whole table."""

from __future__ import annotations

from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader, create_ajax_loader
from flask_admin.model.ajax import DEFAULT_PAGE_SIZE

from ..contacts_search import find_contacts
from ..models import Contact
from .record_ids import primary_key_of

MAX_LOOKUP_OFFSET = 10_000


class StrictAjaxModelLoader(QueryAjaxModelLoader):
    def get_one(self, pk):
        key = primary_key_of(self.model, pk if isinstance(pk, str) else str(pk))
        return None if key is None else super().get_one(key)

    def get_list(self, term, offset=0, limit=None):
        offset = offset if isinstance(offset, int) and 0 <= offset <= MAX_LOOKUP_OFFSET else 0
        page_size = int(self.options.get("page_size") or DEFAULT_PAGE_SIZE)
        limit = limit if isinstance(limit, int) and 0 < limit <= page_size else page_size
        if self.model is Contact:
            return find_contacts(term or "", limit=limit, offset=offset)
        return super().get_list(term or "", offset, limit)


def strict_ajax_loader(model, session, name: str, options: dict) -> StrictAjaxModelLoader:
    loader = create_ajax_loader(model, session, name, name, options)
    return StrictAjaxModelLoader(name, session, loader.model, **options)


def make_strict(loader) -> None:
    if type(loader) is QueryAjaxModelLoader:
        loader.__class__ = StrictAjaxModelLoader
