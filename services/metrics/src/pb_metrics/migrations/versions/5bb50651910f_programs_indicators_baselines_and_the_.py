"""programs, indicators, baselines and the projections

The projections start with generation 1 active; a rebuild makes the next one.

Revision ID: 5bb50651910f
Revises: 6586a5128963
Create Date: 2026-11-29 04:15:59.556966
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = '5bb50651910f'
down_revision = '6586a5128963'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('annual_report_facts',
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('employees', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('generation', 'org_id', 'year')
    )
    op.create_table('deal_facts',
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=True),
    sa.Column('patent_count', sa.Integer(), nullable=False),
    sa.Column('contract_amount', sa.BigInteger(), nullable=False),
    sa.Column('transferee_org_id', sa.String(length=64), nullable=False),
    sa.Column('transferee_prefecture_code', sa.String(length=6), nullable=True),
    sa.Column('transferee_industry', sa.String(length=64), nullable=True),
    sa.Column('sme_inbound', sa.Boolean(), nullable=False),
    sa.Column('lead_transferor_kind', sa.String(length=32), nullable=False),
    sa.Column('inst_outbound', sa.Boolean(), nullable=False),
    sa.Column('inst_kind', sa.String(length=32), nullable=True),
    sa.Column('inst_prefecture_code', sa.String(length=6), nullable=True),
    sa.PrimaryKeyConstraint('generation', 'deal_id')
    )
    with op.batch_alter_table('deal_facts', schema=None) as batch_op:
        batch_op.create_index('ix_deal_facts_recorded_on', ['generation', 'recorded_on'], unique=False)

    op.create_table('filing_facts',
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('filing_id', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('approved_on', sa.Date(), nullable=True),
    sa.Column('prefecture_code', sa.String(length=6), nullable=True),
    sa.Column('filer_org_id', sa.String(length=64), nullable=False),
    sa.Column('filer_prefecture_code', sa.String(length=6), nullable=True),
    sa.Column('filer_industry', sa.String(length=64), nullable=True),
    sa.Column('filer_sme_in_province', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('generation', 'filing_id')
    )
    with op.batch_alter_table('filing_facts', schema=None) as batch_op:
        batch_op.create_index('ix_filing_facts_approved_on', ['generation', 'approved_on'], unique=False)

    op.create_table('payment_facts',
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('deal_id', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('generation', 'payment_id')
    )
    with op.batch_alter_table('payment_facts', schema=None) as batch_op:
        batch_op.create_index('ix_payment_facts_deal', ['generation', 'deal_id'], unique=False)
        batch_op.create_index('ix_payment_facts_received_on', ['generation', 'received_on'], unique=False)

    op.create_table('pledge_facts',
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('pledgor_org_id', sa.String(length=64), nullable=False),
    sa.Column('pledgor_prefecture_code', sa.String(length=6), nullable=True),
    sa.Column('pledgor_industry', sa.String(length=64), nullable=True),
    sa.Column('pledgor_sme_in_province', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('generation', 'pledge_id')
    )
    with op.batch_alter_table('pledge_facts', schema=None) as batch_op:
        batch_op.create_index('ix_pledge_facts_registered_on', ['generation', 'registered_on'], unique=False)

    op.create_table('programs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('first_year', sa.Integer(), nullable=False),
    sa.Column('last_year', sa.Integer(), nullable=False),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    generations = op.create_table('projection_generations',
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('as_of', pbkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('generation')
    )
    state = op.create_table('projection_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('active_generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(generations, [{"generation": 1, "as_of": None, "created_at": datetime.now(UTC)}])
    op.bulk_insert(state, [{"id": 1, "active_generation": 1}])
    op.create_table('rebuilds',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('requested_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', pbkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('events_applied', sa.BigInteger(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('generation')
    )
    with op.batch_alter_table('rebuilds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rebuilds_status'), ['status'], unique=False)

    op.create_table('indicators',
    sa.Column('program_id', sa.String(length=64), nullable=False),
    sa.Column('indicator_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('floor', sa.BigInteger(), nullable=True),
    sa.Column('growth_target', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('program_id', 'indicator_id')
    )
    op.create_table('baselines',
    sa.Column('program_id', sa.String(length=64), nullable=False),
    sa.Column('indicator_id', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['program_id', 'indicator_id'], ['indicators.program_id', 'indicators.indicator_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('program_id', 'indicator_id')
    )


def downgrade() -> None:
    op.drop_table('baselines')
    op.drop_table('indicators')
    with op.batch_alter_table('rebuilds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rebuilds_status'))

    op.drop_table('rebuilds')
    op.drop_table('projection_state')
    op.drop_table('projection_generations')
    op.drop_table('programs')
    with op.batch_alter_table('pledge_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_pledge_facts_registered_on')

    op.drop_table('pledge_facts')
    with op.batch_alter_table('payment_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_facts_received_on')
        batch_op.drop_index('ix_payment_facts_deal')

    op.drop_table('payment_facts')
    with op.batch_alter_table('filing_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_filing_facts_approved_on')

    op.drop_table('filing_facts')
    with op.batch_alter_table('deal_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_deal_facts_recorded_on')

    op.drop_table('deal_facts')
    op.drop_table('annual_report_facts')
