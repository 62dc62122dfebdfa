"""kit tables: outbox, sequences, processed events, idempotency keys, audit

Revision ID: cfcf7409645c
Revises: 
Create Date: 2026-11-29 04:03:22.363490
"""
from pbkit import kit_migrations


revision = 'cfcf7409645c'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    kit_migrations.upgrade_v1()


def downgrade() -> None:
    kit_migrations.downgrade_v1()
