"""Each report's figures on a small hand-built history, the right answers worked out by hand.

January–March 2026 (clinic time UTC), prices: Basic $100.00/month, Premium $200.00/month,
Weekly $10.00/week (= $43.33 a month: 10 × 52 / 12), Yearly €1,200.00/year (= €100.00 a month).

- A: Basic from Jan 10 (new in January).
- B: Basic since Dec 5, upgraded to Premium from its Feb 5 period (expansion in February).
- C: Premium since Dec 1, downgraded to Basic from Feb 1 (contraction in February), cancelled
  at the end of that period, Mar 1 (churn in March).
- D: Weekly from Jan 20 (new in January); its Feb 24 renewal failed, paid by a retry Feb 26.
- E: Yearly in euros from Feb 15 (new in February, in EUR only).
- F: Basic since Dec 20; the Jan 20 renewal failed three times and went unpaid (churn in
  January, a lost failed charge); paying again from Mar 5 (reactivation in March).
- G: a $50.00 custom bill paid Feb 3, $20.00 of it refunded Mar 2.
- H: two custom bills failing in March: $30.00 never paid (lost), $40.00 paid by a retry
  after the member saved a new card (recovered by a new card).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from admin_app.clock import freeze
from admin_app.extensions import db
from admin_app.models import (
    ALL_PLANS,
    BillingInterval,
    PaymentMethodKind,
    PaymentPurpose,
    PeriodStatus,
    SubscriptionStatus,
)
from admin_app.reports.calendar import Month
from admin_app.reports.figures import by_key
from admin_app.reports.mrr import monthly_minor
from admin_app.reports.summary import compute_month
from tests.factories import make_payment, make_plan, make_subscription
from tests.reports.history import NOW, at, build_history, pay, period

JAN, FEB, MAR = Month(2026, 1), Month(2026, 2), Month(2026, 3)


@pytest.fixture
def history(app):
    return build_history()


def figures(month: Month, plan_id: int = ALL_PLANS) -> dict:
    found = by_key(compute_month(month, now=NOW).figures)
    return {(m, c, d): v for (m, p, c, d), v in found.items() if p == plan_id}


def test_per_month_normalisation():
    assert monthly_minor(1000, BillingInterval.WEEK, 1) == 4333  # 10 × 52 / 12 = 43.33
    assert monthly_minor(30000, BillingInterval.QUARTER, 1) == 10000
    assert monthly_minor(120000, BillingInterval.YEAR, 1) == 10000
    assert monthly_minor(10000, BillingInterval.MONTH, 2) == 5000  # every two months
    assert monthly_minor(1, BillingInterval.WEEK, 1) == 4  # 4.33 → 4; 0.5 rounds up
    assert monthly_minor(3, BillingInterval.MONTH, 2) == 2


def test_mrr_movements(history):
    jan, feb, mar = figures(JAN), figures(FEB), figures(MAR)
    usd = lambda f, metric: f.get((f"mrr_{metric}", "USD", ""), 0)  # noqa: E731
    # January starts with B (basic) + C (premium) + F (basic); ends with A, B, C, D.
    assert usd(jan, "start") == 10000 + 20000 + 10000
    assert usd(jan, "new") == 10000 + 4333  # A, D
    assert usd(jan, "churn") == 10000  # F went unpaid
    assert usd(jan, "expansion") == usd(jan, "contraction") == usd(jan, "reactivation") == 0
    assert usd(jan, "end") == 10000 + 10000 + 20000 + 4333
    # February: B basic → premium, C premium → basic; D past due then paid still counts.
    assert usd(feb, "expansion") == 10000 and usd(feb, "contraction") == 10000
    assert usd(feb, "new") == usd(feb, "churn") == usd(feb, "reactivation") == 0
    assert usd(feb, "start") == usd(jan, "end") and usd(feb, "end") == 44333
    # March: C's cancellation takes effect, F pays again.
    assert usd(mar, "churn") == 10000 and usd(mar, "reactivation") == 10000
    assert usd(mar, "new") == usd(mar, "expansion") == usd(mar, "contraction") == 0
    assert usd(mar, "end") == 10000 + 20000 + 4333 + 10000
    # Euros never mix with dollars.
    assert feb[("mrr_new", "EUR", "")] == 10000 and feb[("mrr_end", "EUR", "")] == 10000
    assert ("mrr_new", "EUR", "") not in jan
    assert mar[("mrr_start", "EUR", "")] == mar[("mrr_end", "EUR", "")] == 10000
    for f in (jan, feb, mar):  # the movements add up, month after month
        assert usd(f, "end") == (usd(f, "start") + usd(f, "new") + usd(f, "reactivation")
                                 + usd(f, "expansion") - usd(f, "contraction") - usd(f, "churn"))


def test_mrr_of_one_plan(history):
    """In February B leaves Basic for Premium and C the other way: churn and new in each
    plan, expansion and contraction in all plans together."""
    basic = figures(FEB, history["basic"].id)
    assert basic[("mrr_start", "USD", "")] == 20000  # A, B
    assert basic[("mrr_churn", "USD", "")] == 10000  # B
    assert basic[("mrr_new", "USD", "")] == 10000  # C, never paid Basic before
    assert basic[("mrr_end", "USD", "")] == 20000  # A, C
    premium = figures(FEB, history["premium"].id)
    assert premium[("mrr_churn", "USD", "")] == 20000 and premium[("mrr_new", "USD", "")] == 20000
    assert ("mrr_expansion", "USD", "") not in basic


def test_members(history):
    jan, feb, mar = figures(JAN), figures(FEB), figures(MAR)
    count = lambda f, metric: f.get((f"members_{metric}", "", ""), 0)  # noqa: E731
    assert (count(jan, "start"), count(jan, "new"), count(jan, "cancelled"),
            count(jan, "end")) == (3, 2, 1, 4)  # B C F; + A D; − F
    assert (count(feb, "start"), count(feb, "new"), count(feb, "cancelled"),
            count(feb, "end")) == (4, 1, 0, 5)  # + E
    assert (count(mar, "start"), count(mar, "new"), count(mar, "cancelled"),
            count(mar, "end")) == (5, 1, 1, 5)  # + F back; − C


def test_revenue(history):
    jan, feb, mar = figures(JAN), figures(FEB), figures(MAR)
    period_usd = ("revenue_payments", "USD", PaymentPurpose.SUBSCRIPTION_PERIOD.value)
    custom_usd = ("revenue_payments", "USD", PaymentPurpose.CUSTOM_BILL.value)
    # January: A 100, B 100, C 200, D two weeks 2 × 10; F's attempts failed.
    assert jan[period_usd] == 10000 + 10000 + 20000 + 2000
    # February: A 100, B 200, C 100, D Feb 3, 10, 17 and the Feb 24 period paid Feb 26.
    assert feb[period_usd] == 10000 + 20000 + 10000 + 4000
    assert feb[custom_usd] == 5000  # G, refunded later: the refund counts in March
    assert feb[("revenue_payments", "EUR", PaymentPurpose.SUBSCRIPTION_PERIOD.value)] == 120000
    # March: A 100, B 200, D five weeks, F 100; H's second bill paid by its retry.
    assert mar[period_usd] == 10000 + 20000 + 5000 + 10000
    assert mar[custom_usd] == 4000
    assert mar[("revenue_refunds", "USD", PaymentPurpose.CUSTOM_BILL.value)] == 2000
    assert not any(key[0] == "revenue_refunds" for key in feb)


def test_failed_payments(history):
    jan, feb, mar = figures(JAN), figures(FEB), figures(MAR)
    usd = lambda f, metric: f.get((metric, "USD", ""), 0)  # noqa: E731
    # January: F's period, three failed attempts, one failed charge, lost (unpaid).
    assert (usd(jan, "failed_count"), usd(jan, "failed_minor")) == (1, 10000)
    assert (usd(jan, "lost_count"), usd(jan, "lost_minor")) == (1, 10000)
    # February: D's renewal, paid by the retry two days later.
    assert (usd(feb, "failed_count"), usd(feb, "recovered_retry_count"),
            usd(feb, "recovered_retry_minor")) == (1, 1, 1000)
    # March: H's two bills: one lost, one recovered after a new card.
    assert (usd(mar, "failed_count"), usd(mar, "failed_minor")) == (2, 7000)
    assert (usd(mar, "lost_count"), usd(mar, "lost_minor")) == (1, 3000)
    assert (usd(mar, "recovered_card_count"), usd(mar, "recovered_card_minor")) == (1, 4000)
    assert usd(mar, "recovered_retry_count") == 0


def test_credits_and_appointments(history):
    jan, feb, mar = figures(JAN), figures(FEB), figures(MAR)
    service = str(history["basic"].services[0].service_id)
    count = lambda f, metric: f.get((metric, "", service), 0)  # noqa: E731
    assert (count(jan, "credits_granted"), count(jan, "credits_used"),
            count(jan, "credits_expired")) == (4, 1, 0)  # booked 2, one given back
    assert (count(feb, "credits_granted"), count(feb, "credits_used"),
            count(feb, "credits_expired")) == (2, 0, 3)
    assert (count(feb, "no_shows"), count(feb, "no_show_fees_charged"),
            count(feb, "no_show_fees_waived")) == (1, 1, 0)
    assert feb[("no_show_fees_minor", "USD", service)] == 7500
    assert feb[("revenue_payments", "USD", "no_show_fee")] == 7500
    assert (count(mar, "no_shows"), count(mar, "no_show_fees_waived")) == (1, 1)
    assert ("no_show_fees_minor", "USD", service) not in mar
    basic = figures(JAN, history["basic"].id)  # A's credits belong to its Basic plan
    assert basic[("credits_granted", "", service)] == 4
    assert ("no_shows", "", service) not in figures(FEB, history["basic"].id)


def test_failed_payment_still_retrying_then_recovered(app):
    freeze(at(3, 20))
    plan = make_plan(price_minor=10000)
    sub = make_subscription(plan=plan, status=SubscriptionStatus.PAST_DUE,
                            current_period_start=at(3, 10), current_period_end=at(4, 10))
    row = period(sub, plan, at(3, 10), at(4, 10), status=PeriodStatus.PAST_DUE)
    pay(row, at(3, 10), failed=True)
    db.session.commit()
    found = by_key(compute_month(MAR, now=at(3, 20)).figures)
    assert found[("retrying_count", ALL_PLANS, "USD", "")] == 1
    pay(row, at(3, 12), attempt=2)  # the retry got through
    db.session.commit()
    found = by_key(compute_month(MAR, now=at(3, 20)).figures)
    assert found[("recovered_retry_count", ALL_PLANS, "USD", "")] == 1
    assert ("retrying_count", ALL_PLANS, "USD", "") not in found


def test_month_in_the_clinics_time_zone(app):
    """A payment at 02:00 UTC on Feb 1 is still January 31 in New York."""
    from admin_app.models import CashierSettings

    settings = CashierSettings.get()
    settings.time_zone = "America/New_York"
    make_payment(amount_minor=700, created_at=at(2, 1, 2), paid_at=at(2, 1, 2))
    db.session.commit()
    jan = by_key(compute_month(JAN, now=NOW).figures)
    assert jan[("revenue_payments", ALL_PLANS, "USD", "custom_bill")] == 700
    assert not by_key(compute_month(FEB, now=NOW).figures)


def test_what_account_credit_pays_is_not_revenue_again(app):
    """A $60.00 card payment kept as account credit pays part of a later bill: the money
    counts once, when the card paid it; the credit's spending is not revenue again."""
    make_payment(amount_minor=6000, created_at=at(1, 5), paid_at=at(1, 5))
    make_payment(amount_minor=6000, created_at=at(2, 3), paid_at=at(2, 3),
                 method=PaymentMethodKind.ACCOUNT_CREDIT)
    make_payment(amount_minor=1500, created_at=at(2, 3), paid_at=at(2, 3))  # the rest, by card
    db.session.commit()
    assert figures(JAN)[("revenue_payments", "USD", "custom_bill")] == 6000
    assert figures(FEB)[("revenue_payments", "USD", "custom_bill")] == 1500


def test_recovery_rate_and_churn_rate_in_the_tables(history):
    from admin_app.reports.series import read_months
    from admin_app.reports.tables import failed_payment_tables, members_tables

    months = read_months([JAN, FEB, MAR], plan_id=ALL_PLANS, now=NOW)
    members = members_tables(months)[0]
    assert members.rows[0][-1] == Fraction(1, 5) and members.rows[2][-1] == Fraction(1, 6)
    assert members.display(members.columns[-1], members.rows[0][-1]) == "20.0%"
    failed = failed_payment_tables(months)[0]
    assert [row[-1] for row in failed.rows] == [Fraction(0), Fraction(1), Fraction(1, 2)]
