"""match proposals and the candidates generation

Revision ID: b98ccd5d4b2f
Revises: 07e253db175d
Create Date: 2026-12-02 17:22:09.202703
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = 'b98ccd5d4b2f'
down_revision = '07e253db175d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('candidate_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO candidate_generation (id, generation) VALUES (1, 0)")
    op.create_table('match_proposals',
    sa.Column('demand_id', sa.String(length=36), nullable=False),
    sa.Column('patent_number', sa.String(length=32), nullable=False),
    sa.Column('proposed_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], ),
    sa.PrimaryKeyConstraint('demand_id', 'patent_number')
    )
    # The matches kept so far were announced when they were kept.
    op.execute("INSERT INTO match_proposals (demand_id, patent_number, proposed_at) "
               "SELECT demand_id, patent_number, proposed_at FROM demand_matches")
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matched_generation', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_index('ix_demands_status_matched_generation', ['status', 'matched_generation'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.drop_index('ix_demands_status_matched_generation')
        batch_op.drop_column('matched_generation')

    op.drop_table('match_proposals')
    op.drop_table('candidate_generation')
