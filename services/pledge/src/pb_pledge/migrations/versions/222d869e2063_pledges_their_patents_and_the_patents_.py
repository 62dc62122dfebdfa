"""pledges, their patents, and the patents under an active pledge

Revision ID: 222d869e2063
Revises: 5afca1d1767e
Create Date: 2026-11-29 04:11:42.351555
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = '222d869e2063'
down_revision = '5afca1d1767e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pledges',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('pledgor_id', sa.String(length=64), nullable=False),
        sa.Column('pledgee_id', sa.String(length=64), nullable=False),
        sa.Column('pledgor', sa.JSON(), nullable=False),
        sa.Column('pledgee', sa.JSON(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('registered_on', sa.Date(), nullable=False),
        sa.Column('term_start', sa.Date(), nullable=False),
        sa.Column('term_end', sa.Date(), nullable=False),
        sa.Column('registration_no', sa.String(length=64), nullable=True),
        sa.Column('co_owner_consent', sa.Boolean(), nullable=False),
        sa.Column('released_on', sa.Date(), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_pledges_pledgee_id_id', 'pledges', ['pledgee_id', 'id'])
    op.create_index('ix_pledges_pledgor_id', 'pledges', ['pledgor_id'])
    op.create_index('ix_pledges_registered_on', 'pledges', ['registered_on'])

    op.create_table(
        'pledge_patents',
        sa.Column('pledge_id', sa.String(length=36), nullable=False),
        sa.Column('patent_number', sa.String(length=16), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id']),
        sa.PrimaryKeyConstraint('pledge_id', 'patent_number'),
    )
    op.create_index('ix_pledge_patents_patent_number', 'pledge_patents', ['patent_number'])

    # One row per patent under an active pledge: its primary key refuses a second pledge.
    op.create_table(
        'active_pledge_patents',
        sa.Column('patent_number', sa.String(length=16), nullable=False),
        sa.Column('pledge_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id']),
        sa.PrimaryKeyConstraint('patent_number'),
    )
    op.create_index('ix_active_pledge_patents_pledge_id', 'active_pledge_patents', ['pledge_id'])


def downgrade() -> None:
    op.drop_table('active_pledge_patents')
    op.drop_table('pledge_patents')
    op.drop_table('pledges')
