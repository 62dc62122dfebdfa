"""kit tables v2: outbox.parked_at and the (aggregateid, position) index

The relay parks an outbox row the bus keeps refusing, and gives every key a turn in each batch
(pbkit.outbox); the step is the kit's, shared by the five services (pbkit.kit_migrations).

Revision ID: 53a542666bce
Revises: ce20a81d5280
Create Date: 2026-12-02 00:53:37.549509
"""
from pbkit import kit_migrations


revision = '53a542666bce'
down_revision = 'ce20a81d5280'
branch_labels = None
depends_on = None


def upgrade() -> None:
    kit_migrations.upgrade_v2()


def downgrade() -> None:
    kit_migrations.downgrade_v2()
