"""The domain tables, one module per aggregate. Importing this package registers them all."""

from .admin_user import AdminUser, Role
from .appointment import Appointment, AppointmentCredit, AppointmentStatus, NoShowFeeStatus
from .audit import AuditEntry, record_audit
from .billing_period import BillingPeriod, PeriodStatus
from .catalog import BillingInterval, Plan, PlanService, Service, UnusedCredits
from .contact import Contact, ContactSearchKey, ContactStatus
from .credit import CreditEntry, CreditLotClosing, CreditReason, credit_balances
from .document import (
    DeliveryAttempt,
    DeliveryChannel,
    Document,
    DocumentLine,
    DocumentSequence,
    DocumentStatus,
    DocumentType,
    MessageStatus,
    OutboundMessage,
    OutboxItem,
)
from .job import BulkJob, BulkJobRow, BulkJobState, RowOutcome, ScheduledRun
from .operations import ActionRequest
from .payment import (
    AccountCreditEntry,
    AccountCreditReason,
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from .promo import DiscountDuration, DiscountType, PromoCode, PromoRedemption, promo_code_plan
from .report_summary import ALL_PLANS, ReportFigure, ReportMonth
from .settings import AfterFinalRetry, CashierSettings, CreditUse
from .signup import (
    InvitationState,
    PlanInvitation,
    PlanLinkCounter,
    SignupAttempt,
    SignupStatus,
)
from .stripe_event import StripeEvent
from .subscription import Subscription, SubscriptionStatus

__all__ = [
    "BulkJob", "BulkJobRow", "BulkJobState", "RowOutcome", "ScheduledRun",
    "AdminUser", "Role", "Appointment", "AppointmentCredit", "AppointmentStatus",
    "NoShowFeeStatus", "AuditEntry",
    "record_audit", "BillingInterval", "Plan", "PlanService", "Service", "Contact",
    "ContactSearchKey",
    "ContactStatus", "CreditEntry", "CreditLotClosing", "CreditReason", "credit_balances",
    "DeliveryChannel",
    "Document", "DocumentLine", "DocumentStatus", "DocumentType", "Payment", "PaymentMethod",
    "PaymentMethodKind", "PaymentPurpose", "PaymentStatus", "Refund", "RefundReason",
    "RefundStatus", "DiscountDuration", "DiscountType", "PromoCode", "promo_code_plan",
    "CashierSettings", "Subscription", "SubscriptionStatus", "ActionRequest",
    "DocumentSequence", "MessageStatus", "OutboundMessage", "PromoRedemption",
    "AccountCreditEntry", "AccountCreditReason", "StripeEvent", "BillingPeriod",
    "PeriodStatus", "UnusedCredits", "AfterFinalRetry", "CreditUse", "DeliveryAttempt",
    "OutboxItem", "InvitationState", "PlanInvitation", "PlanLinkCounter", "SignupAttempt",
    "SignupStatus", "ReportFigure", "ReportMonth", "ALL_PLANS",
]
