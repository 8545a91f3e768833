"""sign-up through the plan link: sign-up attempts, personal invitations, link counters,
the terms link in Cashier settings

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 01:51:17.475935

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_link_counter',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.CheckConstraint('opened >= 0', name=op.f('ck_plan_link_counter_opened_non_negative')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_link_counter_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', name=op.f('pk_plan_link_counter'))
    )
    op.create_table('plan_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('promo_code_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.Enum('email', 'sms', name='delivery_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('outbound_message_id', sa.Integer(), nullable=True),
    sa.Column('open_count', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('open_count >= 0', name=op.f('ck_plan_invitation_open_count_non_negative')),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_plan_invitation_contact_id_contact')),
    sa.ForeignKeyConstraint(['created_by_id'], ['admin_user.id'], name=op.f('fk_plan_invitation_created_by_id_admin_user')),
    sa.ForeignKeyConstraint(['outbound_message_id'], ['outbound_message.id'], name=op.f('fk_plan_invitation_outbound_message_id_outbound_message')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_invitation_plan_id_plan')),
    sa.ForeignKeyConstraint(['promo_code_id'], ['promo_code.id'], name=op.f('fk_plan_invitation_promo_code_id_promo_code')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], name=op.f('fk_plan_invitation_subscription_id_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_invitation')),
    sa.UniqueConstraint('token', name=op.f('uq_plan_invitation_token'))
    )
    with op.batch_alter_table('plan_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_invitation_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_invitation_plan_id'), ['plan_id'], unique=False)

    op.create_table('signup_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('pending', 'paid', 'failed', name='signup_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('promo_code_id', sa.Integer(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('card_gateway_id', sa.String(length=64), nullable=True),
    sa.Column('card_brand', sa.String(length=20), nullable=True),
    sa.Column('card_last4', sa.String(length=4), nullable=True),
    sa.Column('card_exp_month', sa.Integer(), nullable=True),
    sa.Column('card_exp_year', sa.Integer(), nullable=True),
    sa.Column('gateway_id', sa.String(length=64), nullable=True),
    sa.Column('failure_reason', sa.String(length=200), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("length(currency) = 3 AND upper(currency) = currency AND substr(currency, 1, 1) BETWEEN 'A' AND 'Z' AND substr(currency, 2, 1) BETWEEN 'A' AND 'Z' AND substr(currency, 3, 1) BETWEEN 'A' AND 'Z'", name=op.f('ck_signup_attempt_currency_iso')),
    sa.CheckConstraint('amount_minor >= 0', name=op.f('ck_signup_attempt_amount_minor_non_negative')),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_signup_attempt_contact_id_contact')),
    sa.ForeignKeyConstraint(['invitation_id'], ['plan_invitation.id'], name=op.f('fk_signup_attempt_invitation_id_plan_invitation')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_signup_attempt_payment_id_payment')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_signup_attempt_plan_id_plan')),
    sa.ForeignKeyConstraint(['promo_code_id'], ['promo_code.id'], name=op.f('fk_signup_attempt_promo_code_id_promo_code')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], name=op.f('fk_signup_attempt_subscription_id_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signup_attempt')),
    sa.UniqueConstraint('reference', name=op.f('uq_signup_attempt_reference'))
    )
    with op.batch_alter_table('signup_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_signup_attempt_address_created', ['client_address', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_signup_attempt_gateway_id'), ['gateway_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signup_attempt_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index('ix_signup_attempt_plan_status', ['plan_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_signup_attempt_status'), ['status'], unique=False)

    with op.batch_alter_table('cashier_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms_url', sa.String(length=500), nullable=True))



def downgrade():
    with op.batch_alter_table('cashier_settings', schema=None) as batch_op:
        batch_op.drop_column('terms_url')

    with op.batch_alter_table('signup_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signup_attempt_status'))
        batch_op.drop_index('ix_signup_attempt_plan_status')
        batch_op.drop_index(batch_op.f('ix_signup_attempt_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_signup_attempt_gateway_id'))
        batch_op.drop_index('ix_signup_attempt_address_created')

    op.drop_table('signup_attempt')
    with op.batch_alter_table('plan_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_invitation_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_invitation_contact_id'))

    op.drop_table('plan_invitation')
    op.drop_table('plan_link_counter')
