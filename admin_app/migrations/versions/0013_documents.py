"""documents: invoice lifecycle, number prefixes, delivery attempts, the Outbox

Custom invoices get a due date, tax, line discounts and services, paid / void marks and the
document they relate to; Cashier settings get number prefixes, paper size and a logo;
contacts a preferred channel and opt-outs; outbound messages the state the worker keeps
(reference, attempts, next attempt, provider id) and two new statuses.

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-01 01:46:33.539080

"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_STATUS = sa.Enum('queued', 'sent', 'failed', name='message_status', native_enum=False,
                     create_constraint=True)


def upgrade():
    op.create_table('delivery_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['outbound_message.id'], name=op.f('fk_delivery_attempt_message_id_outbound_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempt'))
    )
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempt_message_id'), ['message_id'], unique=False)

    op.create_table('outbox_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('email', 'sms', name='delivery_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbound_message.id'], name=op.f('fk_outbox_item_message_id_outbound_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_item')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_item_message_id'))
    )
    with op.batch_alter_table('cashier_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoice_prefix', sa.String(length=12), server_default='INV-', nullable=False))
        batch_op.add_column(sa.Column('receipt_prefix', sa.String(length=12), server_default='RCT-', nullable=False))
        batch_op.add_column(sa.Column('credit_note_prefix', sa.String(length=12), server_default='CN-', nullable=False))
        batch_op.add_column(sa.Column('paper_size', sa.String(length=10), server_default='A4', nullable=False))
        batch_op.add_column(sa.Column('logo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_type', sa.String(length=40), nullable=True))
        batch_op.create_check_constraint(op.f('ck_cashier_settings_paper_size_known'),
                                         "paper_size IN ('A4', 'Letter')")

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_channel', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('email_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('sms_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_contact_preferred_channel_known'),
            "preferred_channel IS NULL OR preferred_channel IN ('email', 'sms')")

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number_prefix', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('related_document_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tax_rate_bp', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paid_method', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('void_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('delivery_state', sa.String(length=12), nullable=True))
        batch_op.create_index(batch_op.f('ix_document_delivery_state'), ['delivery_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_related_document_id'), ['related_document_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_document_related_document_id_document'), 'document', ['related_document_id'], ['id'])
        batch_op.create_check_constraint(
            op.f('ck_document_tax_rate_range'),
            "tax_rate_bp IS NULL OR (tax_rate_bp >= 0 AND tax_rate_bp <= 10000)")
        batch_op.create_check_constraint(op.f('ck_document_void_has_time'),
                                         "status != 'void' OR voided_at IS NOT NULL")

    with op.batch_alter_table('document_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_minor', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_check_constraint(op.f('ck_document_line_discount_minor_non_negative'),
                                         'discount_minor >= 0')
        batch_op.add_column(sa.Column('service_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_document_line_service_id_service'), 'service', ['service_id'], ['id'])

    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('provider', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('provider_message_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('is_marketing', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column('status',
               existing_type=OLD_STATUS,
               type_=sa.Enum('queued', 'sending', 'sent', 'failed', 'unconfirmed', name='message_status', native_enum=False, create_constraint=True),
               existing_nullable=False)
        batch_op.create_index('ix_outbound_message_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbound_message_reference'), ['reference'])
    # Messages queued before keep a reference of their own too.
    op.execute("UPDATE outbound_message SET reference = 'msg-old-' || id WHERE reference IS NULL")



def downgrade():
    op.execute("UPDATE outbound_message SET status = 'queued' "
               "WHERE status IN ('sending', 'unconfirmed')")
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbound_message_reference'), type_='unique')
        batch_op.drop_index('ix_outbound_message_due')
        batch_op.alter_column('status',
               existing_type=sa.Enum('queued', 'sending', 'sent', 'failed', 'unconfirmed', name='message_status', native_enum=False, create_constraint=True),
               type_=OLD_STATUS,
               existing_nullable=False)
        batch_op.drop_column('is_marketing')
        batch_op.drop_column('provider_message_id')
        batch_op.drop_column('provider')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('reference')

    with op.batch_alter_table('document_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_document_line_discount_minor_non_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_document_line_service_id_service'), type_='foreignkey')
        batch_op.drop_column('service_id')
        batch_op.drop_column('discount_minor')

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_document_void_has_time'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_document_tax_rate_range'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_document_related_document_id_document'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_document_related_document_id'))
        batch_op.drop_index(batch_op.f('ix_document_delivery_state'))
        batch_op.drop_column('delivery_state')
        batch_op.drop_column('void_reason')
        batch_op.drop_column('voided_at')
        batch_op.drop_column('paid_method')
        batch_op.drop_column('paid_at')
        batch_op.drop_column('tax_rate_bp')
        batch_op.drop_column('related_document_id')
        batch_op.drop_column('due_date')
        batch_op.drop_column('number_prefix')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_contact_preferred_channel_known'), type_='check')
        batch_op.drop_column('sms_opt_out')
        batch_op.drop_column('email_opt_out')
        batch_op.drop_column('preferred_channel')

    with op.batch_alter_table('cashier_settings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cashier_settings_paper_size_known'), type_='check')
        batch_op.drop_column('logo_type')
        batch_op.drop_column('logo')
        batch_op.drop_column('paper_size')
        batch_op.drop_column('credit_note_prefix')
        batch_op.drop_column('receipt_prefix')
        batch_op.drop_column('invoice_prefix')

    op.drop_table('outbox_item')
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempt_message_id'))

    op.drop_table('delivery_attempt')
