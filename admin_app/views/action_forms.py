"""The admin side of business actions: their forms, and the one place that turns an action's
refusal into a message for the admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

from flask import flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from ..actions.runner import ActionResult, AlreadyDone
from ..errors import ActionError
from ..extensions import db
from ..models import Contact

ALREADY_DONE = object()
NO_OP = object()  # an action that found nothing to do, and said so as information


def new_idempotency_key() -> str:
    return uuid4().hex


class ActionForm(FlaskForm):
    """Base of every action form: carries the submission's idempotency key, so a double
    submit (double click, reload, second tab) runs the action once."""

    idempotency_key = HiddenField(default=new_idempotency_key)


def open_contact_page(view, *, tab: str, doing: str):
    """The contact an action page is opened for (``?contact_id=``), the contact card tab to go
    back to, and a refusal to return instead (no such contact, or a role that may not
    ``doing``): ``(contact, back, refusal)``."""
    contact_id = request.args.get("contact_id", type=int)
    contact = db.session.get(Contact, contact_id) if contact_id else None
    if contact is None:
        flash("That contact no longer exists.", "error")
        return None, None, redirect(url_for("contact.index_view"))
    back = url_for("contact.details_view", id=contact.id, tab=tab)
    if not view.may_write:
        flash(f"Your role ({current_user.role.label}) may not {doing}.", "error")
        return contact, back, redirect(back)
    return contact, back, None


def submit(form: ActionForm, action: Callable[[str], ActionResult]) -> bool:
    """Run ``action(idempotency_key)`` when ``form`` is validly submitted, flashing the
    sentence the action returned. True when it was done, or had been (a replay): the caller
    redirects. False to show the page again: not submitted, or refused (its reason flashed;
    the form keeps what was typed, with a fresh key for a deliberate retry, since a
    processor's "no" stays on record under the old one).
    """
    if not form.validate_on_submit():
        return False
    key = form.idempotency_key.data
    if perform(lambda: action(key)) is not None:
        return True
    form.idempotency_key.data = new_idempotency_key()
    return False


def perform(call: Callable[[], ActionResult], *, notices: frozenset[str] = frozenset()) -> Any:
    """Run ``call()`` (an action); on refusal flash its sentence and return ``None``; on a
    replayed submission flash that it was already done and return ``ALREADY_DONE``; on a
    refusal whose code is one of ``notices`` (nothing to do, e.g. already cancelled) flash it
    as information and return ``NO_OP``; on success flash the action's sentence and return its
    record."""
    try:
        result = call()
    except AlreadyDone as done:
        flash(done.message, "info")
        return ALREADY_DONE
    except ActionError as error:
        if error.code in notices:
            flash(error.message, "info")
            return NO_OP
        flash(error.message, "error")
        return None
    flash(result.message, result.level)
    return result.record
