"""No input is a 500: hostile values into every list, form, record page, action page and
contact picker of the admin, signed in as the owner, on both databases.

Each example sends one request of every kind a view has (its list with hostile query args,
its create and edit forms posted with hostile values for every field the page shows, its
details and edit pages with a hostile id, its contact lookups and its action pages posted with
hostile values) and fails on any 5xx or exception. ``FUZZ_EXAMPLES`` sets the examples per
view (CI: a few; ``FUZZ_EXAMPLES=500`` to search harder).
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.reports.catalog import REPORTS
from tests.factories import make_admin
from tests.views.test_action_pages import ACTION_ENDPOINTS

pytestmark = pytest.mark.all_databases  # what a database refuses differs between the two

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# Shrinking a failure to its smallest example takes minutes on a page this size: off in CI
# (the failing values are printed as they were drawn), on with FUZZ_SHRINK=1.
PHASES = [p for p in Phase if p is not Phase.shrink or os.environ.get("FUZZ_SHRINK") == "1"]
VIEWS = ["contact", "service", "plan", "promo_code", "subscription", "appointment", "payment",
         "refund", "document", "payment_method", "credit_entry", "account_credit_entry",
         "cashier_settings", "admin_user", "audit_entry", "stripe_event", "bulk_job", "outbox"]
HOSTILE = ["", " ", "\t\n", "-1", "0", "1", "1.5", "-0.01", "9" * 30, "9223372036854775808",
           "-9223372036854775809", "2147483648", "92233720368547758.08", "1e309", "-1e309",
           "1e-400", "NaN", "nan", "inf", "-Infinity", "0x10", "1_000", "1,2", "1;1", "１２",
           "\u202e1", "0000-00-00", "2026-13-45", "2026-02-30 25:61:61", "9999-12-31 23:59:59",
           "0001-01-01", "x" * 10_000, "'; DROP TABLE contact; --", "%", "_", "\\", "__None",
           "true", "on", "[]", "{}", "y", "usd", "XXX", "abc@", "@", "+1 ()"]
# A NUL byte is the request guard's 400 before any view: left out here.
NO_NUL = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
HOSTILE_VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(NO_NUL, max_size=40),
                           st.integers().map(str))
# Form fields that would end the fuzzing session rather than find a 500.
SKIPPED_FIELDS = {"csrf_token"}
_FIELD_NAME = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"")


def field_names(html: str) -> list[str]:
    return sorted({n for n in _FIELD_NAME.findall(html) if n not in SKIPPED_FIELDS})


def _record_id(app, endpoint: str, records: dict) -> str:
    """A record of ``endpoint`` to edit and act on (never the signed-in owner)."""
    if endpoint in records:
        return str(records[endpoint].id)
    if endpoint == "admin_user":
        return str(make_admin(role="viewer").id)
    model = app.extensions["admin_views"][endpoint].model
    row = db.session.scalars(select(model).limit(1)).first()
    return str(row.id) if row is not None else "1"


def _list_args(view) -> list[str]:
    return list(getattr(view, "_filter_args", None) or {})


def _action_pages(endpoint: str) -> list[tuple[str, str, str]]:
    return [(method, path, arg) for method, path, arg, _ in ACTION_ENDPOINTS
            if path.startswith(f"/admin/{endpoint}/")]


class Fuzzed:
    """The test client, failing on any 5xx; after an exception the session is rolled back, as
    the request's teardown would outside tests, so one failure does not cascade."""

    def __init__(self, client) -> None:
        self.client = client

    def _send(self, method, url, **kwargs):
        try:
            response = getattr(self.client, method)(url, **kwargs)
        except Exception:
            db.session.rollback()
            raise
        assert response.status_code < 500, (method, url, kwargs, response.status_code)
        return response

    def get(self, url, **kwargs):
        return self._send("get", url, **kwargs)

    def post(self, url, **kwargs):
        return self._send("post", url, **kwargs)


def _check(response, what) -> None:
    """The whole body read (a streamed CSV export runs its query only then): a failure while
    streaming fails the test, with what was sent. The status was checked on sending."""
    try:
        response.get_data()
    except Exception as error:  # noqa: BLE001 - reported with what was sent
        db.session.rollback()
        raise AssertionError(f"{what}: {type(error).__name__}: {error}") from error


REPORT_VIEWS = [f"report_{slug.replace('-', '_')}" for slug in REPORTS]


def test_every_view_is_fuzzed(app):
    assert sorted(VIEWS + REPORT_VIEWS) == sorted(app.extensions["admin_views"].keys()
                                                  - {"quick_search"})


@pytest.mark.parametrize("slug", list(REPORTS))
def test_no_report_choice_is_a_500(client, login, records, slug):
    login("viewer")
    client = Fuzzed(client)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=PHASES,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def probe(data):
        args = {key: data.draw(st.one_of(HOSTILE_VALUES, st.just("2026-01")), label=key)
                for key in ("from", "to", "plan")}
        for page in ("", "csv"):
            _check(client.get(f"/admin/reports/{slug}/{page}?{urlencode(args)}"), (page, args))

    probe()


# NOTE: the plan's inline services picker still reaches the database with a junk offset
# (its loader escapes AppModelView's strict lookups): known, not fixed yet.
@pytest.mark.parametrize("endpoint", VIEWS)
def test_no_input_is_a_500(client, login, records, app, endpoint):
    login("owner")
    client = Fuzzed(client)
    view = app.extensions["admin_views"][endpoint]
    record_id = _record_id(app, endpoint, records)
    base = f"/admin/{endpoint}"
    filters = _list_args(view)
    sort_count = len(view._sortable_columns) if view._sortable_columns else 0
    forms = {}
    if view.allow_create:
        forms["create"] = f"{base}/new/"
    if view.allow_edit:
        forms["edit"] = f"{base}/edit/?id={record_id}"
    form_fields = {kind: field_names(client.get(url).get_data(as_text=True))
                   for kind, url in forms.items()}
    actions = []
    for method, path, arg in _action_pages(endpoint):
        target = records["contact"].id if arg == "contact_id" else record_id
        url = f"{path}?{arg}={target}"
        names = []
        if method == "GET":
            response = client.get(url)
            if response.mimetype == "text/html":  # a download (a PDF) has no form
                names = field_names(response.get_data(as_text=True))
        actions.append((url, names))
    lookups = list(getattr(view, "_form_ajax_refs", None) or {})

    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=PHASES,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def probe(data):
        def hostile(label):
            return data.draw(HOSTILE_VALUES, label=label)

        # The list: page, size, sort, search and every filter.
        args = {"page": hostile("page"), "page_size": hostile("page_size"),
                "sort": data.draw(st.one_of(st.integers(-2, sort_count + 2).map(str),
                                            HOSTILE_VALUES), label="sort"),
                "desc": hostile("desc"), "search": hostile("search")}
        if filters:
            chosen = data.draw(st.lists(st.sampled_from(filters), max_size=3), label="filters")
            args.update({f"flt{i}_{name}": hostile(name) for i, name in enumerate(chosen)})
        _check(client.get(f"{base}/?{urlencode(args)}"), ("list", args))
        if view.can_export and data.draw(st.booleans(), label="export"):
            _check(client.get(f"{base}/export/csv/?{urlencode(args)}"), ("export", args))
        # Record pages with a hostile id.
        junk_id = hostile("id")
        for page in ("details", "edit"):
            _check(client.get(f"{base}/{page}/?{urlencode({'id': junk_id})}"), (page, junk_id))
        # The create and edit forms.
        for kind, url in forms.items():
            values = {name: hostile(name) for name in form_fields[kind]}
            _check(client.post(url, data=values), (kind, values))
        # Contact pickers.
        for name in lookups:
            query = {"name": name, "query": hostile("query"), "offset": hostile("offset")}
            _check(client.get(f"{base}/ajax/lookup/?{urlencode(query)}"), ("lookup", query))
        # Action pages.
        for url, names in actions:
            values = {name: hostile(name) for name in names}
            values.setdefault("idempotency_key", hostile("idempotency_key"))
            _check(client.post(url, data=values), (url, values))

    probe()


def test_index_and_search_are_never_a_500(client, login, records):
    login("owner")
    client = Fuzzed(client)

    @settings(max_examples=EXAMPLES * 2, deadline=None, database=None, phases=PHASES,
              suppress_health_check=list(HealthCheck))
    @given(query=HOSTILE_VALUES, key=st.sampled_from(["q", "query", "page", "id"]))
    def probe(query, key):
        for path in ("/admin/", "/admin/search/", "/admin/search/suggest"):
            _check(client.get(f"{path}?{urlencode({key: query, 'q': query})}"), (path, query))

    probe()
