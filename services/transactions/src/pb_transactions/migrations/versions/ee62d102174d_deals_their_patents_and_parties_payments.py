"""deals, their patents and parties, payments

Revision ID: ee62d102174d
Revises: 6de531c736f7
Create Date: 2026-11-29 04:11:09.080488
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = 'ee62d102174d'
down_revision = '6de531c736f7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deals',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('license_type', sa.String(length=16), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('transferee_id', sa.String(length=64), nullable=False),
        sa.Column('contract_date', sa.Date(), nullable=False),
        sa.Column('contract_amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('pledgee_consent', sa.Boolean(), nullable=False),
        sa.Column('external_ref', sa.String(length=128), nullable=True),
        sa.Column('recorded_on', sa.Date(), nullable=True),
        sa.Column('recordation_no', sa.String(length=64), nullable=True),
        sa.Column('recorded_at', pbkit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('was_recorded', sa.Boolean(), nullable=False),
        sa.Column('cancelled_on', sa.Date(), nullable=True),
        sa.Column('cancel_reason', sa.String(length=500), nullable=True),
        sa.Column('received_amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_deals_created_by_id', 'deals', ['created_by', 'id'])
    op.create_index('ix_deals_external_ref', 'deals', ['external_ref'])
    op.create_index('ix_deals_recorded_on', 'deals', ['recorded_on'])
    op.create_index('ix_deals_status', 'deals', ['status'])
    op.create_index('ix_deals_transferee_id', 'deals', ['transferee_id'])

    op.create_table(
        'deal_parties',
        sa.Column('deal_id', sa.String(length=36), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('size', sa.String(length=16), nullable=True),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('prefecture_code', sa.String(length=6), nullable=True),
        sa.Column('industry', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id']),
        sa.PrimaryKeyConstraint('deal_id', 'role', 'position'),
    )
    op.create_index('ix_deal_parties_org_role', 'deal_parties', ['org_id', 'role'])

    op.create_table(
        'deal_patents',
        sa.Column('deal_id', sa.String(length=36), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id']),
        sa.PrimaryKeyConstraint('deal_id', 'position'),
        sa.UniqueConstraint('deal_id', 'number', name='uq_deal_patents_deal_number'),
    )
    op.create_index('ix_deal_patents_number', 'deal_patents', ['number'])

    op.create_table(
        'payments',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('deal_id', sa.String(length=36), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=128), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('deal_id', 'reference', name='uq_payments_deal_reference'),
    )
    op.create_index('ix_payments_deal_id_id', 'payments', ['deal_id', 'id'])


def downgrade() -> None:
    # Dropping a table drops its indexes with it.
    op.drop_table('payments')
    op.drop_table('deal_patents')
    op.drop_table('deal_parties')
    op.drop_table('deals')
