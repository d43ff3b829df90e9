"""commented index: the values that carry commentary, found by period end

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Issue 12 (speed at a county's scale): every month's reading shows each measure's latest
commentary of the past year (`queries.latest_commentary`). Without an index on it, the read
walked every value of the year to find the few with commentary: 170 ms at XL with none at all.
A partial index holds only the values with commentary, by period end. It takes no data and
changes no row.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COMMENTED = sa.text("commentary <> ''")


def upgrade() -> None:
    op.create_index(
        'ix_period_value_commented',
        'period_value',
        ['period_end', 'metric_id'],
        sqlite_where=COMMENTED,
        postgresql_where=COMMENTED,
    )


def downgrade() -> None:
    op.drop_index('ix_period_value_commented', table_name='period_value')
