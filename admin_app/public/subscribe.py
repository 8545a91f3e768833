"""The member's sign-up page behind a plan's Subscription Link (workflow 7, issue 13):
``/join/<token>`` for the plan's public link, ``/join/invite/<token>`` for a personal
invitation (single use, its contact's details and promo code prefilled). No sign-in, no admin
chrome: the plan, what is due today, a promo code box, the member's details, the clinic's
terms when it has some, and the card. Paying runs ``subscribe_to_plan``, the desk's action.

A link that is off, regenerated, of a plan no longer sold, or an invitation used or expired
gets a friendly page (404 / 410), never an error. Payment attempts are rate-limited per
address and per link (Flask-Limiter); refusals are logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from ..actions.runner import AlreadyDone
from ..actions.subscribe_to_plan import (
    BrowserCard,
    BrowserStep,
    SignupCard,
    review_subscription,
    subscribe_to_plan,
)
from ..actors import SYSTEM
from ..billing.plan_link_stats import count_open
from ..billing.signups import NewMember
from ..billing.subscribing import SubscriptionQuote
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db, limiter
from ..models import CashierSettings, Plan, PlanInvitation, SignupAttempt, SignupStatus
from ..payments import get_gateway
from ..security_headers import allow_stripe_js
from ..views.action_forms import ActionForm, new_idempotency_key
from .card import MemberCardForm
from .logo import logo_url

bp = Blueprint("public", __name__, url_prefix="/join")

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^\+?[0-9 ()./-]{6,24}$"


class SignupDetailsForm(ActionForm):
    """The member's details and the promo code (with Stripe.js the card is Stripe's)."""

    first_name = StringField("First name", validators=[
        InputRequired("Enter your first name."), Length(max=80)],
        render_kw={"autocomplete": "given-name"})
    last_name = StringField("Last name", validators=[
        InputRequired("Enter your last name."), Length(max=80)],
        render_kw={"autocomplete": "family-name"})
    email = StringField("Email", validators=[
        InputRequired("Enter your email address."), Length(max=254),
        Regexp(EMAIL, message="Enter a valid email address, e.g. name@example.com.")],
        render_kw={"autocomplete": "email", "inputmode": "email", "type": "email"})
    phone = StringField("Phone", validators=[Optional(), Length(max=32), Regexp(
        PHONE, message="Enter a phone number with digits only, e.g. +1 555 010 0199.")],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "type": "tel"})
    promo_code = StringField("Promo code", validators=[Optional(), Length(max=40)],
                             render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    consent = BooleanField("I accept the clinic's terms")
    expected_total = HiddenField()


class SignupForm(SignupDetailsForm, MemberCardForm):
    """The details and the card as typed (gateways without a browser card form)."""


class BrowserStepForm(SignupDetailsForm):
    """A step of a Stripe.js payment: the details again, and where the payment stands."""

    step = HiddenField()
    attempt = HiddenField()
    setup_intent = HiddenField()
    payment_intent = HiddenField()


@dataclass(frozen=True)
class Opened:
    """What a link opens: the plan, and the personal invitation when it is one."""

    plan: Plan
    token: str
    invitation: PlanInvitation | None = None

    @property
    def endpoint(self) -> str:
        return "public.invitation" if self.invitation is not None else "public.subscribe"


def _settings() -> CashierSettings:
    return CashierSettings.get()


def plan_for_token(token: str) -> Plan | None:
    """The plan whose public link this is, while the link is on and the plan is sold."""
    if not token or len(token) > 64:
        return None
    plan = db.session.scalar(select(Plan).where(Plan.public_token == token))
    if plan is None or not plan.is_public_link_enabled or not plan.is_active:
        return None
    return plan


def _problem(kind: str, status: int):
    settings = _settings()
    return render_template("public/join_problem.html", kind=kind,
                           business_name=settings.business_name, logo_url=logo_url(settings),
                           ), status


def _thanks_token(attempt: SignupAttempt) -> str:
    return URLSafeSerializer(current_app.secret_key, salt="signup-thanks").dumps(attempt.id)


def _rate_key() -> str:
    return f"join:{request.view_args.get('token', '')}"


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _link_limit() -> str:
    return current_app.config["SIGNUP_LINK_RATE_LIMIT"]


def _too_many(limit):
    current_app.logger.warning("sign-up refused: rate limit %s (address %s, link %s)",
                               limit.limit, get_remote_address(), _rate_key()[-8:])
    response = _problem("busy", 429)
    return current_app.make_response(response)


def _quote(opened: Opened, promo_code: str | None) -> tuple[SubscriptionQuote | None, str | None,
                                                             str | None]:
    """(quote, promo problem, plan problem): the quote with the promo code when it applies,
    else without it and the promo's refusal; no quote when the plan cannot be joined."""
    try:
        return review_subscription(opened.plan, promo_code=promo_code, starts_at=None), None, \
            None
    except ActionError as refused:
        if not refused.code.startswith("promo_"):
            return None, None, refused.message
        quote, _, plan_problem = _quote(opened, None)
        return quote, refused.message, plan_problem


def _browser_card() -> bool:
    return get_gateway().collects_cards_in_browser


def _render(opened: Opened, form: SignupDetailsForm, *, error: str | None = None,
            promo_applied: bool = False, status: int = 200):
    settings = _settings()
    promo_code = (form.promo_code.data or "").strip() or None
    quote, promo_problem, plan_problem = _quote(opened, promo_code)
    if quote is not None:
        form.expected_total.data = str(quote.due_today_minor)
    if hasattr(form, "number"):
        form.number.data = ""  # never echo a card number back into the page
    stripe = {}
    if _browser_card():
        stripe = {"publishable_key": current_app.config.get("STRIPE_PUBLISHABLE_KEY"),
                  "stripe_js_url": current_app.config["STRIPE_JS_URL"]}
        if not stripe["publishable_key"]:
            current_app.logger.error("STRIPE_PUBLISHABLE_KEY is not set: the sign-up page "
                                     "cannot show Stripe's card form.")
            plan_problem = "Joining online is not available right now."
        else:
            allow_stripe_js(stripe["stripe_js_url"])
    return render_template(
        "public/join.html", plan=opened.plan, form=form, quote=quote, error=error,
        promo_problem=promo_problem if promo_code else None, plan_problem=plan_problem,
        promo_applied=promo_applied and quote is not None and quote.promo is not None,
        business_name=settings.business_name, logo_url=logo_url(settings),
        terms_url=settings.terms_url, invitation=opened.invitation,
        mode="stripe" if stripe else "form", **stripe,
        action=url_for(opened.endpoint, token=opened.token)), status


def _member(form: SignupDetailsForm) -> NewMember:
    return NewMember(first_name=form.first_name.data.strip(),
                     last_name=form.last_name.data.strip(),
                     email=form.email.data.strip().lower(),
                     phone=(form.phone.data or "").strip() or None)


def _expected(form: SignupDetailsForm) -> int | None:
    expected = form.expected_total.data or ""
    return int(expected) if expected.isdigit() and len(expected) < 15 else None


def _details_problem(form: SignupDetailsForm) -> str | None:
    """Why the details cannot be used (field errors, the terms not accepted), or None."""
    if not form.validate():
        return " ".join(f"{getattr(form, name).label.text}: {errors[0]}"
                        for name, errors in form.errors.items() if name != "csrf_token") \
            or "This page has expired: reload it and try again."
    if _settings().terms_url and not form.consent.data:
        form.consent.errors = ["Please accept the clinic's terms to join."]
        return "Please accept the clinic's terms to join."
    return None


def _paid_already(done: AlreadyDone) -> SignupAttempt | None:
    earlier = done.request
    attempt = (db.session.get(SignupAttempt, int(earlier.result_id))
               if earlier is not None and (earlier.result_id or "").isdigit() else None)
    return attempt if attempt is not None and attempt.status is SignupStatus.PAID else None


def _refused(opened: Opened, refused: ActionError) -> None:
    current_app.logger.warning("sign-up refused: %s (plan %s, address %s)", refused.code,
                               opened.plan.id, get_remote_address())
    db.session.rollback()


def _join(opened: Opened):
    if request.method == "POST" and request.form.get("step") and _browser_card():
        return _browser_step(opened)
    form = BrowserStepForm() if _browser_card() else SignupForm()
    if not form.is_submitted():
        count_open(opened.plan, opened.invitation)
        db.session.commit()
        invitation = opened.invitation
        if invitation is not None:
            contact = invitation.contact
            form.first_name.data, form.last_name.data = contact.first_name, contact.last_name
            form.email.data, form.phone.data = contact.email, contact.phone
            form.promo_code.data = invitation.promo_code.code if invitation.promo_code else ""
        return _render(opened, form)
    if "apply_promo" in request.form or _browser_card():
        for field in form:
            field.errors = []
        return _render(opened, form, promo_applied=True)
    problem = _details_problem(form)
    if problem:
        return _render(opened, form, error=problem if "expired" in problem or "terms" in problem
                       else "Please correct the highlighted fields.", status=400)
    try:
        result = subscribe_to_plan(
            _member(form), plan=opened.plan,
            promo_code=(form.promo_code.data or "").strip() or None,
            paid_with=SignupCard(form.card()), actor=SYSTEM,
            idempotency_key=form.idempotency_key.data, invitation=opened.invitation,
            client_address=get_remote_address(), expected_total_minor=_expected(form))
    except AlreadyDone as done:
        attempt = _paid_already(done)
        if attempt is not None:
            return redirect(url_for("public.welcome", key=_thanks_token(attempt)))
        return _render(opened, form, error="This form was already sent. Check your email "
                                           "before trying again.", status=409)
    except ActionError as refused:
        _refused(opened, refused)
        if refused.code == "gateway_unavailable":
            return _welcome_page(None, pending_message=refused.message), 202
        form.idempotency_key.data = new_idempotency_key()
        return _render(opened, form, error=refused.message, status=402
                       if refused.code in ("card_declined", "authentication_required") else 400)
    return redirect(url_for("public.welcome", key=_thanks_token(result.record)))


def _attempt_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="signup-attempt")


def _browser_step(opened: Opened):
    """One step of a Stripe.js payment, answered in JSON for the page's script: ``start``
    (open the attempt and a card setup), ``pay`` (charge the confirmed card), ``confirm``
    (settle a charge the member authenticated). Each step has its own key."""
    form = BrowserStepForm()
    step = form.step.data if form.step.data in ("start", "pay", "confirm") else None
    problem = _details_problem(form) if step else "Reload the page and try again."
    if problem:
        return jsonify(error=problem), 400
    attempt_id = None
    if step != "start":
        try:
            attempt_id = _attempt_serializer().loads(form.attempt.data or "")
        except BadSignature:
            return jsonify(error="This payment does not belong to this page: reload it."), 400
    card = BrowserCard(attempt_id=attempt_id,
                       setup_id=(form.setup_intent.data or "").strip()[:80] or None
                       if step == "pay" else None,
                       payment_intent=(form.payment_intent.data or "").strip()[:80] or None
                       if step == "confirm" else None)
    try:
        result = subscribe_to_plan(
            _member(form), plan=opened.plan,
            promo_code=(form.promo_code.data or "").strip() or None, paid_with=card,
            actor=SYSTEM, idempotency_key=f"{form.idempotency_key.data}:{step}"[:80],
            invitation=opened.invitation, client_address=get_remote_address(),
            expected_total_minor=_expected(form))
    except AlreadyDone as done:
        attempt = _paid_already(done)
        if attempt is not None:
            return jsonify(redirect=url_for("public.welcome", key=_thanks_token(attempt)))
        return jsonify(error="This form was already sent. Check your email before trying "
                             "again."), 409
    except ActionError as refused:
        _refused(opened, refused)
        return jsonify(error=refused.message, pending=refused.code == "gateway_unavailable",
                       key=new_idempotency_key()), \
            402 if refused.code in ("card_declined", "authentication_required") else 400
    record = result.record
    if isinstance(record, BrowserStep):
        return jsonify(next=record.kind, client_secret=record.client_secret,
                       attempt=_attempt_serializer().dumps(record.attempt_id))
    return jsonify(redirect=url_for("public.welcome", key=_thanks_token(record)))


@bp.route("/<token>", methods=("GET", "POST"))
@limiter.limit(_signup_limit, methods=["POST"], on_breach=_too_many)
@limiter.limit(_link_limit, methods=["POST"], key_func=_rate_key, on_breach=_too_many)
def subscribe(token: str):
    plan = plan_for_token(token)
    if plan is None:
        return _problem("inactive", 404)  # unknown, regenerated or switched off: all alike
    return _join(Opened(plan, token))


@bp.route("/invite/<token>", methods=("GET", "POST"))
@limiter.limit(_signup_limit, methods=["POST"], on_breach=_too_many)
@limiter.limit(_link_limit, methods=["POST"], key_func=_rate_key, on_breach=_too_many)
def invitation(token: str):
    invitation = (db.session.scalar(select(PlanInvitation).where(PlanInvitation.token == token))
                  if token and len(token) <= 64 else None)
    if invitation is None:
        return _problem("inactive", 404)
    if invitation.signed_up_at is not None:
        return _problem("used", 410)
    if invitation.expires_at is not None and invitation.expires_at <= utcnow():
        return _problem("expired", 410)
    plan = invitation.plan
    if not plan.is_active or not plan.is_public_link_enabled:
        return _problem("inactive", 404)
    return _join(Opened(plan, token, invitation))


def _welcome_page(attempt: SignupAttempt | None, *, pending_message: str | None = None):
    settings = _settings()
    subscription = period = card = receipt_sent = None
    if attempt is not None:
        from ..billing.charging import default_card
        from ..models import Contact, Document, DocumentType, Subscription

        subscription = db.session.get(Subscription, attempt.subscription_id)
        period = subscription.periods.first() if subscription is not None else None
        contact = db.session.get(Contact, attempt.contact_id)
        card = default_card(contact) if contact is not None else None
        receipt_sent = db.session.scalar(select(Document.sent_at).where(
            Document.payment_id == attempt.payment_id,
            Document.doc_type == DocumentType.RECEIPT)) if attempt.payment_id else None
    return render_template("public/join_welcome.html", attempt=attempt,
                           subscription=subscription, period=period, card=card,
                           receipt_sent=receipt_sent, pending_message=pending_message,
                           business_name=settings.business_name, logo_url=logo_url(settings))


@bp.route("/welcome/<key>")
def welcome(key: str):
    try:
        attempt_id = URLSafeSerializer(current_app.secret_key, salt="signup-thanks").loads(key)
    except BadSignature:
        return _problem("inactive", 404)
    attempt = db.session.get(SignupAttempt, attempt_id) if isinstance(attempt_id, int) else None
    if attempt is None or attempt.status is not SignupStatus.PAID:
        return _problem("inactive", 404)
    return _welcome_page(attempt)
