"""registry: organizations, annual reports, patents, chain of title, API clients, signing keys, event reactions

The registry's own tables, after the kit's (outbox, sequences, processed events, idempotency keys, audit).

Revision ID: 85b7534fd6b4
Revises: 0caaa21390b3
Create Date: 2026-11-29 04:15:22.544600
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = '85b7534fd6b4'
down_revision = '0caaa21390b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deal_reactions',
    sa.Column('deal_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('license_type', sa.String(length=16), nullable=True),
    sa.Column('transferor_ids', sa.JSON(), nullable=False),
    sa.Column('transferee_id', sa.String(length=36), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.Column('in_force', sa.Boolean(), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('cause_event_id', sa.String(length=64), nullable=False),
    sa.Column('cause_event_type', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('deal_id')
    )
    op.create_table('organizations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('size', sa.String(length=16), nullable=True),
    sa.Column('size_source', sa.String(length=16), nullable=True),
    sa.Column('size_report_year', sa.Integer(), nullable=True),
    sa.Column('sme_sector', sa.String(length=32), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('prefecture_code', sa.String(length=6), nullable=False),
    sa.Column('industry', sa.String(length=64), nullable=True),
    sa.Column('industry_list_version', sa.String(length=32), nullable=True),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uscc')
    )
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organizations_industry'), ['industry'], unique=False)
        batch_op.create_index(batch_op.f('ix_organizations_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_organizations_prefecture_code'), ['prefecture_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_organizations_region_code'), ['region_code'], unique=False)

    op.create_table('patents',
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('filing_date', sa.Date(), nullable=False),
    sa.Column('grant_date', sa.Date(), nullable=True),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    with op.batch_alter_table('patents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patents_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_patents_type'), ['type'], unique=False)

    op.create_table('pledge_reactions',
    sa.Column('pledge_id', sa.String(length=64), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.Column('in_force', sa.Boolean(), nullable=False),
    sa.Column('patent_numbers', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('pledge_id')
    )
    op.create_table('signing_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('kid')
    )
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.create_index('uq_signing_keys_one_active', ['active'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))

    op.create_table('annual_reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('revenue_fen', sa.BigInteger(), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=False),
    sa.Column('total_assets_fen', sa.BigInteger(), nullable=True),
    sa.Column('filed_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'year', name='uq_annual_reports_org_year')
    )
    op.create_table('api_clients',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=True),
    sa.Column('secret_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id')
    )
    op.create_table('deal_effects',
    sa.Column('deal_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['deal_id'], ['deal_reactions.deal_id'], ),
    sa.ForeignKeyConstraint(['number'], ['patents.number'], ),
    sa.PrimaryKeyConstraint('deal_id', 'number')
    )
    with op.batch_alter_table('deal_effects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deal_effects_number'), ['number'], unique=False)

    op.create_table('patent_history',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('owners_before', sa.JSON(), nullable=False),
    sa.Column('owners_after', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('cause_event_id', sa.String(length=64), nullable=True),
    sa.Column('cause_event_type', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['number'], ['patents.number'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patent_history', schema=None) as batch_op:
        batch_op.create_index('ix_patent_history_number_id', ['number', 'id'], unique=False)

    op.create_table('patent_ipc',
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('symbol', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['number'], ['patents.number'], ),
    sa.PrimaryKeyConstraint('number', 'symbol')
    )
    with op.batch_alter_table('patent_ipc', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patent_ipc_symbol'), ['symbol'], unique=False)

    op.create_table('patent_licences',
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('deal_id', sa.String(length=64), nullable=False),
    sa.Column('licensee_id', sa.String(length=36), nullable=False),
    sa.Column('license_type', sa.String(length=16), nullable=True),
    sa.Column('recorded_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['licensee_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['number'], ['patents.number'], ),
    sa.PrimaryKeyConstraint('number', 'deal_id')
    )
    with op.batch_alter_table('patent_licences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patent_licences_licensee_id'), ['licensee_id'], unique=False)

    op.create_table('patent_owners',
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['number'], ['patents.number'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('number', 'org_id')
    )
    with op.batch_alter_table('patent_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patent_owners_org_id'), ['org_id'], unique=False)

    op.create_table('patent_pledges',
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('pledge_id', sa.String(length=64), nullable=False),
    sa.Column('pledgee_id', sa.String(length=36), nullable=True),
    sa.Column('registered_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['number'], ['patents.number'], ),
    sa.PrimaryKeyConstraint('number', 'pledge_id')
    )


def downgrade() -> None:
    op.drop_table('patent_pledges')
    with op.batch_alter_table('patent_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patent_owners_org_id'))

    op.drop_table('patent_owners')
    with op.batch_alter_table('patent_licences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patent_licences_licensee_id'))

    op.drop_table('patent_licences')
    with op.batch_alter_table('patent_ipc', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patent_ipc_symbol'))

    op.drop_table('patent_ipc')
    with op.batch_alter_table('patent_history', schema=None) as batch_op:
        batch_op.drop_index('ix_patent_history_number_id')

    op.drop_table('patent_history')
    with op.batch_alter_table('deal_effects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deal_effects_number'))

    op.drop_table('deal_effects')
    op.drop_table('api_clients')
    op.drop_table('annual_reports')
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_index('uq_signing_keys_one_active', sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))

    op.drop_table('signing_keys')
    op.drop_table('pledge_reactions')
    with op.batch_alter_table('patents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patents_type'))
        batch_op.drop_index(batch_op.f('ix_patents_status'))

    op.drop_table('patents')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organizations_region_code'))
        batch_op.drop_index(batch_op.f('ix_organizations_prefecture_code'))
        batch_op.drop_index(batch_op.f('ix_organizations_kind'))
        batch_op.drop_index(batch_op.f('ix_organizations_industry'))

    op.drop_table('organizations')
    op.drop_table('deal_reactions')
