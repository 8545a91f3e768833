"""The admin's model view: what every table's list, details, forms and CSV export share."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model.form import InlineFormAdmin
from flask_login import current_user
from sqlalchemy import false, func, select, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Query, RelationshipProperty

from ..clinic_time import clinic_zone
from ..contacts_search import contact_search_condition
from ..extensions import db
from ..models import Contact
from ..models.base import UTCDateTime
from .access import AccessMixin
from .ajax_lookups import make_strict, strict_ajax_loader
from .audit_trail import audit_form_delete, audit_form_save
from .converters import AppFilterConverter, AppModelConverter
from .csv_columns import column_plan
from .csv_export import stream_csv, stream_csv_lines, stream_sql_csv
from .csv_lines import line_plan
from .database_errors import explain
from .fields import MoneyAtLeastFilter, MoneyAtMostFilter, bind_money_fields, use_money_field
from .formatting import (
    EXPORT_TYPE_FORMATTERS,
    LIST_TYPE_FORMATTERS,
    gateway_id_formatter,
    money_export_formatter,
    money_formatter,
    relation_link_formatter,
    status_badge,
)
from .record_ids import primary_key_of
from .row_menu import MenuItem, RowMenuAction

MAX_LIST_PAGE = 100_000
# How a search box names what it searches, where the column's label would not say it.
SEARCH_WORDS = {"contact.last_name": "contact's last name", "contact.email": "email",
                "gateway_id": "processor ID", "last4": "last 4 digits", "id": "event ID",
                "label": "job", "action": "action"}
# A list counts its matching rows up to this many; past it the page says "more than 10,000"
# (next/previous instead of page numbers) with the exact count one click away.
LIST_COUNT_CAP = 10_000


class CountQuery(Query):
    """The list's count, built by Flask-Admin like the page query (search, filters, joins),
    then counted with ``count(*)`` — never ``count(?)``, which SQLite cannot answer from its
    fast count — and, when ``cap`` is set, over at most ``cap + 1`` rows, so drawing page 1 of
    a million rows does not read a million rows."""

    cap: int | None = None

    def counting_statement(self):
        if self.cap is None:
            return self.with_entities(func.count()).statement
        return select(func.count()).select_from(self.limit(self.cap + 1).subquery())

    def scalar(self):
        return self.session.execute(self.counting_statement()).scalar()


def _is_money(column_name: str) -> bool:
    return column_name.endswith("_minor")


def _prettify(name: str) -> str:
    """A column name as an admin reads it: ``activation_fee_minor`` → "Activation fee"."""
    if name == "id":
        return "ID"
    for suffix in ("_minor", "_id"):
        name = name.removesuffix(suffix)
    name = name.removeprefix("is_")
    return name.replace("_", " ").replace(".", " ").strip().capitalize()


def _is_column(candidate, column) -> bool:
    """Whether ``candidate`` (what Flask-Admin sorts by: a model attribute or a table column;
    None) is ``column``."""
    expression = getattr(candidate, "expression", None)
    return expression is not None and bool(expression.compare(column))


def _declared(view_class, attribute: str) -> dict:
    """A dict a view class declared (Flask-Admin's defaults are descriptors or None)."""
    value = getattr(view_class, attribute, None)
    return value if isinstance(value, dict) else {}


class MoneyInlineForm(InlineFormAdmin):
    """An inline form whose ``*_minor`` columns are typed in major units, like the main form."""

    money_labels: dict[str, str] = {}

    def postprocess_form(self, form_class):
        columns = sa_inspect(self.model).columns
        for name in [n for n in vars(form_class) if _is_money(n)]:
            use_money_field(form_class, name, required=not columns[name].nullable,
                            label=self.money_labels.get(name, _prettify(name)))
        return form_class


class AppModelView(AccessMixin, ModelView):
    """Defaults for every table: role-aware create/edit/delete, readable labels, money as
    "$75.00", statuses as badges, related records as links, the ⋯ row menu, an audit entry
    for every hand edit, and a CSV export streamed in constant memory."""

    allow_create = True
    allow_edit = True
    allow_delete = False

    can_view_details = True
    can_export = True
    export_types = ["csv"]
    export_max_rows = 0  # stream everything that matches
    can_set_page_size = True
    page_size = 50
    page_size_options = (20, 50, 100, 500)
    list_template = "admin/model/app_list.html"
    details_template = "admin/model/app_details.html"
    column_display_pk = True
    column_default_sort = ("id", True)
    named_filter_urls = True
    column_type_formatters = LIST_TYPE_FORMATTERS
    column_type_formatters_detail = LIST_TYPE_FORMATTERS
    column_type_formatters_export = EXPORT_TYPE_FORMATTERS
    model_form_converter = AppModelConverter
    filter_converter = AppFilterConverter()

    def __init__(self, model, session=None, **kwargs):
        self._install_default_formatters(model)
        super().__init__(model, session or db, **kwargs)
        # Inline forms (a plan's services) build their pickers' loaders themselves: made
        # strict in place, since their form fields hold the same objects.
        for loader in self._form_ajax_refs.values():
            make_strict(loader)

    # --- role-aware permissions (Flask-Admin reads these per request) -------------------
    @property
    def can_create(self) -> bool:
        return self.allow_create and self.may_write

    @property
    def can_edit(self) -> bool:
        return self.allow_edit and self.may_write

    @property
    def can_delete(self) -> bool:
        return self.allow_delete and self.may_write

    def get_one(self, id):
        """The record of ``id`` as it came in a URL or form, read strictly: an id that cannot
        be this table's key (``abc``, ``1,2``, a NUL byte, out of range) finds nothing, so the
        page says "no such record" instead of failing in the database."""
        key = primary_key_of(self.model, id if isinstance(id, str) else str(id))
        return None if key is None else db.session.get(self.model, key)

    def handle_view_exception(self, exc: Exception) -> bool:
        """A database's refusal of a hand edit: rolled back, and said in words
        (``database_errors``) instead of the driver's message."""
        sentence = explain(exc)
        if sentence is None:
            return super().handle_view_exception(exc)
        db.session.rollback()
        flash(sentence, "error")
        return True

    def _create_ajax_loader(self, name, options):
        return strict_ajax_loader(self.model, self.session, name, options)

    @expose("/ajax/lookup/")
    def ajax_lookup(self):
        for loader in self._form_ajax_refs.values():  # inline forms' loaders, added late
            make_strict(loader)
        return super().ajax_lookup()


    # --- labels and formatters ---------------------------------------------------------
    def _prettify_name(self, name: str) -> str:
        return _prettify(name)

    def _install_default_formatters(self, model) -> None:
        """Money, status and relationship columns get their formatters unless a view set one."""
        mapper = sa_inspect(model)
        listed = dict.fromkeys(mapper.columns.keys())
        listed.update(dict.fromkeys(mapper.relationships.keys()))
        listed.update(dict.fromkeys(c for c in (self.column_list or ()) if isinstance(c, str)))
        auto, export = {}, {}
        for name in listed:
            prop = mapper.attrs.get(name) if "." not in name else None
            if _is_money(name):
                auto[name], export[name] = money_formatter, money_export_formatter
            elif name in ("gateway_id", "stripe_customer_id"):
                auto[name] = gateway_id_formatter
            elif name == "status" or name.endswith("_status"):
                auto[name] = status_badge
            elif isinstance(prop, RelationshipProperty) and not prop.uselist:
                auto[name] = relation_link_formatter
        self.column_formatters = {**auto, **_declared(type(self), "column_formatters")}
        self.column_formatters_detail = self.column_formatters
        self.column_formatters_export = {**export,
                                         **_declared(type(self), "column_formatters_export")}
        self._money_columns = [c.key for c in mapper.column_attrs if _is_money(c.key)]

    # --- forms: money in major units ------------------------------------------------------
    def scaffold_form(self):
        form_class = super().scaffold_form()
        columns = sa_inspect(self.model).columns
        for name in self._money_columns:
            if hasattr(form_class, name):
                use_money_field(form_class, name, label=self.get_column_name(name),
                                required=not columns[name].nullable)
        return form_class

    def create_form(self, obj=None):
        form = super().create_form(obj)
        bind_money_fields(form, obj)
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        bind_money_fields(form, obj)
        return form

    def scaffold_filters(self, name):
        if name in getattr(self, "_money_columns", ()):
            column = getattr(self.model, name)
            label = self.get_column_name(name)
            return [MoneyAtLeastFilter(column, label), MoneyAtMostFilter(column, label)]
        return super().scaffold_filters(name)

    search_hint: str | None = None
    # Lists of rows that belong to a contact (payments, subscriptions, appointments…) search
    # by the contact, as the top bar finds them (name, email, phone: ``contacts_search``,
    # through its indexes), or by an exact gateway ID: never ``ILIKE '%…%'`` over every row.
    contact_search_column: str | None = None
    exact_search_columns: tuple[str, ...] = ()

    def _apply_search(self, query, count_query, joins, count_joins, search):
        if self.contact_search_column is None:
            return super()._apply_search(query, count_query, joins, count_joins, search)
        contacts = contact_search_condition(search)
        options = [getattr(self.model, name) == search.strip()
                   for name in self.exact_search_columns]
        if contacts is not None:
            options.append(getattr(self.model, self.contact_search_column).in_(
                select(Contact.id).where(contacts)))
        condition = options[0] if len(options) == 1 else false()
        if len(options) > 1:
            # NOTE: ``id IN (… UNION ALL …)``, not ``… OR contact_id IN (…)``: PostgreSQL
            # cannot join through an IN under an OR and read every payment to test it against
            # the matching contacts (2.8 s at a million contacts for a two-word name).
            key = self._key
            condition = key.in_(union_all(*(select(key).where(option) for option in options)))
        query = query.filter(condition)
        count_query = count_query.filter(condition) if count_query is not None else None
        return query, count_query, joins, count_joins

    def search_placeholder(self) -> str:
        """What the search box searches, in words ("Contact's name, email, phone or processor
        ID"), not column names: the view's ``search_hint``, else said from how it searches."""
        if self.search_hint:
            return self.search_hint
        if self.contact_search_column is not None:  # as the top bar finds people
            words = ["contact's name", "email", "phone",
                     *(SEARCH_WORDS.get(name, name) for name in self.exact_search_columns)]
        else:
            words = list(dict.fromkeys(
                SEARCH_WORDS.get(str(column), self.get_column_name(str(column)).lower())
                for column in self.column_searchable_list or ()))
        if not words:
            return super().search_placeholder()
        text = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
        return text[0].upper() + text[1:]

    def is_action_allowed(self, name: str) -> bool:
        """Bulk actions change records: not offered to read-only roles."""
        return self.may_write and super().is_action_allowed(name)

    # --- the ⋯ row menu ------------------------------------------------------------------
    def get_list_row_actions(self):
        return [RowMenuAction(self)]

    def row_menu_items(self, row) -> list[MenuItem]:
        """What the ⋯ menu of a row offers. Views extend this with their business actions."""
        items = [MenuItem("View", url_for(f"{self.endpoint}.details_view", id=row.id), "fa-eye")]
        if self.can_edit and self.is_record_editable(row):
            items.append(MenuItem("Edit", url_for(f"{self.endpoint}.edit_view", id=row.id),
                                  "fa-pencil"))
        return items

    def is_record_editable(self, row) -> bool:
        """Whether this record may be edited by hand (views of immutable records say no)."""
        return True

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """The edit form, refused (back to the details page) for records that are frozen."""
        record_id = request.args.get("id")
        record = self.get_one(record_id) if record_id else None
        if record is not None and not self.is_record_editable(record):
            flash(f"{record} can no longer be edited.", "warning")
            return redirect(url_for(".details_view", id=record_id))
        return super().edit_view()

    # --- audit of hand edits -----------------------------------------------------------------
    def on_model_change(self, form, model, is_created):
        if is_created:
            db.session.flush()
        audit_form_save(model, actor=current_user, is_created=is_created)

    def on_model_delete(self, model):
        audit_form_delete(model, actor=current_user)

    # --- lists and export at scale ---------------------------------------------------------
    # Columns that order the rows tying on a sorted column, before the key (see below).
    sort_ties_by: dict[str, tuple[str, ...]] = {}

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        """The list's order, then ``sort_ties_by`` and its key, in the same direction: rows
        that tie on the sorted column (a date, a name) keep one order, so pages never repeat
        or skip a row and an export writes the same bytes however it is read."""
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        by_key, descending = self._key_order(sort_column, sort_desc)
        if not by_key:
            ties = [getattr(self.model, name) for name in self.sort_ties_by.get(sort_column, ())]
            query = query.order_by(*(c.desc() if descending else c for c in [*ties, self._key]))
        return query, joins

    @property
    def _key(self):
        """The list's key column (every listed model has a single-column primary key)."""
        (key,) = sa_inspect(self.model).primary_key
        return key

    def _key_order(self, sort_column, sort_desc) -> tuple[bool, bool]:
        """Whether the list sorted by ``sort_column`` (None: its default sort) is ordered by
        its key alone, and whether descending."""
        if sort_column is None:
            default = list(self._get_default_order())  # (attribute, joins, descending)
            return (len(default) == 1 and _is_column(default[0][0], self._key),
                    bool(default) and default[-1][2])
        return _is_column(self._sortable_columns.get(sort_column), self._key), bool(sort_desc)

    def _get_list_extra_args(self):
        """The list's query args, bounded: a page outside 0..MAX_LIST_PAGE is the first page
        and a page size not offered is the default, so no URL reaches the database with an
        OFFSET it refuses (negative, or past bigint)."""
        args = super()._get_list_extra_args()
        page = args.page if 0 <= args.page <= MAX_LIST_PAGE else 0
        page_size = args.page_size if args.page_size in self.page_size_options else 0
        return args.clone(page=page, page_size=page_size)

    def _export_title(self, name: str, title: str, zone) -> str:
        """A CSV column's header; a time column's says the zone its times are in."""
        column = sa_inspect(self.model).columns.get(name) if isinstance(name, str) else None
        is_time = column is not None and isinstance(column.type, UTCDateTime)
        return f"{title} ({zone.key})" if is_time else title

    def get_count_query(self):
        """The rows matching the list, counted up to ``LIST_COUNT_CAP`` unless the admin asked
        for the exact count (``?count=exact``). None when nothing needs counting (exports,
        bulk selections: they read the rows themselves)."""
        if g.get("skip_count"):
            return None
        query = CountQuery([self._key], session=db.session)
        query.cap = None if request.args.get("count") == "exact" else LIST_COUNT_CAP
        return query.select_from(self.model)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """Flask-Admin's list, except that a count past the cap is no count: the page shows
        next/previous and "more than 10,000 rows" with a link to the exact count
        (``g.list_count_capped``, ``g.list_exact_count_url``)."""
        g.list_count_capped = None
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters,
                                       execute=execute, page_size=page_size)
        if count is not None and count > LIST_COUNT_CAP and \
                request.args.get("count") != "exact":
            g.list_count_capped = LIST_COUNT_CAP
            args = self._get_list_extra_args()
            g.list_exact_count_url = self._get_list_url(
                args.clone(extra_args={**args.extra_args, "count": "exact"}))
            return None, rows
        return count, rows

    def _export_csv(self, return_url):
        """Stream the rows matching the list's search, filters and sort, without COUNT(*),
        in chunks, on a connection of the export's own (``csv_export``): as plain SQL rows
        when every column allows it (``csv_columns``), else as ORM objects."""
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        g.skip_count = True
        try:
            _, query = self.get_list(0, sort[0] if sort else None, args.sort_desc, args.search,
                                     args.filters, execute=False, page_size=0)
        finally:
            g.skip_count = False
        columns = self._export_columns
        # Read before the stream starts: it runs on a connection of its own.
        g.export_zone = zone = clinic_zone()
        titles = [self._export_title(name, title, zone) for name, title in columns]
        names = [name for name, _ in columns]
        declared = _declared(type(self), "column_formatters_export")
        lines = line_plan(self.model, names, self._money_columns, declared,
                          db.engine.dialect.name, zone)
        if lines is not None:
            statement = query.statement.with_only_columns(lines.line, maintain_column_froms=True)
            for related, on in lines.joins:
                statement = statement.outerjoin(related, on)
            by_key, descending = self._key_order(sort[0] if sort else None, args.sort_desc)
            return stream_csv_lines(statement, titles, self.get_export_name(export_type="csv"),
                                    key_order=(self._key, descending) if by_key else None)
        plan = column_plan(self.model, names, self._money_columns, declared,
                           db.engine.dialect.name, zone)
        if plan is not None:
            statement = query.statement.with_only_columns(*plan.columns)
            for related, on in plan.joins:
                statement = statement.outerjoin(related, on)
            return stream_sql_csv(statement, titles, plan.cells,
                                  self.get_export_name(export_type="csv"))
        return stream_csv(query, titles,
                          lambda row: [self.get_export_value(row, name) for name, _ in columns],
                          self.get_export_name(export_type="csv"))
