"""Home and the Reports pages: every role that may see money sees them, the CSVs are the
charts' data, junk choices are a message, "Check with the processor" on Home."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest

from admin_app.clock import freeze
from admin_app.extensions import db
from admin_app.models import ALL_PLANS, Payment, PaymentStatus
from admin_app.money import to_major_string
from admin_app.reports.catalog import REPORTS
from tests.reports.history import NOW, build_history
from tests.views.list_rows import row_ids

ROLES = ["owner", "manager", "cashier", "viewer"]
REPORT_URLS = [f"/admin/reports/{slug}/" for slug in REPORTS]
RANGE = "?from=2026-01&to=2026-03"


@pytest.fixture
def history(app):
    return build_history()


def charts(page: str) -> list[dict]:
    return [json.loads(html.unescape(found))
            for found in re.findall(r'data-chart="([^"]*)"', page)]


def csv_tables(text: str) -> dict[str, list[dict]]:
    """The CSV's rows per table (its first column), each a dict by column title."""
    tables: dict[str, list[dict]] = {}
    titles = None
    for row in csv.reader(io.StringIO(text)):
        if row[0] == "Table":
            titles = row
            continue
        tables.setdefault(row[0], []).append(dict(zip(titles, row, strict=True)))
    return tables


@pytest.mark.parametrize("role", ROLES)
def test_home_and_every_report_render_for_each_role(client, login, history, role):
    login(role)
    home = client.get("/admin/").get_data(as_text=True)
    assert "MRR" in home and "Active members" in home and "Revenue this month" in home
    assert 'id="todo"' in home
    menu = client.get("/admin/").get_data(as_text=True)
    assert ">Reports<" in menu.replace("\n", "").replace(" ", "") or "Reports" in menu
    for url in REPORT_URLS:
        response = client.get(url + RANGE)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert "How each figure is defined" in page and "chart.umd.min.js" in page
        assert client.get(url + "csv" + RANGE).status_code == 200


def test_csv_is_the_charts_data(client, login, history):
    login("viewer")
    for slug in REPORTS:
        page = client.get(f"/admin/reports/{slug}/{RANGE}").get_data(as_text=True)
        tables = csv_tables(client.get(f"/admin/reports/{slug}/csv{RANGE}")
                            .get_data(as_text=True))
        drawn = charts(page)
        assert len(drawn) == len(tables) > 0, slug
        for chart, (heading, rows) in zip(drawn, tables.items(), strict=True):
            months = list(dict.fromkeys(row["Month"] for row in rows))
            assert chart["labels"] == months, slug
            for dataset in chart["datasets"]:
                column = dataset["label"] + (f" ({chart['currency']})" if dataset["money"]
                                             else "")
                for month, value in zip(months, dataset["values"], strict=True):
                    cells = [row[column] for row in rows if row["Month"] == month]
                    if dataset["money"]:
                        assert cells == [to_major_string(value, chart["currency"])], (
                            slug, heading, column, month)
                    else:  # per service rows add up to the month's bar
                        assert sum(int(c) for c in cells) == value, (slug, column, month)


def test_mrr_page_shows_the_hand_worked_figures(client, login, history):
    login("manager")
    page = client.get(f"/admin/reports/mrr/{RANGE}").get_data(as_text=True)
    assert "MRR in USD" in page and "MRR in EUR" in page
    assert "$443.33" in page  # January's end: 100 + 100 + 200 + 43.33
    assert "-$100.00" in page  # February's contraction (C), March's churn
    tables = csv_tables(client.get(f"/admin/reports/mrr/csv{RANGE}").get_data(as_text=True))
    march = tables["MRR in USD"][2]
    assert march["Month"] == "Mar 2026" and march["Churn (USD)"] == "-100.00"
    assert march["Reactivation (USD)"] == "100.00" and march["MRR at end (USD)"] == "443.33"
    one_plan = client.get(f"/admin/reports/mrr/{RANGE}&plan={history['basic'].id}")
    assert "Basic" in one_plan.get_data(as_text=True)


def test_home_headlines_against_last_month(client, login, history):
    freeze(NOW)  # April 10: this month so far against March
    login("owner")
    home = client.get("/admin/").get_data(as_text=True)
    headlines = home[home.index('id="headlines"'):home.index('id="todo"')]
    assert "$443.33" in headlines  # MRR now, and at the end of March
    assert "€100.00" in headlines
    assert "end of last month" in headlines
    assert "$470.00" in headlines  # March's net revenue: 450 + 40 − 20
    refunds = headlines[headlines.index("Refunds this month"):]
    arrow = re.search(r'<span class="(text-\w+)">([▲▼])</span>', refunds)
    assert arrow is not None  # April's refunds differ from March's $20.00
    # fewer refunds is good news (green ▼), more is bad news (red ▲)
    assert arrow.groups() in (("text-success", "▼"), ("text-danger", "▲"))


@pytest.mark.parametrize("query", ["?from=junk", "?to=2026-13", "?from=2026-05&to=2026-01",
                                   "?plan=999999999999999999", "?plan=-1", "?plan=%00",
                                   "?from=1000-01&to=2026-01", "?from=%00"])
def test_junk_choices_are_a_message_never_a_500(client, login, history, query):
    login("viewer")
    response = client.get("/admin/reports/revenue/" + query)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert "report-choice-error" in response.get_data(as_text=True)
    assert client.get("/admin/reports/revenue/csv" + query).status_code in (200, 400)


def test_todo_links_open_their_filtered_lists(client, login, history):
    login("cashier")
    home = client.get("/admin/").get_data(as_text=True)
    todo = home[home.index('id="todo"'):home.index("Latest transactions")]
    links = [html.unescape(href) for href in re.findall(r'href="([^"]+)"', todo)]
    assert len(links) >= 5
    for link in links:
        assert client.get(link).status_code == 200, link


@pytest.mark.processor
def test_check_with_the_processor_from_home(client, login, app, processor):
    from uuid import uuid4

    from admin_app.actions.charge_custom_bill import charge_custom_bill
    from admin_app.models import PaymentMethodKind
    from tests.factories import give_card, make_admin, make_contact
    from tests.views.test_reconcile_pages import _unanswered  # the unanswered charge

    contact = make_contact()
    give_card(contact)
    _unanswered(processor, lambda: charge_custom_bill(
        contact, amount_minor=4500, currency="USD", description="Massage",
        method=PaymentMethodKind.CARD, actor=make_admin(), idempotency_key=uuid4().hex))
    login("viewer")
    assert "check-with-processor" not in client.get("/admin/").get_data(as_text=True)
    refused = client.post("/admin/check-with-processor/", follow_redirects=True)
    assert "does not allow" in refused.get_data(as_text=True)
    assert db.session.query(Payment).one().status is PaymentStatus.PENDING
    client.post("/admin/logout")
    login("cashier")
    home = client.get("/admin/").get_data(as_text=True)
    assert 'id="check-with-processor"' in home
    done = client.post("/admin/check-with-processor/", follow_redirects=True)
    assert "1 settled" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(Payment).one().status is PaymentStatus.SUCCEEDED
    assert 'id="unsettled"' not in client.get("/admin/").get_data(as_text=True)


def test_reports_read_the_summary_once_refreshed(client, login, history):
    """After the worker's refresh the pages read the summary table: the same page."""
    from admin_app.reports.summary import refresh_summary

    login("viewer")
    direct = client.get(f"/admin/reports/mrr/csv{RANGE}").get_data(as_text=True)
    assert refresh_summary(now=NOW)
    from admin_app.models import ReportFigure

    assert db.session.query(ReportFigure).filter_by(plan_id=ALL_PLANS).count() > 0
    assert client.get(f"/admin/reports/mrr/csv{RANGE}").get_data(as_text=True) == direct


def test_failed_renewals_today_and_renewals_due_link_to_exactly_those(client, login, app):
    from datetime import timedelta

    from admin_app.clock import utcnow
    from admin_app.models import PaymentPurpose
    from tests.factories import make_payment, make_plan, make_subscription

    now = utcnow()
    make_payment(amount_minor=1111, status=PaymentStatus.FAILED, paid_at=None,
                 purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, created_at=now)
    make_payment(amount_minor=2222, status=PaymentStatus.FAILED, paid_at=None,
                 purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, created_at=now - timedelta(days=2))
    plan = make_plan(price_minor=4000)
    due = make_subscription(plan=plan, current_period_start=now - timedelta(days=25),
                            current_period_end=now + timedelta(days=5))
    ending = make_subscription(plan=plan, current_period_start=now - timedelta(days=25),
                               current_period_end=now + timedelta(days=5),
                               cancel_at_period_end=True)
    later = make_subscription(plan=plan, current_period_start=now,
                              current_period_end=now + timedelta(days=30))
    db.session.commit()
    login("cashier")
    home = client.get("/admin/").get_data(as_text=True)
    links = {key: html.unescape(href) for key, href in re.findall(
        r'id="todo-([a-z_]+)" href="([^"]+)"', home)}
    failed = client.get(links["failed_today"]).get_data(as_text=True)
    assert "$11.11" in failed and "$22.22" not in failed
    renewing = client.get(links["renewals"]).get_data(as_text=True)
    rows = set(row_ids(renewing))
    assert rows == {due.id}, (rows, ending.id, later.id)
    todo = home[home.index('id="todo"'):]
    assert "expected $40.00" in todo  # one renewal (the other ends at its period end)
    assert 'id="todo-renewals"' in todo and ">1<" in todo.replace(" ", "").replace("\n", "")
