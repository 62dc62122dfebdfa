"""deals: a recording or cancellation pending at the registry

The pending step of recording and cancelling through the registry, the arbiter of title (docs/TITLE_ARBITER.md).

Revision ID: 00ea6bc806a1
Revises: dadc2fc9117f
Create Date: 2026-12-02 00:56:21.527629
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = '00ea6bc806a1'
down_revision = 'dadc2fc9117f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite supports: batch mode's table rebuild would drop `deals`, which its
    # patents, parties and payments reference.
    op.add_column('deals', sa.Column('pending', sa.String(length=16), nullable=True))
    op.add_column('deals', sa.Column('pending_request', sa.JSON(), nullable=True))
    op.add_column('deals', sa.Column('pending_since', pbkit.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_deals_pending_since', 'deals', ['pending_since'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_deals_pending_since', table_name='deals')
    op.drop_column('deals', 'pending_since')
    op.drop_column('deals', 'pending_request')
    op.drop_column('deals', 'pending')
