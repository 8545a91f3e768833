"""The one way an action page opens, refuses, submits and goes back.

Every page that runs a business action (⋯ → Refund, Cancel, No-show fee...) does::

    @expose("/refund/", methods=("GET", "POST"))
    def refund_view(self):
        page = ActionPage.open(self, doing="refund payments", back=contact_tab("transactions"))
        form = RefundForm(...)
        done = page.submit(form, lambda key: refund_payment(page.record, ..., actor=current_user,
                                                            idempotency_key=key))
        if done:
            return done
        return page.render(title=..., facts=..., form=form, submit_label="Refund")

``ActionPage.open`` loads the record of ``?id=`` (or another argument), read strictly: a junk or
vanished id flashes why and redirects, never a 500. It refuses a role that may not act (flash
and back). Both end the request at once (``abort`` with the redirect). ``submit`` runs the
action on a valid POST with the form's idempotency key, flashes its sentence, and redirects; a
refusal is flashed and the page is shown again with a fresh key, for a deliberate retry (a
processor's "no" stays on record under the old one). The action's rules are the action's: a page
only shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from ..actions.runner import ActionResult, AlreadyDone
from ..errors import ActionError
from ..extensions import db
from ..models import Contact, Role
from ..redirects import back_target
from .action_forms import ActionForm, new_idempotency_key
from .record_ids import primary_key_of, shown


def contact_tab(tab: str) -> Callable[[Any], str]:
    """The way back to a tab of the contact card of the record (or of the contact itself)."""
    def back(record) -> str:
        contact_id = record.id if isinstance(record, Contact) else record.contact_id
        return url_for("contact.details_view", id=contact_id, tab=tab)

    return back


def _noun(model) -> str:
    return model.__tablename__.replace("_", " ")


def _list_url(view, model) -> str:
    if model is getattr(view, "model", None):
        return url_for(".index_view")
    endpoint = current_app.extensions["record_endpoints"].get(model)
    return url_for(f"{endpoint}.index_view") if endpoint else url_for("admin.index")


def load_record(view, *, model=None, arg: str = "id", gone: str | None = None,
                otherwise: str | None = None):
    """The record of ``?<arg>=`` (``model``, by default the view's, through ``view.get_one``
    so a scoped view stays scoped), or end the request: flash that there is no such record and
    redirect to ``otherwise``, else ``?url=``, else the records' list."""
    model = model or view.model
    raw = request.args.get(arg)
    key = primary_key_of(model, raw)
    record = None
    if key is not None:
        record = view.get_one(str(key)) if model is view.model else db.session.get(model, key)
    if record is not None:
        return record
    noun = _noun(model)
    if key is not None:
        flash(gone or f"That {noun} no longer exists.", "error")
    elif raw:
        flash(f"There is no {noun} with ID “{shown(raw)}”.", "error")
    else:
        flash(f"No {noun} was chosen: open this page from the {noun}'s ⋯ menu.", "error")
    abort(redirect(otherwise or back_target() or _list_url(view, model)))


@dataclass(frozen=True)
class Ran:
    """How a submitted action went: ``result`` when it was done; else it was replayed (the
    same key), a notice (nothing to do), or refused."""

    result: ActionResult | None = None
    replayed: AlreadyDone | None = None
    is_notice: bool = False
    is_refused: bool = False


def run_action(action: Callable[[], ActionResult], form: ActionForm, *,
               notices: frozenset[str] = frozenset()) -> Ran:
    """Run an admin's submitted action and flash how it went, the one place a page does: the
    action's sentence at its level; a replay (same key) as information; a refusal whose code
    is in ``notices`` (nothing to do, e.g. already cancelled) as information; any other refusal
    as an error, after which ``form`` gets a fresh key for a deliberate retry (a processor's
    "no" stays on record under the old one) and the session is re-read (what the refusal kept,
    a declined attempt, shows)."""
    try:
        result = action()
    except AlreadyDone as done:
        flash(done.message, "info")
        return Ran(replayed=done)
    except ActionError as refused:
        if refused.code in notices:
            flash(refused.message, "info")
            return Ran(is_notice=True)
        flash(refused.message, "error")
        form.idempotency_key.data = new_idempotency_key()
        db.session.expire_all()
        return Ran(is_refused=True)
    flash(result.message, result.level)
    return Ran(result=result)


@dataclass
class ActionPage:
    """An action page opened for ``record``; ``back`` is where it returns."""

    view: Any
    record: Any
    back: str

    @classmethod
    def open(cls, view, *, doing: str, back: Callable[[Any], str] | None = None,
             roles: frozenset[Role] | None = None, model=None, arg: str = "id",
             gone: str | None = None) -> ActionPage:
        """Load the record (``load_record``), work out the way back (``?url=``, else
        ``back(record)``, else the view's list) and refuse a role outside ``roles`` (by
        default the view's ``write_roles``) that may not ``doing``."""
        record = load_record(view, model=model, arg=arg, gone=gone)
        back_url = back_target() or (back(record) if back else url_for(".index_view"))
        allowed = roles if roles is not None else view.write_roles
        if not (current_user.is_authenticated and current_user.role in allowed):
            role = current_user.role.label if current_user.is_authenticated else "none"
            flash(f"Your role ({role}) may not {doing}.", "error")
            abort(redirect(back_url))
        return cls(view, record, back_url)

    def submit(self, form: ActionForm, action: Callable[[str], ActionResult], *,
               notices: frozenset[str] = frozenset(), then: str | None = None):
        """Run ``action(idempotency_key)`` when ``form`` is validly submitted and say how it
        went (``run_action``). Done, replayed or a notice: redirect (to ``then``, else back).
        Refused: ``None``, and the caller shows the page again, with what was typed and a
        fresh key. ``None`` too when the form was not submitted or not valid."""
        if not form.validate_on_submit():
            return None
        ran = run_action(lambda: action(form.idempotency_key.data), form, notices=notices)
        if ran.is_refused:
            return None
        return redirect(self.back if ran.is_notice else then or self.back)

    def render(self, template: str = "admin/action_form.html", **context):
        """The page, returning to ``back`` by default."""
        context.setdefault("cancel_url", self.back)
        return self.view.render(template, **context)


def create_through(action: Callable[[], ActionResult], form: ActionForm, model):
    """A list's Create done by an action (``run_action``): the record made, or the one a replay
    of the same form made, or ``False`` (refused: the form is shown again, with a fresh key)."""
    ran = run_action(action, form)
    if ran.result is not None:
        return ran.result.record
    earlier = ran.replayed.request if ran.replayed is not None else None
    if earlier is not None and earlier.result_id:
        return db.session.get(model, int(earlier.result_id)) or False
    return False
