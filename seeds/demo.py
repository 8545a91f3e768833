"""The demo clinic, "Harbor Physio & Pilates": a realistic data set to click through.

``load_demo()`` fills an empty database (no contacts) and commits; it is deterministic
(``random.Random(42)``) apart from dates, which are relative to ``admin_app.clock.utcnow()``.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from admin_app.clock import utcnow
from admin_app.extensions import db
from admin_app.models import (
    AdminUser,
    BillingInterval,
    CashierSettings,
    Contact,
    DeliveryChannel,
    DiscountDuration,
    DiscountType,
    Plan,
    PlanService,
    PromoCode,
    Role,
    Service,
)

from .common import sync_document_sequences
from .demo_billing import seed_billing_cycle
from .demo_gateway import register_with_gateway
from .demo_history import DemoHistory

CURRENCY = "USD"

USERS = (  # email, password, role, name
    ("admin@example.com", "admin", Role.OWNER, "Alex Morgan"),
    ("manager@example.com", "manager", Role.MANAGER, "Jordan Lee"),
    ("cashier@example.com", "cashier", Role.CASHIER, "Sam Rivera"),
    ("viewer@example.com", "viewer", Role.VIEWER, "Casey Kim"),
)

SERVICES = {  # key: (name, minutes, price, description)
    "physio": ("Physiotherapy 45 min", 45, 9500,
               "One-to-one treatment session with a licensed physiotherapist."),
    "massage": ("Sports massage 60 min", 60, 8500,
                "Deep-tissue sports massage for recovery and mobility."),
    "reformer": ("Pilates reformer class", 50, 3500,
                 "Small-group reformer class, up to 8 people."),
    "yoga": ("Yoga class", 60, 2200, "Vinyasa and restorative yoga, all levels."),
    "assessment": ("Initial assessment", 60, 12000,
                   "Full musculoskeletal assessment and treatment plan."),
    "nutrition": ("Nutrition consult", 30, 6500, "Consultation with a registered dietitian."),
}

PLANS = {  # key: (name, price, interval, activation fee, max members, active, lines)
    "physio": ("Physio Monthly", 34900, BillingInterval.MONTH, 4900, None, True,
               {"physio": 4, "massage": 1}),
    "reformer": ("Reformer & Yoga Monthly", 24900, BillingInterval.MONTH, 2500, None, True,
                 {"reformer": 8, "yoga": 4}),
    "recovery": ("Recovery Quarterly", 89900, BillingInterval.QUARTER, 9900, None, True,
                 {"physio": 10, "massage": 3, "assessment": 1}),
    "wellness": ("Wellness Annual", 199000, BillingInterval.YEAR, 0, 40, True,
                 {"yoga": 48, "reformer": 24, "nutrition": 4}),
    "legacy": ("Yoga Classic (legacy)", 7900, BillingInterval.MONTH, 0, None, False,
               {"yoga": 4}),
}

PLAN_DESCRIPTIONS = {
    "physio": "Four physiotherapy sessions and a sports massage every month.",
    "reformer": "Eight reformer classes and four yoga classes a month.",
    "recovery": "A three-month rehabilitation block after injury or surgery.",
    "wellness": "A year of classes with nutrition check-ins. Limited to 40 members.",
    "legacy": "Retired plan kept for existing members; not sold any more.",
}


def load_demo() -> bool:
    """Load the demo clinic into an empty database and commit.

    Returns ``False`` (and changes nothing) when the database already has contacts.
    """
    session = db.session
    if session.scalar(select(Contact.id).limit(1)) is not None:
        return False
    rng = random.Random(42)
    now = utcnow().replace(second=0, microsecond=0)
    users = _admin_users(now)
    settings = _cashier_settings()
    services, plans = _catalog(now)
    promos = _promo_codes(now, plans)
    session.flush()

    history = DemoHistory(rng, now, services=services, plans=plans, promos=promos,
                          users=users, no_show_fee_minor=settings.no_show_fee_minor)
    history.build()
    register_with_gateway(history)
    session.add_all(history.objects)
    session.flush()
    session.add_all(history.ledger())
    session.add_all(history.audit_entries())
    session.flush()
    seed_billing_cycle(rng, now, history.past_periods)
    sync_document_sequences()
    session.commit()
    return True


def _admin_users(now) -> dict[Role, AdminUser]:
    """The four logins of the demo, one per role (existing e-mails are kept as they are)."""
    users: dict[Role, AdminUser] = {}
    for email, password, role, name in USERS:
        user = db.session.scalar(select(AdminUser).where(AdminUser.email == email))
        if user is None:
            user = AdminUser(email=email, name=name, role=role, is_enabled=True,
                             created_at=now - timedelta(days=800), updated_at=now)
            user.set_password(password)
            db.session.add(user)
        users[role] = user
    return users


def _cashier_settings() -> CashierSettings:
    settings = db.session.get(CashierSettings, 1)
    if settings is None:
        settings = CashierSettings(id=1)
        db.session.add(settings)
    settings.currency = CURRENCY
    settings.no_show_fee_minor = 7500
    settings.time_zone = "America/New_York"
    settings.auto_send_receipts = False
    settings.auto_send_channel = DeliveryChannel.EMAIL
    settings.auto_send_invoices = True
    settings.auto_send_receipts_docs = True
    settings.auto_send_credit_notes = True
    settings.business_name = "Harbor Physio & Pilates"
    settings.business_address = "120 Seaport Boulevard, Suite 4B\nBoston, MA 02210\nUnited States"
    settings.business_tax_id = "EIN 12-3456789"
    settings.business_email = "frontdesk@harborphysio.example"
    settings.business_phone = "+1 617-555-0100"
    return settings


def _catalog(now) -> tuple[dict[str, Service], dict[str, Plan]]:
    """Services and plans, reusing rows that already carry the same name."""
    services: dict[str, Service] = {}
    for key, (name, minutes, price, description) in SERVICES.items():
        service = db.session.scalar(select(Service).where(Service.name == name))
        if service is None:
            service = Service(name=name, duration_minutes=minutes, price_minor=price,
                              currency=CURRENCY, description=description, is_active=True,
                              created_at=now - timedelta(days=900), updated_at=now)
            db.session.add(service)
        services[key] = service
    plans: dict[str, Plan] = {}
    for key, (name, price, interval, fee, max_members, active, lines) in PLANS.items():
        plan = db.session.scalar(select(Plan).where(Plan.name == name))
        if plan is None:
            plan = Plan(name=name, price_minor=price, currency=CURRENCY, interval=interval,
                        interval_count=1, activation_fee_minor=fee, max_members=max_members,
                        is_active=active, is_public_link_enabled=active,
                        description=PLAN_DESCRIPTIONS[key],
                        created_at=now - timedelta(days=900), updated_at=now)
            plan.services = [PlanService(service=services[s], credits_per_period=n)
                             for s, n in lines.items()]
            db.session.add(plan)
        plans[key] = plan
    return services, plans


def _promo_codes(now, plans: dict[str, Plan]) -> dict[str, PromoCode]:
    """One code per interesting rule: once, N months, forever amount, expired, maxed out,
    restricted to plans, inactive. ``times_redeemed`` is set once subscriptions exist."""
    specs = {
        "WELCOME20": dict(description="20% off the first payment for new members",
                          discount_type=DiscountType.PERCENT, percent_off=20,
                          duration=DiscountDuration.ONCE),
        "SPRING15": dict(description="15% off for 3 months (spring campaign)",
                         discount_type=DiscountType.PERCENT, percent_off=15,
                         duration=DiscountDuration.REPEATING, duration_months=3),
        "LOYAL10": dict(description="$10 off every period for long-standing members",
                        discount_type=DiscountType.AMOUNT, amount_off_minor=1000,
                        currency=CURRENCY, duration=DiscountDuration.FOREVER),
        "SUMMER25": dict(description="Summer campaign (ended), 25% off the first payment",
                         discount_type=DiscountType.PERCENT, percent_off=25,
                         duration=DiscountDuration.ONCE, expires_at=now - timedelta(days=75)),
        "LAUNCH50": dict(description="Opening week: 50% off, first 5 members only",
                         discount_type=DiscountType.PERCENT, percent_off=50,
                         duration=DiscountDuration.ONCE, max_redemptions=5),
        "STUDIO30": dict(description="30% off studio plans for 2 months",
                         discount_type=DiscountType.PERCENT, percent_off=30,
                         duration=DiscountDuration.REPEATING, duration_months=2,
                         expires_at=now + timedelta(days=120)),
        "STAFF100": dict(description="Staff family membership (disabled)",
                         discount_type=DiscountType.PERCENT, percent_off=100,
                         duration=DiscountDuration.FOREVER, is_active=False),
    }
    promos: dict[str, PromoCode] = {}
    for code, fields in specs.items():
        promo = db.session.scalar(select(PromoCode).where(PromoCode.code == code))
        if promo is None:
            promo = PromoCode(code=code, times_redeemed=0, created_at=now - timedelta(days=700),
                              updated_at=now, **fields)
            if code == "STUDIO30":
                promo.plans = [plans["reformer"], plans["wellness"]]
            db.session.add(promo)
        promos[code] = promo
    return promos
