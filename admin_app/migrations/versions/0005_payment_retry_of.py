"""payment retries: a retried charge points at the failed payment it retries

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_of_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_payment_retry_of_id'), ['retry_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payment_retry_of_id_payment'), 'payment',
                                    ['retry_of_id'], ['id'])


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_retry_of_id_payment'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payment_retry_of_id'))
        batch_op.drop_column('retry_of_id')
