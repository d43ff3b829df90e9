"""committee snapshots: frozen rows, roll-ups and restatements

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

The unused `snapshot` table of 0001 is replaced by a snapshot header and three child tables.
All four are append-only in the database itself (triggers on SQLite and PostgreSQL), so no code
path can change or delete what a committee was shown.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
FROZEN = ('snapshot', 'snapshot_row', 'snapshot_rollup', 'snapshot_restatement')


def upgrade() -> None:
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshot_period'))
    op.drop_table('snapshot')

    op.create_table('snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', S(length=20), nullable=False),
    sa.Column('committee', S(length=200), nullable=False),
    sa.Column('title', S(length=300), nullable=False),
    sa.Column('meeting_date', sa.Date(), nullable=True),
    sa.Column('marking', S(length=40), nullable=False),
    sa.Column('rated_on', sa.Date(), nullable=False),
    sa.Column('include_unapproved', sa.Boolean(), nullable=False),
    sa.Column('unapproved_count', sa.Integer(), nullable=False),
    sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('taken_by', S(length=200), nullable=False),
    sa.Column('sha256', S(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_period'), ['period'], unique=False)

    op.create_table('snapshot_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', S(length=40), nullable=False),
    sa.Column('title', S(), nullable=False),
    sa.Column('tier', S(length=40), nullable=False),
    sa.Column('priority', S(), nullable=False),
    sa.Column('initiative', S(), nullable=False),
    sa.Column('service', S(), nullable=False),
    sa.Column('team', S(), nullable=False),
    sa.Column('responsible_officer', S(), nullable=False),
    sa.Column('marking', S(length=40), nullable=False),
    sa.Column('unit', S(length=20), nullable=False),
    sa.Column('decimals', sa.Integer(), nullable=False),
    sa.Column('polarity', S(length=20), nullable=False),
    sa.Column('frequency', S(length=20), nullable=False),
    sa.Column('period', S(length=20), nullable=False),
    sa.Column('actual', sa.Float(), nullable=True),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('target_upper', sa.Float(), nullable=True),
    sa.Column('ytd', sa.Float(), nullable=True),
    sa.Column('ytd_target', sa.Float(), nullable=True),
    sa.Column('status', S(length=20), nullable=False),
    sa.Column('explanation', S(), nullable=False),
    sa.Column('dot_previous', S(length=20), nullable=False),
    sa.Column('dot_last_year', S(length=20), nullable=False),
    sa.Column('risk_score', sa.Integer(), nullable=False),
    sa.Column('risk_level', S(length=20), nullable=False),
    sa.Column('forecast', sa.Float(), nullable=True),
    sa.Column('forecast_target', sa.Float(), nullable=True),
    sa.Column('forecast_status', S(length=20), nullable=False),
    sa.Column('spc_signal', S(length=40), nullable=False),
    sa.Column('commentary', S(), nullable=False),
    sa.Column('corrective_action', S(), nullable=False),
    sa.Column('approval', S(length=20), nullable=False),
    sa.Column('unapproved', sa.Boolean(), nullable=False),
    sa.Column('last_updated', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('snapshot_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_row_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('snapshot_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('scope', S(length=40), nullable=False),
    sa.Column('level', S(length=20), nullable=False),
    sa.Column('name', S(), nullable=False),
    sa.Column('red', sa.Integer(), nullable=False),
    sa.Column('amber', sa.Integer(), nullable=False),
    sa.Column('green', sa.Integer(), nullable=False),
    sa.Column('data_only', sa.Integer(), nullable=False),
    sa.Column('missing', sa.Integer(), nullable=False),
    sa.Column('status', S(length=20), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('snapshot_rollup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_rollup_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('snapshot_restatement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', S(length=40), nullable=False),
    sa.Column('title', S(), nullable=False),
    sa.Column('tier', S(length=40), nullable=False),
    sa.Column('marking', S(length=40), nullable=False),
    sa.Column('unit', S(length=20), nullable=False),
    sa.Column('decimals', sa.Integer(), nullable=False),
    sa.Column('period', S(length=20), nullable=False),
    sa.Column('field_name', S(length=20), nullable=False),
    sa.Column('old_value', sa.Float(), nullable=True),
    sa.Column('new_value', sa.Float(), nullable=True),
    sa.Column('changed_by', S(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reason', S(), nullable=False),
    sa.Column('published_in', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('snapshot_restatement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_restatement_snapshot_id'), ['snapshot_id'], unique=False)

    for table in FROZEN:
        _make_frozen(table)


def downgrade() -> None:
    for table in reversed(FROZEN):
        _drop_frozen(table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_snapshot_id' if table != 'snapshot' else 'ix_snapshot_period'))
        op.drop_table(table)
    # The unused table 0001 made, as it made it.
    op.create_table('snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', S(length=20), nullable=False),
    sa.Column('title', S(), nullable=False),
    sa.Column('meeting', S(), nullable=False),
    sa.Column('marking', S(), nullable=False),
    sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('taken_by', S(), nullable=False),
    sa.Column('sha256', S(length=64), nullable=False),
    sa.Column('content', S(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_period'), ['period'], unique=False)


def _make_frozen(table: str) -> None:
    """UPDATE and DELETE on the table fail with `<table> is frozen`, on both databases."""
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is frozen'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {table}_frozen() RETURNS trigger AS $$ BEGIN "
        f"RAISE EXCEPTION '{table} is frozen'; END; $$ LANGUAGE plpgsql"
    )
    op.execute(
        f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_frozen()"
    )
    # TRUNCATE skips row triggers: refuse it too.
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_frozen()"
    )


def _drop_frozen(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_frozen()")
