"""Links sent or shown to members are absolute, built from PUBLIC_BASE_URL, and the same
whoever builds them: a view in a request, the CLI, a background worker (admin_app/links.py)."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest

from admin_app import create_app
from admin_app.actions.send_payment_method_link import send_payment_method_link
from admin_app.actions.send_plan_invitation import send_plan_invitation
from admin_app.billing.plan_links import public_plan_url
from admin_app.extensions import db
from admin_app.links import public_url
from admin_app.models import DeliveryChannel, OutboundMessage
from tests.factories import make_admin, make_contact, make_plan

BASE = "https://billing.clinic.example"


@pytest.fixture
def public_app(app):
    app.config["PUBLIC_BASE_URL"] = BASE
    return app


def test_absolute_from_the_setting_without_a_request(public_app):
    assert public_url("public.subscribe", token="abc") == f"{BASE}/join/abc"
    assert public_url("public_card.card_page", token="t.x-y") == f"{BASE}/pay/card/t.x-y"


def test_the_same_inside_a_request_on_another_host(public_app):
    with public_app.test_request_context("/admin/", base_url="http://10.0.0.7:8000/"):
        assert public_url("public.subscribe", token="abc") == f"{BASE}/join/abc"


def test_a_path_prefix_and_a_trailing_slash(app):
    app.config["PUBLIC_BASE_URL"] = "https://clinic.example/billing/"
    assert public_url("public.subscribe", token="abc") == "https://clinic.example/billing/join/abc"


def test_unset_it_is_this_machine_on_port(app, monkeypatch):
    app.config["PUBLIC_BASE_URL"] = None
    monkeypatch.delenv("PORT", raising=False)
    assert public_url("public.subscribe", token="abc") == "http://127.0.0.1:5000/join/abc"
    monkeypatch.setenv("PORT", "8000")
    assert public_url("public.subscribe", token="abc") == "http://127.0.0.1:8000/join/abc"
    # Unset, a request does not change it either: what the desk sees is what the CLI sends.
    with app.test_request_context("/", base_url="http://localhost/"):
        assert public_url("public.subscribe", token="abc") == "http://127.0.0.1:8000/join/abc"


def test_from_the_environment_at_start_up(app_config, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", f"{BASE}/")
    assert create_app(app_config).config["PUBLIC_BASE_URL"] == BASE
    monkeypatch.delenv("PUBLIC_BASE_URL")
    monkeypatch.setenv("PORT", "8123")
    assert create_app(app_config).config["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"


@pytest.mark.parametrize("bad", ["billing.clinic.example", "ftp://clinic.example",
                                 "https://", "https://clinic.example/?a=1"])
def test_a_malformed_setting_stops_the_start(app_config, bad):
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        create_app({**app_config, "PUBLIC_BASE_URL": bad})


def test_queued_messages_carry_the_same_link_in_and_out_of_a_request(public_app):
    plan = make_plan(name="Monthly Physio")
    grace = make_contact(first_name="Grace", email="grace@example.com")
    db.session.commit()
    cashier = make_admin(role="cashier")

    def invite():
        invitation = send_plan_invitation(plan, contact=grace, channel=DeliveryChannel.EMAIL,
                                          actor=cashier, idempotency_key=uuid4().hex).record
        return db.session.get(OutboundMessage, invitation.outbound_message_id).body, \
            invitation.token

    from_cli, cli_token = invite()
    with public_app.test_request_context("/admin/plan/link/", base_url="http://internal:8000/"):
        from_desk, desk_token = invite()
        shown = public_plan_url(plan)
    assert from_cli.endswith(f"{BASE}/join/invite/{cli_token}")
    assert from_desk.endswith(f"{BASE}/join/invite/{desk_token}")
    assert shown == f"{BASE}/join/{plan.public_token}"

    bodies = [send_payment_method_link(grace, actor=cashier,
                                       idempotency_key=uuid4().hex).record.body]
    with public_app.test_request_context("/admin/", base_url="http://internal:8000/"):
        bodies.append(send_payment_method_link(grace, actor=cashier,
                                               idempotency_key=uuid4().hex).record.body)
    for body in bodies:
        assert re.search(rf"{re.escape(BASE)}/pay/card/[\w.-]+", body), body


def test_links_are_built_in_one_place():
    # Members' links come from admin_app/links.py only; a url_for(..., _external=True)
    # elsewhere would depend on the request again.
    package = Path(__file__).resolve().parent.parent / "admin_app"
    offenders = [str(path.relative_to(package)) for path in package.rglob("*.py")
                 if re.search(r"[(,]\s*_external\s*=", path.read_text())]
    assert offenders == []
