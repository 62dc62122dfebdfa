"""open-licence declarations, their index rows and acceptances

Revision ID: 03b49b6adb8b
Revises: a1c0f5e2b7d4
Create Date: 2026-12-02 13:33:59.331357
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = '03b49b6adb8b'
down_revision = 'a1c0f5e2b7d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('open_licences',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('declarant_ids', sa.JSON(), nullable=False),
    sa.Column('declarants', sa.JSON(), nullable=False),
    sa.Column('patent_numbers', sa.JSON(), nullable=False),
    sa.Column('patents', sa.JSON(), nullable=False),
    sa.Column('evaluation_reports', sa.JSON(), nullable=False),
    sa.Column('pledgee_consent', sa.Boolean(), nullable=False),
    sa.Column('owner_kind', sa.String(length=32), nullable=False),
    sa.Column('prefecture_code', sa.String(length=6), nullable=True),
    sa.Column('industry', sa.String(length=64), nullable=True),
    sa.Column('fee_basis', sa.String(length=16), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=True),
    sa.Column('royalty_rate_bp', sa.Integer(), nullable=True),
    sa.Column('minimum_fen', sa.BigInteger(), nullable=True),
    sa.Column('due_fen', sa.BigInteger(), nullable=False),
    sa.Column('term_years', sa.Integer(), nullable=False),
    sa.Column('contact', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('declared_on', sa.Date(), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pending', sa.String(length=16), nullable=True),
    sa.Column('pending_request', sa.JSON(), nullable=True),
    sa.Column('pending_since', pbkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("fee_basis IN ('one_time', 'royalty', 'annual')", name='ck_open_licences_fee_basis'),
    sa.CheckConstraint("status IN ('pending', 'active', 'withdrawn')", name='ck_open_licences_status'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('open_licences', schema=None) as batch_op:
        batch_op.create_index('ix_open_licences_fee_basis_id', ['fee_basis', 'id'], unique=False)
        batch_op.create_index('ix_open_licences_industry_id', ['industry', 'id'], unique=False)
        batch_op.create_index('ix_open_licences_pending_since', ['pending_since'], unique=False)
        batch_op.create_index('ix_open_licences_prefecture_code_id', ['prefecture_code', 'id'], unique=False)
        batch_op.create_index('ix_open_licences_status_id', ['status', 'id'], unique=False)

    op.create_table('acceptances',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('declaration_id', sa.String(length=36), nullable=False),
    sa.Column('licensee_id', sa.String(length=36), nullable=False),
    sa.Column('licensee', sa.JSON(), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=False),
    sa.Column('term_start', sa.Date(), nullable=False),
    sa.Column('term_end', sa.Date(), nullable=False),
    sa.Column('deal_id', sa.String(length=64), nullable=True),
    sa.Column('due_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['open_licences.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('acceptances', schema=None) as batch_op:
        batch_op.create_index('ix_acceptances_declaration_id_id', ['declaration_id', 'id'], unique=False)

    op.create_table('open_licence_ipc',
    sa.Column('declaration_id', sa.String(length=36), nullable=False),
    sa.Column('symbol', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['open_licences.id'], ),
    sa.PrimaryKeyConstraint('declaration_id', 'symbol')
    )
    with op.batch_alter_table('open_licence_ipc', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_licence_ipc_symbol'), ['symbol'], unique=False)

    op.create_table('open_licence_terms',
    sa.Column('declaration_id', sa.String(length=36), nullable=False),
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['open_licences.id'], ),
    sa.PrimaryKeyConstraint('declaration_id', 'term')
    )
    with op.batch_alter_table('open_licence_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_licence_terms_term'), ['term'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('open_licence_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_licence_terms_term'))

    op.drop_table('open_licence_terms')
    with op.batch_alter_table('open_licence_ipc', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_licence_ipc_symbol'))

    op.drop_table('open_licence_ipc')
    with op.batch_alter_table('acceptances', schema=None) as batch_op:
        batch_op.drop_index('ix_acceptances_declaration_id_id')

    op.drop_table('acceptances')
    with op.batch_alter_table('open_licences', schema=None) as batch_op:
        batch_op.drop_index('ix_open_licences_status_id')
        batch_op.drop_index('ix_open_licences_prefecture_code_id')
        batch_op.drop_index('ix_open_licences_pending_since')
        batch_op.drop_index('ix_open_licences_industry_id')
        batch_op.drop_index('ix_open_licences_fee_basis_id')

    op.drop_table('open_licences')
