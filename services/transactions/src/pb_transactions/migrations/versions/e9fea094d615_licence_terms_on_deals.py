"""licence terms on deals

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
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('term_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('term_end', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_column('term_end')
        batch_op.drop_column('term_start')

