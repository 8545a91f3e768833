"""Row generation for the scale seeder: plain dicts with ids assigned here, no database.

Per contact on average: ~0.6 subscriptions, ~3 payments (most succeeded, a few refunded with
their refund rows), ~0.85 saved cards and ~1.5 credit entries. Every row keeps the same
invariants as the demo: refunded amount = sum of succeeded refunds <= amount paid, credit
balances never below zero, at most one default card per contact. Optionally every paid
payment gets its receipt and every refund its credit note, numbered on from the last number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from admin_app.search_keys import MIN_PHONE_DIGITS, name_tokens, phone_digits, phone_token

from . import names
from .common import add_interval, approx_days, clamp_day, periods

TABLES = ("contact", "contact_search_key", "payment_method", "subscription", "payment", "refund",
          "credit_entry")
DOCUMENT_TABLES = ("document", "document_line")

CONTACT_STATUSES = (("active", 80), ("lead", 8), ("inactive", 9), ("archived", 3))
SUB_STATUSES = (("active", 68), ("past_due", 6), ("canceled", 20), ("incomplete", 6))
RETAIL = (("Kinesiology tape (roll)", 1500), ("Foam roller", 3500), ("Private session", 9000),
          ("Resistance band set", 2500), ("Late cancellation fee", 2500),
          ("5-class pack", 16000), ("Initial assessment", 12000))
REFUND_REASONS = ("requested_by_customer", "duplicate", "service_not_provided", "billing_error",
                  "other")
DAY = 86_400


@dataclass(frozen=True)
class PlanInfo:
    id: int
    name: str
    price_minor: int
    currency: str
    interval: str
    interval_count: int
    activation_fee_minor: int
    lines: tuple[tuple[int, int], ...]  # (service_id, credits per period)


def _weighted(pairs) -> list[str]:
    return [value for value, weight in pairs for _ in range(weight)]


class RowFactory:
    """Makes the rows of ``n`` contacts at a time, continuing the ids it was given."""

    def __init__(self, rng: random.Random, now: datetime, plans: list[PlanInfo], currency: str,
                 actor_id: int | None, next_ids: dict[str, int],
                 next_numbers: dict[str, int] | None = None) -> None:
        self.rng, self.now, self.plans, self.currency = rng, now, plans, currency
        self.actor_id = actor_id
        self.ids = dict(next_ids)  # last id used per table
        self.documents = next_numbers is not None  # issue receipts and credit notes
        self.numbers = dict(next_numbers or {})  # last document number per type
        self.slugs = {n: names.ascii_slug(n) or "x"
                      for n in names.FIRST_NAMES + names.LAST_NAMES}
        self.name_keys = {n: name_tokens(n) for n in names.FIRST_NAMES + names.LAST_NAMES}
        self.contact_statuses = _weighted(CONTACT_STATUSES)
        self.sub_statuses = _weighted(SUB_STATUSES)

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def batch(self, n: int) -> dict[str, list[dict]]:
        self.rows: dict[str, list[dict]] = {t: [] for t in TABLES + DOCUMENT_TABLES}
        for _ in range(n):
            self._contact()
        return self.rows

    # -- one contact and everything it owns ------------------------------------------------

    def _contact(self) -> None:
        rng, now = self.rng, self.now
        status = rng.choice(self.contact_statuses)
        sub = None
        if status != "lead" and rng.random() < 0.652:
            sub = self._plan_timeline(rng.choice(self.plans), status)
            created = sub[2] - timedelta(seconds=rng.randrange(60, 30 * DAY))
        else:
            created = now - timedelta(seconds=rng.randrange(3600, 3 * 365 * DAY))
        cid = self._id("contact")
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        phone = names.phone_for(rng) if rng.random() < 0.93 else None
        self.rows["contact"].append({
            "id": cid, "first_name": first, "last_name": last,
            "email": f"{self.slugs[first]}.{self.slugs[last]}.{cid}@"
                     f"{rng.choice(names.EMAIL_DOMAINS)}",
            "phone": phone,
            "status": status, "stripe_customer_id": None, "notes": None,
            "created_at": created, "updated_at": created,
        })
        self._search_keys(cid, first, last, phone)
        has_card = status != "lead" and (sub is not None or rng.random() < 0.55)
        if has_card:
            self._card(cid, created, is_default=True)
            if rng.random() < 0.1:
                self._card(cid, created + timedelta(seconds=rng.randrange(60, 600)),
                           is_default=False)
        if sub is not None:
            self._subscription(cid, *sub)
        if status != "lead":
            while rng.random() < 0.45:
                self._custom_bill(cid, created, has_card)

    def _search_keys(self, cid: int, first: str, last: str, phone: str | None) -> None:
        """The keys ``search_keys.search_tokens`` gives, from the name lists' cache."""
        tokens = self.name_keys[first] | self.name_keys[last]
        digits = phone_digits(phone)
        if len(digits) >= MIN_PHONE_DIGITS:
            tokens = tokens | {phone_token(digits)}
        self.rows["contact_search_key"].extend(
            {"token": token, "contact_id": cid} for token in tokens)

    def _card(self, cid: int, when: datetime, *, is_default: bool) -> None:
        rng = self.rng
        pid = self._id("payment_method")
        self.rows["payment_method"].append({
            "id": pid, "contact_id": cid, "brand": names.card_brand(rng),
            "last4": f"{rng.randrange(10_000):04d}", "exp_month": rng.randint(1, 12),
            "exp_year": self.now.year + rng.randint(-1 if not is_default else 1, 5),
            "is_default": is_default, "gateway_id": f"pm_scale{pid}",
            "created_at": when, "updated_at": when,
        })

    def _plan_timeline(self, plan: PlanInfo, contact_status: str):
        """(plan, status, start, spans, cancel_at) of one subscription."""
        rng, now = self.rng, self.now
        status = rng.choice(self.sub_statuses)
        if contact_status in ("inactive", "archived"):
            status = "canceled"
        days = approx_days(plan.interval, plan.interval_count)
        k = {"week": rng.randint(1, 20), "month": rng.randint(1, 7), "quarter": rng.randint(1, 4),
             "year": rng.randint(1, 2)}[plan.interval]
        cancel_at = None
        if status == "incomplete":
            start = now - timedelta(seconds=rng.randrange(60, 5 * DAY))
        elif status == "canceled":
            cancel_at = clamp_day(now - timedelta(seconds=rng.randrange(DAY, 500 * DAY)))
            start = add_interval(cancel_at, plan.interval, -k * plan.interval_count)
            if rng.random() < 0.5:  # cancelled at once, part-way through the last period
                cancel_at -= timedelta(seconds=rng.randrange(3600, (days - 1) * DAY))
        else:
            if status == "past_due":
                k, offset = max(k, 2), rng.randrange(DAY, 10 * DAY)
            else:
                offset = rng.randrange(3600, (days - 1) * DAY)
            current = clamp_day(now - timedelta(seconds=offset))
            start = add_interval(current, plan.interval, -(k - 1) * plan.interval_count)
        spans = periods(start, plan.interval, plan.interval_count, cancel_at or now)
        return plan, status, start, spans, cancel_at

    def _subscription(self, cid: int, plan: PlanInfo, status: str, start: datetime,
                      spans: list, cancel_at: datetime | None) -> None:
        rng = self.rng
        sid = self._id("subscription")
        begin, end = spans[-1]
        self.rows["subscription"].append({
            "id": sid, "contact_id": cid, "plan_id": plan.id, "status": status,
            "current_period_start": begin, "current_period_end": end,
            "cancel_at_period_end": (status == "active" and rng.random() < 0.05)
                                    or (cancel_at is not None and cancel_at == end),
            "canceled_at": cancel_at, "scheduled_plan_id": None, "promo_code_id": None,
            "promo_periods_left": None, "gateway_id": None,
            "created_at": start, "updated_at": cancel_at or begin,
        })
        last_paid = None
        for index, (begin, end) in enumerate(spans):
            when = begin + timedelta(seconds=rng.randrange(60, 1800))
            if when >= self.now:  # a period that began a moment ago
                when = begin + (self.now - begin) * rng.random()
            last = index == len(spans) - 1
            label = f"{plan.name}: {begin:%Y-%m-%d} to {end:%Y-%m-%d}"
            if status == "incomplete" or (status == "past_due" and last):
                outcome = "pending" if rng.random() < 0.2 else "failed"
            else:
                outcome = "succeeded"
                retry = when + timedelta(hours=20)
                if index and retry < self.now and rng.random() < 0.03:  # declined, then paid
                    self._payment(cid, sid, plan.price_minor, plan.currency,
                                  "subscription_period", when, label, "failed")
                    when = retry
            if index == 0 and plan.activation_fee_minor:
                self._payment(cid, sid, plan.activation_fee_minor, plan.currency,
                              "activation_fee", when, f"Activation fee: {plan.name}", outcome,
                              cash=rng.random() < 0.1)
            pid = self._payment(cid, sid, plan.price_minor, plan.currency,
                                "subscription_period", when, label, outcome)
            if outcome == "succeeded":
                last_paid = (begin, end, when, pid)
        if last_paid is not None:
            self._credits(cid, sid, plan, *last_paid, cancel_at)

    def _credits(self, cid: int, sid: int, plan: PlanInfo, begin: datetime, end: datetime,
                 granted: datetime, payment_id: int, cancel_at: datetime | None) -> None:
        """The last paid period's grant, a booking or two, and the expiry when it closed."""
        rng, now = self.rng, self.now
        closes = min(end, cancel_at) if cancel_at else end
        window = max(1, int((min(closes, now) - granted).total_seconds()))
        rows = self.rows["credit_entry"]
        for service_id, credits in plan.lines:
            rows.append(self._credit(cid, service_id, sid, credits, "period_grant", granted,
                                     expires_at=end, payment_id=payment_id))
            used = rng.randint(0, min(2, credits)) if window > 3600 else 0
            for _ in range(used):
                when = granted + timedelta(seconds=rng.randrange(window))
                rows.append(self._credit(cid, service_id, sid, -1, "booking", when))
            if closes <= now and credits > used:
                rows.append(self._credit(cid, service_id, sid, used - credits, "expiry", closes))

    def _credit(self, cid, service_id, sid, quantity, reason, when, *, expires_at=None,
                payment_id=None) -> dict:
        return {"id": self._id("credit_entry"), "contact_id": cid, "service_id": service_id,
                "subscription_id": sid, "payment_id": payment_id, "quantity": quantity,
                "reason": reason, "note": None, "expires_at": expires_at, "created_by_id": None,
                "created_at": when}

    def _custom_bill(self, cid: int, created: datetime, has_card: bool) -> None:
        rng, now = self.rng, self.now
        description, amount = rng.choice(RETAIL)
        span = max(61, int((now - created).total_seconds()))
        when = created + timedelta(seconds=rng.randrange(60, span))
        roll = rng.random()
        outcome = "failed" if roll < 0.04 else "pending" if roll < 0.05 else "succeeded"
        self._payment(cid, None, amount, self.currency, "custom_bill", when, description,
                      outcome if has_card else "succeeded", cash=not has_card)

    def _payment(self, cid: int, sid: int | None, amount: int, currency: str, purpose: str,
                 when: datetime, description: str, outcome: str, *, cash: bool = False) -> int:
        rng = self.rng
        pid = self._id("payment")
        row = {
            "id": pid, "contact_id": cid, "subscription_id": sid, "amount_minor": amount,
            "currency": currency, "status": outcome, "amount_refunded_minor": 0,
            "purpose": purpose, "method": "cash" if cash else "card",
            "description": description,
            "failure_reason": rng.choice(names.FAILURE_REASONS) if outcome == "failed" else None,
            "gateway_id": None if cash else f"pi_scale{pid}", "idempotency_key": None,
            "reference": f"payment-{pid}",
            "paid_at": when if outcome == "succeeded" else None,
            "created_at": when, "updated_at": when,
        }
        self.rows["payment"].append(row)
        if self.documents and outcome == "succeeded":
            self._document("receipt", row, None, amount, when, description)
        if outcome == "succeeded" and when < self.now - timedelta(hours=2):
            roll = rng.random()
            if roll < 0.045:  # 2.5% in full, 2% in part
                self._refund(row, amount if roll < 0.025 else amount * rng.randint(10, 60) // 100)
        return pid

    def _refund(self, payment: dict, amount: int) -> None:
        if amount <= 0:
            return
        rng = self.rng
        span = int((self.now - payment["paid_at"]).total_seconds()) - 60
        when = payment["paid_at"] + timedelta(seconds=rng.randrange(60, max(61, min(span,
                                                                                   30 * DAY))))
        rid = self._id("refund")
        self.rows["refund"].append({
            "id": rid, "payment_id": payment["id"], "amount_minor": amount,
            "currency": payment["currency"], "reason": rng.choice(REFUND_REASONS), "note": None,
            "status": "succeeded", "failure_reason": None,
            "gateway_id": None if payment["gateway_id"] is None else f"re_scale{rid}",
            "idempotency_key": None, "reference": f"refund-{rid}",
            "issued_by_id": self.actor_id,
            "created_at": when, "updated_at": when,
        })
        if self.documents:
            self._document("credit_note", payment, rid, amount, when,
                           f"Refund: {payment['description']}")
        payment["amount_refunded_minor"] = amount
        payment["status"] = ("refunded" if amount == payment["amount_minor"]
                             else "partially_refunded")
        payment["updated_at"] = when

    def _document(self, doc_type: str, payment: dict, refund_id: int | None, amount: int,
                  when: datetime, description: str) -> None:
        did = self._id("document")
        self.numbers[doc_type] += 1
        issued = min(when + timedelta(minutes=1), self.now)
        self.rows["document"].append({
            "id": did, "doc_type": doc_type, "number": self.numbers[doc_type],
            "contact_id": payment["contact_id"], "payment_id": payment["id"],
            "refund_id": refund_id, "status": "issued", "currency": payment["currency"],
            "total_minor": amount, "notes": None, "issued_at": issued, "sent_at": None,
            "sent_channel": None, "created_at": issued, "updated_at": issued,
        })
        self.rows["document_line"].append({
            "id": self._id("document_line"), "document_id": did, "description": description,
            "quantity": 1, "unit_amount_minor": amount,
        })
