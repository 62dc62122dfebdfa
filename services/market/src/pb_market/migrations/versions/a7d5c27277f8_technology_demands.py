"""technology demands

Revision ID: a7d5c27277f8
Revises: 03b49b6adb8b
Create Date: 2026-12-02 14:23:42.571152
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = 'a7d5c27277f8'
down_revision = '03b49b6adb8b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('demands',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sme_id', sa.String(length=36), nullable=False),
    sa.Column('sme', sa.JSON(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('ipc', sa.JSON(), nullable=False),
    sa.Column('industry', sa.String(length=64), nullable=False),
    sa.Column('budget_min_fen', sa.BigInteger(), nullable=True),
    sa.Column('budget_max_fen', sa.BigInteger(), nullable=True),
    sa.Column('prefecture_code', sa.String(length=6), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('expired_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'expired')", name='ck_demands_status'),
    sa.CheckConstraint('budget_min_fen IS NULL OR budget_max_fen IS NULL OR budget_min_fen <= budget_max_fen', name='ck_demands_budget'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.create_index('ix_demands_sme_id_id', ['sme_id', 'id'], unique=False)
        batch_op.create_index('ix_demands_status_expires_on', ['status', 'expires_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.drop_index('ix_demands_status_expires_on')
        batch_op.drop_index('ix_demands_sme_id_id')

    op.drop_table('demands')
