"""snapshot risk why: a frozen row keeps the sentence behind its risk score

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

A committee reading a snapshot saw each measure's risk level and score but not why ("Red x
worsening x impact 3"), which the live pages show. The rows of snapshots taken before this
migration get a blank sentence: they were frozen without one, and their hash stands because
a blank field added later does not enter the canonical row (`snapshot_hash.ADDED_LATER`).
Adding a column with a default changes no row, so the append-only triggers of 0002 are not
crossed.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'snapshot_row',
        sa.Column('risk_why', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later), not a batch copy, so the table keeps its
    # append-only triggers and no frozen row is rewritten.
    op.drop_column('snapshot_row', 'risk_why')
