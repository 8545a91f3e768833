"""The admin site: menu (as in the customer's workflows guide) and every view."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from ..models import (
    AccountCreditEntry,
    AdminUser,
    Appointment,
    AuditEntry,
    BulkJob,
    CashierSettings,
    Contact,
    CreditEntry,
    Document,
    OutboxItem,
    Payment,
    PaymentMethod,
    Plan,
    PromoCode,
    Refund,
    Service,
    StripeEvent,
    Subscription,
)
from ..security_headers import csp_nonce
from .cashier import (
    AccountCreditEntryView,
    CreditEntryView,
    DocumentView,
    PaymentMethodView,
    PaymentView,
    RefundView,
)
from .dashboard import DashboardView
from .directories import ContactView, PlanView, PromoCodeView, ServiceView
from .jobs import BulkJobView
from .outbox import OutboxView
from .reports import report_views
from .search import QuickSearchView
from .settings import AdminUserView, AuditLogView, CashierSettingsView, StripeEventView
from .subscriptions import AppointmentView, SubscriptionView

DIRECTORIES, CASHIER, SETTINGS = "Directories", "Cashier", "Settings"


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="Clinic Billing",
        theme=Bootstrap4Theme(base_template="admin/app_base.html", fluid=True),
        index_view=DashboardView(name="Home", url="/admin"),
        csp_nonce_generator=csp_nonce,  # its <script> tags carry the CSP nonce
    )
    views = [
        ContactView(Contact, name="Contacts", category=DIRECTORIES, endpoint="contact"),
        ServiceView(Service, name="Services", category=DIRECTORIES, endpoint="service"),
        PlanView(Plan, name="Subscription plans", category=DIRECTORIES, endpoint="plan"),
        PromoCodeView(PromoCode, name="Promo codes", category=DIRECTORIES, endpoint="promo_code"),
        SubscriptionView(Subscription, name="Subscriptions", endpoint="subscription"),
        AppointmentView(Appointment, name="Appointments", endpoint="appointment"),
        *report_views(),
        PaymentView(Payment, name="Transactions", category=CASHIER, endpoint="payment"),
        RefundView(Refund, name="Refunds", category=CASHIER, endpoint="refund"),
        DocumentView(Document, name="Accounting documents", category=CASHIER,
                     endpoint="document"),
        PaymentMethodView(PaymentMethod, name="Payment methods", category=CASHIER,
                          endpoint="payment_method"),
        CreditEntryView(CreditEntry, name="Credit ledger", category=CASHIER,
                        endpoint="credit_entry"),
        AccountCreditEntryView(AccountCreditEntry, name="Account credit", category=CASHIER,
                               endpoint="account_credit_entry"),
        CashierSettingsView(CashierSettings, name="Cashier settings", category=SETTINGS,
                            endpoint="cashier_settings"),
        AdminUserView(AdminUser, name="Admin users", category=SETTINGS, endpoint="admin_user"),
        AuditLogView(AuditEntry, name="Audit log", category=SETTINGS, endpoint="audit_entry"),
        StripeEventView(StripeEvent, name="Stripe webhook events", category=SETTINGS,
                        endpoint="stripe_event"),
        BulkJobView(BulkJob, name="Background jobs", category=SETTINGS, endpoint="bulk_job"),
        OutboxView(OutboxItem, name="Outbox", category=SETTINGS, endpoint="outbox"),
        QuickSearchView(name="Search", endpoint="quick_search", url="/admin/search"),
    ]
    for view in views:
        admin.add_view(view)
    # Where each record's details page lives, for links between records.
    app.extensions["record_endpoints"] = {
        view.model: view.endpoint for view in views if hasattr(view, "model")
    }
    app.extensions["admin_views"] = {view.endpoint: view for view in views}
    return admin
