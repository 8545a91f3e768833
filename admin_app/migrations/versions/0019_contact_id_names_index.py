"""contact names by id from an index: a search's matches are put in name order by an
index-only read on PostgreSQL (the top bar's "mar", 16,000 matches at a million contacts)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 06:40:00

"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_contact_id_names', 'contact', ['id'],
                        postgresql_include=['last_name', 'first_name'])


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_contact_id_names', table_name='contact')
