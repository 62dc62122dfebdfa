"""licence terms on deals

A licence deal may carry its term (CONTRACT §9, issue 15): an exclusive or sole licence excludes others only
within it.

Revision ID: e9fea094d615
Revises: 2afc5f2d18a7
Create Date: 2026-12-02 13:36:10.863973
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = 'e9fea094d615'
down_revision = '2afc5f2d18a7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite supports: batch mode's table rebuild would drop `deals`, which its
    # patents, parties and payments reference.
    op.add_column('deals', sa.Column('term_start', sa.Date(), nullable=True))
    op.add_column('deals', sa.Column('term_end', sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column('deals', 'term_end')
    op.drop_column('deals', 'term_start')

