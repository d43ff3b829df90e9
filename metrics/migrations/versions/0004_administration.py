"""administration: versions on levels and users, levels retired from a month

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Issue 10 (administration pages): priorities, initiatives, services, teams and users carry a
`version`, so an administrator's stale edit is refused rather than overwriting another's; a
level is retired from a month (`retired_from`), never deleted, so its history keeps its name.
Rows already held start at version 1 and are not retired.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

LEVELS = ('priority', 'initiative', 'service', 'team')


def upgrade() -> None:
    for table in LEVELS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('retired_from', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
            batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('version')
    for table in reversed(LEVELS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
            batch_op.drop_column('retired_from')
