"""api_clients.tokens_valid_after: tokens issued before it are refused

Set when a client is disabled or its secret replaced; null for a client whose tokens were never withdrawn.

Revision ID: e83299699786
Revises: 6736eca71b46
Create Date: 2026-12-02 00:51:59.964134
"""
from alembic import op
import sqlalchemy as sa
import pbkit.db


revision = 'e83299699786'
down_revision = '6736eca71b46'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tokens_valid_after', pbkit.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_column('tokens_valid_after')
