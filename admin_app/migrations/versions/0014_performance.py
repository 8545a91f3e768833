"""performance: contact search keys (name words, phone digits), payment status indexes

Revision ID: 0014
Revises: 0016
Create Date: 2026-12-01 02:00:00

"""
from alembic import op
import sqlalchemy as sa

from admin_app.search_keys import TOKEN_LENGTH, search_tokens


revision = '0014'
down_revision = '0016'
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    keys = op.create_table(
        'contact_search_key',
        sa.Column('token', sa.String(length=TOKEN_LENGTH).with_variant(
            sa.String(length=TOKEN_LENGTH, collation='C'), 'postgresql'), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='CASCADE',
                                name=op.f('fk_contact_search_key_contact_id_contact')),
        sa.PrimaryKeyConstraint('token', 'contact_id', name=op.f('pk_contact_search_key')),
        sqlite_with_rowid=False,
    )
    _fill_search_keys(keys)
    op.create_index(op.f('ix_contact_search_key_contact_id'), 'contact_search_key',
                    ['contact_id'], unique=False)
    op.create_index('ix_payment_status_created', 'payment', ['status', 'created_at'],
                    unique=False)
    op.create_index('ix_payment_status_method', 'payment', ['status', 'method'], unique=False)


def _fill_search_keys(keys) -> None:
    """The keys of the contacts already there, in batches (by id)."""
    connection = op.get_bind()
    contact = sa.table('contact', sa.column('id'), sa.column('first_name'),
                       sa.column('last_name'), sa.column('phone'))
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(contact.c.id, contact.c.first_name, contact.c.last_name, contact.c.phone)
            .where(contact.c.id > last_id).order_by(contact.c.id).limit(BATCH)).all()
        if not rows:
            return
        values = [{'token': token, 'contact_id': row.id} for row in rows
                  for token in search_tokens(row.first_name, row.last_name, row.phone)]
        if values:
            connection.execute(keys.insert(), values)
        last_id = rows[-1].id


def downgrade():
    op.drop_index('ix_payment_status_method', table_name='payment')
    op.drop_index('ix_payment_status_created', table_name='payment')
    op.drop_index(op.f('ix_contact_search_key_contact_id'), table_name='contact_search_key')
    op.drop_table('contact_search_key')
