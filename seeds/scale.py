"""The scale seeder: N more contacts with subscriptions, payments, refunds, cards and credits,
inserted in batches without ORM objects, ids assigned here.

Rows are written with the fastest bulk path of the database: ``COPY`` on PostgreSQL, a driver
``executemany`` of ready-made tuples on SQLite, Core ``insert(table)`` executemany elsewhere.
It takes the current ``max(id)`` of each table and continues from there, so it must not run
while other sessions insert into the same tables.

The rows carry made-up gateway ids (``pm_scale…``, ``pi_scale…``) that no payment gateway
knows: they are for lists, search, filters and exports at scale. Charging these cards or
refunding these payments through the gateway is declined; the demo clinic's are real.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from admin_app.clock import utcnow
from admin_app.extensions import db
from admin_app.models import (
    AdminUser,
    BillingInterval,
    CashierSettings,
    Contact,
    ContactSearchKey,
    CreditEntry,
    Document,
    DocumentLine,
    DocumentType,
    Payment,
    PaymentMethod,
    Plan,
    PlanService,
    Refund,
    Service,
    Subscription,
)
from admin_app.models.base import UTCDateTime

from .common import last_document_number, sync_document_sequences
from .scale_rows import DOCUMENT_TABLES, TABLES, PlanInfo, RowFactory

MODELS = {"contact": Contact, "contact_search_key": ContactSearchKey,
          "payment_method": PaymentMethod, "subscription": Subscription,
          "payment": Payment, "refund": Refund, "credit_entry": CreditEntry,
          "document": Document, "document_line": DocumentLine}


def load_scale(contacts: int, *, batch_size: int = 10_000, progress: bool = True,
               seed: int = 20_240_601, documents: bool = False) -> dict[str, int]:
    """Insert ``contacts`` more contacts and their history; commit after every batch.

    Uses the active plans that have services and no member cap (creating a minimal catalog
    when there are none). With ``documents``, every paid payment also gets its receipt and
    every refund its credit note (about doubling the rows). Returns the number of rows
    inserted per table.
    """
    if contacts < 0 or batch_size < 1:
        raise ValueError("contacts must be >= 0 and batch_size >= 1")
    session = db.session
    plans = _plans() or _minimal_catalog()
    settings = session.get(CashierSettings, 1)
    currency = settings.currency if settings is not None else plans[0].currency
    tables = TABLES + (DOCUMENT_TABLES if documents else ())
    next_ids = {name: session.scalar(select(func.max(MODELS[name].__table__.c.id))) or 0
                for name in tables if "id" in MODELS[name].__table__.c}
    next_numbers = None
    if documents:
        next_numbers = {kind.value: last_document_number(kind)
                        for kind in (DocumentType.RECEIPT, DocumentType.CREDIT_NOTE)}
    actor_id = session.scalar(select(func.min(AdminUser.id)))
    session.commit()  # the catalog, if it was created; and end the read transaction

    existing = session.scalar(select(func.count()).select_from(Contact))
    session.commit()
    writer = _BulkWriter(session)
    factory = RowFactory(random.Random(seed), utcnow(), plans, currency, actor_id, next_ids,
                         next_numbers)
    counts = dict.fromkeys(tables, 0)
    bar = tqdm(total=contacts, unit="contact", unit_scale=True, disable=not progress,
               desc="Seeding")
    try:
        with _bulk_load(session, tables,
                        rebuild_indexes=contacts >= max(existing, 10_000)) as prepare_batch:
            done = 0
            while done < contacts:
                prepare_batch()
                size = min(batch_size, contacts - done)
                rows = factory.batch(size)
                for name in tables:  # parents before children
                    if rows[name]:
                        writer.write(MODELS[name].__table__, rows[name])
                session.commit()
                for name in tables:
                    counts[name] += len(rows[name])
                done += size
                bar.set_postfix(rows=sum(counts.values()), refresh=False)
                bar.update(size)
    except BaseException:
        session.rollback()
        raise
    finally:
        bar.close()
        _reset_sequences([name for name in tables
                          if counts[name] and "id" in MODELS[name].__table__.c])
        if counts.get("document"):
            sync_document_sequences()
            session.commit()
    return counts


SQLITE_LOAD_PRAGMAS = {"synchronous": ("OFF", "NORMAL"), "cache_size": ("-262144", "-2000"),
                       "temp_store": ("MEMORY", "DEFAULT")}


@contextmanager
def _bulk_load(session: Session, tables: tuple[str, ...], *,
               rebuild_indexes: bool) -> Iterator[Callable[[], None]]:
    """Settings for the load only. SQLite: no fsync at each batch's commit and a 256 MB page
    cache (a crash mid-load loses the load, which is all it can lose). With
    ``rebuild_indexes`` (a load at least as large as what is there), the seeded tables'
    non-unique indexes are dropped first and built again at the end, whatever happens:
    sorting each index once is several times faster than keeping it in order row by row.
    Unique indexes and primary keys stay, so the load is checked as it goes."""
    dialect = session.get_bind().dialect.name
    sqlite = dialect == "sqlite"
    indexes = _droppable_indexes(session, tables) if rebuild_indexes else []
    connection = session.connection()
    for name, _ in indexes:
        connection.exec_driver_sql(f"DROP INDEX {name}")
    session.commit()

    def pragmas(which: int) -> None:
        """On the connection the next batch is written on (set before its transaction)."""
        if sqlite:
            for pragma, values in SQLITE_LOAD_PRAGMAS.items():
                session.connection().exec_driver_sql(f"PRAGMA {pragma}={values[which]}")

    try:
        yield lambda: pragmas(0)
    finally:
        session.rollback()
        for _, create in indexes:
            session.connection().exec_driver_sql(create)
        session.commit()
        pragmas(1)
        session.commit()


def _droppable_indexes(session: Session, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-unique indexes of ``tables``."""
    names = ", ".join(f"'{t}'" for t in tables)
    if session.get_bind().dialect.name == "sqlite":
        sql = (f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
               f"AND tbl_name IN ({names}) AND sql NOT LIKE 'CREATE UNIQUE%'")
    elif session.get_bind().dialect.name == "postgresql":
        sql = (f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
               f"current_schema() AND tablename IN ({names}) "
               f"AND indexdef NOT LIKE 'CREATE UNIQUE%'")
    else:
        return []
    # text(), not exec_driver_sql: psycopg reads the LIKE pattern's % as a placeholder.
    return [(row[0], row[1]) for row in session.execute(text(sql))]


class _BulkWriter:
    """Inserts lists of row dicts in the session's transaction, by the fastest path the
    driver offers: psycopg 3 ``COPY``, pysqlite ``executemany``, else Core executemany."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect
        self.path = {("postgresql", "psycopg"): "copy",
                     ("sqlite", "pysqlite"): "sqlite"}.get((self.dialect.name,
                                                           self.dialect.driver), "core")
        if self.path == "sqlite":
            _check_sqlite_datetime_format(self.dialect)

    def write(self, table: Table, rows: list[dict]) -> None:
        """``rows`` all have the same keys; columns left out get their server default or
        NULL (no Python-side defaults on these paths)."""
        columns = list(rows[0])
        if self.path == "copy":
            self._copy(table, columns, rows)
        elif self.path == "sqlite":
            self._sqlite(table, columns, rows)
        else:
            self.session.execute(insert(table), rows)

    def _copy(self, table: Table, columns: list[str], rows: list[dict]) -> None:
        """PostgreSQL ``COPY ... FROM STDIN`` through psycopg 3 (aware datetimes as is)."""
        driver = self.session.connection().connection.driver_connection
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])

    def _sqlite(self, table: Table, columns: list[str], rows: list[dict]) -> None:
        """Driver executemany of tuples, datetimes stored the way ``UTCDateTime`` stores them
        (naive UTC text), skipping SQLAlchemy's per-row parameter processing."""
        stamps = {c.name for c in table.columns if isinstance(c.type, UTCDateTime)}
        stamp_places = [i for i, c in enumerate(columns) if c in stamps]
        take = itemgetter(*columns)
        if len(columns) == 1:
            values = [(take(row),) for row in rows]
        elif not stamp_places:
            values = [take(row) for row in rows]
        else:
            values = []
            for row in rows:
                value = list(take(row))
                for i in stamp_places:
                    value[i] = _sqlite_datetime(value[i])
                values.append(tuple(value))
        if "token" in columns:  # an index-organised table: rows in its order go in faster
            values.sort()
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        self.session.connection().exec_driver_sql(sql, values)


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _check_sqlite_datetime_format(dialect) -> None:
    """Fail loudly if ``UTCDateTime`` ever stores another text format than ours."""
    sample = datetime(2024, 2, 29, 13, 5, 7, 120, tzinfo=UTC)
    expected = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    stored = expected(sample) if expected else sample
    if stored != _sqlite_datetime(sample):
        raise RuntimeError(f"unexpected SQLite datetime format {stored!r}")


def _reset_sequences(tables: list[str]) -> None:
    """PostgreSQL: move each ``id`` sequence past the ids we inserted ourselves."""
    session = db.session
    if session.get_bind().dialect.name != "postgresql" or not tables:
        return
    for table in tables:
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
        ))
    session.commit()


def _plans() -> list[PlanInfo]:
    """Active, uncapped plans with their service lines."""
    rows = db.session.execute(
        select(Plan.id, Plan.name, Plan.price_minor, Plan.currency, Plan.interval,
               Plan.interval_count, Plan.activation_fee_minor, PlanService.service_id,
               PlanService.credits_per_period)
        .join(PlanService, PlanService.plan_id == Plan.id)
        .where(Plan.is_active.is_(True), Plan.max_members.is_(None))
        .order_by(Plan.id, PlanService.id)
    ).all()
    plans: dict[int, tuple] = {}
    lines: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        plans.setdefault(row.id, row)
        lines.setdefault(row.id, []).append((row.service_id, row.credits_per_period))
    return [PlanInfo(id=p.id, name=p.name, price_minor=p.price_minor, currency=p.currency,
                     interval=BillingInterval(p.interval).value, interval_count=p.interval_count,
                     activation_fee_minor=p.activation_fee_minor, lines=tuple(lines[p.id]))
            for p in plans.values()]


def _minimal_catalog() -> list[PlanInfo]:
    """Two services and two plans, for a database that has no usable plan yet."""
    session = db.session
    now = utcnow()
    currency = "USD"
    settings = session.get(CashierSettings, 1)
    if settings is not None:
        currency = settings.currency

    def service(name: str, minutes: int, price: int) -> Service:
        found = session.scalar(select(Service).where(Service.name == name))
        if found is None:
            found = Service(name=name, duration_minutes=minutes, price_minor=price,
                            currency=currency, created_at=now, updated_at=now)
            session.add(found)
        return found

    physio = service("Physiotherapy 45 min", 45, 9500)
    group = service("Group class", 50, 3000)
    specs = (("Scale Physio Monthly", 29900, BillingInterval.MONTH, 2500, {physio: 4}),
             ("Scale Classes Quarterly", 59900, BillingInterval.QUARTER, 0,
              {group: 24, physio: 2}))
    for name, price, interval, fee, credits in specs:
        if session.scalar(select(Plan.id).where(Plan.name == name)) is None:
            session.add(Plan(
                name=name, price_minor=price, currency=currency, interval=interval,
                interval_count=1, activation_fee_minor=fee, is_active=True,
                created_at=now, updated_at=now,
                services=[PlanService(service=s, credits_per_period=n) for s, n in credits.items()],
            ))
    session.flush()
    plans = _plans()
    if not plans:
        raise RuntimeError("could not find or create an active plan for the scale seeder")
    return plans
