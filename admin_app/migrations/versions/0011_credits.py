"""credits over time and account credit: credit lots closed once, appointments' credits,
the cancellation notice, account credit paying and refunded to the card

Revision ID: 0011
Revises: 0013
Create Date: 2026-12-01 01:51:29.675236

"""
from alembic import op
import sqlalchemy as sa

METHODS_BEFORE = ('card', 'cash', 'other')
METHODS = METHODS_BEFORE + ('account_credit',)
ACCOUNT_REASONS_BEFORE = ('downgrade', 'cancellation', 'manual', 'applied')
ACCOUNT_REASONS = ACCOUNT_REASONS_BEFORE + ('refunded', 'refund_failed', 'returned')


def _replace_enum(table, name, column, values, length):
    """A str_enum is a VARCHAR as long as its longest value with a CHECK listing the values:
    widen the column and list ``values``."""
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
        batch_op.alter_column(column, type_=sa.String(length), existing_nullable=False)
        batch_op.create_check_constraint(name, f"{column} IN ({listed})")


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credit_lot_closing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expired', sa.Integer(), nullable=False),
    sa.Column('rolled_over', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('expired >= 0', name=op.f('ck_credit_lot_closing_expired_non_negative')),
    sa.CheckConstraint('rolled_over >= 0', name=op.f('ck_credit_lot_closing_rolled_over_non_negative')),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_credit_lot_closing_contact_id_contact')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_credit_lot_closing_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_lot_closing')),
    sa.UniqueConstraint('contact_id', 'service_id', 'expires_at', name='uq_credit_lot_closing_lot')
    )
    with op.batch_alter_table('account_credit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('refund_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_account_credit_entry_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_credit_entry_refund_id'), ['refund_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_account_credit_entry_refund_id_refund'), 'refund', ['refund_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_account_credit_entry_payment_id_payment'), 'payment', ['payment_id'], ['id'])

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_status', sa.Enum('none', 'used', 'returned', 'missing', 'charged', name='appointment_credit', native_enum=False, create_constraint=True), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('credit_payment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_appointment_credit_status'), ['credit_status'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_appointment_credit_payment_id'), ['credit_payment_id'])
        batch_op.create_foreign_key(batch_op.f('fk_appointment_credit_payment_id_payment'), 'payment', ['credit_payment_id'], ['id'])

    with op.batch_alter_table('cashier_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_notice_hours', sa.Integer(), server_default='24', nullable=False))
        batch_op.create_check_constraint('cancel_notice_hours_range', 'cancel_notice_hours BETWEEN 0 AND 720')

    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_credit_entry_expires_at', ['expires_at'], unique=False)

    _replace_enum('payment', 'payment_method_kind', 'method', METHODS, 14)
    _replace_enum('account_credit_entry', 'account_credit_reason', 'reason', ACCOUNT_REASONS, 13)


def downgrade():
    _replace_enum('account_credit_entry', 'account_credit_reason', 'reason',
                  ACCOUNT_REASONS_BEFORE, 12)
    _replace_enum('payment', 'payment_method_kind', 'method', METHODS_BEFORE, 5)

    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_entry_expires_at')

    with op.batch_alter_table('cashier_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_cashier_settings_cancel_notice_hours_range'), type_='check')
        batch_op.drop_column('cancel_notice_hours')

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_appointment_credit_payment_id_payment'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_appointment_credit_payment_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_appointment_credit_status'))
        batch_op.drop_constraint(op.f('ck_appointment_appointment_credit'), type_='check')
        batch_op.drop_column('credit_payment_id')
        batch_op.drop_column('credit_status')

    with op.batch_alter_table('account_credit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_account_credit_entry_payment_id_payment'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_account_credit_entry_refund_id_refund'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_account_credit_entry_refund_id'))
        batch_op.drop_index(batch_op.f('ix_account_credit_entry_payment_id'))
        batch_op.drop_column('refund_id')
        batch_op.drop_column('payment_id')

    op.drop_table('credit_lot_closing')
