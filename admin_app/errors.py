"""The refusal every layer below the entrypoints raises, and the entrypoints turn into a
message for whoever asked (a flash for an admin, a page for a member, a line for cron)."""

from __future__ import annotations


class ActionError(Exception):
    """A refusal: ``code`` is stable snake_case for programs and tests, ``message`` a sentence
    for the admin.

    With ``keep_changes`` what the current transaction wrote is committed before the refusal
    reaches the caller: used for a processor's "no", whose failed attempt is a record worth
    keeping. ``after`` is the state the audit entry of such a kept refusal records."""

    def __init__(self, code: str, message: str, *, keep_changes: bool = False,
                 after: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.keep_changes = keep_changes
        self.after = after
