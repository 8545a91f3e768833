"""The form every business action's page submits: it carries the submission's idempotency key.
Pages open and submit through ``action_pages.ActionPage``."""

from __future__ import annotations

from uuid import uuid4

from flask_wtf import FlaskForm
from wtforms import HiddenField


def new_idempotency_key() -> str:
    return uuid4().hex


class ActionForm(FlaskForm):
    """Base of every action form: carries the submission's idempotency key, so a double
    submit (double click, reload, second tab) runs the action once."""

    idempotency_key = HiddenField(default=new_idempotency_key)
