"""demand matches and the matching mark

Revision ID: 722daea1a552
Revises: a7d5c27277f8
Create Date: 2026-12-02 14:36:35.541886
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = '722daea1a552'
down_revision = 'a7d5c27277f8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('demand_matches',
    sa.Column('demand_id', sa.String(length=36), nullable=False),
    sa.Column('patent_number', sa.String(length=32), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score_micros', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('declaration_id', sa.String(length=36), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('proposed_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], ),
    sa.PrimaryKeyConstraint('demand_id', 'patent_number')
    )
    with op.batch_alter_table('demand_matches', schema=None) as batch_op:
        batch_op.create_index('ix_demand_matches_patent_number_demand_id', ['patent_number', 'demand_id'], unique=False)

    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_due', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_demands_match_due'), ['match_due'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demands_match_due'))
        batch_op.drop_column('match_due')

    with op.batch_alter_table('demand_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_matches_patent_number_demand_id')

    op.drop_table('demand_matches')
