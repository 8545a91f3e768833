"""Browser tests: Debian's Chromium driven by Playwright against the app served on a real port.

Like every page test they run on one backend (``PAGE_BACKEND`` in the root conftest).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from admin_app.clock import utcnow
from admin_app.extensions import db

SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--disable-quic"]}


@pytest.fixture
def browser_context_args(browser_context_args):
    # A laptop-sized window: what the front desk uses.
    return {**browser_context_args, "viewport": {"width": 1366, "height": 800}}


# Every CSP violation is reported to the console too (Chromium logs most itself; the event
# also catches what it only reports to the page).
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', function (e) {
  console.error('Content Security Policy violation: ' + e.violatedDirective + ' blocked '
                + (e.blockedURI || 'inline code') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


@pytest.fixture
def csp_violations(context) -> list[str]:
    """What the browser refused under the Content-Security-Policy, on every page of the test."""
    found: list[str] = []
    context.add_init_script(REPORT_VIOLATIONS)
    context.on("console", lambda message: found.append(message.text)
               if "Content Security Policy" in message.text else None)
    return found


@pytest.fixture
def page(page, csp_violations):
    """pytest-playwright's page; the test fails if any page broke the Content-Security-Policy
    (an inline script or handler, a script from elsewhere): the panel's CSP must stay strict
    and its pages must still work under it."""
    yield page
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(
        csp_violations)


@dataclass
class Seeded:
    admin_email: str
    admin_password: str
    grace_id: int
    subscription_id: int
    plan_id: int
    plan_name: str
    service_name: str


@dataclass
class LiveServer:
    url: str
    app: object
    data: Seeded


def _seed() -> Seeded:
    from admin_app.models import (
        CashierSettings,
        CreditReason,
        PaymentMethod,
        PaymentPurpose,
        PaymentStatus,
    )
    from tests.factories import (
        make_admin,
        make_appointment,
        make_contact,
        make_credit,
        make_document,
        make_payment,
        make_plan,
        make_service,
        make_subscription,
    )

    admin = make_admin(role="owner", password="secret-pw")
    for _ in range(3):
        make_contact()                       # Ada<n> Lovelace<n>
    make_contact(first_name="Alan", last_name="Turing", email="alan.turing@example.com")
    make_contact(first_name="Alan", last_name="Kay", email="alan.kay@example.com")
    grace = make_contact(first_name="Grace", last_name="Hopper", email="grace@example.com",
                         phone="+15551234567", notes="Prefers morning appointments.")

    service = make_service(name="Physiotherapy 45 min", price_minor=9000)
    plan = make_plan(name="Monthly Physio", service=service, credits=4, price_minor=12000,
                     activation_fee_minor=2500)
    subscription = make_subscription(contact=grace, plan=plan)

    now = utcnow()
    make_payment(contact=grace, amount_minor=7500, description="Custom bill: massage",
                 created_at=now - timedelta(days=3))
    make_payment(contact=grace, amount_minor=12000, subscription=subscription,
                 purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, description="Monthly Physio",
                 created_at=now - timedelta(days=2))
    make_payment(contact=grace, amount_minor=2500, status=PaymentStatus.FAILED,
                 purpose=PaymentPurpose.ACTIVATION_FEE, paid_at=None,
                 failure_reason="card_declined", created_at=now - timedelta(days=1))

    make_credit(contact=grace, service=service, quantity=4, subscription=subscription,
                reason=CreditReason.PERIOD_GRANT, created_at=now - timedelta(days=1))
    make_credit(contact=grace, service=service, quantity=-1, reason=CreditReason.BOOKING,
                note="Booked session")
    make_appointment(contact=grace, service=service, starts_at=now + timedelta(days=2))
    db.session.add(PaymentMethod(contact=grace, brand="visa", last4="4242", exp_month=8,
                                 exp_year=now.year + 3, is_default=True, gateway_id="pm_test_1"))
    make_document(contact=grace, issued_number=1001)
    CashierSettings.get()
    db.session.commit()
    return Seeded(admin_email=admin.email, admin_password="secret-pw", grace_id=grace.id,
                  subscription_id=subscription.id, plan_id=plan.id, plan_name=plan.name,
                  service_name=service.name)


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (failures still raise in the app and show in pytest)."""

    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture
def live_server(app_config, app_pool):
    """The app with CSRF on (the worker's), seeded, served on 127.0.0.1 on a free port in a
    thread."""
    from tests.conftest import lent

    with lent(app_pool.get({**app_config, "WTF_CSRF_ENABLED": True})) as app:
        with app.app_context():
            data = _seed()
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        # The links sent to members point at this server (PUBLIC_BASE_URL, admin_app/links.py).
        app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, data=data)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()


@pytest.fixture
def shot():
    """``shot(page, name)`` saves a full-page screenshot to tests/browser/screenshots/."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def _shot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
