"""filings: patent-product filings and their review

Revision ID: 55847d6bdd22
Revises: cfcf7409645c
Create Date: 2026-11-29 04:10:21.671590
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = '55847d6bdd22'
down_revision = 'cfcf7409645c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'filings',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('org_id', sa.String(length=36), nullable=False),
        sa.Column('filer', sa.JSON(), nullable=False),
        sa.Column('product_name', sa.String(length=200), nullable=False),
        sa.Column('patent_numbers', sa.JSON(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('prefecture_code', sa.String(length=6), nullable=False),
        sa.Column('industry', sa.String(length=64), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('sales_last_year_fen', sa.BigInteger(), nullable=True),
        sa.Column('export_last_year_fen', sa.BigInteger(), nullable=True),
        sa.Column('approved_on', sa.Date(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('submitted', 'approved', 'rejected', 'revoked')", name='ck_filings_status'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('filings', schema=None) as batch_op:
        batch_op.create_index('ix_filings_created_by_id', ['created_by', 'id'], unique=False)
        batch_op.create_index('ix_filings_org_id_id', ['org_id', 'id'], unique=False)
        batch_op.create_index('ix_filings_prefecture_code_id', ['prefecture_code', 'id'], unique=False)
        batch_op.create_index('ix_filings_status_id', ['status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('filings', schema=None) as batch_op:
        batch_op.drop_index('ix_filings_status_id')
        batch_op.drop_index('ix_filings_prefecture_code_id')
        batch_op.drop_index('ix_filings_org_id_id')
        batch_op.drop_index('ix_filings_created_by_id')
    op.drop_table('filings')
