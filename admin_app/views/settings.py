"""Settings: Cashier settings, Admin users, Audit log."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import redirect, url_for
from flask_admin import expose
from wtforms import PasswordField, SelectField, ValidationError
from wtforms.validators import Optional

from ..extensions import db
from ..models import CashierSettings, Role
from ..passwords import MIN_LENGTH, password_problem
from .base import AppModelView


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
        "terms_url": "Terms for members (link)",
        "logo_url": "Logo (image link)",
    }
    form_columns = ["auto_send_receipts", "auto_send_channel", "auto_send_invoices",
                    "auto_send_receipts_docs", "auto_send_credit_notes", "no_show_fee_minor",
                    "currency", "time_zone", "business_name", "business_address",
                    "business_tax_id", "business_email", "business_phone", "terms_url",
                    "logo_url"]
    form_overrides = {"time_zone": SelectField}
    form_args = {"time_zone": {"choices": sorted(available_timezones())},
                 "terms_url": {"validators": [Optional(), _web_address],
                               "description": "The sign-up page asks members to accept them "
                                              "(a checkbox) when set."},
                 "logo_url": {"validators": [Optional(), _web_address],
                              "description": "Shown above the plan on the sign-up page."}}

    @expose("/")
    def index_view(self):
        CashierSettings.get()
        db.session.commit()
        target = ".edit_view" if self.can_edit else ".details_view"
        return redirect(url_for(target, id=1))


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
