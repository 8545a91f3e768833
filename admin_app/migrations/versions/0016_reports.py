"""reports: the monthly summary (report_month, report_figure), billing_period.updated_at, and
the indexes the reports and the summary's incremental refresh read through

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-01 01:51:52.297293

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_figure',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'metric', 'plan_id', 'currency', 'dimension', name=op.f('pk_report_figure'))
    )
    op.create_table('report_month',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_report_month'))
    )
    with op.batch_alter_table('report_month', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_month_computed_at'), ['computed_at'], unique=False)

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_updated_at', ['updated_at'], unique=False)

    with op.batch_alter_table('billing_period', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE billing_period SET updated_at = created_at")
    with op.batch_alter_table('billing_period', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.create_index('ix_billing_period_ends_at', ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_period_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_paid_at', ['paid_at'], unique=False)
        batch_op.create_index('ix_payment_updated_at', ['updated_at'], unique=False)

    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.create_index('ix_refund_updated_at', ['updated_at'], unique=False)

    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_updated_at', ['updated_at'], unique=False)



def downgrade():
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_updated_at')

    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.drop_index('ix_refund_updated_at')

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_updated_at')
        batch_op.drop_index('ix_payment_paid_at')

    with op.batch_alter_table('billing_period', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_period_updated_at'))
        batch_op.drop_index('ix_billing_period_ends_at')
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_updated_at')

    with op.batch_alter_table('report_month', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_month_computed_at'))

    op.drop_table('report_month')
    op.drop_table('report_figure')
