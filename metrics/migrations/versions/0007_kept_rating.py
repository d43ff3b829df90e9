"""kept rating: each measure's rating of a period, kept until its values or template change

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Issue 12 (speed at a county's scale): every cold open of a month rated every measure the reader
may see from five years of values; at XL that was most of ten seconds. `kept_rating` keeps each
measure's rating of a period (`views.kept`), and triggers on `period_value` and `metric` delete
a measure's kept rows in the same transaction as any change to its values or template, so a
kept rating is never older than what it was rated from. The table holds only derived data: it
can be emptied at any time and is refilled as people read.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
FLOATS = ('actual', 'numerator', 'denominator', 'target', 'target_upper')
TEXTS = ('commentary', 'corrective_action', 'approval')
MORE_FLOATS = ('previous', 'last_year', 'ytd', 'ytd_target', 'ytd_target_upper', 'forecast',
               'forecast_target', 'forecast_target_upper')
RATED = ('rated_on', 'rag', 'dot_previous', 'dot_last_year')
WHY = ('risk_level', 'risk_why', 'forecast_rag', 'explanation', 'spc_variation',
       'spc_assurance', 'spc_variation_why', 'spc_assurance_why')
# Which writes make a measure's kept ratings stale, and the measure each names.
FORGET = {
    ('period_value', 'INSERT'): ('NEW.metric_id',),
    ('period_value', 'UPDATE'): ('OLD.metric_id', 'NEW.metric_id'),
    ('period_value', 'DELETE'): ('OLD.metric_id',),
    ('metric', 'UPDATE'): ('OLD.id', 'NEW.id'),
    ('metric', 'DELETE'): ('OLD.id',),
}


def upgrade() -> None:
    op.create_table('kept_rating',
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('period', S(length=20), nullable=False),
    sa.Column('approved_only', sa.Boolean(), nullable=False),
    sa.Column('whole', sa.Boolean(), nullable=False),
    sa.Column('rated_today', sa.Date(), nullable=False),
    sa.Column('rules', S(length=16), nullable=False),
    *[sa.Column(name, sa.Float(), nullable=True) for name in FLOATS],
    *[sa.Column(name, S(), nullable=True) for name in TEXTS],
    *[sa.Column(name, sa.Float(), nullable=True) for name in MORE_FLOATS],
    *[sa.Column(name, S(), nullable=True) for name in RATED],
    sa.Column('risk_score', sa.Integer(), nullable=False),
    *[sa.Column(name, S(), nullable=True) for name in WHY],
    sa.PrimaryKeyConstraint('metric_id', 'period', 'approved_only')
    )
    op.create_index('ix_kept_rating_period', 'kept_rating', ['period', 'approved_only'])
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for (table, event), names in FORGET.items():
        ids = ', '.join(names)
        name = f'{table}_forgets_kept_rating_{event.lower()}'
        if sqlite:
            op.execute(
                f'CREATE TRIGGER {name} AFTER {event} ON {table} '
                f'BEGIN DELETE FROM kept_rating WHERE metric_id IN ({ids}); END'
            )
        else:
            op.execute(
                f'CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN '
                f'DELETE FROM kept_rating WHERE metric_id IN ({ids}); RETURN NULL; END $$ '
                'LANGUAGE plpgsql'
            )
            op.execute(
                f'CREATE TRIGGER {name} AFTER {event} ON {table} '
                f'FOR EACH ROW EXECUTE FUNCTION {name}()'
            )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, event in FORGET:
        name = f'{table}_forgets_kept_rating_{event.lower()}'
        if sqlite:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON {table}')
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
    op.drop_table('kept_rating')
