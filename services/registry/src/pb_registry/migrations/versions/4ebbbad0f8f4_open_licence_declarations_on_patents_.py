"""open-licence declarations on patents, licence terms

The market's open-licence declarations become part of each patent's title state, decided by the registry's
command (docs/TITLE_ARBITER.md); a recorded licence keeps the term its deal gave, since an exclusive or sole
licence excludes others only within it.

Revision ID: 4ebbbad0f8f4
Revises: 9485f728f75d
Create Date: 2026-12-02 13:28:52.951210
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = '4ebbbad0f8f4'
down_revision = '9485f728f75d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patent_open_licences',
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('declaration_id', sa.String(length=64), nullable=False),
    sa.Column('declared_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['number'], ['patents.number'], ),
    sa.PrimaryKeyConstraint('number', 'declaration_id')
    )
    op.add_column('patent_licences', sa.Column('term_start', sa.Date(), nullable=True))
    op.add_column('patent_licences', sa.Column('term_end', sa.Date(), nullable=True))



def downgrade() -> None:
    op.drop_column('patent_licences', 'term_end')
    op.drop_column('patent_licences', 'term_start')

    op.drop_table('patent_open_licences')
