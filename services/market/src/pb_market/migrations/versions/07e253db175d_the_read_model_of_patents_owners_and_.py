"""the read model of patents, owners and deals

Revision ID: 07e253db175d
Revises: 722daea1a552
Create Date: 2026-12-02 14:42:13.613821
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = '07e253db175d'
down_revision = '722daea1a552'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dealt_patents',
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('deal_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('number')
    )
    op.create_table('organization_views',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('in_province', sa.Boolean(), nullable=False),
    sa.Column('prefecture_code', sa.String(length=6), nullable=True),
    sa.Column('industry', sa.String(length=64), nullable=True),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('patent_views',
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('ipc', sa.JSON(), nullable=False),
    sa.Column('owner_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    with op.batch_alter_table('patent_views', schema=None) as batch_op:
        batch_op.create_index('ix_patent_views_status', ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('patent_views', schema=None) as batch_op:
        batch_op.drop_index('ix_patent_views_status')

    op.drop_table('patent_views')
    op.drop_table('organization_views')
    op.drop_table('dealt_patents')
