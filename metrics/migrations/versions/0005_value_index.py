"""value index: period values found by measure and period end

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Issue 12 (speed at a county's scale): the status query reads the values of the measures due
in a month over a window of period ends (`queries.value_frame`). With one index on metric_id
and another on period_end, the planner reads one and filters on the other; the composite
index (metric_id, period_end) answers both at once. It takes no data and changes no row.
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_period_value_metric_id_period_end', 'period_value', ['metric_id', 'period_end'])


def downgrade() -> None:
    op.drop_index('ix_period_value_metric_id_period_end', table_name='period_value')
