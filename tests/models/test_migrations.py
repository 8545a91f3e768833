"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from admin_app.extensions import db
from admin_app.models.base import schema_objects_of


def test_migrated_schema_matches_models(app):
    # The per-test database was built by `flask db upgrade` (see conftest).
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": False,
            "include_object": schema_objects_of(connection.dialect.name)})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.mark.backends("postgresql")  # SQLite keeps no per-column statistics target
def test_postgresql_keeps_statistics_of_many_search_words(app):
    """PostgreSQL plans a search by how many contacts share each typed word: its statistics of
    the search keys keep the 1,000 most common words (migration 0018), so a word thousands of
    contacts share is never estimated at one row (which planned a nested loop over both lists
    of a two-word search: 1.3 s at a million contacts)."""
    with db.engine.connect() as connection:
        target = connection.exec_driver_sql(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = "
            "'contact_search_key'::regclass AND attname = 'token'").scalar()
    assert target == 1000
