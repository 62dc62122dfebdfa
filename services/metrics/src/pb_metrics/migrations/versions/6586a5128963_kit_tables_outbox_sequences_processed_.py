"""kit tables: outbox, sequences, processed events, idempotency keys, audit

Revision ID: 6586a5128963
Revises: 
Create Date: 2026-11-29 04:03:23.808470
"""
from pbkit import kit_migrations


revision = '6586a5128963'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    kit_migrations.upgrade_v1()


def downgrade() -> None:
    kit_migrations.downgrade_v1()
