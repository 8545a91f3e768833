"""Settings: Cashier settings, Admin users, Audit log."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import redirect, url_for
from flask_admin import expose
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, SelectField, ValidationError
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from ..billing.period_retries import schedule_problem
from ..extensions import db
from ..models import CashierSettings, Role
from ..passwords import MIN_LENGTH, password_problem
from .base import AppModelView
from .formatting import audit_actor_formatter, audit_target_formatter, words_formatter


def _retry_schedule(form, field) -> None:
    problem = schedule_problem(field.data)
    if problem:
        raise ValidationError(problem)


def _web_address(form, field) -> None:
    """Only an http(s) address with a host: what a member's page may link to."""
    value = (field.data or "").strip()
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc
                  or any(ch.isspace() or ord(ch) < 32 for ch in value)):
        raise ValidationError("Enter a web address starting with https://")
    field.data = value or None


class CashierSettingsView(AppModelView):
    """Settings → Cashier settings: one record, opened straight in its edit form."""

    allow_create = False
    read_roles = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER, Role.VIEWER})
    write_roles = frozenset({Role.OWNER, Role.MANAGER})
    can_export = False
    column_labels = {
        "auto_send_receipts": "Automatically send receipts",
        "auto_send_channel": "Delivery method",
        "auto_send_invoices": "Send invoices",
        "auto_send_receipts_docs": "Send receipts",
        "auto_send_credit_notes": "Send credit notes",
        "no_show_fee_minor": "Default no-show fee",
        "time_zone": "Clinic time zone",
        "business_tax_id": "Tax ID",
        "invoice_prefix": "Invoice number prefix",
        "receipt_prefix": "Receipt number prefix",
        "credit_note_prefix": "Credit note number prefix",
        "paper_size": "Paper size (PDF)",
        "retry_schedule_days": "Retry schedule (days after a failed renewal)",
        "after_final_retry": "After the last retry",
        "invoice_due_days": "Invoice due days (members paying without a card)",
        "credit_use": "Appointments use a credit",
        "cancel_notice_hours": "Cancellation notice (hours)",
        "terms_url": "Terms for members (link)",
    }
    form_columns = ["auto_send_receipts", "auto_send_channel", "auto_send_invoices",
                    "auto_send_receipts_docs", "auto_send_credit_notes", "no_show_fee_minor",
                    "currency", "time_zone", "business_name", "business_address",
                    "business_tax_id", "business_email", "business_phone",
                    "invoice_prefix", "receipt_prefix", "credit_note_prefix", "paper_size",
                    "logo_upload", "remove_logo",
                    "retry_schedule_days", "after_final_retry", "invoice_due_days",
                    "credit_use", "cancel_notice_hours", "terms_url"]
    column_details_exclude_list = ["logo"]
    form_overrides = {"time_zone": SelectField, "paper_size": SelectField}
    _prefix = {"validators": [Length(max=12), Regexp(r"^[A-Za-z0-9/_.#-]*$", message=(
        "Letters, digits and - / _ . # only (at most 12), e.g. INV-."))]}
    form_args = {"time_zone": {"choices": sorted(available_timezones())},
                 "paper_size": {"choices": [("A4", "A4"), ("Letter", "Letter")]},
                 "invoice_prefix": _prefix, "receipt_prefix": _prefix,
                 "credit_note_prefix": _prefix,
                 "retry_schedule_days": {"validators": [_retry_schedule],
                                         "description": "e.g. 1,3,5,7: a failed renewal is "
                                                        "retried 1, 3, 5 and 7 days after it "
                                                        "failed; a hard decline is not "
                                                        "retried."},
                 "invoice_due_days": {"validators": [NumberRange(0, 365)]},
                 "cancel_notice_hours": {
                     "validators": [InputRequired(), NumberRange(0, 720)],
                     "description": "An appointment cancelled at least this long before it "
                                    "starts gives its credit back; later, it stays used."},
                 "terms_url": {"validators": [Optional(), _web_address],
                               "description": "The sign-up page asks members to accept them "
                                              "(a checkbox) when set."}}
    form_extra_fields = {
        "logo_upload": FileField("Logo", description="PNG or JPEG, at most 512 KB: printed "
                                 "on every document (issued documents included)."),
        "remove_logo": BooleanField("Remove the logo"),
    }

    def on_model_change(self, form, model, is_created):
        """A new logo (checked to be a PNG or JPEG), or none; prefixes apply to documents
        issued from now on."""
        upload = form.logo_upload.data
        if form.remove_logo.data:
            model.logo, model.logo_type = None, None
        elif upload is not None and getattr(upload, "filename", ""):
            data = upload.read(LOGO_MAX_BYTES + 1)
            kind = _image_type(data)
            if len(data) > LOGO_MAX_BYTES:
                raise ValidationError("The logo is larger than 512 KB: use a smaller image.")
            if kind is None:
                raise ValidationError("The logo must be a PNG or JPEG image.")
            model.logo, model.logo_type = data, kind
        super().on_model_change(form, model, is_created)

    @expose("/")
    def index_view(self):
        CashierSettings.get()
        db.session.commit()
        target = ".edit_view" if self.can_edit else ".details_view"
        return redirect(url_for(target, id=1))


LOGO_MAX_BYTES = 512 * 1024


def _image_type(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def _strong_password(form, field) -> None:
    problem = password_problem(field.data)
    if field.data and problem:
        raise ValidationError(problem)


class AdminUserView(AppModelView):
    """Settings → Admin users (owners only). Passwords are stored hashed, never shown."""

    read_roles = frozenset({Role.OWNER})
    write_roles = frozenset({Role.OWNER})
    column_list = ["id", "email", "name", "role", "is_enabled", "last_login_at", "created_at"]
    column_searchable_list = ["email", "name"]
    column_filters = ["role", "is_enabled"]
    column_exclude_list = ["password_hash"]
    column_details_exclude_list = ["password_hash"]
    column_export_exclude_list = ["password_hash"]
    column_labels = {"is_enabled": "Can log in", "last_login_at": "Last login"}
    form_columns = ["email", "name", "role", "is_enabled", "new_password"]
    form_extra_fields = {
        "new_password": PasswordField(
            "New password", validators=[Optional(strip_whitespace=False), _strong_password],
            description=f"Leave empty to keep the current password (at least {MIN_LENGTH} "
                        "characters, not a common one). A new password signs the user out "
                        "everywhere."),
    }

    def on_model_change(self, form, model, is_created):
        password = form.new_password.data
        if password:
            model.set_password(password)
        elif is_created:
            raise ValidationError("A new admin user needs a password.")
        model.email = model.email.strip().lower()
        super().on_model_change(form, model, is_created)


class AuditLogView(AppModelView):
    """Settings → Audit log: append-only, read by owners and managers."""

    read_roles = frozenset({Role.OWNER, Role.MANAGER})
    allow_create = False
    allow_edit = False
    column_list = ["id", "created_at", "actor", "action", "target_type", "target_id", "summary"]
    column_filters = ["action", "target_type", "target_id", "created_at", "actor.email"]
    column_searchable_list = ["summary", "action"]
    column_labels = {"created_at": "When", "actor": "Who", "target_type": "Record type",
                     "target_id": "Record ID", "actor.email": "Who (email)"}
    column_default_sort = ("created_at", True)
    column_formatters = {"action": words_formatter, "target_type": words_formatter,
                         "target_id": audit_target_formatter, "actor": audit_actor_formatter}


class StripeEventView(AppModelView):
    """Settings → Stripe webhook events: every event Stripe delivered (verified), whether it
    changed anything and what, for owners and managers tracing a payment's settlement."""

    read_roles = frozenset({Role.OWNER, Role.MANAGER})
    allow_create = False
    allow_edit = False
    allow_delete = False
    column_list = ["received_at", "type", "id", "handled", "note"]
    column_filters = ["type", "handled", "received_at"]
    column_searchable_list = ["id", "type", "note"]
    column_labels = {"received_at": "Received", "id": "Event ID", "handled": "Changed records"}
    column_default_sort = ("received_at", True)
