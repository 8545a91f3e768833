"""search statistics and Home's renewals index: PostgreSQL keeps 1,000 most common search
keys (not 100), SQLite gets back its lower() contact indexes, and the subscriptions renewing
soon are counted and priced from one index

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-01 04:00:00

"""
from alembic import op

revision = '0018'
down_revision = '0014'
branch_labels = None
depends_on = None

# NOTE: with the default 100, a name word outside PostgreSQL's most-common list that many
# contacts share ("chloe": 7,000 of a million) was estimated at one row for a prefix range, and
# a two-word search ("berg chloe") was planned as a nested loop over both lists: 1.3 s instead
# of 24 ms at a million contacts (benchmarks/admin_pages.py).
SEARCH_KEY_STATISTICS = 1000


# NOTE: 0013 rebuilt the contact table on SQLite (batch_alter_table copies the table and
# recreates only the indexes it can reflect): the lower() indexes of 0002 were lost there, and
# every search read the whole email index for the words' email prefixes (300-500 ms at a
# million contacts). A later batch_alter_table('contact') must create them again.
LOWER_INDEXES = {
    'ix_contact_first_name_lower': 'first_name',
    'ix_contact_last_name_lower': 'last_name',
    'ix_contact_email_lower': 'email',
}


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE contact_search_key ALTER COLUMN token '
                   f'SET STATISTICS {SEARCH_KEY_STATISTICS}')
        op.execute('ANALYZE contact_search_key')
    else:
        for name, column in LOWER_INDEXES.items():
            op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON contact (lower({column}))')
    # Home's "renewals in the next 7 days" reads every column it needs from the index (an
    # index-only scan), not tens of thousands of subscription rows; the billing run's search
    # for due renewals uses its first two columns, as it used the index it replaces.
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_renewing', ['status', 'current_period_end',
                                                           'cancel_at_period_end', 'plan_id',
                                                           'scheduled_plan_id'], unique=False)
        batch_op.drop_index('ix_subscription_status_period_end')


def downgrade():
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_status_period_end',
                              ['status', 'current_period_end'], unique=False)
        batch_op.drop_index('ix_subscription_renewing')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE contact_search_key ALTER COLUMN token SET STATISTICS -1')
