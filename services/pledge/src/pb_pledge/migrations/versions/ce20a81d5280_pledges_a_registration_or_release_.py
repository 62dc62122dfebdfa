"""pledges: a registration or release pending at the registry

Revision ID: ce20a81d5280
Revises: 222d869e2063
Create Date: 2026-12-02 01:03:32.982205
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = 'ce20a81d5280'
down_revision = '222d869e2063'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite supports: batch mode's table rebuild would drop `pledges`, which its
    # patents reference.
    op.add_column('pledges', sa.Column('pending', sa.String(length=16), nullable=True))
    op.add_column('pledges', sa.Column('pending_request', sa.JSON(), nullable=True))
    op.add_column('pledges', sa.Column('pending_since', pbkit.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_pledges_pending_since', 'pledges', ['pending_since'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pledges_pending_since', table_name='pledges')
    op.drop_column('pledges', 'pending_since')
    op.drop_column('pledges', 'pending_request')
    op.drop_column('pledges', 'pending')
