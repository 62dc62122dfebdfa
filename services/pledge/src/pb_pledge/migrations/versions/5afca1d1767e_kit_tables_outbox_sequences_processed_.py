"""kit tables: outbox, sequences, processed events, idempotency keys, audit

Revision ID: 5afca1d1767e
Revises: 
Create Date: 2026-11-29 04:03:20.914057
"""
from pbkit import kit_migrations


revision = '5afca1d1767e'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    kit_migrations.upgrade_v1()


def downgrade() -> None:
    kit_migrations.downgrade_v1()
