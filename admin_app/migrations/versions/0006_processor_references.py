"""processor references: payments and refunds carry a reference that never repeats

The processor is asked with it as the idempotency key. Rows made before keep the reference
they were asked with (``payment-<id>``, ``refund-<id>``), so reconcile still finds them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('payment', 'refund'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('reference', sa.String(length=40), nullable=True))
        op.execute(f"UPDATE {table} SET reference = '{table}-' || id")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('reference', existing_type=sa.String(length=40),
                                  nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_reference'), ['reference'])


def downgrade():
    for table in ('payment', 'refund'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_reference'), type_='unique')
            batch_op.drop_column('reference')
