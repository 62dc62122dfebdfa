"""indicator_totals and first_counted: the per-year totals progress reads; retired generations

The consumer keeps the totals beside the facts (pb_metrics.projections.aggregates). The
generations already stored are counted from their facts, a few thousand at a time, by the
revision at the head (it uses the code's models; see 28d85e7b6079).
A rebuild now retires the generation it replaces and deletes its rows in small transactions
(projection_generations.retired_at).

Revision ID: a7c3e91d2b40
Revises: f023a7af7b55
Create Date: 2026-12-02 05:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

from pbkit.db import UTCDateTime

revision = 'a7c3e91d2b40'
down_revision = 'f023a7af7b55'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'indicator_totals',
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('indicator', sa.String(length=64), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('since', sa.Integer(), nullable=False),
        sa.Column('prefecture', sa.String(length=16), nullable=False),
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('high', sa.BigInteger(), nullable=False),
        sa.Column('low', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            'generation', 'indicator', 'year', 'since', 'prefecture', 'dimension', 'key', name='indicator_totals_pkey'
        ),
    )
    op.create_table(
        'first_counted',
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('indicator', sa.String(length=64), nullable=False),
        sa.Column('entity', sa.String(length=64), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('since', sa.Integer(), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('prefecture', sa.String(length=6), nullable=True),
        sa.Column('industry', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('generation', 'indicator', 'entity', 'year'),
    )
    op.create_index('ix_deal_facts_transferee', 'deal_facts', ['generation', 'transferee_org_id'])
    op.create_index('ix_pledge_facts_pledgor', 'pledge_facts', ['generation', 'pledgor_org_id'])
    op.create_index('ix_filing_facts_filer', 'filing_facts', ['generation', 'filer_org_id'])
    op.create_index('ix_filing_facts_prefecture', 'filing_facts', ['generation', 'prefecture_code'])
    with op.batch_alter_table('projection_generations') as batch:
        batch.add_column(sa.Column('retired_at', UTCDateTime(), nullable=True))
    # The stored generations are counted by the newest revision that changes what is counted (now 28d85e7b6079):
    # the recount runs the models of the code, which only the head's schema has.


def downgrade() -> None:
    with op.batch_alter_table('projection_generations') as batch:
        batch.drop_column('retired_at')
    op.drop_index('ix_filing_facts_prefecture', table_name='filing_facts')
    op.drop_index('ix_filing_facts_filer', table_name='filing_facts')
    op.drop_index('ix_pledge_facts_pledgor', table_name='pledge_facts')
    op.drop_index('ix_deal_facts_transferee', table_name='deal_facts')
    op.drop_table('first_counted')
    op.drop_table('indicator_totals')
