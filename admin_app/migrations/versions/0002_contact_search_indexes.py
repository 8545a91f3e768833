"""contact search indexes: lower(first_name), lower(last_name), lower(email)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_contact_first_name_lower": "first_name",
    "ix_contact_last_name_lower": "last_name",
    "ix_contact_email_lower": "email",
}


def upgrade():
    for name, column in INDEXES.items():
        op.create_index(name, "contact", [sa.text(f"lower({column})")], unique=False)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="contact")
