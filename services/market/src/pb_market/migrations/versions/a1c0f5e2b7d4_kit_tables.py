"""kit tables: outbox (with parked_at), sequences, processed events, idempotency keys, audit

The kit's two steps at once, as a new service starts from the kit's current tables (pbkit.kit_migrations).

Revision ID: a1c0f5e2b7d4
Revises:
Create Date: 2026-12-02 13:40:00.000000
"""
from pbkit import kit_migrations


revision = 'a1c0f5e2b7d4'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    kit_migrations.upgrade_v1()
    kit_migrations.upgrade_v2()


def downgrade() -> None:
    kit_migrations.downgrade_v2()
    kit_migrations.downgrade_v1()
