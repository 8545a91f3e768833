"""The one bulk action page: a list's "With selected → ..." that needs the admin's input first
(Cancel subscriptions, Apply Promo, Adjust credits, Charge no-show fee).

A view declares each such action as a ``BulkFlow`` and its ``@action`` handler returns
``self.bulk_page(flow, ids)``: the page shows what the rows are (how many; ticked or all
matching), the flow's facts and form. Submitted to ``bulk/<flow>/``, the ids are read again,
strictly, and ``bulk.run_bulk_action`` runs the flow's action on each row (inline for a few
rows, as a background job with a progress page for more), reporting every one not done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import HiddenField

from ..redirects import back_target
from .action_forms import ActionForm
from .bulk import Selection, run_bulk_action, selection
from .record_ids import BadRowIds, join_row_ids, split_row_ids

SHOWN_IDS = 20


@dataclass(frozen=True)
class BulkFlow:
    """One bulk action that asks first. ``title`` and ``submit_label`` may say ``{count}``;
    ``action`` names the bulk action (``jobs.bulk_actions``) each row runs, with
    ``params(form)``, the same inline or on the worker (its refusal is reported for that
    row); ``facts(form)`` adds lines to the page."""

    name: str
    form: type[ActionForm]
    noun: str
    doing: str
    title: str
    intro: str
    submit_label: str
    action: str
    params: Callable[[Any], dict]
    facts: Callable[[Any], list[tuple[str, str]]] | None = None
    is_danger: bool = False
    keep_label: str = "Cancel"  # the way back's words ("Keep them" beside "Cancel 3 ...")


@cache
def _bulk_form(form: type[ActionForm]) -> type[ActionForm]:
    """The flow's form, carrying the rows it applies to."""
    return type(f"Bulk{form.__name__}", (form,), {"row_ids": HiddenField(),
                                                  "all_matching": HiddenField()})


class BulkPagesMixin:
    """Mixed into a model view with ``bulk_flows``."""

    bulk_flows: tuple[BulkFlow, ...] = ()

    def _flow(self, name: str) -> BulkFlow:
        flow = next((f for f in self.bulk_flows if f.name == name), None)
        if flow is None:
            abort(404)
        return flow

    def _back_to_list(self) -> str:
        return back_target() or url_for(".index_view")

    def bulk_page(self, flow: BulkFlow, ticked_ids):
        """The page of ``flow`` for the rows ticked (or all matching) in the list."""
        try:
            rows = selection(self, ticked_ids)
        except BadRowIds as bad:
            flash(bad.message, "error")
            return redirect(self._back_to_list())
        form = _bulk_form(flow.form)(formdata=None, row_ids=join_row_ids(rows.ids),
                                     all_matching="1" if rows.is_all_matching else "")
        return self._render_bulk(flow, form, rows)

    def _render_bulk(self, flow: BulkFlow, form, rows: Selection):
        count = len(rows.ids)
        shown = ", ".join(f"#{i}" for i in rows.ids[:SHOWN_IDS])
        if count > SHOWN_IDS:
            shown += f" and {count - SHOWN_IDS} more"
        return self.render(
            "admin/bulk_action.html", title=flow.title.format(count=count), intro=flow.intro,
            scope=rows.describe(flow.noun), count=count, shown_ids=shown,
            facts=flow.facts(form) if flow.facts else [], form=form,
            submit_label=flow.submit_label.format(count=count),
            form_action=url_for(".bulk_view", flow_name=flow.name, url=self._back_to_list()),
            cancel_url=self._back_to_list(), cancel_label=flow.keep_label,
            is_danger=flow.is_danger)

    @expose("/bulk/<flow_name>/", methods=("POST",))
    def bulk_view(self, flow_name: str):
        flow = self._flow(flow_name)
        back = self._back_to_list()
        if not self.is_action_allowed(flow.name):
            flash(f"Your role ({current_user.role.label}) may not {flow.doing}.", "error")
            return redirect(back)
        form = _bulk_form(flow.form)()
        try:
            rows = Selection(split_row_ids(form.row_ids.data),
                             is_all_matching=form.all_matching.data == "1")
        except BadRowIds as bad:
            flash(bad.message, "error")
            return redirect(back)
        if not form.validate_on_submit():
            return self._render_bulk(flow, form, rows)
        return run_bulk_action(flow.action, flow.params(form), rows.ids,
                               label=flow.title.format(count=len(rows.ids)),
                               key=form.idempotency_key.data, back=back)
