"""billing cycle: billing periods, unpaid, retry settings, unused credits

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 01:45:11.601739

"""
from alembic import op
import sqlalchemy as sa

SUBSCRIPTION_STATUSES_BEFORE = ('incomplete', 'active', 'past_due', 'canceled')
SUBSCRIPTION_STATUSES = ('incomplete', 'active', 'past_due', 'unpaid', 'canceled')
CREDIT_REASONS_BEFORE = ('period_grant', 'manual_add', 'manual_remove', 'booking',
                         'booking_return', 'expiry', 'plan_change', 'reversal')
CREDIT_REASONS = CREDIT_REASONS_BEFORE + ('rollover',)


def _replace_enum_check(table, name, column, values):
    """A str_enum's CHECK lists its values: drop it and create it with ``values``."""
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
        batch_op.create_check_constraint(name, f"{column} IN ({listed})")


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('billing_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('discount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('promo_code_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('due', 'paid', 'past_due', 'unpaid', 'invoiced', 'void', name='period_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("length(currency) = 3 AND upper(currency) = currency AND substr(currency, 1, 1) BETWEEN 'A' AND 'Z' AND substr(currency, 2, 1) BETWEEN 'A' AND 'Z' AND substr(currency, 3, 1) BETWEEN 'A' AND 'Z'", name=op.f('ck_billing_period_currency_iso')),
    sa.CheckConstraint('amount_minor >= 0', name=op.f('ck_billing_period_amount_minor_non_negative')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_billing_period_attempts_non_negative')),
    sa.CheckConstraint('discount_minor >= 0', name=op.f('ck_billing_period_discount_minor_non_negative')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_billing_period_period_order')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_billing_period_plan_id_plan')),
    sa.ForeignKeyConstraint(['promo_code_id'], ['promo_code.id'], name=op.f('fk_billing_period_promo_code_id_promo_code')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], name=op.f('fk_billing_period_subscription_id_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_period')),
    sa.UniqueConstraint('subscription_id', 'starts_at', name='uq_billing_period_start')
    )
    with op.batch_alter_table('billing_period', schema=None) as batch_op:
        batch_op.create_index('ix_billing_period_starts_at', ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_period_status'), ['status'], unique=False)
        batch_op.create_index('ix_billing_period_status_retry', ['status', 'next_retry_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_period_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_foreign_key('fk_billing_period_document', 'document', ['document_id'], ['id'])
        batch_op.create_foreign_key('fk_billing_period_payment', 'payment', ['payment_id'], ['id'])

    with op.batch_alter_table('cashier_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_schedule_days', sa.String(length=60), server_default='1,3,5,7', nullable=False))
        batch_op.add_column(sa.Column('after_final_retry', sa.Enum('unpaid', 'cancel', name='after_final_retry', native_enum=False, create_constraint=True), server_default='unpaid', nullable=False))
        batch_op.add_column(sa.Column('invoice_due_days', sa.Integer(), server_default='14', nullable=False))
        batch_op.add_column(sa.Column('credit_use', sa.Enum('attended', 'booked', name='credit_use', native_enum=False, create_constraint=True), server_default='attended', nullable=False))
        batch_op.create_check_constraint('invoice_due_days_range', 'invoice_due_days BETWEEN 0 AND 365')

    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_credit_entry_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_entry_period_id'), ['period_id'], unique=False)
        batch_op.create_index('uq_credit_entry_period_grant', ['period_id', 'service_id'], unique=True, sqlite_where=sa.text("reason = 'period_grant'"), postgresql_where=sa.text("reason = 'period_grant'"))
        batch_op.create_foreign_key(batch_op.f('fk_credit_entry_appointment_id_appointment'), 'appointment', ['appointment_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_credit_entry_period_id_billing_period'), 'billing_period', ['period_id'], ['id'])

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('period_attempt', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_payment_period_id'), ['period_id'], unique=False)
        batch_op.create_unique_constraint('uq_payment_period_attempt', ['period_id', 'period_attempt'])
        batch_op.create_foreign_key(batch_op.f('fk_payment_period_id_billing_period'), 'billing_period', ['period_id'], ['id'])

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unused_credits', sa.Enum('expire', 'roll_over', name='unused_credits', native_enum=False, create_constraint=True), server_default='expire', nullable=False))

    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billing_anchor_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE subscription SET billing_anchor_at = current_period_start")
    _replace_enum_check('subscription', 'subscription_status', 'status', SUBSCRIPTION_STATUSES)
    _replace_enum_check('credit_entry', 'credit_reason', 'reason', CREDIT_REASONS)


def downgrade():
    _replace_enum_check('credit_entry', 'credit_reason', 'reason', CREDIT_REASONS_BEFORE)
    _replace_enum_check('subscription', 'subscription_status', 'status',
                        SUBSCRIPTION_STATUSES_BEFORE)
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_column('billing_anchor_at')

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_plan_unused_credits'), type_='check')
        batch_op.drop_column('unused_credits')

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_period_id_billing_period'), type_='foreignkey')
        batch_op.drop_constraint('uq_payment_period_attempt', type_='unique')
        batch_op.drop_index(batch_op.f('ix_payment_period_id'))
        batch_op.drop_column('period_attempt')
        batch_op.drop_column('period_id')

    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_credit_entry_period_id_billing_period'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_credit_entry_appointment_id_appointment'), type_='foreignkey')
        batch_op.drop_index('uq_credit_entry_period_grant', sqlite_where=sa.text("reason = 'period_grant'"), postgresql_where=sa.text("reason = 'period_grant'"))
        batch_op.drop_index(batch_op.f('ix_credit_entry_period_id'))
        batch_op.drop_index(batch_op.f('ix_credit_entry_appointment_id'))
        batch_op.drop_column('appointment_id')
        batch_op.drop_column('period_id')

    with op.batch_alter_table('cashier_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_cashier_settings_credit_use'), type_='check')
        batch_op.drop_constraint(op.f('ck_cashier_settings_after_final_retry'), type_='check')
        batch_op.drop_constraint(op.f('ck_cashier_settings_invoice_due_days_range'), type_='check')
        batch_op.drop_column('credit_use')
        batch_op.drop_column('invoice_due_days')
        batch_op.drop_column('after_final_retry')
        batch_op.drop_column('retry_schedule_days')

    with op.batch_alter_table('billing_period', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_period_subscription_id'))
        batch_op.drop_index('ix_billing_period_status_retry')
        batch_op.drop_index(batch_op.f('ix_billing_period_status'))
        batch_op.drop_index('ix_billing_period_starts_at')

    op.drop_table('billing_period')
