"""kept commentary: each kept rating carries the commentary its row shows

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Issue 12 (speed at a county's scale): every month's reading showed each measure's latest
commentary (its own period's, or else the latest of the year before it) by reading a year of
commented values for every measure: 170 to 300 ms at XL on every cold read. That commentary
comes from the measure's own values only, so it is kept with the rating
(`kept_rating.latest_commentary`) and forgotten with it by the same triggers (0007). The kept
rows are derived data: they are emptied here, and refilled as people read.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('DELETE FROM kept_rating')  # kept before 0008: no commentary to read
    op.add_column('kept_rating', sa.Column('latest_commentary',
                                           sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35 and later): a batch copy of the table would trip 0007's
    # triggers, which name it.
    op.execute('ALTER TABLE kept_rating DROP COLUMN latest_commentary')
