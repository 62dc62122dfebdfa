"""kit tables v2: outbox.parked_at and the (aggregateid, position) index

The relay parks an outbox row the bus keeps refusing, and gives every key a turn in each batch
(pbkit.outbox); the step is the kit's, shared by the five services (pbkit.kit_migrations).

Revision ID: 6736eca71b46
Revises: 1adbab3d6d56
Create Date: 2026-12-02 00:53:29.930454
"""
from pbkit import kit_migrations


revision = '6736eca71b46'
down_revision = '1adbab3d6d56'
branch_labels = None
depends_on = None


def upgrade() -> None:
    kit_migrations.upgrade_v2()


def downgrade() -> None:
    kit_migrations.downgrade_v2()
